import { getDomain, getPublicSuffix } from 'tldts';
import type { Profile } from '../../config/index.ts';
import { behaviorFor } from '../distribution.ts';
import type { Finding } from '../findings.ts';
import { type CheckInput, reporterFor } from './check.ts';
import { samplePathsOf } from './distribution-trust.ts';

// What a browser needs of the topology before Signet's cookies and CORS work (docs/design.md,
// "The API"): the API that sets the cookies, the cookie's Domain and the CDN hosts on one site; HTTPS
// (Signet's cookies are always `Secure`); pages on that same site; CORS on the CDN for the pages'
// own fetch(). Sites are registrable domains by the Public Suffix List, private section included,
// as browsers read it (tldts): `d111.cloudfront.net` and `example.github.io` are sites of their own.

const PSL = { allowPrivateDomains: true } as const;

/** A host without port, lower-case. */
export function hostOf(domain: string): string {
  return domain
    .replace(/:\d+$/, '')
    .replace(/^\[|\]$/g, '')
    .toLowerCase();
}

/** Loopback hosts, which browsers treat as secure contexts even over http://. */
export function isLoopback(host: string): boolean {
  return (
    host === 'localhost' || host.endsWith('.localhost') || /^127\.\d+\.\d+\.\d+$/.test(host) || host === '::1'
  );
}

/**
 * The site of a host: its registrable domain (`media.example.co.uk` → `example.co.uk`); an IP
 * address, `localhost` or a bare public suffix is its own site.
 */
export function siteOf(host: string): string {
  return getDomain(host, PSL) ?? host;
}

/** Whether `domain` (a cookie's Domain) is a public suffix, which browsers refuse as a Domain. */
export function isPublicSuffix(domain: string): boolean {
  const bare = domain.replace(/^\./, '').toLowerCase();
  return getDomain(bare, PSL) === null && getPublicSuffix(bare, PSL) === bare;
}

/** Whether a cookie with this Domain is sent to (and may be set by) `host` (RFC 6265 domain-match). */
export function domainMatches(host: string, cookieDomain: string): boolean {
  const domain = cookieDomain.replace(/^\./, '').toLowerCase();
  return host === domain || host.endsWith(`.${domain}`);
}

/** The hosts the profile's cookies must reach: the CDN hosts its URLs name. */
function cdnHostsOf(profile: Profile): string[] {
  return [...new Set(profile.domains.map(hostOf))];
}

/** The schemes the profile's grants name for the CDN (what viewers request). */
function cdnSchemesOf(profile: Profile): Set<string> {
  return new Set(
    profile.grants.flatMap((grant) => grant.resources.map((resource) => resource.split(':')[0]!)),
  );
}

/**
 * COOKIE_SITE_MISMATCH (warning): browsers drop Signet's cookies before they reach the CDN. In
 * order, one finding per profile: the API (`api.publicOrigin`) and the CDN hosts are different
 * sites (no Domain can cover both: the cookies are third-party); `cookie.domain` is a public suffix
 * (browsers refuse it); the API host is outside `cookie.domain` (the browser refuses the
 * Set-Cookie); a CDN host is outside it (the cookie is never sent there); no `cookie.domain` while
 * the API and the CDN are different hosts (host-only cookies go back to the API only).
 */
export function checkCookieSite({
  snapshot,
  apiPublicOrigin,
}: Pick<CheckInput, 'snapshot' | 'apiPublicOrigin'>): Finding[] {
  const { name, profile } = snapshot;
  const report = (message: string, remedy: string) =>
    reporterFor(name)('warning', 'COOKIE_SITE_MISMATCH', null, message, remedy);
  const cdn = cdnHostsOf(profile);
  const cookieDomain = profile.cookie.domain?.replace(/^\./, '').toLowerCase();
  const apiHost = apiPublicOrigin === undefined ? undefined : new URL(apiPublicOrigin).hostname.toLowerCase();
  const cdnSites = [...new Set(cdn.map(siteOf))];

  if (apiHost !== undefined) {
    const foreign = cdn.filter((host) => siteOf(host) !== siteOf(apiHost));
    if (foreign.length > 0) {
      return [
        report(
          `The API (${apiPublicOrigin}, site ${siteOf(apiHost)}) and the CDN host(s) ${foreign.join(', ')} of profile ${name} (site ${[...new Set(foreign.map(siteOf))].join(', ')}) are on different sites: no cookie Domain covers both, so browsers drop the signed cookies the API sets (third-party cookies) and the CDN answers 403 MissingKey.`,
          `Serve the API and the CDN under one registrable domain: give the API a custom domain on ${siteOf(foreign[0]!)} (for example api.${siteOf(foreign[0]!)}, the apiDomainName parameter), or a CDN alias on ${siteOf(apiHost)}; then set cookie.domain of profile ${name} to that domain and api.publicOrigin to the API's new origin. Signed URLs are unaffected.`,
        ),
      ];
    }
  }
  if (cookieDomain !== undefined && isPublicSuffix(cookieDomain)) {
    return [
      report(
        `cookie.domain of profile ${name} is ${cookieDomain}, a public suffix: browsers refuse a cookie for a whole public suffix, so no signed cookie is stored.`,
        `Set cookie.domain of profile ${name} to the registrable domain shared by the API and the CDN (${cdnSites.join(', ')}); a *.cloudfront.net host needs an alias on your own domain first.`,
      ),
    ];
  }
  if (cookieDomain !== undefined && apiHost !== undefined && !domainMatches(apiHost, cookieDomain)) {
    return [
      report(
        `cookie.domain of profile ${name} is ${cookieDomain}, but the API answers on ${apiHost}, outside it: browsers refuse a Set-Cookie whose Domain does not contain the host that sent it, so no signed cookie is stored.`,
        `Set cookie.domain of profile ${name} to a domain containing both ${apiHost} and ${cdn.join(', ')} (${siteOf(apiHost)}).`,
      ),
    ];
  }
  if (cookieDomain !== undefined) {
    const outside = cdn.filter((host) => !domainMatches(host, cookieDomain));
    if (outside.length > 0) {
      return [
        report(
          `cookie.domain of profile ${name} is ${cookieDomain}, but the CDN host(s) ${outside.join(', ')} are outside it: browsers never send the signed cookies there, so those requests get 403 MissingKey.`,
          `Set cookie.domain of profile ${name} to a domain containing ${cdn.join(', ')}${apiHost === undefined ? '' : ` and ${apiHost}`} (${cdnSites.join(', ')}).`,
        ),
      ];
    }
  }
  if (cookieDomain === undefined && apiHost !== undefined) {
    const elsewhere = cdn.filter((host) => host !== apiHost);
    if (elsewhere.length > 0) {
      return [
        report(
          `Profile ${name} sets no cookie.domain, so the cookies are host-only for the API's host ${apiHost}: browsers never send them to the CDN host(s) ${elsewhere.join(', ')}, which answer 403 MissingKey.`,
          `Set cookie.domain of profile ${name} to ${siteOf(apiHost)} (it contains ${apiHost} and ${elsewhere.join(', ')}).`,
        ),
      ];
    }
  }
  return [];
}

/** The http:// hosts (not loopback) that would carry the profile's cookies: the API's and the CDN's. */
function insecureHostsOf(profile: Profile, apiPublicOrigin: string | undefined): InsecureHosts {
  const api =
    apiPublicOrigin?.startsWith('http://') && !isLoopback(hostOf(new URL(apiPublicOrigin).hostname))
      ? apiPublicOrigin
      : undefined;
  const cdn = [
    ...new Set(
      profile.grants.flatMap((grant) =>
        grant.resources.flatMap((resource) => {
          const host = /^http:\/\/([^/?#]+)/.exec(resource)?.[1];
          return host === undefined || isLoopback(hostOf(host)) ? [] : [hostOf(host)];
        }),
      ),
    ),
  ];
  return { api, cdn };
}

/** The http:// API origin (`undefined` when it is https:// or loopback) and http:// CDN hosts. */
interface InsecureHosts {
  readonly api: string | undefined;
  readonly cdn: readonly string[];
}

function insecureSentence(name: string, hosts: InsecureHosts): string {
  const parts: string[] = [];
  if (hosts.api !== undefined)
    parts.push(`the API answers on ${hosts.api}, and browsers refuse a Secure cookie set over http://`);
  if (hosts.cdn.length > 0)
    parts.push(
      `profile ${name} grants http:// URLs on ${hosts.cdn.join(', ')}, and browsers never send a Secure cookie over http:// (403 MissingKey)`,
    );
  return parts.join('; ');
}

/**
 * Signet's cookies are always `Secure` (and `HttpOnly`). COOKIE_SECURE_OVER_HTTP (warning): the
 * API's public origin, or a CDN host the grants name, is plain http:// (loopback excepted, which
 * browsers treat as secure). SAMESITE_NONE_INSECURE (warning): the same with `SameSite=None`, which
 * browsers accept only with `Secure`: a cookie whose `Secure` cannot hold is refused outright.
 */
export function checkInsecureCookies({
  snapshot,
  apiPublicOrigin,
}: Pick<CheckInput, 'snapshot' | 'apiPublicOrigin'>): Finding[] {
  const { name, profile } = snapshot;
  const hosts = insecureHostsOf(profile, apiPublicOrigin);
  if (hosts.api === undefined && hosts.cdn.length === 0) return [];
  const remedy = `Serve ${[...(hosts.api === undefined ? [] : ['the API']), ...(hosts.cdn.length === 0 ? [] : ['the CDN'])].join(' and ')} over HTTPS${hosts.api === undefined ? '' : ' and set api.publicOrigin to its https:// origin'}${hosts.cdn.length === 0 ? '' : `, and write the grants of profile ${name} as https:// URLs (ViewerProtocolPolicy redirect-to-https or https-only)`}.`;
  if (profile.cookie.sameSite === 'None') {
    return [
      reporterFor(name)(
        'warning',
        'SAMESITE_NONE_INSECURE',
        null,
        `Profile ${name} sets SameSite=None, which browsers accept only on a Secure cookie, and Secure cookies need HTTPS: ${insecureSentence(name, hosts)}.`,
        remedy,
      ),
    ];
  }
  return [
    reporterFor(name)(
      'warning',
      'COOKIE_SECURE_OVER_HTTP',
      null,
      `Signet's cookies are Secure: ${insecureSentence(name, hosts)}.`,
      remedy,
    ),
  ];
}

/**
 * CORS_ORIGIN_CROSS_SITE (warning): a browser origin of the profile (`cors.origins`) on another
 * site than the cookies (scheme and registrable domain, as browsers compare sites for SameSite): its
 * pages' `fetch()` and `<img>` requests to the CDN are cross-site, so `SameSite=Lax`/`Strict` cookies
 * are not sent and third-party cookie blocking drops even `SameSite=None` ones; cookie-signed
 * requests from there get 403. Signed URLs still work from any allowed origin.
 */
export function checkCorsOriginsSite({ snapshot }: Pick<CheckInput, 'snapshot'>): Finding[] {
  const { name, profile } = snapshot;
  if (profile.cors.origins.length === 0) return [];
  const cdn = cdnHostsOf(profile);
  const cookieSites =
    profile.cookie.domain === undefined ? cdn.map(siteOf) : [siteOf(hostOf(profile.cookie.domain))];
  const schemes = cdnSchemesOf(profile);
  const crossSite = profile.cors.origins.filter((origin) => {
    const url = new URL(origin);
    const host = url.hostname; // lower-case: the URL parser folds host names
    const sameScheme = schemes.size === 0 || schemes.has(url.protocol.replace(':', ''));
    return !sameScheme || !cookieSites.includes(siteOf(host));
  });
  if (crossSite.length === 0) return [];
  const sites = [...new Set(cookieSites)];
  const site = sites.join(', ');
  return [
    reporterFor(name)(
      'warning',
      'CORS_ORIGIN_CROSS_SITE',
      null,
      `Profile ${name} allows browser origin(s) ${crossSite.join(', ')}, which are not on the cookies' site (${[...schemes].join('/') || 'https'}://${site}): the cookies are third-party there, so pages on those origins get 403 MissingKey for cookie-signed objects (signed URLs still work).`,
      `Serve the app on ${site} over the same scheme (for example https://app.${sites[0]}), or have pages on ${crossSite.join(', ')} use signed URLs instead of cookies.`,
    ),
  ];
}

/**
 * CDN_CORS_MISSING (warning): the profile allows browser origins (`cors.origins`), so pages will
 * `fetch()` its objects, but the cache behaviour that serves them has no response headers policy
 * with CORS for those origins (or without credentials, which `credentials: 'include'` needs): the
 * edge answers 200 and the browser hides the answer from the page. Needs `distributionId`.
 */
export function checkCorsOnDistribution({ snapshot }: Pick<CheckInput, 'snapshot'>): Finding[] {
  const { name, profile } = snapshot;
  if (profile.cors.origins.length === 0 || snapshot.distribution.status !== 'ok') return [];
  const distribution = snapshot.distribution.distribution;
  const report = (message: string, remedy: string) =>
    reporterFor(name)('warning', 'CDN_CORS_MISSING', null, message, remedy);
  const findings: Finding[] = [];
  const seen = new Set<string>();
  const remedy = `Attach a response headers policy with CORS to that cache behaviour of distribution ${distribution.id}: AccessControlAllowOrigins ${profile.cors.origins.join(', ')}, AccessControlAllowCredentials true, AccessControlAllowMethods GET, HEAD, OPTIONS (as infra/aws/demo-distribution.yml does), and allow OPTIONS on the behaviour.`;
  for (const { path } of samplePathsOf(profile)) {
    const behavior = behaviorFor(distribution, path);
    if (behavior === undefined || seen.has(behavior.pathPattern)) continue;
    seen.add(behavior.pathPattern);
    const where = `the cache behaviour ${behavior.pathPattern} of distribution ${distribution.id}`;
    const cors = behavior.cors;
    if (cors === undefined) {
      findings.push(
        report(
          `Profile ${name} allows browser origins (${profile.cors.origins.join(', ')}), but ${where} answers without CORS headers: a page's fetch() of a signed URL or cookie-protected object gets 200 and the browser blocks it (players such as hls.js fail).`,
          remedy,
        ),
      );
    } else if (cors === 'unreadable') {
      findings.push(
        report(
          `The response headers policy of ${where} could not be read, so whether it answers profile ${name}'s browser origins with CORS is unknown.`,
          'Allow cloudfront:GetResponseHeadersPolicy to whoever runs signet doctor, and run it again.',
        ),
      );
    } else {
      const missing = cors.allowOrigins.includes('*')
        ? []
        : profile.cors.origins.filter((origin) => !cors.allowOrigins.includes(origin));
      if (missing.length > 0) {
        findings.push(
          report(
            `The CORS policy ${cors.policyId} of ${where} does not allow ${missing.join(', ')}, browser origin(s) of profile ${name}: the browser blocks their pages' fetch() of its objects.`,
            `Add ${missing.join(', ')} to AccessControlAllowOrigins of response headers policy ${cors.policyId}.`,
          ),
        );
      } else if (!cors.allowCredentials) {
        findings.push(
          report(
            `The CORS policy ${cors.policyId} of ${where} does not allow credentials: a page's fetch(..., { credentials: 'include' }), which signed cookies need, is blocked by the browser.`,
            `Set AccessControlAllowCredentials true (with exact origins, not *) in response headers policy ${cors.policyId}.`,
          ),
        );
      }
    }
  }
  return findings;
}
