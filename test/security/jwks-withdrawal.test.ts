import { createServer } from 'node:http';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { close, listen } from '../../infra/local/http.ts';
import { MemoryStateStore } from '../../infra/local/state.ts';
import { createDevTokenIssuer } from '../../infra/local/token-issuer.ts';
import { createAuthenticator } from '../../lib/auth/authenticator.ts';
import { authSchema } from '../../lib/config/schema.ts';

// An issuer withdraws a key from its JWKS (it leaked, say). How long do tokens signed with it still
// pass? `auth.jwt.jwksMaxAge` bounds both caches: the fetched key set is refetched after it, and a
// token verified before the withdrawal is remembered at most that long.

const ISSUER = 'https://issuer.signet.test';
const AUDIENCE = 'signet-api';

afterEach(() => {
  vi.useRealTimers();
});

describe('a key withdrawn from the issuer’s JWKS', () => {
  it('stops verifying tokens once jwksMaxAge has passed, new and already-verified ones alike', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const start = Date.UTC(2026, 11, 5, 12);
    vi.setSystemTime(start);
    const seconds = () => Math.floor(Date.now() / 1000);
    const withdrawn = createDevTokenIssuer({
      store: new MemoryStateStore(),
      issuer: ISSUER,
      audience: AUDIENCE,
      now: seconds,
    });
    const current = createDevTokenIssuer({
      store: new MemoryStateStore(),
      issuer: ISSUER,
      audience: AUDIENCE,
      now: seconds,
    });
    let serving = withdrawn;
    const server = createServer((request, response) => serving.handleJwks(request, response));
    const base = await listen(server, 0, 'test JWKS');
    try {
      const config = authSchema.parse({
        jwt: {
          issuer: ISSUER,
          audience: AUDIENCE,
          jwksUrl: `${base}/.well-known/jwks.json`,
          jwksMaxAge: '60s',
        },
      });
      const auth = createAuthenticator({ config, now: seconds });
      const earlier = await withdrawn.issue({ sub: 'alice', scope: ['media:read'] });
      expect((await auth.authenticate({ authorization: `Bearer ${earlier}` })).subject).toBe('alice');

      serving = current; // the key leaves the JWKS
      // Within jwksMaxAge the cached key set still holds it: the documented window.
      const within = await withdrawn.issue({ sub: 'mallory', scope: ['media:read'] });
      expect((await auth.authenticate({ authorization: `Bearer ${within}` })).subject).toBe('mallory');

      vi.setSystemTime(start + 61_000);
      const after = await withdrawn.issue({ sub: 'mallory', scope: ['media:read'] });
      await expect(auth.authenticate({ authorization: `Bearer ${after}` })).rejects.toMatchObject({
        name: 'AuthError',
      });
      await expect(auth.authenticate({ authorization: `Bearer ${earlier}` })).rejects.toMatchObject({
        name: 'AuthError',
      });
      // The current key verifies as before.
      const fresh = await current.issue({ sub: 'alice', scope: ['media:read'] });
      expect((await auth.authenticate({ authorization: `Bearer ${fresh}` })).subject).toBe('alice');
    } finally {
      await close(server);
    }
  });

  it('refuses a jwksMaxAge outside 1 s to 1 day, naming it', () => {
    const parsed = authSchema.safeParse({
      jwt: { issuer: ISSUER, audience: AUDIENCE, jwksUrl: 'https://issuer.test/jwks', jwksMaxAge: '2d' },
    });
    expect(parsed.success).toBe(false);
    expect(JSON.stringify(parsed.error?.issues)).toContain('jwksMaxAge');
  });
});
