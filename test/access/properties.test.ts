import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AccessError,
  authorize,
  type Caller,
  globContains,
  patternContains,
} from '../../lib/access/index.ts';
import { SigningError } from '../../lib/signing/errors.ts';
import { canonicalResource, canonicalUrl } from '../../lib/signing/url.ts';
import { MEDIA, profileWith } from '../support/access.ts';
import { cloudFrontMatches, globRegExp } from '../support/signing.ts';

// Property tests for docs/design.md, "The API": nothing outside a grant is ever authorized, whatever the path
// tricks, hosts, schemes and claims. Each property runs a few hundred cases (well under a second each).
// CloudFront's matching is the test side's own model (`cloudFrontMatches`: section by section, scheme,
// host, path, query), never the code under test.

const RUNS = { numRuns: 400 };

const OWN_FOLDER = { when: { claims: { scope: 'media:read' } }, resources: [`${MEDIA}/users/{sub}/*`] };
const READERS = { when: { claims: { scope: 'media:read' } }, resources: [`${MEDIA}/videos/*`] };
const profile = profileWith([OWN_FOLDER, READERS]);

/** Path segments chosen to hurt: dot segments plain and encoded, encoded slashes, wildcards, unicode. */
const TRICKY_SEGMENTS = [
  'alice',
  'bob',
  'users',
  'videos',
  'x.mp4',
  '',
  '.',
  '..',
  '%2e',
  '%2e%2e',
  '.%2E',
  '%2E.',
  '%2f',
  '%2F',
  '..%2f',
  '%5c',
  '\\',
  '%252f',
  '%252e%252e',
  '%25',
  '%',
  '%zz',
  '%00',
  '%ff',
  '*',
  '?',
  '#',
  ';',
  '..;',
  'a b',
  'é',
  '💾',
  'alice*',
  'alice/*',
  '../bob',
];

const segment = fc.oneof(
  { arbitrary: fc.constantFrom('a', 'x.mp4', 'videos', 'alice', 'b c'), weight: 4 },
  { arbitrary: fc.constantFrom(...TRICKY_SEGMENTS), weight: 4 },
  { arbitrary: fc.string({ maxLength: 4 }), weight: 1 },
);
const subject = fc.oneof(
  fc.constantFrom(
    'alice',
    'bob',
    'alice/*',
    '../bob',
    '..',
    '.',
    '*',
    '?',
    '%2f',
    '%252f',
    'bob/..',
    'zoë',
    '',
  ),
  fc.string({ maxLength: 6 }),
  fc.string({ unit: 'grapheme', maxLength: 4 }),
);
const scheme = fc.oneof(
  { arbitrary: fc.constant('https'), weight: 6 },
  { arbitrary: fc.constantFrom('HTTPS', 'http'), weight: 1 },
);
const host = fc.oneof({ arbitrary: fc.constant('media.example.com'), weight: 8 }, otherHost());

function otherHost(): fc.Arbitrary<string> {
  return fc.constantFrom(
    'MEDIA.Example.com',
    'media.example.com:443',
    'media.example.com:8443',
    'cdn.example.com',
    'evil.example.net',
    'media.example.com.evil.net',
    'u:p@media.example.com',
  );
}

/** A URL that often starts inside some grant (so that successes happen) and then goes anywhere. */
function requestUrl(sub: string): fc.Arbitrary<string> {
  const start = fc.oneof(
    { arbitrary: fc.constantFrom(['users', sub], ['videos']), weight: 4 },
    { arbitrary: fc.constantFrom(['users', encodeClaim(sub)], ['users'], []), weight: 1 },
  );
  return fc
    .tuple(
      scheme,
      host,
      start,
      fc.array(segment, { maxLength: 4 }),
      fc.option(fc.constantFrom('?a=1', '?x=%2F..')),
    )
    .map(([s, h, first, rest, query]) => `${s}://${h}/${[...first, ...rest].join('/')}${query ?? ''}`);
}

/** The claim as it would be written in a path by hand; a lone surrogate stays as is. */
function encodeClaim(sub: string): string {
  try {
    return encodeURIComponent(sub);
  } catch {
    return sub;
  }
}

function caller(sub: string): Caller {
  return { subject: sub, claims: { sub, scope: 'media:read' } };
}

/** Runs authorize; a refusal (AccessError, or SigningError for an unparseable URL) is `undefined`. */
function tryAuthorize(input: { caller: Caller; urls: string[]; resource?: string | undefined }) {
  try {
    return authorize({ profileName: 'media', profile, ttlSeconds: 60, ...input });
  } catch (error) {
    if (error instanceof AccessError || error instanceof SigningError) return undefined;
    throw error;
  }
}

/**
 * The path segments of a canonical URL as an origin that decodes twice would see them (a lenient
 * decoder: runs of valid %XX are decoded, anything else is kept as is).
 */
function decodedTwice(href: string): string[] {
  const lenient = (text: string) =>
    text.replace(/(%[0-9a-f]{2})+/gi, (run) => {
      try {
        return decodeURIComponent(run);
      } catch {
        return run;
      }
    });
  return new URL(href).pathname
    .slice(1)
    .split('/')
    .map((part) => lenient(lenient(part)));
}

describe('property: nothing outside a grant is ever authorized', () => {
  it('every authorized URL matches its grant and stays under the granted prefix once decoded', () => {
    const request = subject.chain((sub) =>
      fc.record({ sub: fc.constant(sub), urls: fc.array(requestUrl(sub), { minLength: 1, maxLength: 2 }) }),
    );
    let allowed = 0;
    fc.assert(
      fc.property(request, ({ sub, urls }) => {
        const decision = tryAuthorize({ caller: caller(sub), urls });
        if (decision === undefined) return;
        allowed++;
        for (const url of urls) {
          const href = canonicalUrl(url);
          // CloudFront's own matching, against the patterns the decision names.
          expect(decision.resources.some((pattern) => cloudFrontMatches(pattern, href))).toBe(true);
          expect(href.startsWith(`${MEDIA}/`)).toBe(true);
          const segments = decodedTwice(href);
          // No segment that decodes (once or twice) to a dot segment, a slash or a backslash.
          for (const part of segments) {
            expect(['.', '..']).not.toContain(part);
            expect(part).not.toMatch(/[/\\]/);
          }
          // Under /videos/ or under the caller's own folder, compared after decoding.
          const own = segments[0] === 'users' && segments[1] === sub && segments.length >= 3;
          expect(own || (segments[0] === 'videos' && segments.length >= 2)).toBe(true);
        }
      }),
      RUNS,
    );
    // The property must not hold vacuously.
    expect(allowed).toBeGreaterThan(20);
  });

  it("claims with *, /, .., %2f never reach another user's folder", () => {
    const stranger = subject.filter((sub) => sub !== 'bob');
    const target = fc
      .tuple(fc.array(segment, { maxLength: 3 }), fc.constantFrom('', '*', '?', '/*'))
      .map(([rest, tail]) => `/users/bob/${rest.join('/')}${tail}`);
    fc.assert(
      fc.property(stranger, target, fc.boolean(), (sub, path, asResource) => {
        const input = asResource
          ? { caller: caller(sub), urls: [], resource: `${MEDIA}${path}` }
          : { caller: caller(sub), urls: [`${MEDIA}${path}`] };
        const decision = tryAuthorize(input);
        // Only a request that canonicalizes out of bob's folder (say /users/bob/.. ) may pass.
        if (decision !== undefined) {
          const href = asResource ? canonicalResource(`${MEDIA}${path}`) : canonicalUrl(`${MEDIA}${path}`);
          expect(href.startsWith(`${MEDIA}/users/bob/`)).toBe(false);
        }
      }),
      RUNS,
    );
  });

  it('every URL a granted wildcard resource could match is matched by the grant', () => {
    const token = fc.constantFrom('*', '?', 'a', 'b', '.mp4', '/', '..', '%2A', '?x=', 'alice', 'videos');
    const resource = fc
      .tuple(
        fc.constantFrom('/videos/', '/users/alice/', '/users/', '/', '/videos'),
        fc.array(token, { maxLength: 6 }),
      )
      .map(([prefix, tokens]) => `${MEDIA}${prefix}${tokens.join('')}`);
    // Path fills hold no ? (it would start the query); query fills may.
    const pathFill = fc.string({
      unit: fc.constantFrom('a', '/', '.', '..', '*', '%2f', 'b', 'é'),
      maxLength: 4,
    });
    const queryFill = fc.string({
      unit: fc.constantFrom('a', '/', '?', '*', '=', '&', '.mp4'),
      maxLength: 4,
    });
    const fills = fc.array(fc.tuple(pathFill, queryFill), { minLength: 1, maxLength: 12 });
    let allowed = 0;
    let checked = 0;
    fc.assert(
      fc.property(resource, fills, (pattern, choices) => {
        const decision = tryAuthorize({ caller: caller('alice'), urls: [], resource: pattern });
        if (decision === undefined) return;
        allowed++;
        const canonical = canonicalResource(pattern);
        for (let sample = 0; sample < 4; sample++) {
          const concrete = concreteUrl(canonical, choices, sample);
          // The generator's own check: the concrete URL is one the requested resource matches.
          expect(cloudFrontMatches(canonical, concrete)).toBe(true);
          checked++;
          expect(decision.resources.some((granted) => cloudFrontMatches(granted, concrete))).toBe(true);
          const rest = concrete.slice(MEDIA.length);
          expect(rest.startsWith('/videos/') || rest.startsWith('/users/alice/')).toBe(true);
        }
      }),
      RUNS,
    );
    expect(allowed).toBeGreaterThan(20);
    expect(checked).toBeGreaterThan(80);
  });

  it('patternContains is sound section by section: what the requested pattern matches, the grant matches', () => {
    const path = fc
      .array(fc.constantFrom('/', 'a', 'b', '*', '.mp4', 'public'), { maxLength: 5 })
      .map((tokens) => `/${tokens.join('')}`);
    const query = fc.option(
      fc
        .array(fc.constantFrom('a', '=', '&', '*', '?', 'x=1', '.mp4'), { maxLength: 4 })
        .map((t) => t.join('')),
      { nil: undefined },
    );
    const pattern = fc
      .tuple(path, query)
      .map(([p, q]) => (q === undefined ? `${MEDIA}${p}` : `${MEDIA}${p}?${q}`));
    const pathFill = fc.string({ unit: fc.constantFrom('a', '/', 'b', '.mp4', 'public'), maxLength: 3 });
    const queryFill = fc.string({
      unit: fc.constantFrom('a', '?', '=', '&', 'x=1', '.mp4', '/'),
      maxLength: 3,
    });
    const fills = fc.array(fc.tuple(pathFill, queryFill), { minLength: 1, maxLength: 10 });
    // Half the grants are unrelated patterns, half a prefix of the requested pattern then * (often
    // containing it, so that the property does not hold vacuously).
    const pairs = pattern.chain((requested) =>
      fc.tuple(
        fc.oneof(
          pattern,
          fc
            .nat({ max: requested.length - MEDIA.length - 1 })
            .map((cut) => `${requested.slice(0, MEDIA.length + 1 + cut)}*`),
        ),
        fc.constant(requested),
      ),
    );
    let contained = 0;
    fc.assert(
      fc.property(pairs, fills, ([granted, requested], choices) => {
        if (!patternContains(granted, requested)) return;
        contained++;
        for (let sample = 0; sample < 3; sample++) {
          const concrete = concreteUrl(requested, choices, sample);
          expect(cloudFrontMatches(requested, concrete)).toBe(true);
          expect(cloudFrontMatches(granted, concrete)).toBe(true);
        }
      }),
      { numRuns: 3000 },
    );
    expect(contained).toBeGreaterThan(500);
  });

  it('globContains is sound: whatever the requested glob matches, the granted glob matches', () => {
    const glob = fc.string({ unit: fc.constantFrom('a', 'b', '/', '*', '?'), maxLength: 7 });
    const fill = fc.string({ unit: fc.constantFrom('a', 'b', '/', '*', '?', 'c'), maxLength: 3 });
    let contained = 0;
    fc.assert(
      fc.property(
        glob,
        glob,
        fc.array(fill, { minLength: 1, maxLength: 8 }),
        (granted, requested, choices) => {
          if (!globContains(granted, requested)) return;
          contained++;
          let next = 0;
          const pick = () => choices[next++ % choices.length]!;
          const concrete = requested.replace(/[*?]/g, (wildcard) =>
            wildcard === '*' ? pick() : pick().slice(0, 1) || 'c',
          );
          expect(globRegExp(granted).test(concrete)).toBe(true);
        },
      ),
      { numRuns: 2000 },
    );
    expect(contained).toBeGreaterThan(20);
  });
});

/**
 * A concrete URL that the resource pattern matches, section by section: each `*` of the path becomes a
 * run and each `?` one character, none of them a `?` (which would start the query); the query part's
 * wildcards likewise, where a `?` is an ordinary character; and a path ending in `*` with no query part
 * gets some query (that rule's whole point). `sample` varies the choices.
 */
function concreteUrl(pattern: string, choices: readonly [string, string][], sample: number): string {
  const cut = /^([^:/]+:\/\/[^/?]*)([^?]*)(?:\?([\s\S]*))?$/.exec(pattern)!;
  const [, origin, path, query] = cut as unknown as [string, string, string, string?];
  let next = sample;
  const pick = (side: 0 | 1) => choices[next++ % choices.length]![side];
  const fill = (glob: string, side: 0 | 1) =>
    glob.replace(/[*?]/g, (wildcard) => (wildcard === '*' ? pick(side) : pick(side).slice(0, 1) || 'z'));
  const concretePath = fill(path, 0);
  if (query !== undefined) return `${origin}${concretePath}?${fill(query, 1)}`;
  if (!path.endsWith('*')) return `${origin}${concretePath}`;
  const extra = pick(1);
  return extra === '' ? `${origin}${concretePath}` : `${origin}${concretePath}?${extra}`;
}
