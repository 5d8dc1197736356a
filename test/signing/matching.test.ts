import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { signUrls } from '../../lib/signing/index.ts';
import { canonicalResource, globMatches, resourceMatches } from '../../lib/signing/url.ts';
import {
  cloudFrontMatches,
  EXPIRES,
  expectRefusal,
  generateEcKey,
  KEY_ID,
  NOW,
  simpleGlobMatches,
  type TestKey,
} from '../support/signing.ts';

// How a custom policy's Resource matches a URL (docs/design.md, "CloudFront facts Signet relies on"): section by
// section, so no wildcard reaches across the `?` into the query; and at a cost linear in the URL, so a
// caller cannot buy seconds of CPU with one request.

const MEDIA = 'https://media.example.com';

let ec: TestKey;

beforeAll(() => {
  ec = generateEcKey();
});

describe('resourceMatches: section by section', () => {
  it.each([
    // The two exploits of the review: a * in the path reaching into the query named another object.
    [`${MEDIA}/public/*.mp4`, `${MEDIA}/public/secret.txt?.mp4`, false],
    [`${MEDIA}/*/public/*`, `${MEDIA}/admin/payroll.csv?x=/public/`, false],
    [`${MEDIA}/*/public/*`, `${MEDIA}/private/secret.pdf?/public/x`, false],
    [`${MEDIA}/users/alice/*`, `${MEDIA}/users/alice?/x`, false],
    // A trailing * on the path covers any query string (the documented rule).
    [`${MEDIA}/videos/*`, `${MEDIA}/videos/a.mp4?x=1`, true],
    [`${MEDIA}/videos/*`, `${MEDIA}/videos/a.mp4`, true],
    [`${MEDIA}/videos/*`, `${MEDIA}/videos/?x=1`, true],
    [`${MEDIA}/videos/*`, `${MEDIA}/videos?x=/videos/a`, false],
    // A path not ending in * names objects exactly: no query (Signet's reading, the narrower one).
    [`${MEDIA}/a/*.mp4`, `${MEDIA}/a/b.mp4`, true],
    [`${MEDIA}/a/*.mp4`, `${MEDIA}/a/b/c.mp4`, true],
    [`${MEDIA}/a/*.mp4`, `${MEDIA}/a/b.mp4?x`, false],
    [`${MEDIA}/a/b.mp4`, `${MEDIA}/a/b.mp4?x=1`, false],
    // An explicit query part: path against path, query against query; a URL without one has ''.
    [`${MEDIA}/a/*.mp4?*`, `${MEDIA}/a/b.mp4?x`, true],
    [`${MEDIA}/a/*.mp4?*`, `${MEDIA}/a/b.mp4`, true],
    [`${MEDIA}/a/*.mp4?*`, `${MEDIA}/a/b.txt?.mp4`, false],
    [`${MEDIA}/search?q=*`, `${MEDIA}/search?q=cats`, true],
    [`${MEDIA}/search?q=*`, `${MEDIA}/search?lang=en&q=cats`, false],
    [`${MEDIA}/search?q=*`, `${MEDIA}/search`, false],
    [`${MEDIA}/search?q=*`, `${MEDIA}/search/x?q=1`, false],
    [`${MEDIA}/search?*q=*`, `${MEDIA}/search?lang=en&q=cats`, true],
    [`${MEDIA}/report?year=20??`, `${MEDIA}/report?year=2024`, true],
    [`${MEDIA}/report?year=20??`, `${MEDIA}/report?year=202`, false],
    [`${MEDIA}/report?`, `${MEDIA}/report`, true],
    [`${MEDIA}/report?`, `${MEDIA}/report?x`, false],
    // A ? meant as a one-character wildcard in a path starts the query, as the URL parser reads it.
    [`${MEDIA}/v?.mp4`, `${MEDIA}/v1.mp4`, false],
    [`${MEDIA}/v?.mp4`, `${MEDIA}/v?.mp4`, true],
    // Host: case-insensitive, its * stays in the host.
    ['https://*.example.com/*', `${MEDIA}/a?b`, true],
    ['https://*.example.com/*', 'https://example.org/x.example.com/a', false],
    ['*', `${MEDIA}/anything?at=all`, true],
  ])('%s matches %s: %s', (resource, url, expected) => {
    expect(resourceMatches(resource, url)).toBe(expected);
    // The test-side model agrees on every example.
    expect(cloudFrontMatches(resource, url)).toBe(expected);
  });

  it('signs no URL outside the resource (the exploit, through signUrls)', () => {
    expectRefusal(
      () =>
        signUrls([`${MEDIA}/public/secret.txt?.mp4`], {
          resource: `${MEDIA}/public/*.mp4`,
          key: ec.signing,
          keyPairId: KEY_ID,
          expires: EXPIRES,
          now: NOW,
        }),
      'ERR_URL_OUTSIDE_RESOURCE',
      `${MEDIA}/public/secret.txt?.mp4`,
    );
    const [signed] = signUrls([`${MEDIA}/public/a.mp4`], {
      resource: `${MEDIA}/public/*.mp4`,
      key: ec.signing,
      keyPairId: KEY_ID,
      expires: EXPIRES,
      now: NOW,
    });
    expect(signed!.kind).toBe('custom');
  });

  it('agrees with the section-by-section model on random patterns and URLs', () => {
    const piece = fc.oneof(
      { arbitrary: fc.constant('*'), weight: 3 },
      { arbitrary: fc.constantFrom('a', 'b', '.mp4', '/', '?', '=', '&', 'x=1', '/public/'), weight: 5 },
    );
    const host = fc.constantFrom(
      'media.example.com',
      'MEDIA.example.com',
      'cdn.example.com',
      '*.example.com',
    );
    const pattern = fc
      .tuple(fc.constantFrom('https', 'http', '*'), host, fc.array(piece, { maxLength: 7 }))
      .map(([scheme, h, pieces]) => `${scheme}://${h}/${pieces.join('')}`);
    const urlPiece = fc.constantFrom('a', 'b', '.mp4', '/', '?', '=', '&', 'x=1', '/public/', 'public');
    const url = fc
      .tuple(
        fc.constantFrom('https', 'http'),
        fc.constantFrom('media.example.com', 'cdn.example.com'),
        fc.array(urlPiece, { maxLength: 8 }),
      )
      .map(([scheme, h, pieces]) => `${scheme}://${h}/${pieces.join('')}`);
    let matched = 0;
    fc.assert(
      fc.property(pattern, url, (p, u) => {
        const expected = cloudFrontMatches(p, u);
        if (expected) matched++;
        expect(resourceMatches(p, u)).toBe(expected);
      }),
      { numRuns: 3000 },
    );
    expect(matched).toBeGreaterThan(50);
  });
});

describe('globMatches', () => {
  it('agrees with the plain definition on random small inputs, with and without an unmatchable character', () => {
    const glob = fc.string({ unit: fc.constantFrom('a', 'b', '*', '?'), maxLength: 9 });
    const text = fc.string({ unit: fc.constantFrom('a', 'b', '*', 'c'), maxLength: 10 });
    let matched = 0;
    fc.assert(
      fc.property(glob, text, fc.constantFrom(undefined, '*'), (pattern, subject, unmatchable) => {
        const expected = simpleGlobMatches(pattern, subject, unmatchable);
        if (expected) matched++;
        expect(globMatches(pattern, subject, unmatchable)).toBe(expected);
      }),
      { numRuns: 5000 },
    );
    expect(matched).toBeGreaterThan(200);
  });

  it('agrees with the plain definition on repetitive text, where leftmost fits matter', () => {
    const glob = fc.string({ unit: fc.constantFrom('a', 'aa', 'ab', '*', '?', '?a'), maxLength: 8 });
    const text = fc.string({ unit: fc.constantFrom('a', 'aa', 'aaab', 'b'), maxLength: 12 });
    fc.assert(
      fc.property(glob, text, (pattern, subject) => {
        expect(globMatches(pattern, subject)).toBe(simpleGlobMatches(pattern, subject));
      }),
      { numRuns: 3000 },
    );
  });

  // Sizes where the old backtracking matcher took pattern × text steps (10^9 and more: seconds to
  // minutes). No timing is asserted: the suite's own timeout catches a return of that behaviour.
  it.each([
    [`*${'a'.repeat(50_000)}b`, `${'a'.repeat(200_000)}b`, true],
    [`*${'a'.repeat(50_000)}b`, `${'a'.repeat(200_000)}c`, false],
    [`*${'a'.repeat(50_000)}b*`, 'a'.repeat(200_000), false],
    [`*${'a'.repeat(25_000)}?${'a'.repeat(25_000)}b*`, 'a'.repeat(200_000), false],
    [`*${'a'.repeat(25_000)}?${'a'.repeat(25_000)}b*`, `${'a'.repeat(200_000)}b`, true],
    [`*?${'a'.repeat(50_000)}b*c`, `${'a'.repeat(200_000)}b`, false],
    [`${`*${'a'.repeat(3_000)}`.repeat(16)}b`, 'a'.repeat(200_000), false],
    [`*${'?a'.repeat(8)}${'a'.repeat(50_000)}b*`, 'a'.repeat(200_000), false],
  ])('answers adversarial input %#', (pattern, text, expected) => {
    expect(globMatches(pattern, text)).toBe(expected);
  });
});

describe('the CPU exploit: a long wildcard resource against 100 URLs of 8 KB', () => {
  const base = `${MEDIA}/users/alice/`;
  const urls = Array.from({ length: 100 }, () => `${base}${'a'.repeat(8_000)}b`);

  function sign(resource: string) {
    return signUrls(urls, { resource, key: ec.signing, keyPairId: KEY_ID, expires: EXPIRES, now: NOW });
  }

  it('refuses the resource of the exploit (3,940 bytes) as too long', () => {
    expectRefusal(
      () => sign(`${base}*${'a'.repeat(3_900)}b`),
      'ERR_RESOURCE_TOO_LONG',
      'at most 2048 bytes',
      'got 3940 bytes',
    );
  });

  it('refuses more than 16 wildcard characters, * and ? together', () => {
    expectRefusal(
      () => sign(`${base}${'*a?'.repeat(9)}`),
      'ERR_TOO_MANY_WILDCARDS',
      'at most 16 wildcard characters',
      'got 17',
    );
    // The ? that starts the query is no wildcard; the scheme's * is none either.
    expect(canonicalResource(`*://media.example.com/${'*'.repeat(15)}?*`)).toBe(
      `*://media.example.com/${'*'.repeat(15)}?*`,
    );
  });

  it('answers a resource at the limits against the 100 URLs (adversarial for a backtracking matcher)', () => {
    // 16 wildcards and about 2 KB: runs of a's that fit everywhere in the URLs, and a last segment that
    // fits nowhere (c) or at the end only (b). No ? here: in a path it would start the query.
    const middle = `*${'a'.repeat(100)}`.repeat(15);
    const resource = `${base}${middle}*${'a'.repeat(400)}c`;
    expect(Buffer.byteLength(canonicalResource(resource))).toBeLessThanOrEqual(2_048);
    expectRefusal(() => sign(resource), 'ERR_URL_OUTSIDE_RESOURCE');
    // (Signing these would overflow 8 KB once the policy is added: ask the matcher itself.)
    const covering = `${base}${middle}*${'a'.repeat(400)}b`;
    expect(urls.every((url) => resourceMatches(covering, url))).toBe(true);
  });

  it('keeps grant patterns from configuration (trusted) to the 8,192-byte limit only', () => {
    const long = `${base}${'*a'.repeat(1_500)}`;
    expect(canonicalResource(long, { trusted: true })).toBe(long);
    expectRefusal(() => canonicalResource(long), 'ERR_RESOURCE_TOO_LONG');
  });
});
