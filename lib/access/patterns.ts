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
export interface PatternParts {
  readonly scheme: string;
  /** Host and port, as written. */
  readonly host: string;
  /** Path and query, the part a `*` may run across. */
  readonly rest: string;
  /** The path alone: `rest` up to the first `?` (which a URL parser reads as the query's start). */
  readonly path: string;
}

/** Splits a canonical URL or resource pattern; `undefined` when it has no `scheme://host`. */
export function splitPattern(text: string): PatternParts | undefined {
  const match = /^([^:/]+):\/\/([^/]*)(.*)$/.exec(text);
  if (match === null) return undefined;
  const rest = match[3]!;
  const queryAt = rest.indexOf('?');
  return {
    scheme: match[1]!.toLowerCase(),
    host: match[2]!,
    rest,
    path: queryAt === -1 ? rest : rest.slice(0, queryAt),
  };
}

/** Whether a pattern holds a CloudFront wildcard character. */
export function hasWildcard(text: string): boolean {
  return text.includes('*') || text.includes('?');
}

/**
 * Whether every URL that `requested` could match is also matched by `granted`: the containment a
 * wildcard resource needs before Signet signs it. A concrete URL is a pattern too (its `?` starting
 * the query is a one-character wildcard in a custom policy), so every requested item goes through
 * this one check. Scheme must be equal, the requested host literal and matched by the granted host,
 * and the rest contained as described at {@link globContains}.
 */
export function patternContains(granted: string, requested: string): boolean {
  const g = splitPattern(granted);
  const r = splitPattern(requested);
  if (g === undefined || r === undefined) return false;
  if (g.scheme !== '*' && g.scheme !== r.scheme) return false;
  if (hasWildcard(r.host)) return false;
  if (!globContains(g.host.toLowerCase(), r.host.toLowerCase())) return false;
  return globContains(g.rest, r.rest);
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
 */
export function globContains(granted: string, requested: string): boolean {
  // The linear-backtracking glob matcher: it stays correct for any per-character predicate, because
  // the pieces between two stars are fixed-length and the leftmost fit of each is always best.
  let g = 0;
  let r = 0;
  let starG = -1;
  let starR = 0;
  while (r < requested.length) {
    const gc = granted[g];
    if (gc !== undefined && gc !== '*' && covers(gc, requested[r]!)) {
      g++;
      r++;
    } else if (gc === '*') {
      starG = g++;
      starR = r;
    } else if (starG !== -1) {
      g = starG + 1;
      r = ++starR;
    } else {
      return false;
    }
  }
  while (granted[g] === '*') g++;
  return g === granted.length;
}

function covers(grantedChar: string, requestedChar: string): boolean {
  if (requestedChar === '*') return false;
  if (grantedChar === '?') return true;
  return requestedChar !== '?' && grantedChar === requestedChar;
}
