import { SigningError } from './errors.ts';

/** Attributes of the Set-Cookie headers that carry CloudFront cookies. `Secure; HttpOnly` are always set. */
export interface CookieAttributes {
  /** The parent domain of the CDN host (for example `example.com`); omitted: the exact host only. */
  readonly domain?: string | undefined;
  /** Which request paths carry the cookies. A `*` here is literal, not a wildcard. Default `/`. */
  readonly path?: string | undefined;
  readonly sameSite?: 'Strict' | 'Lax' | 'None' | undefined;
  /**
   * `Max-Age`/`Expires` set to the policy's expiry, so the browser forgets the cookies when the
   * policy stops being valid. Default false: session cookies, as AWS recommends (closing the browser
   * drops them; the policy inside still carries the expiry). Needs {@link CookieLifetime}.
   */
  readonly persistent?: boolean | undefined;
}

/** When the cookies' policy expires, against the signer's clock (epoch seconds). */
export interface CookieLifetime {
  readonly expires: number;
  readonly now: number;
}

/** One cookie as the API's JSON body and `--json` describe it. */
export interface CookieDescription {
  readonly name: string;
  readonly value: string;
  readonly domain: string | null;
  readonly path: string;
  readonly sameSite: 'Strict' | 'Lax' | 'None';
  readonly secure: true;
  readonly httpOnly: true;
  /** Persistent cookies only: seconds from issuance until the browser forgets the cookie (`Max-Age`). */
  readonly maxAge?: number;
  /** Persistent cookies only: the same moment as `Expires`, ISO 8601 UTC. */
  readonly expiresAt?: string;
}

/**
 * Describes cookies with their attributes, validated: a Domain or Path with `;`, `,`, spaces or
 * control characters would split the header, and a `*` in Path is a common misunderstanding.
 * Session cookies (no Expires/Max-Age) by default, as AWS recommends: the policy inside carries the
 * expiry. With `persistent`, `Max-Age` and `Expires` name the policy's expiry (`lifetime`).
 */
export function describeCookies(
  cookies: readonly { name: string; value: string }[],
  attributes: CookieAttributes,
  lifetime?: CookieLifetime,
): CookieDescription[] {
  const domain = attributes.domain === undefined ? null : validateDomain(attributes.domain);
  const path = validatePath(attributes.path ?? '/');
  const sameSite = attributes.sameSite ?? 'Lax';
  if (!['Strict', 'Lax', 'None'].includes(sameSite)) {
    throw new SigningError(
      'ERR_INVALID_COOKIE_ATTRIBUTE',
      `Expected SameSite Strict, Lax or None; got ${JSON.stringify(sameSite)}.`,
    );
  }
  const persistent = attributes.persistent === true && lifetime !== undefined;
  if (persistent && !(lifetime.expires > lifetime.now)) {
    throw new SigningError(
      'ERR_INVALID_COOKIE_ATTRIBUTE',
      `Expected a cookie expiry after now (${lifetime.now}); got ${lifetime.expires}.`,
    );
  }
  return cookies.map(({ name, value }) => ({
    name,
    value,
    domain,
    path,
    sameSite,
    secure: true,
    httpOnly: true,
    ...(persistent
      ? {
          maxAge: lifetime.expires - lifetime.now,
          expiresAt: new Date(lifetime.expires * 1000).toISOString().replace('.000Z', 'Z'),
        }
      : {}),
  }));
}

/**
 * When a client should ask for fresh cookies, in seconds after issuance: a margin before the policy
 * expires that is a fifth of the lifetime, at least 1 s and at most 5 minutes, so a request made
 * just before the refresh still reaches the edge with a valid policy. docs/design.md, "Contracts".
 */
export function cookieRefreshIn(lifetime: CookieLifetime): number {
  const total = Math.max(0, lifetime.expires - lifetime.now);
  const margin = Math.min(300, Math.max(1, Math.ceil(total / 5)));
  return Math.max(0, total - margin);
}

/** The Set-Cookie header value for one described cookie. */
export function formatSetCookie(cookie: CookieDescription): string {
  const domain = cookie.domain === null ? '' : `; Domain=${cookie.domain}`;
  const expiry =
    cookie.maxAge === undefined || cookie.expiresAt === undefined
      ? ''
      : `; Max-Age=${cookie.maxAge}; Expires=${new Date(cookie.expiresAt).toUTCString()}`;
  return `${cookie.name}=${cookie.value}${domain}; Path=${cookie.path}${expiry}; Secure; HttpOnly; SameSite=${cookie.sameSite}`;
}

/** Parses a `Cookie` request header into name → value (the first of duplicate names wins, as browsers send the most specific first). */
export function parseCookieHeader(header: string): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const part of header.split(';')) {
    const equals = part.indexOf('=');
    if (equals === -1) continue;
    const name = part.slice(0, equals).trim();
    const value = part.slice(equals + 1).trim();
    if (name !== '' && !cookies.has(name)) cookies.set(name, value);
  }
  return cookies;
}

function validateDomain(domain: string): string {
  const bare = domain.startsWith('.') ? domain.slice(1) : domain;
  if (
    !/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i.test(bare)
  ) {
    throw new SigningError(
      'ERR_INVALID_COOKIE_ATTRIBUTE',
      `Expected a cookie Domain like example.com; got ${JSON.stringify(domain)}.`,
    );
  }
  if (/(^|\.)cloudfront\.net$/i.test(bare) && !/^[a-z0-9]+\.cloudfront\.net$/i.test(bare)) {
    throw new SigningError(
      'ERR_INVALID_COOKIE_ATTRIBUTE',
      `Expected a cookie Domain no wider than one distribution; got ${domain}, which would send the cookies to every CloudFront customer.`,
    );
  }
  return bare.toLowerCase();
}

function validatePath(path: string): string {
  if (!/^\/[!-~]*$/.test(path) || /[;,]/.test(path)) {
    throw new SigningError(
      'ERR_INVALID_COOKIE_ATTRIBUTE',
      `Expected a cookie Path starting with "/" and without spaces, ";" or ","; got ${JSON.stringify(path)}.`,
    );
  }
  if (path.includes('*')) {
    throw new SigningError(
      'ERR_INVALID_COOKIE_ATTRIBUTE',
      `Expected a cookie Path without "*" (browsers read it literally, it is not a wildcard); got ${path}. Use the folder, like /videos/.`,
    );
  }
  return path;
}
