import { SigningError } from './errors.ts';

/**
 * `String.prototype.isWellFormed` (Node 20; ES2024, newer than the TypeScript lib this project
 * targets): false for text holding a UTF-16 surrogate without its pair, which no UTF-8 request line
 * can carry as written.
 */
type WellFormedText = string & { isWellFormed(): boolean };

/** CloudFront's limit on the length of a request URL. */
export const MAX_URL_BYTES = 8192;

/**
 * The longest caller-supplied wildcard `resource`, in bytes once canonical. A policy's Resource names a
 * folder or a file pattern, far below this; the limit bounds the work of matching it against a batch
 * of URLs of up to {@link MAX_URL_BYTES} each.
 */
export const MAX_RESOURCE_BYTES = 2048;

/**
 * The most wildcard characters (`*` and `?` together, the `?` that starts the query not counted) in a
 * caller-supplied `resource`. Matching costs about one pass over the URL per wildcard, so this bounds
 * it; real resources use one or two.
 */
export const MAX_RESOURCE_WILDCARDS = 16;

/** Query parameters CloudFront reads as the signature: a caller's own parameters may not use these names. */
export const SIGNING_PARAMETERS: ReadonlySet<string> = new Set([
  'Expires',
  'Policy',
  'Signature',
  'Key-Pair-Id',
  'Hash-Algorithm',
]);

/** The signing parameters' names as they appear in a query, for the fast path of {@link canonicalUrl}. */
const RESERVED_NAME_IN_QUERY = /(?:^|&)(?:Expires|Policy|Signature|Key-Pair-Id|Hash-Algorithm)(?:[=&]|$)/;

/**
 * The bytes Signet signs for a URL: its WHATWG serialization (`new URL(input).href`), which is what a
 * browser or `fetch` puts on the wire, without the fragment (never sent) and without an empty query
 * (a bare trailing `?`, so the signed resource and the URL the edge rebuilds after removing the
 * signing parameters agree; a `?` inside a query, as in `?q=what?`, is kept: it is sent). Refuses
 * other schemes, URLs over 8,192 bytes, text that is not valid Unicode (it would be sent as U+FFFD,
 * not as written), and caller parameters named like signing parameters.
 */
export function canonicalUrl(input: string): string {
  // Nothing is kept from one call to the next: the API canonicalizes each URL once where it checks
  // the batch and signs those results (signCanonicalUrls); a cache here cost more in garbage
  // collection than it saved (`npm run bench`).
  if (!(input as WellFormedText).isWellFormed()) {
    throw new SigningError(
      'ERR_INVALID_URL',
      'Expected `url` to be valid Unicode; it holds a lone surrogate, which would be sent as U+FFFD rather than as written.',
    );
  }
  const url = parseHttpUrl(input, 'url');
  // A WHATWG href holds `#` only where the fragment starts and `?` first where the query starts
  // (the parser percent-encodes them elsewhere): cutting at the first `#` is `url.hash = ''`, and an
  // href whose only `?` is its last character has an empty query.
  let href = url.href;
  const fragmentAt = href.indexOf('#');
  if (fragmentAt !== -1) href = href.slice(0, fragmentAt);
  const queryAt = href.indexOf('?');
  if (queryAt !== -1 && queryAt === href.length - 1) href = href.slice(0, -1);
  // An href is ASCII (the parser percent-encodes the rest), so its length is its size in bytes.
  if (href.length > MAX_URL_BYTES) {
    throw new SigningError(
      'ERR_URL_TOO_LONG',
      `Expected a URL of at most ${MAX_URL_BYTES} bytes (CloudFront's limit); got ${href.length} bytes.`,
    );
  }
  if (queryAt === -1 || queryAt === href.length) return href;
  // Without `%` or `+`, parameter names decode to themselves: a plain search settles it.
  const query = href.slice(queryAt + 1);
  if (!query.includes('%') && !query.includes('+') && !RESERVED_NAME_IN_QUERY.test(query)) return href;
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
  // The first `?` starts the query; any later one is a one-character wildcard in a policy's Resource.
  const queryAt = href.indexOf('?');
  if (queryAt !== -1 && href.indexOf('?', queryAt + 1) !== -1) {
    throw new SigningError(
      'ERR_AMBIGUOUS_WILDCARD',
      `Expected no "?" in the query of ${href}: with notBefore or an IP range the URL becomes a custom policy's Resource, ` +
        'where "?" matches any one character and would sign other URLs too. Write a literal question mark as %3F.',
    );
  }
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
 * as WHATWG would (lowercase host, percent-encoded path) so they compare with canonical URLs. As in a
 * URL, the first `?` after the host starts the query: `/reports/20??/x.pdf` is the path `/reports/20`
 * with the query `?/x.pdf`, never a path with two one-character wildcards (see {@link resourceMatches}).
 *
 * A caller's resource (the default) is also held to {@link MAX_RESOURCE_BYTES} and
 * {@link MAX_RESOURCE_WILDCARDS}, which bound the cost of matching it against a batch of URLs.
 * `trusted: true` is for grant patterns from Signet's own configuration, which are short and which a
 * caller cannot choose; they keep only the {@link MAX_URL_BYTES} limit.
 */
export function canonicalResource(pattern: string, options: { trusted?: boolean } = {}): string {
  // Access checks canonicalize every grant pattern of a profile on each request: the last results are
  // kept (the function is pure, and refusals are never kept). The same few patterns come back on
  // every request, so the cache hits and holds no garbage.
  const key = `${options.trusted === true ? 't' : 'c'}${pattern}`;
  const known = canonicalResources.get(key);
  if (known !== undefined) return known;
  const serialized = parseCanonicalResource(pattern, options);
  if (canonicalResources.size >= CANONICAL_RESOURCES_KEPT) canonicalResources.clear();
  canonicalResources.set(key, serialized);
  return serialized;
}

/** How many canonical resources {@link canonicalResource} keeps: a config's grant patterns and then some. */
const CANONICAL_RESOURCES_KEPT = 128;
const canonicalResources = new Map<string, string>();

function parseCanonicalResource(pattern: string, options: { trusted?: boolean }): string {
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
  // A URL is serialized without its scheme's default port (https://host:443/x is https://host/x), so a
  // `*://` pattern naming 80 or 443 cannot match both schemes as written: parsed as https below it
  // would lose `:443` and then also cover http://host/ (port 80). The caller names the scheme instead.
  // UNCONFIRMED how CloudFront itself compares ports in a Resource; this refusal makes Signet's side
  // explicit (docs/design.md, "CloudFront facts Signet relies on").
  const port = /:0*(80|443)$/.exec(host);
  if (scheme === '*' && port !== null) {
    throw new SigningError(
      'ERR_INVALID_RESOURCE',
      `Expected http:// or https:// in a resource that names port ${port[1]}; got ${JSON.stringify(pattern)}. ` +
        `Port ${port[1]} is the default of ${port[1] === '443' ? 'https' : 'http'}, whose URLs carry no port, so "*://" cannot cover it for both schemes.`,
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
  // `href` holds a `#` only where a fragment starts, an empty one (`…/*#`) included, which `hash` misses.
  if (url.href.includes('#')) {
    throw new SigningError(
      'ERR_INVALID_RESOURCE',
      `Expected a resource without a #fragment; got ${JSON.stringify(pattern)}.`,
    );
  }
  const serialized = `${scheme}://${url.href.slice('https://'.length)}`;
  const bytes = Buffer.byteLength(serialized);
  if (bytes > MAX_URL_BYTES) {
    throw new SigningError('ERR_URL_TOO_LONG', `Expected a resource of at most ${MAX_URL_BYTES} bytes.`);
  }
  if (options.trusted !== true) assertResourceLimits(serialized, bytes);
  return serialized;
}

/** Refuses a caller's canonical resource over {@link MAX_RESOURCE_BYTES} or {@link MAX_RESOURCE_WILDCARDS}. */
function assertResourceLimits(serialized: string, bytes: number): void {
  if (bytes > MAX_RESOURCE_BYTES) {
    throw new SigningError(
      'ERR_RESOURCE_TOO_LONG',
      `Expected a resource of at most ${MAX_RESOURCE_BYTES} bytes once canonical; got ${bytes} bytes. A ` +
        'wildcard resource names a folder or a file pattern: shorten it (end it with * to cover a folder).',
    );
  }
  // After the scheme (whose `*` is no glob), every `*` and `?` is a wildcard except the first `?`, which
  // starts the query (a host holds none: canonicalResource refuses it there).
  const afterScheme = serialized.slice(serialized.indexOf('://') + 3);
  const wildcards = countWildcards(afterScheme) - (afterScheme.includes('?') ? 1 : 0);
  if (wildcards > MAX_RESOURCE_WILDCARDS) {
    throw new SigningError(
      'ERR_TOO_MANY_WILDCARDS',
      `Expected at most ${MAX_RESOURCE_WILDCARDS} wildcard characters (* and ? together, the ? that starts the ` +
        `query not counted) in a resource; got ${wildcards}. Use one * for any run of characters.`,
    );
  }
}

function countWildcards(text: string): number {
  let count = 0;
  for (let i = 0; i < text.length; i++) if (text[i] === '*' || text[i] === '?') count++;
  return count;
}

/**
 * Whether `resource` (a custom-policy pattern) matches `url`, as the edge decides it. CloudFront's
 * current documentation matches a policy's Resource section by section: scheme, host, path, query
 * string (docs/design.md, "CloudFront facts Signet relies on"); Signet models it so:
 *
 * - `"*"` alone matches every URL.
 * - Scheme: `*` matches any; otherwise equal, case-insensitive.
 * - Host: a glob, case-insensitive; its `*` stays inside the host and never reaches into the path.
 * - Path: a glob against the URL's path (up to its first `?`); a `*` here never reaches across the `?`
 *   into the query, so `/public/*.mp4` does not match `/public/secret.txt?.mp4` (an object outside it).
 * - Query: the pattern's query part is whatever follows the first `?` after its host (where
 *   {@link canonicalResource} and the URL parser cut it). With a query part, it is a glob against the
 *   URL's query (a URL without one has the empty query). Without one, a path ending in `*` covers any
 *   query string (the documented rule: `/videos/*` matches `/videos/a.mp4?x=1`), and a path that does
 *   not end in `*` names objects exactly and matches only URLs without a query (`/a/*.mp4` matches
 *   `/a/b.mp4`, not `/a/b.mp4?x`; write `/a/*.mp4?*` for any query). The second half is Signet's
 *   reading where the docs say nothing, chosen because it is the narrower one.
 *
 * Consequently a `?` meant as a one-character wildcard in a path is read as the start of the query, as
 * the URL parser always read it: `/v?.mp4` is the path `/v` with the query `.mp4`. `?` is a
 * one-character wildcard only after the query has started (and in the host, where canonical resources
 * refuse it). Case sensitivity of the host and path is UNCONFIRMED by AWS; Signet treats the host as
 * case-insensitive and the path and query as case-sensitive.
 */
export function resourceMatches(resource: string, url: string): boolean {
  if (resource === '*') return true;
  const pattern = urlSections(resource);
  const target = urlSections(url);
  if (pattern === undefined || target === undefined) return false;
  if (pattern.scheme !== '*' && pattern.scheme.toLowerCase() !== target.scheme.toLowerCase()) return false;
  if (!globMatches(pattern.host.toLowerCase(), target.host.toLowerCase())) return false;
  if (!globMatches(pattern.path, target.path)) return false;
  return globMatches(queryGlob(pattern), target.query ?? '');
}

/** A URL or resource pattern cut into the sections CloudFront matches one by one. */
export interface UrlSections {
  /** As written (`*` for any scheme). */
  readonly scheme: string;
  /** Host and port, as written: everything after `://` up to the first `/` or `?`. */
  readonly host: string;
  /** From the host's end up to the first `?` (for a canonical URL: `/` and more). */
  readonly path: string;
  /** What follows the first `?` after the host, or `undefined` when there is no `?`. */
  readonly query: string | undefined;
}

/** Cuts `scheme://host/path?query`; `undefined` when the text has no `scheme://`. */
export function urlSections(text: string): UrlSections | undefined {
  const match = /^([^:/]+):\/\/([^/?]*)([^?]*)(?:\?(.*))?$/s.exec(text);
  if (match === null) return undefined;
  return { scheme: match[1]!, host: match[2]!, path: match[3]!, query: match[4] };
}

/**
 * The glob that the query of a URL (empty when it has none) must match for a pattern with these
 * sections to match it: the pattern's own query part; else `*` (any query) after a path ending in `*`;
 * else the empty string (no query). {@link resourceMatches} explains the choice.
 */
export function queryGlob(pattern: UrlSections): string {
  if (pattern.query !== undefined) return pattern.query;
  return pattern.path.endsWith('*') ? '*' : '';
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

/**
 * Whether `text` matches the glob `pattern`: `*` is any run of characters (possibly none), `?` exactly
 * one character (a UTF-16 code unit; canonical URLs are ASCII), anything else itself.
 * `unmatchable`, when given, is a character that `?` does not match: access containment passes `*` so
 * that a granted `?` never absorbs a requested `*` (which stands for any run, not one character).
 *
 * The worst case is what matters here: callers choose both the pattern (a `resource`) and up to 100
 * URLs, and a backtracking matcher costs pattern × text per URL (seconds for 8 KB inputs). Instead the
 * pattern is cut at each `*` into segments: the first must fit at the start of the text and the last
 * at its end, and each middle one is taken at its leftmost fit after the one before. Leftmost is
 * always right when `*` is the only variable-width wildcard (segments have a fixed width): an earlier
 * fit leaves more text for the segments that follow, and the `*` around it absorbs the difference. A segment without `?` is found with `indexOf`; one
 * with `?` by {@link findSegment}, which is linear in the text per literal piece of the segment. So
 * the whole match costs about (number of wildcards + 1) × text length.
 */
export function globMatches(pattern: string, text: string, unmatchable?: string): boolean {
  const segments = pattern.split('*');
  const first = segments[0]!;
  if (segments.length === 1) return text.length === first.length && fitsAt(first, text, 0, unmatchable);
  const last = segments[segments.length - 1]!;
  const end = text.length - last.length;
  if (end < first.length) return false;
  if (!fitsAt(first, text, 0, unmatchable) || !fitsAt(last, text, end, unmatchable)) return false;
  let from = first.length;
  for (let i = 1; i < segments.length - 1; i++) {
    const segment = segments[i]!;
    if (segment === '') continue;
    const at = findSegment(segment, text, from, end, unmatchable);
    if (at === -1) return false;
    from = at + segment.length;
  }
  return true;
}

/** Whether the `*`-free glob `segment` matches `text` at `at`, character for character. */
function fitsAt(segment: string, text: string, at: number, unmatchable: string | undefined): boolean {
  for (let i = 0; i < segment.length; i++) {
    const wanted = segment[i]!;
    const found = text[at + i];
    if (wanted === '?' ? found === undefined || found === unmatchable : wanted !== found) return false;
  }
  return true;
}

/**
 * The leftmost `at` in `[from, end - segment.length]` where the `*`-free glob `segment` fits, or -1.
 * A segment with `?` is cut into its literal pieces; a count per candidate start records how many
 * pieces occur at their offsets (each piece found in one linear pass, {@link forEachOccurrence}), and
 * the first start where all do (and, with `unmatchable`, no `?` falls on it) is the answer. Trying each
 * start with {@link fitsAt} instead would cost segment × text again.
 */
function findSegment(
  segment: string,
  text: string,
  from: number,
  end: number,
  unmatchable: string | undefined,
): number {
  const lastStart = end - segment.length;
  if (lastStart < from) return -1;
  if (!segment.includes('?')) {
    const at = text.indexOf(segment, from);
    return at !== -1 && at <= lastStart ? at : -1;
  }
  const pieces: { text: string; offset: number }[] = [];
  const singles: number[] = [];
  for (const run of segment.matchAll(/[^?]+|\?/g)) {
    if (run[0] === '?') singles.push(run.index);
    else pieces.push({ text: run[0], offset: run.index });
  }
  const hits = new Uint32Array(lastStart - from + 1);
  for (const piece of pieces) {
    forEachOccurrence(piece.text, text, from + piece.offset, lastStart + piece.offset, (at) => {
      hits[at - piece.offset - from]!++;
    });
  }
  // Where `?` may not match a character, mark the starts that would put a `?` on one: each such
  // character rules out one start per `?`, so this costs at most (`?` count) × (text searched).
  const blocked = unmatchable === undefined ? undefined : new Uint8Array(hits.length);
  if (blocked !== undefined) {
    for (let at = from; at < end; at++) {
      if (text[at] !== unmatchable) continue;
      for (const offset of singles) {
        const start = at - offset;
        if (start >= from && start <= lastStart) blocked[start - from] = 1;
      }
    }
  }
  for (let i = 0; i < hits.length; i++) {
    if (hits[i] === pieces.length && blocked?.[i] !== 1) return from + i;
  }
  return -1;
}

/**
 * Calls `found` with every start in `[first, last]` where `needle` occurs in `haystack`, overlapping
 * occurrences included. Knuth-Morris-Pratt: one pass, never revisiting a character, whatever repeats.
 */
function forEachOccurrence(
  needle: string,
  haystack: string,
  first: number,
  last: number,
  found: (at: number) => void,
): void {
  const border = new Int32Array(needle.length);
  for (let i = 1, k = 0; i < needle.length; i++) {
    while (k > 0 && needle[i] !== needle[k]) k = border[k - 1]!;
    if (needle[i] === needle[k]) k++;
    border[i] = k;
  }
  const stop = Math.min(haystack.length, last + needle.length);
  for (let i = first, k = 0; i < stop; i++) {
    while (k > 0 && haystack[i] !== needle[k]) k = border[k - 1]!;
    if (haystack[i] === needle[k]) k++;
    if (k === needle.length) {
      found(i - needle.length + 1);
      k = border[k - 1]!;
    }
  }
}

function truncate(text: string): string {
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}
