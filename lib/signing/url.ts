import { SigningError } from './errors.ts';

/** CloudFront's limit on the length of a request URL. */
export const MAX_URL_BYTES = 8192;

/** Query parameters CloudFront reads as the signature: a caller's own parameters may not use these names. */
export const SIGNING_PARAMETERS: ReadonlySet<string> = new Set([
  'Expires',
  'Policy',
  'Signature',
  'Key-Pair-Id',
  'Hash-Algorithm',
]);

/**
 * The bytes Signet signs for a URL: its WHATWG serialization (`new URL(input).href`), which is what a
 * browser or `fetch` puts on the wire, without the fragment (never sent) and without an empty `?`
 * (so the signed resource and the URL the edge rebuilds after removing the signing parameters agree).
 * Refuses other schemes, URLs over 8,192 bytes, and caller parameters named like signing parameters.
 */
export function canonicalUrl(input: string): string {
  const url = parseHttpUrl(input, 'url');
  url.hash = '';
  let href = url.href;
  if (href.endsWith('?')) href = href.slice(0, -1);
  if (Buffer.byteLength(href) > MAX_URL_BYTES) {
    throw new SigningError(
      'ERR_URL_TOO_LONG',
      `Expected a URL of at most ${MAX_URL_BYTES} bytes (CloudFront's limit); got ${Buffer.byteLength(href)} bytes.`,
    );
  }
  const reserved = queryParameterNames(href).filter((name) => SIGNING_PARAMETERS.has(name));
  if (reserved.length > 0) {
    throw new SigningError(
      'ERR_RESERVED_QUERY_PARAMETER',
      `Expected no query parameter named ${[...SIGNING_PARAMETERS].join(', ')} (CloudFront reads those as the ` +
        `signature); got ${reserved.join(', ')} in ${href}. Rename the parameter, or strip an old signature first.`,
    );
  }
  return href;
}

/**
 * Refuses a `*` in the host or path of a URL signed as one exact object: a canned policy cannot
 * hold a wildcard, and a caller who wrote one most likely meant a wildcard resource. (A `*` in the
 * query string is an ordinary character.)
 */
export function assertNoWildcard(href: string): void {
  // `href` is canonical (scheme://host/path?query, no userinfo or fragment): the host and path are
  // the text between the scheme and the first `?`. String search, not a second URL parse: this runs
  // on every signature.
  const start = href.indexOf('//') + 2;
  const queryAt = href.indexOf('?', start);
  const hostAndPath = queryAt === -1 ? href.slice(start) : href.slice(start, queryAt);
  if (hostAndPath.includes('*')) {
    throw new SigningError(
      'ERR_AMBIGUOUS_WILDCARD',
      `Expected an exact URL; got a "*" in the host or path of ${href}. To sign a wildcard, pass it as ` +
        '`resource` (a custom policy); to sign a literal asterisk, write it as %2A.',
    );
  }
}

/**
 * Refuses a `*` anywhere in an exact URL that becomes the Resource of a custom policy (it has
 * `notBefore` or an IP range but no `resource`): there `*` is a wildcard, so `?q=*` would also
 * sign `?q=anything`. CloudFront policies cannot escape it.
 */
export function assertNoWildcardInCustomResource(href: string): void {
  if (href.includes('*')) {
    throw new SigningError(
      'ERR_AMBIGUOUS_WILDCARD',
      `Expected no "*" in ${href}: with notBefore or an IP range the URL becomes a custom policy's Resource, where ` +
        '"*" is a wildcard and would sign other URLs too. Write a literal asterisk as %2A, or pass `resource` for a wildcard.',
    );
  }
}

/**
 * Canonicalizes a custom-policy resource pattern: `http://`, `https://` or `*://`, then a host and
 * path that may hold `*` (any run of characters) and `?` (exactly one). Host and path are serialized
 * as WHATWG would (lowercase host, percent-encoded path) so they compare with canonical URLs.
 */
export function canonicalResource(pattern: string): string {
  const match = /^(\*|https?):\/\/(.*)$/i.exec(pattern);
  if (match === null) {
    throw new SigningError(
      'ERR_INVALID_RESOURCE',
      `Expected a resource like https://media.example.com/videos/* (scheme http, https or *); got ${JSON.stringify(pattern)}.`,
    );
  }
  const scheme = match[1]!.toLowerCase();
  const rest = match[2]!;
  const host = rest.split('/')[0]!;
  if (host.includes('?')) {
    throw new SigningError(
      'ERR_INVALID_RESOURCE',
      `Expected no "?" in the host of a resource (use "*"); got ${JSON.stringify(pattern)}.`,
    );
  }
  // Parsed as https so that a `*://` pattern gets the same host and path serialization as a URL. As in
  // a URL, the first `?` after the host starts the query; `*` and `?` pass through the parser as is.
  let url: URL;
  try {
    url = new URL(`https://${rest}`);
  } catch (cause) {
    throw new SigningError(
      'ERR_INVALID_RESOURCE',
      `Expected a resource URL pattern; could not parse ${JSON.stringify(pattern)}.`,
      { cause },
    );
  }
  if (url.username !== '' || url.password !== '') {
    throw new SigningError(
      'ERR_INVALID_RESOURCE',
      'Expected a resource without a user name or password (user:pass@host).',
    );
  }
  if (url.hash !== '') {
    throw new SigningError(
      'ERR_INVALID_RESOURCE',
      `Expected a resource without a #fragment; got ${JSON.stringify(pattern)}.`,
    );
  }
  const serialized = `${scheme}://${url.href.slice('https://'.length)}`;
  if (Buffer.byteLength(serialized) > MAX_URL_BYTES) {
    throw new SigningError('ERR_URL_TOO_LONG', `Expected a resource of at most ${MAX_URL_BYTES} bytes.`);
  }
  return serialized;
}

/**
 * Whether `resource` (a custom-policy pattern) matches `url`, as the edge decides it: the scheme,
 * then the host (case-insensitive; a `*` there stays inside the host), then path and query together
 * (a trailing `*` on the path covers any query string). Case sensitivity of the host and path is
 * UNCONFIRMED by AWS; Signet treats the host as case-insensitive and the path as case-sensitive.
 */
export function resourceMatches(resource: string, url: string): boolean {
  if (resource === '*') return true;
  const pattern = splitUrl(resource);
  const target = splitUrl(url);
  if (pattern === undefined || target === undefined) return false;
  if (pattern.scheme !== '*' && pattern.scheme.toLowerCase() !== target.scheme.toLowerCase()) return false;
  if (!globMatches(pattern.host.toLowerCase(), target.host.toLowerCase())) return false;
  return globMatches(pattern.rest, target.rest);
}

/**
 * Removes CloudFront's signing parameters from a URL's query string and returns what remains, byte
 * for byte, with the other parameters in their order: this is the resource the signature covers.
 */
export function stripSigningParameters(href: string): string {
  const queryAt = href.indexOf('?');
  if (queryAt === -1) return href;
  const kept = href
    .slice(queryAt + 1)
    .split('&')
    .filter((pair) => !SIGNING_PARAMETERS.has(parameterName(pair)));
  return kept.length === 0 ? href.slice(0, queryAt) : `${href.slice(0, queryAt)}?${kept.join('&')}`;
}

/** The decoded names of a URL's query parameters, in order. */
export function queryParameterNames(href: string): string[] {
  const queryAt = href.indexOf('?');
  if (queryAt === -1) return [];
  return href
    .slice(queryAt + 1)
    .split('&')
    .filter((pair) => pair !== '')
    .map(parameterName);
}

/** Parses a caller's URL, refusing anything but absolute http and https URLs. */
export function parseHttpUrl(input: string, field: string): URL {
  let url: URL;
  try {
    url = new URL(input);
  } catch (cause) {
    throw new SigningError(
      'ERR_INVALID_URL',
      `Expected \`${field}\` to be an absolute URL like https://media.example.com/file.mp4; got ${JSON.stringify(truncate(input))}.`,
      { cause },
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new SigningError(
      'ERR_UNSUPPORTED_SCHEME',
      `Expected \`${field}\` to use http or https; got ${url.protocol.slice(0, -1)}.`,
    );
  }
  if (url.username !== '' || url.password !== '') {
    // Never echo the credentials back: name the problem only.
    throw new SigningError(
      'ERR_INVALID_URL',
      `Expected \`${field}\` without a user name or password (user:pass@host); browsers do not send them to CloudFront.`,
    );
  }
  return url;
}

function parameterName(pair: string): string {
  const equals = pair.indexOf('=');
  const raw = equals === -1 ? pair : pair.slice(0, equals);
  try {
    return decodeURIComponent(raw.replaceAll('+', ' '));
  } catch {
    return raw;
  }
}

interface UrlParts {
  scheme: string;
  host: string;
  rest: string;
}

function splitUrl(text: string): UrlParts | undefined {
  const match = /^([^:/]+):\/\/([^/]*)(.*)$/.exec(text);
  if (match === null) return undefined;
  return { scheme: match[1]!, host: match[2]!, rest: match[3]! };
}

/**
 * Glob match with `*` (any run of characters) and `?` (exactly one), linear-time backtracking. Host
 * and path are matched separately, so a `*` in the host never reaches into the path.
 */
function globMatches(pattern: string, text: string): boolean {
  let p = 0;
  let t = 0;
  let starP = -1;
  let starT = 0;
  while (t < text.length) {
    const pc = pattern[p];
    if (pc === '?' || (pc !== undefined && pc !== '*' && pc === text[t])) {
      p++;
      t++;
    } else if (pc === '*') {
      starP = p++;
      starT = t;
    } else if (starP !== -1) {
      p = starP + 1;
      t = ++starT;
    } else {
      return false;
    }
  }
  while (pattern[p] === '*') p++;
  return p === pattern.length;
}

function truncate(text: string): string {
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}
