import { describe, expect, it } from 'vitest';
import { type AuthorizeInput, authorize, type Caller } from '../../lib/access/index.ts';
import type { Principal } from '../../lib/auth/principal.ts';
import { SigningError } from '../../lib/signing/errors.ts';
import { expectDenied, MEDIA, profileWith, user } from '../support/access.ts';

const READERS = { when: { claims: { scope: 'media:read' } }, resources: [`${MEDIA}/videos/*`], maxTtl: '1h' };
const OWN_FOLDER = { when: { claims: { scope: 'media:read' } }, resources: [`${MEDIA}/users/{sub}/*`] };
const EDITORS = {
  when: { claims: { groups: ['editors', 'admins'] } },
  resources: [`${MEDIA}/drafts/*`, 'https://cdn.example.com/drafts/*'],
  maxTtl: '12h',
};
const MOBILE = { when: { apiKeys: ['mobile-app'] }, resources: [`${MEDIA}/public/*`], maxTtl: 600 };

const profile = profileWith([READERS, OWN_FOLDER, EDITORS, MOBILE]);
const alice = user('alice');

function ask(caller: Caller, urls: string[], extra: Partial<AuthorizeInput> = {}) {
  return authorize({ profileName: 'media', profile, caller, urls, ttlSeconds: 300, ...extra });
}

describe('authorize: which grants apply', () => {
  it('matches a scope given as a space-separated string', () => {
    const decision = ask(user('alice', { scope: 'openid media:read profile' }), [
      `${MEDIA}/videos/intro.mp4`,
    ]);
    expect(decision).toEqual({ grantIndex: 0, maxTtl: 3600, resources: [`${MEDIA}/videos/*`] });
  });

  it('does not take part of a scope word for the word', () => {
    expectDenied(
      () => ask(user('alice', { scope: 'openid media:read-only' }), [`${MEDIA}/videos/intro.mp4`]),
      'ERR_RESOURCE_NOT_GRANTED',
      'no grant of profile media applies to user alice',
    );
  });

  it('matches a groups array claim against any of the configured values', () => {
    const decision = ask(user('bob', { groups: ['staff', 'admins'] }), [
      'https://cdn.example.com/drafts/cut-2.mp4',
    ]);
    expect(decision).toEqual({
      grantIndex: 2,
      maxTtl: 43_200,
      resources: ['https://cdn.example.com/drafts/*'],
    });
  });

  it('does not split a groups string on spaces (only scope and scp are space-separated)', () => {
    expectDenied(
      () => ask(user('bob', { groups: 'staff admins' }), [`${MEDIA}/drafts/cut-2.mp4`]),
      'ERR_RESOURCE_NOT_GRANTED',
    );
  });

  it('applies an apiKeys grant to a caller with that key id, and to no other', () => {
    const mobile: Caller = { subject: 'mobile-app', claims: {}, apiKeyId: 'mobile-app' };
    expect(ask(mobile, [`${MEDIA}/public/logo.png`])).toEqual({
      grantIndex: 3,
      maxTtl: 600,
      resources: [`${MEDIA}/public/*`],
    });
    const other: Caller = { subject: 'kiosk', claims: {}, apiKeyId: 'kiosk' };
    expectDenied(() => ask(other, [`${MEDIA}/public/logo.png`]), 'ERR_RESOURCE_NOT_GRANTED', 'API key kiosk');
  });

  it("takes lib/auth's Principal as the caller", () => {
    const principal: Principal = {
      kind: 'api-key',
      subject: 'api-key:mobile-app',
      claims: {},
      apiKeyId: 'mobile-app',
    };
    expect(ask(principal, [`${MEDIA}/public/logo.png`]).grantIndex).toBe(3);
  });

  it('requires every claim of a grant to hold', () => {
    const both = profileWith([
      { when: { claims: { scope: 'media:read', tier: ['gold', 'platinum'] } }, resources: [`${MEDIA}/hd/*`] },
    ]);
    const input = { profileName: 'media', profile: both, urls: [`${MEDIA}/hd/a.mp4`], ttlSeconds: 60 };
    expect(authorize({ ...input, caller: user('a', { scope: 'media:read', tier: 'gold' }) }).grantIndex).toBe(
      0,
    );
    expectDenied(
      () => authorize({ ...input, caller: user('a', { scope: 'media:read' }) }),
      'ERR_RESOURCE_NOT_GRANTED',
    );
    expectDenied(
      () => authorize({ ...input, caller: user('a', { scope: 'media:read', tier: 'silver' }) }),
      'ERR_RESOURCE_NOT_GRANTED',
    );
  });

  it('never finds a claim on the prototype, and an empty claims condition applies to no one', () => {
    const proto = profileWith([{ when: { claims: { constructor: 'x' } }, resources: [`${MEDIA}/p/*`] }]);
    const empty = profileWith([{ when: { claims: {} }, resources: [`${MEDIA}/p/*`] }]);
    for (const p of [proto, empty]) {
      expectDenied(
        () =>
          authorize({
            profileName: 'm',
            profile: p,
            caller: user('a', {}),
            urls: [`${MEDIA}/p/x`],
            ttlSeconds: 1,
          }),
        'ERR_RESOURCE_NOT_GRANTED',
      );
    }
  });

  it('denies by default: no grants, or nothing requested', () => {
    const none = profileWith([]);
    expectDenied(
      () =>
        authorize({ profileName: 'm', profile: none, caller: alice, urls: [`${MEDIA}/a`], ttlSeconds: 1 }),
      'ERR_RESOURCE_NOT_GRANTED',
    );
    expectDenied(() => ask(alice, []), 'ERR_RESOURCE_NOT_GRANTED', 'Expected at least one URL or a resource');
  });
});

describe('authorize: {claim} interpolation', () => {
  it('lets a user sign inside their own folder and not inside another', () => {
    expect(ask(alice, [`${MEDIA}/users/alice/holiday.mp4`])).toEqual({
      grantIndex: 1,
      maxTtl: 86_400,
      resources: [`${MEDIA}/users/alice/*`],
    });
    const error = expectDenied(
      () => ask(alice, [`${MEDIA}/admin/x`]),
      'ERR_RESOURCE_NOT_GRANTED',
      `${MEDIA}/admin/x is not inside any resource granted to user alice (granted: ${MEDIA}/videos/*, ` +
        `${MEDIA}/users/alice/*)`,
    );
    expect(error.refused).toEqual([
      { kind: 'url', index: 0, url: `${MEDIA}/admin/x`, reason: 'not inside any granted resource' },
    ]);
    expectDenied(() => ask(alice, [`${MEDIA}/users/bob/x`]), 'ERR_RESOURCE_NOT_GRANTED', 'users/bob/x');
  });

  it('encodes the claim so that its characters stay literal', () => {
    // A subject with a space and unicode is still that user's own folder, percent-encoded as WHATWG does.
    const decision = ask(user('zoë smith'), [`${MEDIA}/users/zoë smith/a.mp4`]);
    expect(decision.resources).toEqual([`${MEDIA}/users/zo%C3%AB%20smith/*`]);
    // A subject "*" is the literal folder %2A, not every folder.
    expectDenied(() => ask(user('*'), [`${MEDIA}/users/bob/x`]), 'ERR_RESOURCE_NOT_GRANTED');
    expect(ask(user('*'), [`${MEDIA}/users/%2A/x`]).grantIndex).toBe(1);
  });

  it('does not apply a grant whose claim is missing, not text, empty, or a dot segment', () => {
    const tenants = profileWith([
      { when: { claims: { scope: 'media:read' } }, resources: [`${MEDIA}/t/{tenant}/*`] },
    ]);
    const tryTenant = (claims: Record<string, unknown>) =>
      authorize({
        profileName: 'media',
        profile: tenants,
        caller: user('alice', { scope: 'media:read', ...claims }),
        urls: [`${MEDIA}/t/acme/x`],
        ttlSeconds: 60,
      });
    expect(tryTenant({ tenant: 'acme' }).resources).toEqual([`${MEDIA}/t/acme/*`]);
    for (const claims of [
      {},
      { tenant: ['acme'] },
      { tenant: '' },
      { tenant: '.' },
      { tenant: '..' },
      { tenant: 'a\u0000' },
    ]) {
      expectDenied(() => tryTenant(claims), 'ERR_RESOURCE_NOT_GRANTED');
    }
    // `..` as a tenant would otherwise be resolved by the URL parser to https://media.example.com/t/*.
    expectDenied(
      () => tryTenant({ tenant: '..' }),
      'ERR_RESOURCE_NOT_GRANTED',
      'no grant of profile media applies',
    );
  });

  it('never lets a grant pattern on another host match', () => {
    const elsewhere = profileWith([
      {
        when: { claims: { scope: 'media:read' } },
        resources: ['https://evil.example.net/*', 'https://*.example.com/*'],
      },
    ]);
    expectDenied(
      () =>
        authorize({
          profileName: 'media',
          profile: elsewhere,
          caller: alice,
          urls: [`${MEDIA}/a`],
          ttlSeconds: 1,
        }),
      'ERR_RESOURCE_NOT_GRANTED',
      'no grant of profile media applies to user alice',
    );
  });
});

describe('authorize: TTL ceilings', () => {
  it("refuses an expiry over the grant's maxTtl, naming the maximum", () => {
    const error = expectDenied(
      () => ask(alice, [`${MEDIA}/videos/a.mp4`], { ttlSeconds: 7200 }),
      'ERR_TTL_EXCEEDED',
      'Expected an expiry of at most 3600 seconds for this grant; got 7200.',
    );
    expect(error.maxTtl).toBe(3600);
    expect(ask(alice, [`${MEDIA}/videos/a.mp4`], { ttlSeconds: 3600 }).maxTtl).toBe(3600);
  });

  it("caps a grant without maxTtl at the profile's ttl.max", () => {
    const short = profileWith([OWN_FOLDER], 900);
    const input = { profileName: 'media', profile: short, caller: alice, urls: [`${MEDIA}/users/alice/a`] };
    expect(authorize({ ...input, ttlSeconds: 900 }).maxTtl).toBe(900);
    expectDenied(
      () => authorize({ ...input, ttlSeconds: 901 }),
      'ERR_TTL_EXCEEDED',
      'Expected an expiry of at most 900 seconds for profile media; got 901.',
    );
  });

  it('refuses a TTL that is not a number', () => {
    expectDenied(() => ask(alice, [`${MEDIA}/videos/a.mp4`], { ttlSeconds: Number.NaN }), 'ERR_TTL_EXCEEDED');
  });

  it('picks the grant with the largest maxTtl when several cover the request', () => {
    const layered = profileWith([
      { when: { claims: { scope: 'media:read' } }, resources: [`${MEDIA}/videos/*`], maxTtl: 600 },
      { when: { claims: { scope: 'media:read' } }, resources: [`${MEDIA}/*`], maxTtl: 7200 },
      { when: { claims: { scope: 'media:read' } }, resources: [`${MEDIA}/videos/*`], maxTtl: 3600 },
    ]);
    const decision = authorize({
      profileName: 'media',
      profile: layered,
      caller: alice,
      urls: [`${MEDIA}/videos/a.mp4`],
      ttlSeconds: 5000,
    });
    expect(decision).toEqual({ grantIndex: 1, maxTtl: 7200, resources: [`${MEDIA}/*`] });
  });
});

describe('authorize: batches are all or nothing', () => {
  it('names the one URL outside the grants, with its index', () => {
    const error = expectDenied(
      () => ask(alice, [`${MEDIA}/videos/a.mp4`, `${MEDIA}/secret/b.mp4`, `${MEDIA}/users/alice/c.mp4`]),
      'ERR_RESOURCE_NOT_GRANTED',
      `${MEDIA}/secret/b.mp4 is not inside any resource granted to user alice`,
    );
    expect(error.refused).toEqual([
      { kind: 'url', index: 1, url: `${MEDIA}/secret/b.mp4`, reason: 'not inside any granted resource' },
    ]);
  });

  it('refuses a batch split across two grants, since one decision names one grant and one ceiling', () => {
    const error = expectDenied(
      () => ask(alice, [`${MEDIA}/videos/a.mp4`, `${MEDIA}/users/alice/b.mp4`]),
      'ERR_RESOURCE_NOT_GRANTED',
      'different grants',
    );
    expect(error.refused).toHaveLength(2);
  });

  it('allows a batch under one grant', () => {
    expect(ask(alice, [`${MEDIA}/videos/a.mp4`, `${MEDIA}/videos/b/c.mp4`]).grantIndex).toBe(0);
  });
});

describe('authorize: wildcard resources', () => {
  it('allows a resource equal to or inside a granted pattern', () => {
    expect(ask(alice, [], { resource: `${MEDIA}/videos/*` }).resources).toEqual([`${MEDIA}/videos/*`]);
    expect(ask(alice, [], { resource: `${MEDIA}/videos/2024/*.mp4` }).grantIndex).toBe(0);
    expect(
      ask(alice, [`${MEDIA}/videos/2024/a.mp4`], { resource: `${MEDIA}/videos/2024/*` }).grantIndex,
    ).toBe(0);
    expect(ask(alice, [], { resource: `${MEDIA}/videos/?.mp4` }).grantIndex).toBe(0);
  });

  it('refuses a broader resource, or one that reaches outside through a wildcard', () => {
    for (const resource of [
      `${MEDIA}/*`,
      `${MEDIA}/video*`,
      `${MEDIA}/*/videos/*`,
      `${MEDIA}/videos?x`,
      `*://media.example.com/videos/*`,
    ]) {
      expectDenied(
        () => ask(alice, [], { resource }),
        'ERR_RESOURCE_NOT_GRANTED',
        'a wildcard resource must lie inside one',
      );
    }
  });

  it('refuses a resource whose wildcards cover URLs the URLs alone would not', () => {
    // Each URL is inside /users/alice/*, but the resource signed into the policy is wider.
    expectDenied(
      () => ask(alice, [`${MEDIA}/users/alice/a`], { resource: `${MEDIA}/users/*` }),
      'ERR_RESOURCE_NOT_GRANTED',
      `the resource ${MEDIA}/users/* is not inside`,
    );
  });

  it('treats ? in a query part as exactly one character on both sides', () => {
    const reports = profileWith([
      { when: { claims: { role: 'auditor' } }, resources: [`${MEDIA}/reports/summary.pdf?year=20??`] },
    ]);
    const auditor = user('carol', { role: 'auditor' });
    const askReports = (urls: string[], resource?: string) =>
      authorize({ profileName: 'media', profile: reports, caller: auditor, urls, resource, ttlSeconds: 60 });
    expect(askReports([`${MEDIA}/reports/summary.pdf?year=2024`]).grantIndex).toBe(0);
    expect(askReports([], `${MEDIA}/reports/summary.pdf?year=202?`).grantIndex).toBe(0);
    for (const url of [
      `${MEDIA}/reports/summary.pdf?year=202`,
      `${MEDIA}/reports/summary.pdf?year=20245`,
      `${MEDIA}/reports/summary.pdf`,
    ]) {
      expectDenied(() => askReports([url]), 'ERR_RESOURCE_NOT_GRANTED');
    }
    for (const resource of [`${MEDIA}/reports/summary.pdf?year=20*`, `${MEDIA}/reports/*.pdf?year=2024`]) {
      expectDenied(() => askReports([], resource), 'ERR_RESOURCE_NOT_GRANTED');
    }
  });

  it('reads a ? in a grant path as the start of the query, as the URL parser does', () => {
    // /reports/20??/summary.pdf is the path /reports/20 with the query ?/summary.pdf: not a path wildcard.
    const reports = profileWith([
      { when: { claims: { role: 'auditor' } }, resources: [`${MEDIA}/reports/20??/summary.pdf`] },
    ]);
    const auditor = user('carol', { role: 'auditor' });
    const askReports = (urls: string[]) =>
      authorize({ profileName: 'media', profile: reports, caller: auditor, urls, ttlSeconds: 60 });
    expectDenied(() => askReports([`${MEDIA}/reports/2024/summary.pdf`]), 'ERR_RESOURCE_NOT_GRANTED');
    expect(askReports([`${MEDIA}/reports/20?x/summary.pdf`]).grantIndex).toBe(0);
  });

  it("refuses a caller resource over the limits with the signing core's error, and keeps grants exempt", () => {
    const refusal = (resource: string) => {
      try {
        ask(alice, [], { resource });
      } catch (error) {
        return error instanceof SigningError ? error.code : error;
      }
      return 'allowed';
    };
    expect(refusal(`${MEDIA}/videos/*${'a'.repeat(3_900)}b`)).toBe('ERR_RESOURCE_TOO_LONG');
    expect(refusal(`${MEDIA}/videos/${'*a'.repeat(17)}`)).toBe('ERR_TOO_MANY_WILDCARDS');
    // A grant from configuration with more wildcards than a caller may send still applies.
    const many = profileWith([
      { when: { claims: { scope: 'media:read' } }, resources: [`${MEDIA}/${'*/'.repeat(20)}*.mp4`] },
    ]);
    const url = `${MEDIA}/${'d/'.repeat(20)}a.mp4`;
    expect(
      authorize({ profileName: 'media', profile: many, caller: alice, urls: [url], ttlSeconds: 60 })
        .grantIndex,
    ).toBe(0);
  });
});

describe('authorize: no wildcard reaches across the ? into the query', () => {
  const exploits = profileWith([
    { when: { claims: { scope: 'a' } }, resources: [`${MEDIA}/public/*.mp4`] },
    { when: { claims: { scope: 'b' } }, resources: [`${MEDIA}/*/public/*`] },
    { when: { claims: { scope: 'c' } }, resources: [`${MEDIA}/users/{sub}/*`] },
    { when: { claims: { scope: 'd' } }, resources: [`${MEDIA}/search?q=*`] },
  ]);
  const askAs = (scope: string, urls: string[], resource?: string) =>
    authorize({
      profileName: 'media',
      profile: exploits,
      caller: user('alice', { scope }),
      urls,
      resource,
      ttlSeconds: 60,
    });

  it.each([
    ['a', `${MEDIA}/public/secret.txt?.mp4`],
    ['a', `${MEDIA}/public/../private/secret.txt?.mp4`],
    ['b', `${MEDIA}/admin/payroll.csv?x=/public/`],
    ['b', `${MEDIA}/private/secret.pdf?/public/x`],
    ['c', `${MEDIA}/users/alice?/x`],
    ['d', `${MEDIA}/search/secret?q=1`],
  ])('denies the exploit (scope %s) %s', (scope, url) => {
    expectDenied(() => askAs(scope, [url]), 'ERR_RESOURCE_NOT_GRANTED', 'is not inside any resource granted');
  });

  it('denies the same through a wildcard resource', () => {
    for (const [scope, resource] of [
      ['a', `${MEDIA}/public/secret.txt?*.mp4`],
      ['a', `${MEDIA}/public/*?*`],
      ['b', `${MEDIA}/admin/*?x=/public/*`],
      ['d', `${MEDIA}/search*?q=*`],
    ] as const) {
      expectDenied(() => askAs(scope, [], resource), 'ERR_RESOURCE_NOT_GRANTED');
    }
  });

  it('still allows what the grants cover', () => {
    // A trailing * on the granted path covers any query string.
    expect(askAs('c', [`${MEDIA}/users/alice/a.mp4?x=1`]).grantIndex).toBe(2);
    expect(askAs('c', [], `${MEDIA}/users/alice/*`).grantIndex).toBe(2);
    expect(askAs('c', [], `${MEDIA}/users/alice/a/*?v=*`).grantIndex).toBe(2);
    expect(askAs('b', [`${MEDIA}/x/public/a.pdf?page=2`]).grantIndex).toBe(1);
    // A granted path that does not end in * names objects exactly: without a query.
    expect(askAs('a', [`${MEDIA}/public/b.mp4`]).grantIndex).toBe(0);
    expect(askAs('a', [`${MEDIA}/public/x/b.mp4`]).grantIndex).toBe(0);
    expect(askAs('a', [], `${MEDIA}/public/*/b.mp4`).grantIndex).toBe(0);
    expectDenied(() => askAs('a', [`${MEDIA}/public/b.mp4?x`]), 'ERR_RESOURCE_NOT_GRANTED');
    // A requested trailing * covers every query: only a grant that covers every query contains it.
    expectDenied(() => askAs('a', [], `${MEDIA}/public/b*`), 'ERR_RESOURCE_NOT_GRANTED');
    // A grant with an explicit query part: path against path, query against query.
    expect(askAs('d', [`${MEDIA}/search?q=cats`]).grantIndex).toBe(3);
    expect(askAs('d', [], `${MEDIA}/search?q=c*`).grantIndex).toBe(3);
    expectDenied(() => askAs('d', [`${MEDIA}/search?lang=en&q=cats`]), 'ERR_RESOURCE_NOT_GRANTED');
    expectDenied(() => askAs('d', [`${MEDIA}/search`]), 'ERR_RESOURCE_NOT_GRANTED');
  });
});

describe('authorize: path tricks, hosts and schemes', () => {
  it('compares the canonical URL, where dot segments are already resolved', () => {
    expectDenied(
      () => ask(alice, [`${MEDIA}/users/alice/../bob/x`]),
      'ERR_RESOURCE_NOT_GRANTED',
      `${MEDIA}/users/bob/x`,
    );
    expectDenied(
      () => ask(alice, [`${MEDIA}/users/alice/%2e%2E/bob/x`]),
      'ERR_RESOURCE_NOT_GRANTED',
      'users/bob/x',
    );
    expect(ask(alice, [`${MEDIA}/users/alice/./a/../b`]).grantIndex).toBe(1);
  });

  it.each([
    ['an encoded slash', `${MEDIA}/users/alice/..%2fbob/x`, 'encoded slash'],
    ['an encoded slash (upper case)', `${MEDIA}/users/alice%2F..%2Fbob/x`, 'encoded slash'],
    ['an encoded backslash', `${MEDIA}/users/alice/..%5Cbob/x`, 'encoded slash or backslash'],
    ['double encoding', `${MEDIA}/users/alice/%252e%252e/bob/x`, 'double percent-encoding'],
    ['a stray percent sign', `${MEDIA}/users/alice/100%/x`, 'does not start a percent-encoded byte'],
    ['an encoded NUL', `${MEDIA}/users/alice/a%00.mp4`, 'encoded control character'],
    ['a Tomcat path parameter dot segment', `${MEDIA}/users/alice/..;/bob/x`, 'dot segment'],
    ['bytes that are not UTF-8', `${MEDIA}/users/alice/%ff`, 'not UTF-8'],
  ])('refuses %s as ambiguous, whoever asks', (_name, url, reason) => {
    const error = expectDenied(
      () => ask(alice, [`${MEDIA}/videos/ok.mp4`, url]),
      'ERR_AMBIGUOUS_PATH',
      reason,
    );
    expect(error.refused.map((item) => item.kind === 'url' && item.index)).toEqual([1]);
  });

  it('refuses the same tricks in a wildcard resource', () => {
    expectDenied(() => ask(alice, [], { resource: `${MEDIA}/users/alice/..%2f*` }), 'ERR_AMBIGUOUS_PATH');
  });

  it('allows %2F in the query string, which names no object', () => {
    expect(ask(alice, [`${MEDIA}/videos/a.mp4?next=%2Fhome`]).grantIndex).toBe(0);
  });

  it('is case-insensitive in the host and case-sensitive in the path', () => {
    expect(ask(alice, ['HTTPS://MEDIA.Example.COM/videos/a.mp4']).grantIndex).toBe(0);
    expectDenied(() => ask(alice, [`${MEDIA}/Videos/a.mp4`]), 'ERR_RESOURCE_NOT_GRANTED');
  });

  it('refuses another host, port or scheme than the grant', () => {
    expectDenied(
      () => ask(alice, ['https://evil.example.net/videos/a.mp4']),
      'ERR_RESOURCE_NOT_GRANTED',
      'Expected a URL on a domain of profile media (media.example.com, cdn.example.com); got https://evil.example.net',
    );
    expectDenied(
      () => ask(alice, ['https://media.example.com:8443/videos/a.mp4']),
      'ERR_RESOURCE_NOT_GRANTED',
    );
    expectDenied(() => ask(alice, ['http://media.example.com/videos/a.mp4']), 'ERR_RESOURCE_NOT_GRANTED');
    // cdn.example.com is a profile domain, but this grant is on media.example.com only.
    expectDenied(() => ask(alice, ['https://cdn.example.com/videos/a.mp4']), 'ERR_RESOURCE_NOT_GRANTED');
  });

  it('refuses credentials in a URL (the signing core does, first) without repeating them', () => {
    let error: unknown;
    try {
      ask(alice, ['https://admin:hunter2@media.example.com/videos/a.mp4']);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(SigningError);
    expect(error).toMatchObject({ code: 'ERR_INVALID_URL' });
    expect((error as Error).message).toContain('user name or password');
    expect((error as Error).message).not.toContain('hunter2');
  });

  it('lets the signing core refuse what it cannot canonicalize, with its own error', () => {
    expect(() => ask(alice, ['not a url'])).toThrow(SigningError);
    expect(() => ask(alice, ['ftp://media.example.com/videos/a'])).toThrow(SigningError);
    expect(() => ask(alice, [], { resource: 'media.example.com/*' })).toThrow(SigningError);
  });
});
