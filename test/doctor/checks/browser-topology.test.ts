import { describe, expect, it } from 'vitest';
import {
  checkCookieSite,
  checkCorsOnDistribution,
  checkCorsOriginsSite,
  checkInsecureCookies,
  isPublicSuffix,
  siteOf,
} from '../../../lib/doctor/checks/browser-topology.ts';
import type { DistributionBehavior, DistributionView } from '../../../lib/doctor/distribution.ts';
import { testProfile } from '../../support/rotation-sandbox.ts';
import { DISTRIBUTION_ID, GROUP_ID, judge, snapshotOf } from './snapshots.ts';

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
