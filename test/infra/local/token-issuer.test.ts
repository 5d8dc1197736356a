import { createServer } from 'node:http';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { close, listen } from '../../../infra/local/http.ts';
import { MemoryStateStore, type StateStore } from '../../../infra/local/state.ts';
import { createDevTokenIssuer, DevTokenIssuer, JWKS_PATH } from '../../../infra/local/token-issuer.ts';

const NOW = 1_780_000_000;
const ISSUER = 'http://127.0.0.1:4603/issuer';
const AUDIENCE = 'signet-local';

function newIssuer(store: StateStore = new MemoryStateStore()): DevTokenIssuer {
  return createDevTokenIssuer({ store, issuer: ISSUER, audience: AUDIENCE, now: () => NOW });
}

/** Every `d` (and other private member) value the store holds, to look for in what is published. */
function privateValues(store: StateStore): string[] {
  const state = store.load() as { keys: { privateJwk: Record<string, string> }[] };
  return state.keys.map((key) => key.privateJwk.d as string);
}

describe('the development token issuer', () => {
  it('generates an ES256 key on first use and publishes only its public part', () => {
    const store = new MemoryStateStore();
    const issuer = newIssuer(store);
    expect(store.load()).toBeUndefined();
    const { keys } = issuer.jwks();
    expect(keys).toHaveLength(1);
    const key = keys[0]!;
    expect(Object.keys(key).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y']);
    expect(key).toMatchObject({
      kty: 'EC',
      crv: 'P-256',
      alg: 'ES256',
      use: 'sig',
      kid: issuer.currentKeyId(),
    });
    expect(key.kid).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const published = JSON.stringify(issuer.jwks());
    for (const d of privateValues(store)) {
      expect(d).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(published).not.toContain(d);
    }
  });

  it('issues tokens that verify against its key set, with the expected claims and header', async () => {
    const issuer = newIssuer();
    const token = await issuer.issue({
      sub: 'alice',
      scope: ['videos:read', 'users:self'],
      claims: { group: 'staff' },
    });
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'ES256', kid: issuer.currentKeyId(), typ: 'JWT' });
    const { payload } = await jwtVerify(token, createLocalJWKSet(issuer.jwks()), {
      issuer: ISSUER,
      audience: AUDIENCE,
      algorithms: ['ES256'],
      currentDate: new Date(NOW * 1000),
    });
    expect(payload).toMatchObject({
      iss: ISSUER,
      aud: AUDIENCE,
      sub: 'alice',
      iat: NOW,
      exp: NOW + 3600,
      scope: 'videos:read users:self',
      group: 'staff',
    });
    expect(payload.jti).toEqual(expect.any(String));
  });

  it('honours expiresIn and lets claims override the defaults (to craft bad tokens on purpose)', async () => {
    const issuer = newIssuer();
    const token = await issuer.issue({ sub: 'bob', expiresIn: 60, claims: { aud: 'elsewhere' } });
    const { payload } = await jwtVerify(token, createLocalJWKSet(issuer.jwks()), {
      currentDate: new Date(NOW * 1000),
    });
    expect(payload).toMatchObject({ exp: NOW + 60, aud: 'elsewhere', sub: 'bob' });
  });

  it('refuses an empty sub and a lifetime that is not a positive whole number', async () => {
    const issuer = newIssuer();
    await expect(issuer.issue({ sub: '' })).rejects.toThrow(/sub/);
    for (const expiresIn of [0, -1, 1.5, Number.NaN]) {
      await expect(issuer.issue({ sub: 'a', expiresIn })).rejects.toThrow(/expiresIn/);
    }
  });

  it('keeps its key across restarts, so earlier tokens still verify', async () => {
    const store = new MemoryStateStore();
    const first = newIssuer(store);
    const token = await first.issue({ sub: 'alice' });
    const second = newIssuer(store);
    expect(second.currentKeyId()).toBe(first.currentKeyId());
    expect(second.jwks()).toEqual(first.jwks());
    const { payload } = await jwtVerify(token, createLocalJWKSet(second.jwks()), {
      currentDate: new Date(NOW * 1000),
    });
    expect(payload.sub).toBe('alice');
  });

  it('rotates to a new key, keeps the previous one published, and drops older ones', async () => {
    const store = new MemoryStateStore();
    const issuer = newIssuer(store);
    const first = issuer.currentKeyId();
    const second = issuer.rotate();
    expect(issuer.currentKeyId()).toBe(second);
    expect(issuer.jwks().keys.map((key) => key.kid)).toEqual([second, first]);
    const third = issuer.rotate();
    expect(issuer.jwks().keys.map((key) => key.kid)).toEqual([third, second]);
    // The rotation is saved: a restart signs with the newest key.
    expect(newIssuer(store).currentKeyId()).toBe(third);
    expect(decodeProtectedHeader(await issuer.issue({ sub: 'a' })).kid).toBe(third);
  });

  it('refuses state it does not recognise rather than silently replacing it', () => {
    const store = new MemoryStateStore();
    store.save({ schema: 'something-else', keys: [] });
    expect(() => newIssuer(store).jwks()).toThrow(/delete it to start over/);
  });

  it('is a DevTokenIssuer', () => {
    expect(newIssuer()).toBeInstanceOf(DevTokenIssuer);
  });
});

describe('handleJwks over HTTP', () => {
  const issuer = newIssuer();
  let base: string;
  let stop: () => Promise<void>;

  beforeAll(async () => {
    const server = createServer(issuer.handleJwks);
    base = await listen(server, 0, 'dev issuer');
    stop = () => close(server);
  });

  afterAll(async () => {
    await stop();
  });

  it('serves the key set at /.well-known/jwks.json with a short cache lifetime', async () => {
    const response = await fetch(`${base}${JWKS_PATH}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('max-age=60');
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await response.json()).toEqual(issuer.jwks());
  });

  it('answers HEAD with the headers and no body', async () => {
    const response = await fetch(`${base}${JWKS_PATH}`, { method: 'HEAD' });
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('max-age=60');
    expect(await response.text()).toBe('');
  });

  it('ignores a query string', async () => {
    const response = await fetch(`${base}${JWKS_PATH}?v=2`);
    expect(response.status).toBe(200);
  });

  it('answers 404 for other paths and 405 for other methods', async () => {
    for (const path of ['/', '/jwks.json', `${JWKS_PATH}/x`, '/.well-known/openid-configuration']) {
      const response = await fetch(`${base}${path}`);
      expect(response.status).toBe(404);
      await response.body?.cancel();
    }
    const post = await fetch(`${base}${JWKS_PATH}`, { method: 'POST', body: '{}' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    await post.body?.cancel();
  });
});
