import { describe, expect, it } from 'vitest';
import {
  checkCookieSite,
  checkCorsOnDistribution,
  checkCorsOriginsSite,
  checkInsecureCookies,
  domainMatches,
  hostOf,
  isLoopback,
  isPublicSuffix,
  siteOf,
} from '../../../lib/doctor/checks/browser-topology.ts';
import type { DistributionBehavior, DistributionView } from '../../../lib/doctor/distribution.ts';
import { testProfile } from '../../support/profiles.ts';
import { DISTRIBUTION_ID, GROUP_ID, inputOf, judge, snapshotOf } from './snapshots.ts';

// What a browser needs of the topology (issue 14, point 6): each finding made to appear, and not
// to appear in its nearest healthy variant.

/** A profile on media.example.com whose grants name https:// URLs, with the given cookie and CORS settings. */
function profile(
  options: { domains?: string[]; cookie?: Record<string, unknown>; origins?: string[]; scheme?: string } = {},
) {
  const domains = options.domains ?? ['media.example.com'];
  return testProfile({
    domains,
    ...(options.cookie === undefined ? {} : { cookie: options.cookie }),
    cors: { origins: options.origins ?? [] },
    grants: domains.map((domain) => ({
      when: { apiKeys: ['web'] },
      resources: [`${options.scheme ?? 'https'}://${domain}/videos/*`],
    })),
  });
}

describe('sites', () => {
  it('are registrable domains by the Public Suffix List, private section included', () => {
    expect(siteOf('media.example.co.uk')).toBe('example.co.uk');
    expect(siteOf('d111.cloudfront.net')).toBe('d111.cloudfront.net');
    expect(siteOf('127.0.0.1')).toBe('127.0.0.1');
    expect(isPublicSuffix('cloudfront.net')).toBe(true);
    expect(isPublicSuffix('.co.uk')).toBe(true);
    expect(isPublicSuffix('example.com')).toBe(false);
    // An IP address has no registrable domain, and is no public suffix either.
    expect(isPublicSuffix('127.0.0.1')).toBe(false);
  });

  it('hosts are compared without port, brackets or case', () => {
    expect(hostOf('Media.Example.COM:8443')).toBe('media.example.com');
    expect(hostOf('[::1]')).toBe('::1');
    expect(hostOf('[::1]:4603')).toBe('::1');
  });

  it('loopback hosts are the ones browsers treat as secure contexts, nothing that merely contains 127.x', () => {
    for (const host of ['localhost', 'app.localhost', '127.0.0.1', '127.100.100.100', '::1']) {
      expect(isLoopback(host), host).toBe(true);
    }
    for (const host of ['localhost.example.com', '127.0.0.1.nip.io', 'app.127.0.0.1', 'example.com']) {
      expect(isLoopback(host), host).toBe(false);
    }
  });

  it('a cookie Domain matches its own host and the hosts under it, with or without a leading dot', () => {
    expect(domainMatches('api.example.com', '.Example.com')).toBe(true);
    expect(domainMatches('example.com', 'example.com')).toBe(true);
    expect(domainMatches('api.example.com', 'example.com')).toBe(true);
    expect(domainMatches('badexample.com', 'example.com')).toBe(false);
    expect(domainMatches('example.com', 'api.example.com')).toBe(false);
  });
});

describe('COOKIE_SITE_MISMATCH', () => {
  const judgeWith = (p: ReturnType<typeof profile>, apiPublicOrigin?: string) =>
    judge(
      checkCookieSite,
      snapshotOf({ profile: p, ...(apiPublicOrigin === undefined ? {} : { apiPublicOrigin }) }),
      'COOKIE_SITE_MISMATCH',
    );

  it('the API and the CDN on different sites: no Domain can cover both', () => {
    const found = judgeWith(profile({ cookie: { domain: 'example.com' } }), 'https://api.example.net');
    expect(found).toEqual([
      expect.objectContaining({
        severity: 'warning',
        message: expect.stringContaining('are on different sites'),
        remedy: expect.stringContaining('give the API a custom domain on example.com'),
      }),
    ]);
    // A *.cloudfront.net host is a site of its own: an API on example.com cannot set its cookies.
    const cloudfront = judgeWith(profile({ domains: ['d111.cloudfront.net'] }), 'https://api.example.com');
    expect(cloudfront[0]?.message).toContain('site d111.cloudfront.net');
  });

  it('a cookie Domain that is a public suffix', () => {
    const found = judgeWith(
      profile({ domains: ['d111.cloudfront.net'], cookie: { domain: 'cloudfront.net' } }),
    );
    expect(found[0]?.message).toContain('cloudfront.net, a public suffix');
    expect(found[0]?.remedy).toContain('needs an alias on your own domain');
  });

  it('the API host outside the cookie Domain: the browser refuses the Set-Cookie', () => {
    const found = judgeWith(profile({ cookie: { domain: 'media.example.com' } }), 'https://api.example.com');
    expect(found[0]?.message).toContain('the API answers on api.example.com, outside it');
    expect(found[0]?.remedy).toContain('(example.com)');
  });

  it('a CDN host outside the cookie Domain: the cookie is never sent there', () => {
    const found = judgeWith(
      profile({ domains: ['media.example.com', 'cdn.example.com'], cookie: { domain: 'media.example.com' } }),
    );
    expect(found[0]?.message).toContain('the CDN host(s) cdn.example.com are outside it');
  });

  it('no cookie Domain while the API and the CDN are different hosts: host-only cookies stay with the API', () => {
    const found = judgeWith(profile(), 'https://api.example.com');
    expect(found[0]?.message).toContain('host-only for the API');
    expect(found[0]?.remedy).toBe(
      'Set cookie.domain of profile media to example.com (it contains api.example.com and media.example.com).',
    );
  });

  it('is not reported when the API, the cookie Domain and the CDN share a site, or the API and CDN one host', () => {
    expect(judgeWith(profile({ cookie: { domain: 'example.com' } }), 'https://api.example.com')).toEqual([]);
    expect(judgeWith(profile({ cookie: { domain: '.example.com' } }), 'https://api.example.com')).toEqual([]);
    expect(judgeWith(profile(), 'https://media.example.com')).toEqual([]);
    expect(judgeWith(profile({ cookie: { domain: 'example.com' } }))).toEqual([]);
    expect(judgeWith(profile())).toEqual([]);
  });
});

describe('COOKIE_SECURE_OVER_HTTP and SAMESITE_NONE_INSECURE', () => {
  const judgeWith = (
    p: ReturnType<typeof profile>,
    code: 'COOKIE_SECURE_OVER_HTTP' | 'SAMESITE_NONE_INSECURE',
    apiPublicOrigin?: string,
  ) =>
    judge(
      checkInsecureCookies,
      snapshotOf({ profile: p, ...(apiPublicOrigin === undefined ? {} : { apiPublicOrigin }) }),
      code,
    );

  it('an http:// API origin cannot set Secure cookies; http:// CDN URLs never carry them', () => {
    const api = judgeWith(
      profile({ cookie: { domain: 'example.com' } }),
      'COOKIE_SECURE_OVER_HTTP',
      'http://api.example.com',
    );
    expect(api).toEqual([
      expect.objectContaining({
        severity: 'warning',
        message: expect.stringContaining('browsers refuse a Secure cookie set over http://'),
        remedy: expect.stringContaining('set api.publicOrigin to its https:// origin'),
      }),
    ]);
    const cdn = judgeWith(profile({ scheme: 'http' }), 'COOKIE_SECURE_OVER_HTTP');
    expect(cdn[0]?.message).toContain('grants http:// URLs on media.example.com');
  });

  it('SameSite=None where Secure cannot hold', () => {
    const found = judgeWith(
      profile({ scheme: 'http', cookie: { sameSite: 'None' } }),
      'SAMESITE_NONE_INSECURE',
      'http://api.example.com',
    );
    expect(found[0]?.message).toContain('SameSite=None, which browsers accept only on a Secure cookie');
    expect(
      judgeWith(profile({ scheme: 'http', cookie: { sameSite: 'None' } }), 'COOKIE_SECURE_OVER_HTTP'),
    ).toEqual([]);
  });

  it('is not reported over HTTPS, or over http:// on loopback (a secure context)', () => {
    expect(
      judgeWith(
        profile({ cookie: { sameSite: 'None' } }),
        'SAMESITE_NONE_INSECURE',
        'https://api.example.com',
      ),
    ).toEqual([]);
    expect(judgeWith(profile(), 'COOKIE_SECURE_OVER_HTTP', 'https://api.example.com')).toEqual([]);
    const loopback = profile({ domains: ['127.0.0.1:4602'], scheme: 'http' });
    expect(judgeWith(loopback, 'COOKIE_SECURE_OVER_HTTP', 'http://127.0.0.1:4603')).toEqual([]);
    expect(judgeWith(loopback, 'COOKIE_SECURE_OVER_HTTP', 'http://localhost:4603')).toEqual([]);
  });
});

describe('CORS_ORIGIN_CROSS_SITE', () => {
  const judgeWith = (p: ReturnType<typeof profile>) =>
    judge(checkCorsOriginsSite, snapshotOf({ profile: p }), 'CORS_ORIGIN_CROSS_SITE');

  it('an allowed origin on another registrable domain, or another scheme, than the cookies', () => {
    const found = judgeWith(
      profile({
        cookie: { domain: 'example.com' },
        origins: ['https://app.example.com', 'https://app.example.net', 'http://app.example.com'],
      }),
    );
    expect(found).toEqual([
      expect.objectContaining({
        severity: 'warning',
        message: expect.stringContaining(
          'allows browser origin(s) https://app.example.net, http://app.example.com, which are not on the cookies',
        ),
        remedy: expect.stringContaining('https://app.example.com'),
      }),
    ]);
  });

  it('is not reported for origins on the cookies site, or a profile with no browser origins', () => {
    expect(
      judgeWith(profile({ cookie: { domain: 'example.com' }, origins: ['https://www.example.com'] })),
    ).toEqual([]);
    expect(judgeWith(profile({ origins: ['https://app.example.com'] }))).toEqual([]);
    expect(judgeWith(profile())).toEqual([]);
  });
});

describe('CDN_CORS_MISSING', () => {
  const APP = 'https://app.example.com';
  function withBehavior(extra: Partial<DistributionBehavior>): DistributionView {
    return {
      id: DISTRIBUTION_ID,
      aliases: ['media.example.com'],
      behaviors: [{ pathPattern: '*', isDefault: true, trustedKeyGroups: [GROUP_ID], ...extra }],
    };
  }
  const judgeWith = (p: ReturnType<typeof profile>, view: DistributionView) =>
    judge(
      checkCorsOnDistribution,
      snapshotOf({ profile: p, distribution: { status: 'ok', distribution: view } }),
      'CDN_CORS_MISSING',
    );

  it('browser origins allowed, the distribution answers without CORS', () => {
    const found = judgeWith(profile({ origins: [APP] }), withBehavior({}));
    expect(found).toEqual([
      expect.objectContaining({
        severity: 'warning',
        message: expect.stringContaining('answers without CORS headers'),
        remedy: expect.stringContaining(
          `AccessControlAllowOrigins ${APP}, AccessControlAllowCredentials true`,
        ),
      }),
    ]);
  });

  it('a CORS policy missing an origin, or without credentials, or one doctor could not read', () => {
    const missing = judgeWith(
      profile({ origins: [APP, 'https://admin.example.com'] }),
      withBehavior({ cors: { policyId: 'P1', allowOrigins: [APP], allowCredentials: true } }),
    );
    expect(missing[0]?.message).toContain('does not allow https://admin.example.com');
    const noCredentials = judgeWith(
      profile({ origins: [APP] }),
      withBehavior({ cors: { policyId: 'P1', allowOrigins: [APP], allowCredentials: false } }),
    );
    expect(noCredentials[0]?.message).toContain('does not allow credentials');
    const unreadable = judgeWith(profile({ origins: [APP] }), withBehavior({ cors: 'unreadable' }));
    expect(unreadable[0]?.remedy).toContain('cloudfront:GetResponseHeadersPolicy');
  });

  it('is not reported when the policy covers the origins with credentials, or no browser origin is allowed', () => {
    const covered = withBehavior({ cors: { policyId: 'P1', allowOrigins: [APP], allowCredentials: true } });
    expect(judgeWith(profile({ origins: [APP] }), covered)).toEqual([]);
    expect(judgeWith(profile(), withBehavior({}))).toEqual([]);
  });
});

// What the operator reads, in full: each list in a message names every host, origin or site
// concerned, and each remedy says what to set to what.

const HTTP_REMEDY_GRANTS =
  'write the grants of profile media as https:// URLs (ViewerProtocolPolicy redirect-to-https or https-only)';

describe('COOKIE_SITE_MISMATCH, in full', () => {
  const judgeWith = (p: ReturnType<typeof profile>, apiPublicOrigin?: string) =>
    judge(
      checkCookieSite,
      snapshotOf({ profile: p, ...(apiPublicOrigin === undefined ? {} : { apiPublicOrigin }) }),
      'COOKIE_SITE_MISMATCH',
    );
  const warning = (message: string, remedy: string) => [
    { severity: 'warning', code: 'COOKIE_SITE_MISMATCH', profile: 'media', keyId: null, message, remedy },
  ];

  it('names every CDN host on another site than the API, and their sites', () => {
    expect(
      judgeWith(profile({ domains: ['media.example.net', 'cdn.example.org'] }), 'https://api.example.com'),
    ).toEqual(
      warning(
        'The API (https://api.example.com, site example.com) and the CDN host(s) media.example.net, cdn.example.org of profile media (site example.net, example.org) are on different sites: no cookie Domain covers both, so browsers drop the signed cookies the API sets (third-party cookies) and the CDN answers 403 MissingKey.',
        "Serve the API and the CDN under one registrable domain: give the API a custom domain on example.net (for example api.example.net, the apiDomainName parameter), or a CDN alias on example.com; then set cookie.domain of profile media to that domain and api.publicOrigin to the API's new origin. Signed URLs are unaffected.",
      ),
    );
  });

  it('a public suffix as cookie Domain: the remedy names the CDN sites', () => {
    expect(
      judgeWith(
        profile({
          domains: ['d111.cloudfront.net', 'd222.cloudfront.net'],
          cookie: { domain: 'cloudfront.net' },
        }),
      ),
    ).toEqual(
      warning(
        'cookie.domain of profile media is cloudfront.net, a public suffix: browsers refuse a cookie for a whole public suffix, so no signed cookie is stored.',
        'Set cookie.domain of profile media to the registrable domain shared by the API and the CDN (d111.cloudfront.net, d222.cloudfront.net); a *.cloudfront.net host needs an alias on your own domain first.',
      ),
    );
  });

  it('the API outside the cookie Domain: the remedy names the API and every CDN host', () => {
    expect(
      judgeWith(
        profile({
          domains: ['media.example.com', 'cdn.media.example.com'],
          cookie: { domain: 'media.example.com' },
        }),
        'https://api.example.com',
      ),
    ).toEqual(
      warning(
        'cookie.domain of profile media is media.example.com, but the API answers on api.example.com, outside it: browsers refuse a Set-Cookie whose Domain does not contain the host that sent it, so no signed cookie is stored.',
        'Set cookie.domain of profile media to a domain containing both api.example.com and media.example.com, cdn.media.example.com (example.com).',
      ),
    );
  });

  it('CDN hosts outside the cookie Domain: every one is named, and the API host in the remedy when there is one', () => {
    const p = profile({
      domains: ['media.example.com', 'cdn.example.com', 'img.example.com'],
      cookie: { domain: 'media.example.com' },
    });
    expect(judgeWith(p, 'https://api.media.example.com')).toEqual(
      warning(
        'cookie.domain of profile media is media.example.com, but the CDN host(s) cdn.example.com, img.example.com are outside it: browsers never send the signed cookies there, so those requests get 403 MissingKey.',
        'Set cookie.domain of profile media to a domain containing media.example.com, cdn.example.com, img.example.com and api.media.example.com (example.com).',
      ),
    );
    expect(judgeWith(p)[0]?.remedy).toBe(
      'Set cookie.domain of profile media to a domain containing media.example.com, cdn.example.com, img.example.com (example.com).',
    );
    const twoSites = profile({
      domains: ['media.example.com', 'media.example.net'],
      cookie: { domain: 'example.com' },
    });
    expect(judgeWith(twoSites)[0]?.remedy).toBe(
      'Set cookie.domain of profile media to a domain containing media.example.com, media.example.net (example.com, example.net).',
    );
  });

  it('host-only cookies: every CDN host other than the API host is named', () => {
    expect(
      judgeWith(profile({ domains: ['media.example.com', 'cdn.example.com'] }), 'https://api.example.com'),
    ).toEqual(
      warning(
        "Profile media sets no cookie.domain, so the cookies are host-only for the API's host api.example.com: browsers never send them to the CDN host(s) media.example.com, cdn.example.com, which answer 403 MissingKey.",
        'Set cookie.domain of profile media to example.com (it contains api.example.com and media.example.com, cdn.example.com).',
      ),
    );
    expect(
      judgeWith(
        profile({ domains: ['media.example.com', 'cdn.example.com'] }),
        'https://media.example.com',
      )[0]?.remedy,
    ).toBe(
      'Set cookie.domain of profile media to example.com (it contains media.example.com and cdn.example.com).',
    );
  });

  it('finds nothing at all for a healthy topology', () => {
    const snapshot = snapshotOf({
      profile: profile({ cookie: { domain: 'example.com' } }),
      apiPublicOrigin: 'https://api.example.com',
    });
    expect(checkCookieSite(inputOf(snapshot))).toEqual([]);
  });
});

describe('COOKIE_SECURE_OVER_HTTP and SAMESITE_NONE_INSECURE, in full', () => {
  /** A profile whose grants name http:// and https:// URLs on several hosts, loopback included. */
  const mixed = (cookie?: Record<string, unknown>) =>
    testProfile({
      domains: ['media.example.com', 'cdn.example.com', 'secure.example.com', 'localhost:4602'],
      ...(cookie === undefined ? {} : { cookie }),
      grants: [
        {
          when: { apiKeys: ['web'] },
          resources: [
            'http://media.example.com/a/*',
            'http://cdn.example.com/b/*',
            'http://media.example.com/c/*',
            'https://secure.example.com/d/*',
            // An https:// URL that names an http:// one in its query is no http:// grant.
            'https://secure.example.com/out?next=http://elsewhere.example.net/',
            'http://localhost:4602/e/*',
          ],
        },
      ],
    });
  const run = (p: ReturnType<typeof testProfile>, apiPublicOrigin?: string) =>
    checkInsecureCookies(
      inputOf(snapshotOf({ profile: p, ...(apiPublicOrigin === undefined ? {} : { apiPublicOrigin }) })),
    );

  it('an http:// API origin alone: the API is to be served over HTTPS', () => {
    expect(run(profile(), 'http://api.example.com')).toEqual([
      {
        severity: 'warning',
        code: 'COOKIE_SECURE_OVER_HTTP',
        profile: 'media',
        keyId: null,
        message:
          "Signet's cookies are Secure: the API answers on http://api.example.com, and browsers refuse a Secure cookie set over http://.",
        remedy: 'Serve the API over HTTPS and set api.publicOrigin to its https:// origin.',
      },
    ]);
  });

  it('http:// grants alone: every non-loopback http:// host is named once, https:// ones are not', () => {
    expect(run(mixed(), 'https://api.example.com')).toEqual([
      {
        severity: 'warning',
        code: 'COOKIE_SECURE_OVER_HTTP',
        profile: 'media',
        keyId: null,
        message:
          "Signet's cookies are Secure: profile media grants http:// URLs on media.example.com, cdn.example.com, and browsers never send a Secure cookie over http:// (403 MissingKey).",
        remedy: `Serve the CDN over HTTPS, and ${HTTP_REMEDY_GRANTS}.`,
      },
    ]);
  });

  it('SameSite=None with both an http:// API and http:// grants: one warning naming both', () => {
    expect(run(mixed({ sameSite: 'None' }), 'http://api.example.com')).toEqual([
      {
        severity: 'warning',
        code: 'SAMESITE_NONE_INSECURE',
        profile: 'media',
        keyId: null,
        message:
          'Profile media sets SameSite=None, which browsers accept only on a Secure cookie, and Secure cookies need HTTPS: the API answers on http://api.example.com, and browsers refuse a Secure cookie set over http://; profile media grants http:// URLs on media.example.com, cdn.example.com, and browsers never send a Secure cookie over http:// (403 MissingKey).',
        remedy: `Serve the API and the CDN over HTTPS and set api.publicOrigin to its https:// origin, and ${HTTP_REMEDY_GRANTS}.`,
      },
    ]);
  });

  it('nothing for an http:// API on IPv6 loopback (a secure context), nor over HTTPS', () => {
    expect(run(profile({ cookie: { sameSite: 'None' } }), 'http://[::1]:4603')).toEqual([]);
    expect(run(profile(), 'http://127.0.0.1:4603')).toEqual([]);
    expect(run(profile(), 'https://api.example.com')).toEqual([]);
  });
});

describe('CORS_ORIGIN_CROSS_SITE, in full', () => {
  const run = (p: ReturnType<typeof testProfile>) =>
    checkCorsOriginsSite(inputOf(snapshotOf({ profile: p })));
  const warning = (message: string, remedy: string) => [
    { severity: 'warning', code: 'CORS_ORIGIN_CROSS_SITE', profile: 'media', keyId: null, message, remedy },
  ];

  it('names every cross-site origin and the cookies’ scheme and site', () => {
    expect(
      run(
        profile({
          cookie: { domain: 'example.com' },
          origins: ['https://app.example.com', 'https://app.example.net', 'http://app.example.com'],
        }),
      ),
    ).toEqual(
      warning(
        "Profile media allows browser origin(s) https://app.example.net, http://app.example.com, which are not on the cookies' site (https://example.com): the cookies are third-party there, so pages on those origins get 403 MissingKey for cookie-signed objects (signed URLs still work).",
        'Serve the app on example.com over the same scheme (for example https://app.example.com), or have pages on https://app.example.net, http://app.example.com use signed URLs instead of cookies.',
      ),
    );
  });

  it('without a cookie Domain the cookies’ sites are the CDN hosts’ sites, each named', () => {
    const p = testProfile({
      domains: ['media.example.com', 'd111.cloudfront.net'],
      cors: { origins: ['https://app.example.org'] },
      grants: [
        {
          when: { apiKeys: ['web'] },
          resources: ['https://media.example.com/a/*', 'http://d111.cloudfront.net/b/*'],
        },
      ],
    });
    expect(run(p)).toEqual(
      warning(
        "Profile media allows browser origin(s) https://app.example.org, which are not on the cookies' site (https/http://example.com, d111.cloudfront.net): the cookies are third-party there, so pages on those origins get 403 MissingKey for cookie-signed objects (signed URLs still work).",
        'Serve the app on example.com, d111.cloudfront.net over the same scheme (for example https://app.example.com), or have pages on https://app.example.org use signed URLs instead of cookies.',
      ),
    );
  });

  it('the cookie Domain, not the CDN hosts, is the cookies’ site when set', () => {
    const p = profile({
      domains: ['d111.cloudfront.net'],
      cookie: { domain: 'example.com' },
      origins: ['https://app.example.com'],
    });
    expect(run(p)).toEqual([]);
  });

  it('a profile without grants compares sites only, and names https as the scheme', () => {
    const noGrants = (origins: string[]) =>
      testProfile({ cookie: { domain: 'example.com' }, cors: { origins }, grants: [] });
    expect(run(noGrants(['http://app.example.com']))).toEqual([]);
    expect(run(noGrants(['https://app.example.net']))[0]?.message).toContain(
      "not on the cookies' site (https://example.com)",
    );
  });

  it('finds nothing at all when every origin is on the cookies’ site', () => {
    expect(run(profile({ cookie: { domain: 'example.com' }, origins: ['https://www.example.com'] }))).toEqual(
      [],
    );
  });
});

describe('CDN_CORS_MISSING, in full', () => {
  const APP = 'https://app.example.com';
  const ADMIN = 'https://admin.example.com';
  const WWW = 'https://www.example.com';
  const run = (p: ReturnType<typeof testProfile>, behaviors: DistributionBehavior[]) =>
    checkCorsOnDistribution(
      inputOf(
        snapshotOf({
          profile: p,
          distribution: { status: 'ok', distribution: { id: DISTRIBUTION_ID, aliases: [], behaviors } },
        }),
      ),
    );
  const fallback = (extra: Partial<DistributionBehavior> = {}): DistributionBehavior => ({
    pathPattern: '*',
    isDefault: true,
    trustedKeyGroups: [GROUP_ID],
    ...extra,
  });
  const where = `the cache behaviour * of distribution ${DISTRIBUTION_ID}`;
  const warning = (message: string, remedy: string) => ({
    severity: 'warning',
    code: 'CDN_CORS_MISSING',
    profile: 'media',
    keyId: null,
    message,
    remedy,
  });

  it('no CORS: one finding per cache behaviour, naming every origin', () => {
    // Two resources served by the same default behaviour: one finding.
    const p = profile({ domains: ['media.example.com', 'cdn.example.com'], origins: [APP, ADMIN] });
    expect(run(p, [fallback()])).toEqual([
      warning(
        `Profile media allows browser origins (${APP}, ${ADMIN}), but ${where} answers without CORS headers: a page's fetch() of a signed URL or cookie-protected object gets 200 and the browser blocks it (players such as hls.js fail).`,
        `Attach a response headers policy with CORS to that cache behaviour of distribution ${DISTRIBUTION_ID}: AccessControlAllowOrigins ${APP}, ${ADMIN}, AccessControlAllowCredentials true, AccessControlAllowMethods GET, HEAD, OPTIONS (as infra/aws/demo-distribution.yml does), and allow OPTIONS on the behaviour.`,
      ),
    ]);
  });

  it('names the behaviour that serves the objects, and skips paths no behaviour serves', () => {
    const videos: DistributionBehavior = {
      pathPattern: '/videos/*',
      isDefault: false,
      trustedKeyGroups: [GROUP_ID],
    };
    const found = run(profile({ origins: [APP] }), [videos]);
    expect(found.map((finding) => finding.message)).toEqual([
      `Profile media allows browser origins (${APP}), but the cache behaviour /videos/* of distribution ${DISTRIBUTION_ID} answers without CORS headers: a page's fetch() of a signed URL or cookie-protected object gets 200 and the browser blocks it (players such as hls.js fail).`,
    ]);
    const other: DistributionBehavior = { ...videos, pathPattern: '/images/*' };
    expect(run(profile({ origins: [APP] }), [other])).toEqual([]);
  });

  it('a policy doctor could not read', () => {
    expect(run(profile({ origins: [APP] }), [fallback({ cors: 'unreadable' })])).toEqual([
      warning(
        `The response headers policy of ${where} could not be read, so whether it answers profile media's browser origins with CORS is unknown.`,
        'Allow cloudfront:GetResponseHeadersPolicy to whoever runs signet doctor, and run it again.',
      ),
    ]);
  });

  it('a policy missing origins names each missing one', () => {
    const cors = { policyId: 'P1', allowOrigins: [APP], allowCredentials: true };
    expect(run(profile({ origins: [APP, ADMIN, WWW] }), [fallback({ cors })])).toEqual([
      warning(
        `The CORS policy P1 of ${where} does not allow ${ADMIN}, ${WWW}, browser origin(s) of profile media: the browser blocks their pages' fetch() of its objects.`,
        `Add ${ADMIN}, ${WWW} to AccessControlAllowOrigins of response headers policy P1.`,
      ),
    ]);
  });

  it('a policy without credentials, its origins exact or *', () => {
    const expected = warning(
      `The CORS policy P1 of ${where} does not allow credentials: a page's fetch(..., { credentials: 'include' }), which signed cookies need, is blocked by the browser.`,
      'Set AccessControlAllowCredentials true (with exact origins, not *) in response headers policy P1.',
    );
    for (const allowOrigins of [[APP], ['*']]) {
      const cors = { policyId: 'P1', allowOrigins, allowCredentials: false };
      expect(run(profile({ origins: [APP] }), [fallback({ cors })])).toEqual([expected]);
    }
  });

  it('finds nothing at all when a * policy allows credentials, or the distribution was not read', () => {
    const cors = { policyId: 'P1', allowOrigins: ['*'], allowCredentials: true };
    expect(run(profile({ origins: [APP, ADMIN] }), [fallback({ cors })])).toEqual([]);
    for (const distribution of [
      { status: 'unset' as const },
      { status: 'missing' as const, id: DISTRIBUTION_ID },
    ]) {
      const snapshot = snapshotOf({ profile: profile({ origins: [APP] }), distribution });
      expect(checkCorsOnDistribution(inputOf(snapshot))).toEqual([]);
    }
  });
});
