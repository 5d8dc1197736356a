import { globMatches, queryGlob, type UrlSections, urlSections } from '../signing/url.ts';
import { claimForPattern } from './claims.ts';
import type { Caller } from './types.ts';

/** `{name}` in a grant pattern: a claim name (letters, digits, `_`, `.`, `:`, `-`). */
const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_.:-]*)\}/g;

/** C0 and C1 control characters: no legitimate subject or tenant holds one. */
const CONTROL = /\p{Cc}/u;

/**
 * Fills a grant pattern's `{name}` placeholders with the caller's claims, each encoded as one path
 * segment's worth of text. Returns `undefined` when any placeholder cannot be filled safely (claim
 * missing or not text, empty, `.`, `..`, control characters, lone surrogates): the grant then does
 * not apply, rather than applying with a hole in it.
 */
export function interpolatePattern(template: string, caller: Caller): string | undefined {
  let unsafe = false;
  const filled = template.replace(PLACEHOLDER, (_placeholder, name: string) => {
    const value = claimForPattern(caller, name);
    const encoded = value === undefined ? undefined : encodeClaimSegment(value);
    if (encoded === undefined) unsafe = true;
    return encoded ?? '';
  });
  return unsafe ? undefined : filled;
}

/**
 * Percent-encodes a claim so that it is literal text inside one path segment: `/`, `?`, `#` and `%`
 * are encoded by `encodeURIComponent`, and `*` (which it leaves alone) becomes `%2A`, so a subject
 * like `alice/*` or `../bob` can never become a wildcard or another user's folder. `.` and `..` are
 * refused outright because the URL parser would resolve them as dot segments; with those and the
 * empty string refused, no combination of placeholders can form a dot segment either.
 */
export function encodeClaimSegment(value: string): string | undefined {
  if (value === '' || value === '.' || value === '..' || CONTROL.test(value)) return undefined;
  try {
    return encodeURIComponent(value).replaceAll('*', '%2A');
  } catch {
    // A lone surrogate has no UTF-8 encoding: encodeURIComponent throws URIError.
    return undefined;
  }
}

/** A URL or resource pattern cut where CloudFront's matcher cuts it (as `resourceMatches` does). */
export type PatternParts = UrlSections;

/** Splits a canonical URL or resource pattern (scheme lowercased); `undefined` without `scheme://host`. */
export function splitPattern(text: string): PatternParts | undefined {
  const sections = urlSections(text);
  return sections === undefined ? undefined : { ...sections, scheme: sections.scheme.toLowerCase() };
}

/** Whether a pattern holds a CloudFront wildcard character. */
export function hasWildcard(text: string): boolean {
  return text.includes('*') || text.includes('?');
}

/**
 * Whether every URL that `requested` could match is also matched by `granted`: the containment a
 * wildcard resource needs before Signet signs it. A concrete URL is a pattern too (in a custom policy
 * a `*` or `?` in its query is a wildcard), so every requested item goes through this one check.
 *
 * Section by section, as `resourceMatches` matches (docs/design.md, "CloudFront facts Signet relies on"): the scheme must be
 * equal; the requested host literal and matched by the granted host; the requested path contained in
 * the granted path; and the requested query contained in the granted query, where each side's query
 * is the glob `queryGlob` gives it (its query part; else `*` after a path ending in `*`, so a granted
 * `/videos/*` covers any requested query; else the empty query). No wildcard reaches across the `?`:
 * `/public/*.mp4` does not contain `/public/secret.txt?.mp4`. Each containment is {@link globContains}.
 */
export function patternContains(granted: string, requested: string): boolean {
  const g = splitPattern(granted);
  const r = splitPattern(requested);
  if (g === undefined || r === undefined) return false;
  if (g.scheme !== '*' && g.scheme !== r.scheme) return false;
  if (hasWildcard(r.host)) return false;
  if (!globContains(g.host.toLowerCase(), r.host.toLowerCase())) return false;
  if (!globContains(g.path, r.path)) return false;
  return globContains(queryGlob(g), queryGlob(r));
}

/**
 * A sound (never too generous) test that glob `requested` is contained in glob `granted` (`*` any
 * run, `?` exactly one character). It matches `requested` as text against `granted`, where a `*` in
 * `granted` may absorb any run of `requested`, wildcards included; a `?` in `granted` absorbs exactly
 * one character of `requested` that is not `*` (a literal or a `?`, each of which stands for exactly
 * one character); and a literal in `granted` matches only the same literal, never a wildcard. Any
 * such match maps every expansion of `requested` onto a match of `granted`, so containment holds.
 * The converse fails for a few odd pairs (`??*` does contain `?*?`), which are refused: refusing a
 * safe request is a nuisance, allowing a wider one is a breach.
 *
 * That is the signing core's glob matcher with `*` as the one character a `?` does not match (a
 * granted literal is never `*` or `?`, so it already matches only itself). Its cost is about
 * (wildcards in `granted` + 1) × length of `requested`, not their product: a long requested resource
 * or URL against the short grant patterns stays linear.
 */
export function globContains(granted: string, requested: string): boolean {
  return globMatches(granted, requested, '*');
}
