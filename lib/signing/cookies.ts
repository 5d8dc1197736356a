import { SigningError } from './errors.ts';

/** Attributes of the Set-Cookie headers that carry CloudFront cookies. `Secure; HttpOnly` are always set. */
export interface CookieAttributes {
  /** The parent domain of the CDN host (for example `example.com`); omitted: the exact host only. */
  readonly domain?: string | undefined;
  /** Which request paths carry the cookies. A `*` here is literal, not a wildcard. Default `/`. */
  readonly path?: string | undefined;
  readonly sameSite?: 'Strict' | 'Lax' | 'None' | undefined;
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
}

/**
 * Describes cookies with their attributes, validated: a Domain or Path with `;`, `,`, spaces or
 * control characters would split the header, and a `*` in Path is a common misunderstanding.
 * Session cookies (no Expires/Max-Age), as AWS recommends: the policy inside carries the expiry.
 */
export function describeCookies(
  cookies: readonly { name: string; value: string }[],
  attributes: CookieAttributes,
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
  return cookies.map(({ name, value }) => ({
    name,
    value,
    domain,
    path,
    sameSite,
    secure: true,
    httpOnly: true,
  }));
}

/** The Set-Cookie header value for one described cookie. */
export function formatSetCookie(cookie: CookieDescription): string {
  const domain = cookie.domain === null ? '' : `; Domain=${cookie.domain}`;
  return `${cookie.name}=${cookie.value}${domain}; Path=${cookie.path}; Secure; HttpOnly; SameSite=${cookie.sameSite}`;
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
