import { describe, expect, it } from 'vitest';
import { type AuthorizeInput, authorize, type Caller } from '../../lib/access/index.ts';
import {
  encodeClaimSegment,
  globContains,
  hasWildcard,
  interpolatePattern,
  patternContains,
  splitPattern,
} from '../../lib/access/patterns.ts';
import type { Profile } from '../../lib/config/schema.ts';
import { SigningError } from '../../lib/signing/errors.ts';
import { expectDenied, MEDIA, profileWith, user } from '../support/access.ts';

// One test per rule of lib/access/patterns.ts and lib/access/authorize.ts (issue 18): what is allowed
// (which grant, which ceiling, which patterns are reported) and what is denied, with which code,
// message and list of refused items.

const READ = { scope: 'media:read' };
const alice = user('alice');

function ask(profile: Profile, urls: string[], extra: Partial<AuthorizeInput> = {}) {
  return authorize({ profileName: 'media', profile, caller: alice, urls, ttlSeconds: 300, ...extra });
}

describe('interpolatePattern: {claim} placeholders', () => {
  it('fills every placeholder, with names of letters, digits, _ . : and -', () => {
    const caller = user('alice', { _t: 'x', 'a-b:c.d9': 'y', Org: 'z' });
    expect(interpolatePattern(`${MEDIA}/{sub}/{_t}/{a-b:c.d9}/{Org}/{sub}`, caller)).toBe(
      `${MEDIA}/alice/x/y/z/alice`,
    );
  });

  it('leaves braces that hold no claim name as text', () => {
    const caller = user('alice', { '9': 'nine', 'a b': 'ab' });
    expect(interpolatePattern(`${MEDIA}/{9}/{a b}/{}/{sub}`, caller)).toBe(`${MEDIA}/{9}/{a b}/{}/alice`);
  });

  it('fills an integer claim with its digits', () => {
    expect(interpolatePattern(`${MEDIA}/{org}/*`, user('a', { org: 42 }))).toBe(`${MEDIA}/42/*`);
  });

  it('gives nothing when any one placeholder cannot be filled, even after good ones', () => {
    expect(interpolatePattern(`${MEDIA}/{sub}/{missing}/*`, alice)).toBeUndefined();
    expect(interpolatePattern(`${MEDIA}/{missing}/{sub}/*`, alice)).toBeUndefined();
  });

  it('encodes * as %2A and every URL delimiter, so that a claim is one literal segment', () => {
    expect(encodeClaimSegment('a*b')).toBe('a%2Ab');
    expect(encodeClaimSegment('**')).toBe('%2A%2A');
    expect(encodeClaimSegment('a/b?c#d%e f')).toBe('a%2Fb%3Fc%23d%25e%20f');
    expect(encodeClaimSegment('é')).toBe('%C3%A9');
    expect(encodeClaimSegment('\ud83d\ude00')).toBe('%F0%9F%98%80');
    expect(encodeClaimSegment('.a')).toBe('.a');
    expect(encodeClaimSegment('a..')).toBe('a..');
  });

  it.each([[''], ['.'], ['..'], ['a\u0000'], ['\u001f'], ['\u007f'], ['\u009f'], ['\udc00x']])(
    'refuses the claim %j',
    (value) => {
      expect(encodeClaimSegment(value)).toBeUndefined();
    },
  );
});

describe('splitPattern and hasWildcard', () => {
  it('lowercases the scheme only', () => {
    expect(splitPattern('HTTPS://Media.Example.com/A?B')).toEqual({
      scheme: 'https',
      host: 'Media.Example.com',
      path: '/A',
      query: 'B',
    });
    expect(splitPattern('media.example.com/a')).toBeUndefined();
  });

  it('sees * and ? each as a wildcard', () => {
    expect(hasWildcard('a*b')).toBe(true);
    expect(hasWildcard('a?b')).toBe(true);
    expect(hasWildcard('ab')).toBe(false);
    expect(hasWildcard('')).toBe(false);
  });
});

describe('patternContains: section by section', () => {
  it('contains nothing that is not scheme://host', () => {
    expect(patternContains('media.example.com/*', `${MEDIA}/a`)).toBe(false);
    expect(patternContains(`${MEDIA}/*`, 'media.example.com/a')).toBe(false);
  });

  it('lets a * scheme contain either scheme, and a named scheme only itself', () => {
    expect(patternContains('*://media.example.com/*', `${MEDIA}/a`)).toBe(true);
    expect(patternContains('*://media.example.com/*', 'http://media.example.com/a')).toBe(true);
    expect(patternContains('*://media.example.com/*', '*://media.example.com/a')).toBe(true);
    expect(patternContains('HTTPS://media.example.com/*', `${MEDIA}/a`)).toBe(true);
    expect(patternContains('http://media.example.com/*', `${MEDIA}/a`)).toBe(false);
  });

  it('compares hosts case-insensitively, either side in capitals, and never contains a wildcard host', () => {
    expect(patternContains('https://MEDIA.example.com/*', `${MEDIA}/a`)).toBe(true);
    expect(patternContains(`${MEDIA}/*`, 'https://Media.Example.Com/a')).toBe(true);
    expect(patternContains('https://*.example.com/*', 'https://cdn.EXAMPLE.com/a')).toBe(true);
    expect(patternContains('https://*/*', 'https://*.example.com/a')).toBe(false);
    expect(patternContains('https://*/*', 'https://m?.example.com/a')).toBe(false);
    expect(patternContains(`${MEDIA}/*`, 'https://cdn.example.com/a')).toBe(false);
  });

  it('compares paths case-sensitively', () => {
    expect(patternContains(`${MEDIA}/videos/*`, `${MEDIA}/Videos/a`)).toBe(false);
  });

  it('compares the queries each side gives', () => {
    // Granted path ending in * with no query part: any query, concrete or wildcard.
    expect(patternContains(`${MEDIA}/v/*`, `${MEDIA}/v/a?x=1`)).toBe(true);
    // Granted path not ending in *: the empty query only.
    expect(patternContains(`${MEDIA}/v/a`, `${MEDIA}/v/a`)).toBe(true);
    expect(patternContains(`${MEDIA}/v/a`, `${MEDIA}/v/a?x=1`)).toBe(false);
    // A requested path ending in * means any query, which an exact grant does not hold.
    expect(patternContains(`${MEDIA}/v/*.mp4`, `${MEDIA}/v/*`)).toBe(false);
    expect(patternContains(`${MEDIA}/v/*.mp4?*`, `${MEDIA}/v/a.mp4?*`)).toBe(true);
    expect(patternContains(`${MEDIA}/v/*.mp4?x=?`, `${MEDIA}/v/a.mp4?x=*`)).toBe(false);
    expect(patternContains(`${MEDIA}/v/*.mp4?x=?`, `${MEDIA}/v/a.mp4?x=1`)).toBe(true);
  });
});

describe('globContains: a granted ? never absorbs a requested *', () => {
  it.each([
    ['a?', 'a*', false],
    ['a?', 'a?', true],
    ['a?', 'ab', true],
    ['a*', 'a?', true],
    ['a*', 'a*', true],
    ['??*', '?*?', false],
    ['*?', '*', false],
    ['*?', '*a', true],
    ['a*?b', 'a*b', false],
    ['x*a?c*', 'xya*c', false],
    ['x*a?c*', 'xyabc', true],
  ])('%j contains %j: %s', (granted, requested, expected) => {
    expect(globContains(granted, requested)).toBe(expected);
  });
});

describe('authorize: what is checked before the grants', () => {
  const profile = profileWith([{ when: { claims: READ }, resources: [`${MEDIA}/*`] }]);

  it('lets the signing core refuse a URL or resource it cannot sign, with its own error', () => {
    expect(() => ask(profile, ['ftp://media.example.com/a'])).toThrow(SigningError);
    let thrown: unknown;
    try {
      ask(profile, [], { resource: `${MEDIA}/${'*a'.repeat(17)}` });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(SigningError);
    expect((thrown as SigningError).code).toBe('ERR_TOO_MANY_WILDCARDS');
  });

  it('denies a request with nothing in it', () => {
    const error = expectDenied(
      () => ask(profile, []),
      'ERR_RESOURCE_NOT_GRANTED',
      'Expected at least one URL or a resource to sign; got none.',
    );
    expect(error.refused).toEqual([]);
  });

  it('lists every ambiguous item with its index, and names the first', () => {
    const error = expectDenied(
      () =>
        ask(profile, [`${MEDIA}/ok.mp4`, `${MEDIA}/a%2fb`, `${MEDIA}/c%252e`], {
          resource: `${MEDIA}/x%5c/*`,
        }),
      'ERR_AMBIGUOUS_PATH',
      `Expected a path that every server reads the same way; ${MEDIA}/a%2fb has an encoded slash or backslash (%2F or %5C). Request the object by its plain path.`,
    );
    expect(error.refused).toEqual([
      { kind: 'url', index: 1, url: `${MEDIA}/a%2fb`, reason: 'an encoded slash or backslash (%2F or %5C)' },
      {
        kind: 'url',
        index: 2,
        url: `${MEDIA}/c%252e`,
        reason: 'double percent-encoding (%25 followed by two hex digits)',
      },
      { kind: 'resource', url: `${MEDIA}/x%5c/*`, reason: 'an encoded slash or backslash (%2F or %5C)' },
    ]);
  });

  it('names an ambiguous resource as the resource', () => {
    expectDenied(
      () => ask(profile, [], { resource: `${MEDIA}/a/%2e%2e;x/*` }),
      'ERR_AMBIGUOUS_PATH',
      `the resource ${MEDIA}/a/%2e%2e;x/* has a dot segment (. or ..)`,
    );
  });

  it('lists every item off the profile domains, and names the domains', () => {
    const error = expectDenied(
      () =>
        ask(profile, [`${MEDIA}/a`, 'https://evil.example.com/a'], { resource: 'https://*.example.com/*' }),
      'ERR_RESOURCE_NOT_GRANTED',
      'Expected a URL on a domain of profile media (media.example.com, cdn.example.com); got https://evil.example.com/a.',
    );
    expect(error.refused).toEqual([
      {
        kind: 'url',
        index: 1,
        url: 'https://evil.example.com/a',
        reason: 'its host is not one of the domains of profile media',
      },
      {
        kind: 'resource',
        url: 'https://*.example.com/*',
        reason: 'its host is not one of the domains of profile media',
      },
    ]);
    expectDenied(
      () => ask(profile, [], { resource: 'https://*.example.com/*' }),
      'ERR_RESOURCE_NOT_GRANTED',
      'got the resource https://*.example.com/*.',
    );
  });

  it('compares hosts with the profile domains case-insensitively', () => {
    const shouting = { ...profile, domains: ['MEDIA.EXAMPLE.COM'] };
    expect(ask(shouting, [`${MEDIA}/a`]).grantIndex).toBe(0);
  });

  it('shows a URL in messages as it is, even when its query holds something like credentials', () => {
    const url = `${MEDIA}/a?next=https://x@evil.example.com/`;
    const narrow = profileWith([{ when: { claims: READ }, resources: [`${MEDIA}/b`] }]);
    const error = expectDenied(() => ask(narrow, [url]), 'ERR_RESOURCE_NOT_GRANTED', `${url} is not inside`);
    expect(error.refused[0]).toMatchObject({ url });
  });
});

describe('authorize: which grants apply and which patterns count', () => {
  it('drops a whole grant when one of its placeholders cannot be filled', () => {
    const profile = profileWith([
      { when: { claims: READ }, resources: [`${MEDIA}/public/*`, `${MEDIA}/tenants/{tenant}/*`] },
    ]);
    expectDenied(
      () => ask(profile, [`${MEDIA}/public/a.mp4`]),
      'ERR_RESOURCE_NOT_GRANTED',
      'no grant of profile media applies to user alice',
    );
    expect(
      ask(profile, [`${MEDIA}/public/a.mp4`], { caller: user('alice', { ...READ, tenant: 't1' }) }),
    ).toEqual({
      grantIndex: 0,
      maxTtl: 86_400,
      resources: [`${MEDIA}/public/*`],
    });
  });

  it('skips a pattern it cannot read, one for any scheme, with a wildcard host, or off the domains, and keeps the rest', () => {
    // Built by hand: the config schema would refuse these, but a grant must fail closed on them.
    const base = profileWith([{ when: { claims: READ }, resources: [`${MEDIA}/ok/*`] }]);
    const grant = base.grants[0]!;
    const profile: Profile = {
      ...base,
      grants: [
        {
          ...grant,
          resources: [
            'https://media example.com/*',
            '*://media.example.com/*',
            'https://*.example.com/*',
            'https://media?.example.com/*',
            'https://other.example.com/*',
            `${MEDIA}/ok/*`,
          ],
        },
      ],
    };
    expect(ask(profile, [`${MEDIA}/ok/a`])).toEqual({
      grantIndex: 0,
      maxTtl: 86_400,
      resources: [`${MEDIA}/ok/*`],
    });
    const error = expectDenied(
      () => ask(profile, [`${MEDIA}/other/a`]),
      'ERR_RESOURCE_NOT_GRANTED',
      `(granted: ${MEDIA}/ok/*)`,
    );
    expect(error.message).not.toContain('other.example.com');
    const none: Profile = { ...base, grants: [{ ...grant, resources: ['https://*.example.com/*'] }] };
    expectDenied(
      () => ask(none, [`${MEDIA}/ok/a`]),
      'ERR_RESOURCE_NOT_GRANTED',
      'no grant of profile media applies',
    );
  });

  it('matches grant patterns against the profile domains case-insensitively', () => {
    const base = profileWith([{ when: { claims: READ }, resources: [`${MEDIA}/*`] }]);
    const profile: Profile = {
      ...base,
      grants: [{ ...base.grants[0]!, resources: ['https://MEDIA.example.com/*'] }],
    };
    expect(ask(profile, [`${MEDIA}/a`]).resources).toEqual([`${MEDIA}/*`]);
  });

  it('keeps grant patterns exempt from the caller limits (they are configuration)', () => {
    const long = `${MEDIA}/${'d'.repeat(2100)}/*`;
    const profile = profileWith([{ when: { claims: READ }, resources: [long] }]);
    expect(ask(profile, [`${MEDIA}/${'d'.repeat(2100)}/a`]).resources).toEqual([long]);
  });

  it('reports the patterns that hold a requested item, once each, in grant order', () => {
    const profile = profileWith([
      {
        when: { claims: READ },
        resources: [`${MEDIA}/b/*`, `${MEDIA}/unused/*`, `${MEDIA}/a/*`, `${MEDIA}/b/*`, `${MEDIA}/{sub}/*`],
      },
    ]);
    expect(ask(profile, [`${MEDIA}/a/1`, `${MEDIA}/b/1`, `${MEDIA}/a/2`, `${MEDIA}/alice/x`])).toEqual({
      grantIndex: 0,
      maxTtl: 86_400,
      resources: [`${MEDIA}/b/*`, `${MEDIA}/a/*`, `${MEDIA}/alice/*`],
    });
  });
});

describe('authorize: denials name what was asked and what is granted', () => {
  const profile = profileWith([
    { when: { claims: READ }, resources: [`${MEDIA}/videos/*`] },
    { when: { claims: READ }, resources: [`${MEDIA}/audio/*`] },
  ]);

  it('says which of the requested items are outside every grant, and how many more', () => {
    const error = expectDenied(
      () => ask(profile, [`${MEDIA}/videos/a`, `${MEDIA}/x`, `${MEDIA}/y`]),
      'ERR_RESOURCE_NOT_GRANTED',
      `${MEDIA}/x (and 1 more of the requested items) is not inside any resource granted to user alice (granted: ${MEDIA}/videos/*, ${MEDIA}/audio/*)`,
    );
    expect(error.message).not.toContain('wildcard resource');
    expect(error.refused).toEqual([
      { kind: 'url', index: 1, url: `${MEDIA}/x`, reason: 'not inside any granted resource' },
      { kind: 'url', index: 2, url: `${MEDIA}/y`, reason: 'not inside any granted resource' },
    ]);
  });

  it('says nothing of "more" for one uncovered item', () => {
    const error = expectDenied(() => ask(profile, [`${MEDIA}/x`]), 'ERR_RESOURCE_NOT_GRANTED');
    expect(error.message).toBe(
      `${MEDIA}/x is not inside any resource granted to user alice (granted: ${MEDIA}/videos/*, ${MEDIA}/audio/*)`,
    );
  });

  it('explains that a wildcard resource must lie inside a grant', () => {
    const error = expectDenied(
      () => ask(profile, [], { resource: `${MEDIA}/*` }),
      'ERR_RESOURCE_NOT_GRANTED',
    );
    expect(error.message).toBe(
      `the resource ${MEDIA}/* is not inside any resource granted to user alice (granted: ${MEDIA}/videos/*, ${MEDIA}/audio/*)` +
        '; a wildcard resource must lie inside one, so that every URL it matches is',
    );
    expect(error.refused).toEqual([
      { kind: 'resource', url: `${MEDIA}/*`, reason: 'not inside any granted resource' },
    ]);
  });

  it('says when no grant applies to the caller at all', () => {
    const error = expectDenied(
      () =>
        ask(profile, [`${MEDIA}/videos/a`, `${MEDIA}/videos/b`], { caller: user('bob', { scope: 'other' }) }),
      'ERR_RESOURCE_NOT_GRANTED',
    );
    expect(error.message).toBe(
      `${MEDIA}/videos/a (and 1 more of the requested items) is not granted: no grant of profile media applies to user bob.`,
    );
    expect(error.refused.map((item) => item.reason)).toEqual([
      'no grant applies to the caller',
      'no grant applies to the caller',
    ]);
  });

  it('says when every item is granted, but by different grants', () => {
    const error = expectDenied(
      () => ask(profile, [`${MEDIA}/videos/a`], { resource: `${MEDIA}/audio/*` }),
      'ERR_RESOURCE_NOT_GRANTED',
      'Expected the requested items to fall under one grant; each is granted to user alice, but by different grants of profile media. Request them separately.',
    );
    expect(error.refused).toEqual([
      {
        kind: 'url',
        index: 0,
        url: `${MEDIA}/videos/a`,
        reason: 'granted by a different grant than the others',
      },
      { kind: 'resource', url: `${MEDIA}/audio/*`, reason: 'granted by a different grant than the others' },
    ]);
  });

  it('lists at most five granted patterns, each once, then how many more', () => {
    const names = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
    const seven = profileWith([
      { when: { claims: READ }, resources: names.map((name) => `${MEDIA}/${name}/*`) },
      { when: { claims: READ }, resources: [`${MEDIA}/a/*`] },
    ]);
    expectDenied(
      () => ask(seven, [`${MEDIA}/x`]),
      'ERR_RESOURCE_NOT_GRANTED',
      `(granted: ${MEDIA}/a/*, ${MEDIA}/b/*, ${MEDIA}/c/*, ${MEDIA}/d/*, ${MEDIA}/e/* and 2 more)`,
    );
    const five = profileWith([
      { when: { claims: READ }, resources: names.slice(0, 5).map((name) => `${MEDIA}/${name}/*`) },
      { when: { claims: READ }, resources: [`${MEDIA}/e/*`] },
    ]);
    const error = expectDenied(() => ask(five, [`${MEDIA}/x`]), 'ERR_RESOURCE_NOT_GRANTED');
    expect(error.message).toContain(
      `(granted: ${MEDIA}/a/*, ${MEDIA}/b/*, ${MEDIA}/c/*, ${MEDIA}/d/*, ${MEDIA}/e/*)`,
    );
  });

  it('names an API key caller by its key id, and quotes a subject that is not plain printable text', () => {
    const key: Caller = { subject: 'api-key:other', claims: {}, apiKeyId: 'mobile-app' };
    expectDenied(
      () => ask(profile, [`${MEDIA}/x`], { caller: key }),
      'ERR_RESOURCE_NOT_GRANTED',
      'no grant of profile media applies to API key mobile-app.',
    );
    for (const [subject, shown] of [
      ['alice smith', '"alice smith"'],
      ['a\nb', '"a\\nb"'],
      ['é', '"é"'],
      ['', '""'],
      ['x'.repeat(200), 'x'.repeat(200)],
      ['y'.repeat(201), `"${'y'.repeat(200)}"`],
    ] as const) {
      const error = expectDenied(
        () => ask(profile, [`${MEDIA}/x`], { caller: { subject, claims: {} } }),
        'ERR_RESOURCE_NOT_GRANTED',
      );
      expect(error.message).toContain(`applies to user ${shown}.`);
    }
  });
});

describe('authorize: the expiry ceiling', () => {
  it('allows exactly the ceiling and refuses one second more, with the ceiling', () => {
    const profile = profileWith([{ when: { claims: READ }, resources: [`${MEDIA}/*`], maxTtl: 600 }]);
    expect(ask(profile, [`${MEDIA}/a`], { ttlSeconds: 600 }).maxTtl).toBe(600);
    const error = expectDenied(
      () => ask(profile, [`${MEDIA}/a`], { ttlSeconds: 601 }),
      'ERR_TTL_EXCEEDED',
      'Expected an expiry of at most 600 seconds for this grant; got 601.',
    );
    expect(error.maxTtl).toBe(600);
    expectDenied(
      () => ask(profile, [`${MEDIA}/a`], { ttlSeconds: Number.NaN }),
      'ERR_TTL_EXCEEDED',
      'got NaN.',
    );
  });

  it('names the profile when its ttl.max is the limit: no grant maxTtl, or one equal to it', () => {
    for (const maxTtl of [undefined, 3600]) {
      const profile = profileWith([{ when: { claims: READ }, resources: [`${MEDIA}/*`], maxTtl }], 3600);
      expect(ask(profile, [`${MEDIA}/a`], { ttlSeconds: 3600 }).maxTtl).toBe(3600);
      expectDenied(
        () => ask(profile, [`${MEDIA}/a`], { ttlSeconds: 3601 }),
        'ERR_TTL_EXCEEDED',
        'Expected an expiry of at most 3600 seconds for profile media; got 3601.',
      );
    }
  });

  it("caps a grant's maxTtl above ttl.max at ttl.max (a profile built without the schema)", () => {
    const base = profileWith([{ when: { claims: READ }, resources: [`${MEDIA}/*`] }], 3600);
    const profile: Profile = { ...base, grants: [{ ...base.grants[0]!, maxTtl: 7200 }] };
    expect(ask(profile, [`${MEDIA}/a`], { ttlSeconds: 3600 }).maxTtl).toBe(3600);
    expectDenied(
      () => ask(profile, [`${MEDIA}/a`], { ttlSeconds: 3601 }),
      'ERR_TTL_EXCEEDED',
      'for profile media',
    );
  });

  it('chooses the covering grant with the longest ceiling, the first on a tie', () => {
    const profile = profileWith([
      { when: { claims: READ }, resources: [`${MEDIA}/*`], maxTtl: 600 },
      { when: { claims: READ }, resources: [`${MEDIA}/a/*`], maxTtl: 1200 },
      { when: { claims: READ }, resources: [`${MEDIA}/*`], maxTtl: 1200 },
      { when: { claims: READ }, resources: [`${MEDIA}/b/*`], maxTtl: 3600 },
    ]);
    expect(ask(profile, [`${MEDIA}/a/x`])).toEqual({
      grantIndex: 1,
      maxTtl: 1200,
      resources: [`${MEDIA}/a/*`],
    });
    expect(ask(profile, [`${MEDIA}/c/x`])).toEqual({
      grantIndex: 2,
      maxTtl: 1200,
      resources: [`${MEDIA}/*`],
    });
    const tie = profileWith([
      { when: { claims: READ }, resources: [`${MEDIA}/*`], maxTtl: 600 },
      { when: { claims: READ }, resources: [`${MEDIA}/a/*`], maxTtl: 600 },
    ]);
    expect(ask(tie, [`${MEDIA}/a/x`]).grantIndex).toBe(0);
  });
});
