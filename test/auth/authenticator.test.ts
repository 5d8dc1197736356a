import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import {
  CompactSign,
  createLocalJWKSet,
  exportJWK,
  generateKeyPair,
  type JWTVerifyGetKey,
  SignJWT,
} from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { close, listen } from '../../infra/local/http.ts';
import { MemoryStateStore } from '../../infra/local/state.ts';
import { createDevTokenIssuer, type DevTokenIssuer } from '../../infra/local/token-issuer.ts';
import { type ApiKeyRecord, type ApiKeySource, hashApiKey } from '../../lib/auth/api-keys.ts';
import {
  type AuthenticatorOptions,
  type Credentials,
  createAuthenticator,
} from '../../lib/auth/authenticator.ts';
import { AuthError, type AuthFailureReason } from '../../lib/auth/errors.ts';
import { type AuthConfig, authSchema } from '../../lib/config/schema.ts';

/** A fixed clock: 2026-05-28T20:26:40Z. */
const NOW = 1_780_000_000;
const ISSUER = 'https://issuer.signet.test';
const AUDIENCE = 'signet-api';

/** A JWKS endpoint in front of the development issuer that counts fetches and can be made to fail. */
interface JwksServer {
  readonly jwksUrl: string;
  readonly fetches: number;
  mode: 'ok' | 'error' | 'garbage';
  close(): Promise<void>;
}

async function startJwksServer(issuer: DevTokenIssuer): Promise<JwksServer> {
  let fetches = 0;
  const state = { mode: 'ok' as JwksServer['mode'] };
  const server = createServer((request, response) => {
    fetches += 1;
    if (state.mode === 'error') {
      response.writeHead(500).end('{"message":"down"}');
    } else if (state.mode === 'garbage') {
      response.writeHead(200, { 'Content-Type': 'application/json' }).end('<html>not a key set</html>');
    } else {
      issuer.handleJwks(request, response);
    }
  });
  const base = await listen(server, 0, 'test JWKS');
  return {
    jwksUrl: `${base}/.well-known/jwks.json`,
    get fetches() {
      return fetches;
    },
    get mode() {
      return state.mode;
    },
    set mode(mode) {
      state.mode = mode;
    },
    close: () => close(server),
  };
}

let issuer: DevTokenIssuer;
let jwksServer: JwksServer;

beforeAll(async () => {
  issuer = createDevTokenIssuer({
    store: new MemoryStateStore(),
    issuer: ISSUER,
    audience: AUDIENCE,
    now: () => NOW,
  });
  jwksServer = await startJwksServer(issuer);
});

afterAll(async () => {
  await jwksServer.close();
});

afterEach(() => {
  jwksServer.mode = 'ok';
  vi.useRealTimers();
});

function config(overrides: Record<string, unknown> = {}, jwksUrl = jwksServer.jwksUrl): AuthConfig {
  return authSchema.parse({ jwt: { issuer: ISSUER, audience: AUDIENCE, jwksUrl }, ...overrides });
}

function authenticator(overrides: Partial<AuthenticatorOptions> = {}) {
  return createAuthenticator({ config: config(), now: () => NOW, ...overrides });
}

function bearer(token: string): Credentials {
  return { authorization: `Bearer ${token}` };
}

/** Asserts a refusal: its reason, code, status, challenge, and that the message never holds `secret`. */
async function expectRefusal(
  attempt: Promise<unknown>,
  reason: AuthFailureReason,
  secret?: string,
): Promise<AuthError> {
  const error = await attempt.then(
    () => {
      throw new Error(`Expected a refusal (${reason}), but the caller was authenticated.`);
    },
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(AuthError);
  const authError = error as AuthError;
  expect({ code: authError.code, reason: authError.reason }).toEqual({ code: 'ERR_UNAUTHENTICATED', reason });
  expect(authError.message).toMatch(/^Expected /);
  if (authError.status === 401 && reason !== 'missing-credentials') {
    const kind =
      reason === 'ambiguous-credentials' || reason === 'unsupported-credentials'
        ? 'invalid_request'
        : 'invalid_token';
    expect(authError.wwwAuthenticate).toMatch(
      new RegExp(
        `^Bearer realm="signet", error="${kind}", error_description="[\\x20\\x21\\x23-\\x5b\\x5d-\\x7e]+"$`,
      ),
    );
  }
  if (secret !== undefined) {
    expect(authError.message).not.toContain(secret);
    expect(authError.wwwAuthenticate).not.toContain(secret);
    // The signature part alone is the part that must never travel.
    const signature = secret.split('.')[2];
    if (signature) expect(authError.message).not.toContain(signature);
  }
  return authError;
}

function base64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function validClaims() {
  return { iss: ISSUER, aud: AUDIENCE, sub: 'alice', iat: NOW, exp: NOW + 3600 };
}

describe('bearer JWTs verified against the issuer JWKS over HTTP', () => {
  it('accepts a token from the issuer and returns its subject and frozen claims', async () => {
    const token = await issuer.issue({
      sub: 'alice',
      scope: ['videos:read', 'users:self'],
      claims: { group: ['a'] },
    });
    const principal = await authenticator().authenticate(bearer(token));
    expect(principal.kind).toBe('jwt');
    expect(principal.subject).toBe('alice');
    expect(principal.apiKeyId).toBeUndefined();
    expect(principal.claims).toMatchObject({
      iss: ISSUER,
      aud: AUDIENCE,
      sub: 'alice',
      scope: 'videos:read users:self',
      group: ['a'],
    });
    expect(Object.isFrozen(principal)).toBe(true);
    expect(Object.isFrozen(principal.claims)).toBe(true);
    expect(Object.isFrozen(principal.claims.group)).toBe(true);
  });

  it('fetches the key set once and then serves it from the cache', async () => {
    const auth = authenticator();
    const before = jwksServer.fetches;
    for (let i = 0; i < 5; i += 1) await auth.authenticate(bearer(await issuer.issue({ sub: `user-${i}` })));
    expect(jwksServer.fetches - before).toBe(1);
  });

  it('accepts the scheme name in any case, as RFC 7235 makes it case-insensitive', async () => {
    const token = await issuer.issue({ sub: 'alice' });
    await expect(authenticator().authenticate({ authorization: `bearer ${token}` })).resolves.toMatchObject({
      subject: 'alice',
    });
  });

  it('accepts an audience list that contains the token audience', async () => {
    const token = await issuer.issue({ sub: 'alice' });
    const auth = createAuthenticator({
      config: authSchema.parse({
        jwt: { issuer: ISSUER, audience: ['other', AUDIENCE], jwksUrl: jwksServer.jwksUrl },
      }),
      now: () => NOW,
    });
    await expect(auth.authenticate(bearer(token))).resolves.toMatchObject({ subject: 'alice' });
  });

  it('picks up a key the issuer rotated to, once the cooldown since the last fetch has passed', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const start = Date.now();
    // The default key set (jose createRemoteJWKSet): no `jwks` option.
    const auth = authenticator();
    const oldToken = await issuer.issue({ sub: 'before-rotation' });
    await auth.authenticate(bearer(oldToken));
    const fetchesAfterFirst = jwksServer.fetches;

    const oldKid = issuer.currentKeyId();
    const newKid = issuer.rotate();
    expect(newKid).not.toBe(oldKid);
    const newToken = await issuer.issue({ sub: 'after-rotation' });

    // Within jose's 30 s cooldown an unknown kid does not trigger a refetch (no fetch storm from
    // tokens with made-up kids): the token is refused for now.
    await expectRefusal(auth.authenticate(bearer(newToken)), 'unknown-signing-key', newToken);
    expect(jwksServer.fetches).toBe(fetchesAfterFirst);

    vi.setSystemTime(start + 31_000);
    const principal = await auth.authenticate(bearer(newToken));
    expect(principal.subject).toBe('after-rotation');
    expect(jwksServer.fetches).toBe(fetchesAfterFirst + 1);
    // The previous key stays published, so tokens issued before the rotation keep working.
    await expect(auth.authenticate(bearer(oldToken))).resolves.toMatchObject({ subject: 'before-rotation' });
    expect(jwksServer.fetches).toBe(fetchesAfterFirst + 1);
  });
});

describe('bearer JWT refusals', () => {
  it('refuses an expired token, and accepts one expired within the clock tolerance', async () => {
    const token = await issuer.issue({ sub: 'alice', expiresIn: 60 });
    await expect(
      authenticator({ now: () => NOW + 60 + 29 }).authenticate(bearer(token)),
    ).resolves.toMatchObject({
      subject: 'alice',
    });
    const error = await expectRefusal(
      authenticator({ now: () => NOW + 60 + 30 }).authenticate(bearer(token)),
      'token-expired',
      token,
    );
    expect(error.message).toContain(new Date((NOW + 60) * 1000).toISOString());
    expect(error.wwwAuthenticate).toBe(
      'Bearer realm="signet", error="invalid_token", error_description="The token has expired"',
    );
    expect(error.status).toBe(401);
    expect(error.cause).toBeInstanceOf(Error);
  });

  it('refuses a token that is not valid yet', async () => {
    const token = await issuer.issue({ sub: 'alice', claims: { nbf: NOW + 600 } });
    const error = await expectRefusal(
      authenticator().authenticate(bearer(token)),
      'token-not-yet-valid',
      token,
    );
    expect(error.message).toContain(new Date((NOW + 600) * 1000).toISOString());
  });

  it('refuses a token from another issuer, saying which issuer was expected', async () => {
    const token = await issuer.issue({ sub: 'alice', claims: { iss: 'https://evil.example' } });
    const error = await expectRefusal(authenticator().authenticate(bearer(token)), 'wrong-issuer', token);
    expect(error.message).toBe(`Expected a token issued by "${ISSUER}"; got iss "https://evil.example".`);
  });

  it('refuses a token without an issuer', async () => {
    const token = await issuer.issue({ sub: 'alice', claims: { iss: undefined } });
    const error = await expectRefusal(authenticator().authenticate(bearer(token)), 'wrong-issuer', token);
    expect(error.message).toContain('got iss none');
  });

  it('refuses a token for another audience', async () => {
    const token = await issuer.issue({ sub: 'alice', claims: { aud: ['billing', 'crm'] } });
    const error = await expectRefusal(authenticator().authenticate(bearer(token)), 'wrong-audience', token);
    expect(error.message).toBe(`Expected a token for audience "${AUDIENCE}"; got aud ["billing","crm"].`);
  });

  it('refuses a token without a non-empty string sub', async () => {
    for (const sub of [undefined, '', 42]) {
      const token = await issuer.issue({ sub: 'x', claims: { sub } });
      await expectRefusal(authenticator().authenticate(bearer(token)), 'missing-subject', token);
    }
  });

  it('refuses a token without exp, which would never expire', async () => {
    const token = await issuer.issue({ sub: 'alice', claims: { exp: undefined } });
    const error = await expectRefusal(authenticator().authenticate(bearer(token)), 'malformed-token', token);
    expect(error.message).toContain('`exp`');
  });

  it('refuses a token whose exp is not a number', async () => {
    const token = await issuer.issue({ sub: 'alice', claims: { exp: 'tomorrow' } });
    await expectRefusal(authenticator().authenticate(bearer(token)), 'malformed-token', token);
  });

  it('refuses alg "none" (an unsigned token)', async () => {
    const token = `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url(validClaims())}.`;
    const error = await expectRefusal(
      authenticator().authenticate(bearer(token)),
      'algorithm-not-allowed',
      token,
    );
    expect(error.message).toBe('Expected a token signed with one of RS256, ES256; got alg "none".');
  });

  it('refuses HS256 tokens, including one keyed with the public JWK (the key confusion attack)', async () => {
    const publicJwk = JSON.stringify(issuer.jwks().keys[0]);
    const signingInput = `${base64url({ alg: 'HS256', typ: 'JWT', kid: issuer.currentKeyId() })}.${base64url(validClaims())}`;
    const token = `${signingInput}.${createHmac('sha256', publicJwk).update(signingInput).digest('base64url')}`;
    await expectRefusal(authenticator().authenticate(bearer(token)), 'algorithm-not-allowed', token);
  });

  it('refuses none and HMAC even when a config that bypassed the schema lists them', async () => {
    const unsafe = config();
    (unsafe.jwt as { algorithms: string[] }).algorithms = ['none', 'HS256', 'ES256'];
    const auth = createAuthenticator({ config: unsafe, now: () => NOW });
    const signingInput = `${base64url({ alg: 'HS256', typ: 'JWT' })}.${base64url(validClaims())}`;
    const hs256 = `${signingInput}.${createHmac('sha256', 'secret').update(signingInput).digest('base64url')}`;
    const none = `${base64url({ alg: 'none' })}.${base64url(validClaims())}.`;
    await expectRefusal(auth.authenticate(bearer(hs256)), 'algorithm-not-allowed', hs256);
    await expectRefusal(auth.authenticate(bearer(none)), 'algorithm-not-allowed', none);
    // And the allowed algorithm still works.
    await expect(auth.authenticate(bearer(await issuer.issue({ sub: 'alice' })))).resolves.toMatchObject({
      subject: 'alice',
    });
  });

  it('fails at start when a config allows nothing but none and HMAC', () => {
    const unsafe = config();
    (unsafe.jwt as { algorithms: string[] }).algorithms = ['none', 'HS512'];
    expect(() => createAuthenticator({ config: unsafe })).toThrow(/asymmetric/);
  });

  it('refuses an algorithm outside the configured allow-list', async () => {
    const { privateKey } = await generateKeyPair('ES384');
    const token = await new SignJWT(validClaims())
      .setProtectedHeader({ alg: 'ES384', kid: 'k' })
      .sign(privateKey);
    await expectRefusal(authenticator().authenticate(bearer(token)), 'algorithm-not-allowed', token);
  });

  it('refuses a token signed by a key the issuer does not publish', async () => {
    const { privateKey } = await generateKeyPair('RS256');
    const token = await new SignJWT(validClaims())
      .setProtectedHeader({ alg: 'RS256', kid: 'stranger' })
      .sign(privateKey);
    const error = await expectRefusal(
      authenticator().authenticate(bearer(token)),
      'unknown-signing-key',
      token,
    );
    expect(error.message).toContain('kid "stranger"');
    expect(error.message).toContain(jwksServer.jwksUrl);
  });

  it("refuses a token that names the issuer's kid but is signed by another key", async () => {
    const { privateKey } = await generateKeyPair('ES256');
    const token = await new SignJWT(validClaims())
      .setProtectedHeader({ alg: 'ES256', kid: issuer.currentKeyId() })
      .sign(privateKey);
    await expectRefusal(authenticator().authenticate(bearer(token)), 'invalid-signature', token);
  });

  it('refuses a token whose claims were changed after signing', async () => {
    const token = await issuer.issue({ sub: 'alice' });
    const [header, , signature] = token.split('.');
    const forged = `${header}.${base64url({ ...validClaims(), sub: 'admin' })}.${signature}`;
    await expectRefusal(authenticator().authenticate(bearer(forged)), 'invalid-signature', forged);
  });

  it('refuses tokens that are not compact JWTs, showing at most their first characters', async () => {
    const realToken = await issuer.issue({ sub: 'alice' });
    const cases = [
      'abcdefghijklmnop',
      'a.b',
      '!!!.???.###',
      `${base64url('a string header')}.${base64url(validClaims())}.c2ln`,
      `${realToken}.extra`,
    ];
    for (const token of cases) {
      const error = await expectRefusal(
        authenticator().authenticate(bearer(token)),
        'malformed-token',
        token,
      );
      expect(error.wwwAuthenticate).toBe(
        'Bearer realm="signet", error="invalid_token", error_description="The token is malformed"',
      );
    }
  });

  it('refuses a correctly signed token whose claims set is not a JSON object', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const jwks = createLocalJWKSet({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k1' }] });
    for (const payload of ['not json', '["an","array"]']) {
      const token = await new CompactSign(new TextEncoder().encode(payload))
        .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
        .sign(privateKey);
      await expectRefusal(authenticator({ jwks }).authenticate(bearer(token)), 'malformed-token', token);
    }
  });

  it('refuses a Bearer header without a token, and other schemes as unsupported', async () => {
    await expectRefusal(authenticator().authenticate({ authorization: 'Bearer' }), 'malformed-token');
    await expectRefusal(authenticator().authenticate({ authorization: 'Bearer  a b' }), 'malformed-token');
    const basic = Buffer.from('user:hunter2').toString('base64');
    const error = await expectRefusal(
      authenticator().authenticate({ authorization: `Basic ${basic}` }),
      'unsupported-credentials',
      basic,
    );
    expect(error.message).toBe('Expected Authorization: Bearer <JWT>; got the Basic scheme.');
  });

  it('never puts the token in any refusal message', async () => {
    const token = await issuer.issue({ sub: 'alice', claims: { aud: 'someone-else' } });
    const error = await expectRefusal(authenticator().authenticate(bearer(token)), 'wrong-audience', token);
    expect(String(error)).not.toContain(token);
    expect(error.stack ?? '').not.toContain(token);
  });
});

describe('an issuer key set that cannot be fetched', () => {
  it('answers jwks-unavailable with status 503 when the issuer answers 500', async () => {
    jwksServer.mode = 'error';
    const token = await issuer.issue({ sub: 'alice' });
    const error = await expectRefusal(authenticator().authenticate(bearer(token)), 'jwks-unavailable', token);
    expect(error.status).toBe(503);
    expect(error.wwwAuthenticate).toBe('Bearer realm="signet"');
    expect(error.message).toContain(jwksServer.jwksUrl);
    expect(error.cause).toBeInstanceOf(Error);
  });

  it('answers jwks-unavailable when the key set is not JSON', async () => {
    jwksServer.mode = 'garbage';
    const token = await issuer.issue({ sub: 'alice' });
    const error = await expectRefusal(authenticator().authenticate(bearer(token)), 'jwks-unavailable', token);
    expect(error.status).toBe(503);
  });

  it('answers jwks-unavailable when nothing listens at the JWKS URL', async () => {
    const server = createServer();
    const base = await listen(server, 0, 'closed JWKS');
    await close(server);
    const token = await issuer.issue({ sub: 'alice' });
    const auth = createAuthenticator({ config: config({}, `${base}/.well-known/jwks.json`), now: () => NOW });
    const error = await expectRefusal(auth.authenticate(bearer(token)), 'jwks-unavailable', token);
    expect(error.status).toBe(503);
  });

  it('recovers once the issuer answers again', async () => {
    jwksServer.mode = 'error';
    const auth = authenticator();
    const token = await issuer.issue({ sub: 'alice' });
    await expectRefusal(auth.authenticate(bearer(token)), 'jwks-unavailable', token);
    jwksServer.mode = 'ok';
    await expect(auth.authenticate(bearer(token))).resolves.toMatchObject({ subject: 'alice' });
  });
});

describe('a key set with several keys that fit a token without kid', () => {
  async function twoKeySet(): Promise<{ jwks: JWTVerifyGetKey; sign: (index: 0 | 1) => Promise<string> }> {
    const pairs = await Promise.all([generateKeyPair('ES256'), generateKeyPair('ES256')]);
    const keys = await Promise.all(pairs.map((pair) => exportJWK(pair.publicKey)));
    const jwks = createLocalJWKSet({ keys });
    const sign = (index: 0 | 1) =>
      new SignJWT(validClaims()).setProtectedHeader({ alg: 'ES256' }).sign(pairs[index]!.privateKey);
    return { jwks, sign };
  }

  it('tries each candidate key and accepts the one that verifies', async () => {
    const { jwks, sign } = await twoKeySet();
    const auth = authenticator({ jwks });
    await expect(auth.authenticate(bearer(await sign(1)))).resolves.toMatchObject({ subject: 'alice' });
    await expect(auth.authenticate(bearer(await sign(0)))).resolves.toMatchObject({ subject: 'alice' });
  });

  it('refuses with invalid-signature when no candidate verifies', async () => {
    const { jwks } = await twoKeySet();
    const { privateKey } = await generateKeyPair('ES256');
    const token = await new SignJWT(validClaims()).setProtectedHeader({ alg: 'ES256' }).sign(privateKey);
    await expectRefusal(authenticator({ jwks }).authenticate(bearer(token)), 'invalid-signature', token);
  });

  it('reports a claim failure found with the right key instead of trying the others', async () => {
    const { jwks, sign } = await twoKeySet();
    const token = await sign(1);
    await expectRefusal(
      authenticator({ jwks, now: () => NOW + 7200 }).authenticate(bearer(token)),
      'token-expired',
      token,
    );
  });
});

describe('API keys', () => {
  const mobileKey = 'sk_live_mobile_0123456789abcdef';
  const partnerKey = 'sk_live_partner_fedcba9876543210';
  const records: ApiKeyRecord[] = [
    { id: 'mobile-app', sha256: hashApiKey(mobileKey) },
    { id: 'partner', sha256: hashApiKey(partnerKey) },
  ];
  const source: ApiKeySource = { load: async () => records };
  const withKeys = (apiKeys: ApiKeySource = source) =>
    createAuthenticator({
      config: config({ apiKeys: { secretId: 'signet/api-keys' } }),
      apiKeys,
      now: () => NOW,
    });

  it('authenticates a known key as api-key:<id>', async () => {
    const principal = await withKeys().authenticate({ apiKey: partnerKey });
    expect(principal).toEqual({
      kind: 'api-key',
      subject: 'api-key:partner',
      claims: {},
      apiKeyId: 'partner',
    });
    expect(Object.isFrozen(principal.claims)).toBe(true);
  });

  it('refuses an unknown key without echoing any of it', async () => {
    for (const key of ['sk_live_mobile_0123456789abcdeX', 'short-key', mobileKey.toUpperCase()]) {
      const error = await expectRefusal(withKeys().authenticate({ apiKey: key }), 'invalid-api-key', key);
      expect(error.message).not.toContain(key.slice(0, 4));
    }
  });

  it('refuses a key whose hash is another key reversed (only exact digests match)', async () => {
    const reversed: ApiKeySource = {
      load: async () => [{ id: 'x', sha256: hashApiKey(mobileKey).split('').reverse().join('') }],
    };
    await expectRefusal(withKeys(reversed).authenticate({ apiKey: mobileKey }), 'invalid-api-key', mobileKey);
  });

  it('answers api-keys-unavailable (503) when the key list cannot be loaded', async () => {
    const failing: ApiKeySource = {
      load: async () => {
        throw new Error('Secrets Manager is down');
      },
    };
    const error = await expectRefusal(
      withKeys(failing).authenticate({ apiKey: mobileKey }),
      'api-keys-unavailable',
    );
    expect(error.status).toBe(503);
    expect(error.wwwAuthenticate).toBe('Bearer realm="signet"');
    expect((error.cause as Error).message).toBe('Secrets Manager is down');
  });

  it('refuses both a bearer token and an API key as ambiguous', async () => {
    const token = await issuer.issue({ sub: 'alice' });
    const error = await expectRefusal(
      withKeys().authenticate({ authorization: `Bearer ${token}`, apiKey: mobileKey }),
      'ambiguous-credentials',
      token,
    );
    expect(error.message).not.toContain(mobileKey);
    expect(error.wwwAuthenticate).toBe(
      'Bearer realm="signet", error="invalid_request", error_description="Present either a bearer token or an API key, not both"',
    );
  });

  it('refuses an API key when none are configured', async () => {
    await expectRefusal(
      authenticator().authenticate({ apiKey: mobileKey }),
      'unsupported-credentials',
      mobileKey,
    );
  });

  it('fails at start when the config names an API key secret but no source is given', () => {
    expect(() =>
      createAuthenticator({ config: config({ apiKeys: { secretId: 'signet/api-keys' } }) }),
    ).toThrow(/apiKeys/);
  });

  it('treats blank headers as absent', async () => {
    await expect(withKeys().authenticate({ authorization: '  ', apiKey: mobileKey })).resolves.toMatchObject({
      apiKeyId: 'mobile-app',
    });
    await expectRefusal(withKeys().authenticate({ authorization: '', apiKey: '' }), 'missing-credentials');
  });
});

describe('missing and unsupported credentials', () => {
  it('refuses a request with no credentials with the bare challenge', async () => {
    const error = await expectRefusal(authenticator().authenticate({}), 'missing-credentials');
    expect(error.status).toBe(401);
    expect(error.wwwAuthenticate).toBe('Bearer realm="signet"');
    expect(error.message).toBe('Expected an Authorization: Bearer header; got neither.');
  });

  it('refuses a bearer token when no JWT issuer is configured', async () => {
    const auth = createAuthenticator({
      config: authSchema.parse({ apiKeys: { secretId: 's' } }),
      apiKeys: { load: async () => [] },
    });
    const token = await issuer.issue({ sub: 'alice' });
    await expectRefusal(auth.authenticate(bearer(token)), 'unsupported-credentials', token);
  });
});

describe('claims from an API Gateway JWT authorizer', () => {
  const gatewayClaims = {
    sub: 'gw-user',
    iss: ISSUER,
    aud: AUDIENCE,
    exp: String(NOW + 60),
    scope: 'videos:read users:self',
    'cognito:groups': '[admins editors]',
    empty: '[]',
  };
  const trusting = () =>
    createAuthenticator({
      config: config({ trustGatewayClaims: true, gatewayArrayClaims: ['cognito:groups', 'empty'] }),
      now: () => NOW,
    });

  it('trusts them when the mode is on, splitting only the configured array claims', async () => {
    const principal = await trusting().authenticate({
      gatewayClaims: { ...gatewayClaims, nickname: '[admins]', team: 'Billing admins' },
    });
    expect(principal.kind).toBe('gateway');
    expect(principal.subject).toBe('gw-user');
    expect(principal.claims).toEqual({
      ...gatewayClaims,
      'cognito:groups': ['admins', 'editors'],
      empty: [],
      // Not listed: a user-editable claim written to look like a list stays a string.
      nickname: '[admins]',
      team: 'Billing admins',
    });
    expect(Object.isFrozen(principal.claims)).toBe(true);
  });

  it("still checks the issuer and audience against Signet's own config", async () => {
    await expectRefusal(
      trusting().authenticate({ gatewayClaims: { ...gatewayClaims, iss: 'https://other.example' } }),
      'wrong-issuer',
    );
    // API Gateway accepts a token whose client_id matches even when its aud names another API.
    await expectRefusal(
      trusting().authenticate({
        gatewayClaims: { ...gatewayClaims, aud: 'another-api', client_id: AUDIENCE },
      }),
      'wrong-audience',
    );
    const { aud: _aud, ...withoutAud } = gatewayClaims;
    await expect(
      trusting().authenticate({ gatewayClaims: { ...withoutAud, client_id: AUDIENCE } }),
    ).resolves.toMatchObject({
      kind: 'gateway',
    });
    await expectRefusal(
      trusting().authenticate({ gatewayClaims: { ...withoutAud, client_id: 'someone-else' } }),
      'wrong-audience',
    );
  });

  it('takes them before a bearer token (API Gateway has already verified that token)', async () => {
    const principal = await trusting().authenticate({
      gatewayClaims,
      authorization: 'Bearer not-verified-again',
    });
    expect(principal.kind).toBe('gateway');
  });

  it('still requires sub', async () => {
    await expectRefusal(
      trusting().authenticate({ gatewayClaims: { ...gatewayClaims, sub: '' } }),
      'missing-subject',
    );
    const { sub: _sub, ...withoutSub } = gatewayClaims;
    await expectRefusal(trusting().authenticate({ gatewayClaims: withoutSub }), 'missing-subject');
  });

  it('falls back to the bearer token when the request carries no gateway claims', async () => {
    const token = await issuer.issue({ sub: 'alice' });
    await expect(trusting().authenticate(bearer(token))).resolves.toMatchObject({
      kind: 'jwt',
      subject: 'alice',
    });
  });

  it('ignores them when the mode is off', async () => {
    await expectRefusal(authenticator().authenticate({ gatewayClaims }), 'missing-credentials');
    const token = await issuer.issue({ sub: 'alice' });
    const principal = await authenticator().authenticate({ gatewayClaims, ...bearer(token) });
    expect(principal).toMatchObject({ kind: 'jwt', subject: 'alice' });
  });
});

describe('verified token cache', () => {
  function countingAuthenticator(clock: { now: number }) {
    const local = createLocalJWKSet(issuer.jwks());
    let resolutions = 0;
    const jwks: JWTVerifyGetKey = (header, token) => {
      resolutions += 1;
      return local(header, token);
    };
    const config = authSchema.parse({
      jwt: {
        issuer: ISSUER,
        audience: AUDIENCE,
        jwksUrl: 'https://unused.example/jwks.json',
        algorithms: ['ES256'],
        clockTolerance: 0,
      },
    });
    const authenticator = createAuthenticator({ config, jwks, now: () => clock.now });
    return { authenticator, resolutions: () => resolutions };
  }

  it('verifies a token once and serves the same token from memory afterwards', async () => {
    const clock = { now: NOW };
    const { authenticator, resolutions } = countingAuthenticator(clock);
    const token = await issuer.issue({ sub: 'alice', scope: ['media:read'], expiresIn: 600 });
    for (let i = 0; i < 5; i++) {
      expect((await authenticator.authenticate({ authorization: `Bearer ${token}` })).subject).toBe('alice');
    }
    expect(resolutions()).toBe(1);
  });

  it('never serves a token past its exp, and never a token whose bytes differ', async () => {
    const clock = { now: NOW };
    const { authenticator } = countingAuthenticator(clock);
    const token = await issuer.issue({ sub: 'alice', expiresIn: 60 });
    await authenticator.authenticate({ authorization: `Bearer ${token}` });
    const forged = `${token.slice(0, -2)}${token.endsWith('AA') ? 'BB' : 'AA'}`;
    await expect(authenticator.authenticate({ authorization: `Bearer ${forged}` })).rejects.toBeInstanceOf(
      AuthError,
    );
    clock.now = NOW + 61;
    await expect(authenticator.authenticate({ authorization: `Bearer ${token}` })).rejects.toMatchObject({
      reason: 'token-expired',
    });
  });
});
