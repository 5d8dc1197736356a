import type { Grant, Profile } from '../config/schema.ts';
import { canonicalResource, canonicalUrl } from '../signing/url.ts';
import { grantApplies } from './claims.ts';
import { AccessError, type RefusedItem } from './errors.ts';
import { pathAmbiguity } from './paths.ts';
import { hasWildcard, interpolatePattern, patternContains, splitPattern } from './patterns.ts';
import type { AccessDecision, AuthorizeInput, Caller } from './types.ts';

/** A requested URL or resource, canonicalized. */
type Requested =
  | { readonly kind: 'url'; readonly index: number; readonly href: string }
  | { readonly kind: 'resource'; readonly href: string };

/** A grant that applies to the caller, with its patterns filled in and canonicalized. */
interface Candidate {
  readonly index: number;
  readonly patterns: readonly string[];
  readonly maxTtl: number;
  /** Whether the grant's own `maxTtl` is what limits it (rather than the profile's `ttl.max`). */
  readonly limitedByGrant: boolean;
}

/** How many granted patterns a denial lists before it says "and N more". */
const LISTED_PATTERNS = 5;

/**
 * Decides whether `caller` may have `urls` (and the wildcard `resource`, if any) signed for
 * `ttlSeconds` under `profile`. Deny by default: allowed only when one grant that applies to the
 * caller covers every requested item and allows that expiry; among several, the one with the
 * longest `maxTtl` is chosen. URLs and the resource are canonicalized exactly as the signing core
 * does (its `SigningError` propagates as is), so what is checked is byte for byte what is signed.
 *
 * @throws AccessError `ERR_AMBIGUOUS_PATH` for a path trick, `ERR_RESOURCE_NOT_GRANTED` when no
 *   applicable grant covers everything, `ERR_TTL_EXCEEDED` when one does but not for that long.
 */
export function authorize(input: AuthorizeInput): AccessDecision {
  const { profileName, profile, caller, ttlSeconds } = input;
  const requested: Requested[] = input.urls.map((url, index) => ({
    kind: 'url',
    index,
    href: canonicalUrl(url),
  }));
  if (input.resource !== undefined)
    requested.push({ kind: 'resource', href: canonicalResource(input.resource) });
  if (requested.length === 0) {
    throw new AccessError(
      'ERR_RESOURCE_NOT_GRANTED',
      'Expected at least one URL or a resource to sign; got none.',
    );
  }

  const ambiguous = requested.flatMap((item) => {
    const reason = ambiguityOf(item);
    return reason === undefined ? [] : [refusal(item, reason)];
  });
  if (ambiguous.length > 0) {
    const first = ambiguous[0]!;
    throw new AccessError(
      'ERR_AMBIGUOUS_PATH',
      `Expected a path that every server reads the same way; ${describe(first)} has ${first.reason}. ` +
        'Request the object by its plain path.',
      { refused: ambiguous },
    );
  }

  const domains = new Set(profile.domains.map((domain) => domain.toLowerCase()));
  const offDomain = requested.flatMap((item) => {
    const host = splitPattern(item.href)?.host.toLowerCase();
    return host !== undefined && domains.has(host)
      ? []
      : [refusal(item, `its host is not one of the domains of profile ${profileName}`)];
  });
  if (offDomain.length > 0) {
    throw new AccessError(
      'ERR_RESOURCE_NOT_GRANTED',
      `Expected a URL on a domain of profile ${profileName} (${profile.domains.join(', ')}); ` +
        `got ${describe(offDomain[0]!)}.`,
      { refused: offDomain },
    );
  }

  const who = describeCaller(caller);
  const candidates = profile.grants.flatMap((grant, index) =>
    candidateOf(grant, index, profile, caller, domains),
  );
  const covers = (candidate: Candidate, item: Requested): boolean =>
    candidate.patterns.some((pattern) => patternContains(pattern, item.href));

  const covering = candidates.filter((candidate) => requested.every((item) => covers(candidate, item)));
  if (covering.length === 0) {
    const granted = candidates.flatMap((candidate) => candidate.patterns);
    const uncovered = requested.filter((item) => !candidates.some((candidate) => covers(candidate, item)));
    if (uncovered.length === 0) {
      throw new AccessError(
        'ERR_RESOURCE_NOT_GRANTED',
        `Expected the requested items to fall under one grant; each is granted to ${who}, but by ` +
          `different grants of profile ${profileName}. Request them separately.`,
        { refused: requested.map((item) => refusal(item, 'granted by a different grant than the others')) },
      );
    }
    const reason =
      granted.length === 0 ? 'no grant applies to the caller' : 'not inside any granted resource';
    const refused = uncovered.map((item) => refusal(item, reason));
    const first = uncovered[0]!;
    const what = first.kind === 'resource' ? `the resource ${display(first.href)}` : display(first.href);
    const more = uncovered.length > 1 ? ` (and ${uncovered.length - 1} more of the requested items)` : '';
    const wildcard =
      first.kind === 'resource'
        ? '; a wildcard resource must lie inside one, so that every URL it matches is'
        : '';
    throw new AccessError(
      'ERR_RESOURCE_NOT_GRANTED',
      granted.length === 0
        ? `${what}${more} is not granted: no grant of profile ${profileName} applies to ${who}.`
        : `${what}${more} is not inside any resource granted to ${who} (granted: ${listPatterns(granted)})` +
            wildcard,
      { refused },
    );
  }

  // The longest ceiling wins; on a tie the first grant in config order, so the choice is stable.
  const chosen = covering.reduce((best, candidate) => (candidate.maxTtl > best.maxTtl ? candidate : best));
  // Written as !(a <= b) so that NaN is refused too.
  if (!(ttlSeconds <= chosen.maxTtl)) {
    const scope = chosen.limitedByGrant ? 'this grant' : `profile ${profileName}`;
    throw new AccessError(
      'ERR_TTL_EXCEEDED',
      `Expected an expiry of at most ${chosen.maxTtl} seconds for ${scope}; got ${ttlSeconds}.`,
      { maxTtl: chosen.maxTtl },
    );
  }
  return {
    grantIndex: chosen.index,
    maxTtl: chosen.maxTtl,
    resources: chosen.patterns.filter((pattern, at, all) => {
      const used = requested.some((item) => patternContains(pattern, item.href));
      return used && all.indexOf(pattern) === at;
    }),
  };
}

/**
 * The grant as a candidate for this caller, or nothing when it does not apply: its `when` does not
 * hold, a placeholder cannot be filled, or none of its patterns is a usable pattern on the profile's
 * domains (a pattern on another host, with a wildcard host, or that does not parse never matches).
 */
function candidateOf(
  grant: Grant,
  index: number,
  profile: Profile,
  caller: Caller,
  domains: ReadonlySet<string>,
): Candidate[] {
  if (!grantApplies(grant.when, caller)) return [];
  const patterns: string[] = [];
  for (const template of grant.resources) {
    const filled = interpolatePattern(template, caller);
    if (filled === undefined) return [];
    let pattern: string;
    try {
      // Trusted: a grant pattern comes from Signet's configuration, not from the caller, so the limits
      // on a caller's resource do not apply (a claim filled in is encoded, never a wildcard).
      pattern = canonicalResource(filled, { trusted: true });
    } catch {
      continue;
    }
    const parts = splitPattern(pattern);
    if (parts === undefined || parts.scheme === '*' || hasWildcard(parts.host)) continue;
    if (!domains.has(parts.host.toLowerCase())) continue;
    patterns.push(pattern);
  }
  if (patterns.length === 0) return [];
  const profileMax = profile.ttl.max;
  const grantMax = grant.maxTtl ?? profileMax;
  return [{ index, patterns, maxTtl: Math.min(grantMax, profileMax), limitedByGrant: grantMax < profileMax }];
}

function ambiguityOf(item: Requested): string | undefined {
  const parts = splitPattern(item.href);
  if (parts === undefined) return 'no host';
  // Credentials in a URL are never part of an object's address, and must not be echoed back.
  if (parts.host.includes('@')) return 'a user name or password';
  return pathAmbiguity(parts.path);
}

function refusal(item: Requested, reason: string): RefusedItem {
  const url = display(item.href);
  return item.kind === 'url'
    ? { kind: 'url', index: item.index, url, reason }
    : { kind: 'resource', url, reason };
}

function describe(item: RefusedItem): string {
  return item.kind === 'resource' ? `the resource ${item.url}` : item.url;
}

/** A URL as messages show it: without any `user:password@`. */
function display(href: string): string {
  return href.replace(/^([^:/]+:\/\/)[^/]*@/, '$1');
}

function describeCaller(caller: Caller): string {
  const name = caller.apiKeyId === undefined ? caller.subject : caller.apiKeyId;
  const shown = /^[\x21-\x7e]{1,200}$/.test(name) ? name : JSON.stringify(name.slice(0, 200));
  return caller.apiKeyId === undefined ? `user ${shown}` : `API key ${shown}`;
}

function listPatterns(patterns: readonly string[]): string {
  const unique = [...new Set(patterns)];
  const listed = unique.slice(0, LISTED_PATTERNS).join(', ');
  return unique.length > LISTED_PATTERNS ? `${listed} and ${unique.length - LISTED_PATTERNS} more` : listed;
}
