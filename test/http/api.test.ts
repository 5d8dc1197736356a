import { beforeAll, describe, expect, it } from 'vitest';
import { parseSigningKey, parseVerifyingKey, publicKeyPem, verifyRequest } from '../../lib/signing/index.ts';
import { AUDIENCE, testApp } from '../support/api.ts';
import { activeRing, ringKey } from '../support/rings.ts';

type TestApp = Awaited<ReturnType<typeof testApp>>;
let t: TestApp;
let reader: string;
const key = ringKey({ id: 'K2JCJMDEHXQW5F' });
const NOW_S = Math.floor(Date.UTC(2026, 10, 22, 12) / 1000);

beforeAll(async () => {
  t = await testApp({ rings: { media: activeRing(key), docs: activeRing() } });
  reader = await t.token('alice', ['media:read', 'media:user']);
});

function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  return t.app.request(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${reader}`, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

async function expectProblem(response: Response, status: number, type: string) {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toBe('application/problem+json');
  expect(response.headers.get('cache-control')).toBe('no-store');
  const body = (await response.json()) as Record<string, unknown>;
  expect(body).toMatchObject({ type: `/problems/${type}`, status });
  expect(typeof body.title).toBe('string');
  expect(typeof body.detail).toBe('string');
  return body;
}

const trusted = () =>
  new Map([[key.id!, parseVerifyingKey(publicKeyPem(parseSigningKey(key.privateKey!).publicKey))]]);

describe('POST /v1/signed-urls', () => {
  it('signs one URL with the active key; the URL verifies as CloudFront would', async () => {
    const response = await post('/v1/signed-urls', {
      url: 'https://media.example.com/videos/a b.mp4',
      expiresIn: 600,
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const body = (await response.json()) as {
      urls: { url: string; expires: number; expiresAt: string }[];
      expires: number;
      expiresAt: string;
      keyId: string;
      profile: string;
    };
    expect(body).toMatchObject({
      expires: NOW_S + 600,
      expiresAt: '2026-11-22T12:10:00Z',
      keyId: 'K2JCJMDEHXQW5F',
      profile: 'media',
    });
    expect(body.urls).toHaveLength(1);
    expect(body.urls[0]!.url).toMatch(
      /^https:\/\/media\.example\.com\/videos\/a%20b\.mp4\?Expires=\d+&Signature=[^&]+&Key-Pair-Id=K2JCJMDEHXQW5F&Hash-Algorithm=SHA256$/,
    );
    const verdict = verifyRequest({ url: body.urls[0]!.url, now: NOW_S + 1, trustedKeys: trusted() });
    expect(verdict.allowed).toBe(true);
    expect(t.metrics.total('SignaturesIssued', { profile: 'media', kind: 'url' })).toBeGreaterThanOrEqual(1);
  });

  it('signs a batch under a wildcard resource with one shared policy, and accepts expiresAt as ISO or epoch', async () => {
    const urls = ['https://media.example.com/videos/1.ts', 'https://media.example.com/videos/2.ts'];
    const iso = await post('/v1/signed-urls', {
      urls,
      resource: 'https://media.example.com/videos/*',
      expiresAt: '2026-11-22T12:30:00Z',
    });
    expect(iso.status).toBe(200);
    const body = (await iso.json()) as { urls: { url: string }[]; expires: number };
    expect(body.expires).toBe(NOW_S + 1800);
    const policies = body.urls.map((u) => new URL(u.url).searchParams.get('Policy'));
    expect(policies[0]).toBeTruthy();
    expect(policies[1]).toBe(policies[0]);
    const epoch = await post('/v1/signed-urls', { urls, expiresAt: NOW_S + 60 });
    expect(((await epoch.json()) as { expires: number }).expires).toBe(NOW_S + 60);
  });

  it('signs a custom policy for notBefore and ipAddress, which CloudFront then enforces', async () => {
    const response = await post('/v1/signed-urls', {
      url: 'https://media.example.com/videos/ip.mp4',
      expiresIn: 600,
      notBefore: '2026-11-22T12:05:00Z',
      ipAddress: '203.0.113.0/24',
    });
    expect(response.status).toBe(200);
    const url = ((await response.json()) as { urls: { url: string }[] }).urls[0]!.url;
    expect(url).toContain('?Policy=');
    const at = (now: number, clientIp: string) =>
      verifyRequest({ url, now, clientIp, trustedKeys: trusted() });
    expect(at(NOW_S + 301, '203.0.113.9').allowed).toBe(true);
    expect(at(NOW_S + 10, '203.0.113.9')).toMatchObject({ allowed: false, code: 'AccessDenied' });
    expect(at(NOW_S + 301, '198.51.100.7')).toMatchObject({
      allowed: false,
      reason: 'IP 198.51.100.7 not in 203.0.113.0/24',
    });
    const ipv6 = await expectProblem(
      await post('/v1/signed-urls', {
        url: 'https://media.example.com/videos/ip.mp4',
        ipAddress: '2001:db8::/32',
      }),
      400,
      'invalid-request',
    );
    expect(ipv6.code).toBe('ERR_IPV6_UNSUPPORTED');
  });

  it('refuses a batch of more than 100 URLs, saying the limit', async () => {
    const urls = Array.from({ length: 101 }, (_, i) => `https://media.example.com/videos/${i}.ts`);
    const body = await expectProblem(await post('/v1/signed-urls', { urls }), 400, 'invalid-request');
    expect(JSON.stringify(body.errors)).toContain('urls');
    expect(body.detail).toMatch(/100/);
    const hundred = await post('/v1/signed-urls', {
      urls: urls.slice(0, 100),
      resource: 'https://media.example.com/videos/*',
    });
    expect(hundred.status).toBe(200);
  });

  it('uses the profile default TTL when no expiry is given', async () => {
    const response = await post('/v1/signed-urls', { url: 'https://media.example.com/videos/x.mp4' });
    expect(((await response.json()) as { expires: number }).expires).toBe(NOW_S + 300);
  });

  it('fails a whole batch when one URL cannot be signed, listing each refused index', async () => {
    const body = await expectProblem(
      await post('/v1/signed-urls', {
        urls: [
          'https://media.example.com/videos/ok.mp4',
          'ftp://media.example.com/videos/x',
          'https://media.example.com/videos/*',
        ],
      }),
      400,
      'invalid-request',
    );
    expect(body.errors).toEqual([
      expect.objectContaining({ index: 1, code: 'ERR_UNSUPPORTED_SCHEME' }),
      expect.objectContaining({ index: 2, code: 'ERR_AMBIGUOUS_WILDCARD' }),
    ]);
    expect(body.detail).toContain('nothing was signed');
  });

  it('refuses expiry mistakes with the signing core code: milliseconds, the past', async () => {
    const ms = await expectProblem(
      await post('/v1/signed-urls', { url: 'https://media.example.com/videos/a', expiresAt: NOW_S * 1000 }),
      400,
      'invalid-request',
    );
    expect(ms.code).toBe('ERR_EXPIRY_IN_MILLISECONDS');
    const past = await expectProblem(
      await post('/v1/signed-urls', { url: 'https://media.example.com/videos/a', expiresAt: NOW_S - 10 }),
      400,
      'invalid-request',
    );
    expect(past.code).toBe('ERR_EXPIRY_IN_PAST');
  });

  it('answers 422 for a TTL over the grant ceiling and 403 for a resource outside every grant', async () => {
    const ttl = await expectProblem(
      await post('/v1/signed-urls', { url: 'https://media.example.com/videos/a', expiresIn: 7200 }),
      422,
      'ttl-exceeded',
    );
    expect(ttl.detail).toContain('3600');
    const denied = await expectProblem(
      await post('/v1/signed-urls', { url: 'https://media.example.com/admin/secret' }),
      403,
      'resource-not-granted',
    );
    expect(denied.code).toBe('ERR_RESOURCE_NOT_GRANTED');
    const other = await expectProblem(
      await post('/v1/signed-urls', { url: 'https://media.example.com/users/bob/x' }),
      403,
      'resource-not-granted',
    );
    expect(other.detail).toContain('users/bob');
    expect((await post('/v1/signed-urls', { url: 'https://media.example.com/users/alice/x' })).status).toBe(
      200,
    );
    expect(t.metrics.total('Denials', { reason: 'resource-not-granted' })).toBeGreaterThanOrEqual(2);
    expect(t.metrics.total('Denials', { reason: 'ttl-exceeded' })).toBeGreaterThanOrEqual(1);
  });

  it('answers 404 for an unknown profile and 403 for a profile the caller has no grant in', async () => {
    await expectProblem(
      await post('/v1/signed-urls', { profile: 'nope', url: 'https://media.example.com/videos/a' }),
      404,
      'unknown-profile',
    );
    await expectProblem(
      await post('/v1/signed-urls', { profile: 'docs', url: 'https://docs.example.com/a' }),
      403,
      'resource-not-granted',
    );
  });

  it('answers 401 with WWW-Authenticate without credentials or with a bad token, never echoing the token', async () => {
    const none = await post(
      '/v1/signed-urls',
      { url: 'https://media.example.com/videos/a' },
      { authorization: '' },
    );
    await expectProblem(none, 401, 'unauthenticated');
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer realm="signet"/);
    const forged = `${reader.slice(0, -4)}AAAA`;
    const bad = await post(
      '/v1/signed-urls',
      { url: 'https://media.example.com/videos/a' },
      { authorization: `Bearer ${forged}` },
    );
    const body = await expectProblem(bad, 401, 'unauthenticated');
    expect(bad.headers.get('www-authenticate')).toContain('error="invalid_token"');
    expect(JSON.stringify(body)).not.toContain(forged);
    const otherAudience = await t.issuer.issue({
      sub: 'mallory',
      scope: ['media:read'],
      claims: { aud: `${AUDIENCE}-other` },
    });
    await expectProblem(
      await post(
        '/v1/signed-urls',
        { url: 'https://media.example.com/videos/a' },
        { authorization: `Bearer ${otherAudience}` },
      ),
      401,
      'unauthenticated',
    );
  });

  it('answers 415 for a non-JSON body, 400 for malformed JSON or a bad shape, 413 for a huge body', async () => {
    await expectProblem(
      await post('/v1/signed-urls', 'url=x', { 'content-type': 'application/x-www-form-urlencoded' }),
      415,
      'unsupported-media-type',
    );
    const malformed = await expectProblem(await post('/v1/signed-urls', '{"url": '), 400, 'invalid-request');
    expect(malformed.detail).toContain('Expected a JSON body');
    const shape = await expectProblem(
      await post('/v1/signed-urls', { url: 'https://media.example.com/videos/a', urls: ['x'] }),
      400,
      'invalid-request',
    );
    expect(shape.detail).toContain('exactly one of `url` or `urls`');
    const unknown = await expectProblem(
      await post('/v1/signed-urls', { url: 'https://media.example.com/videos/a', expires: 5 }),
      400,
      'invalid-request',
    );
    expect(JSON.stringify(unknown.errors)).toContain('expires');
    const big = JSON.stringify({
      urls: Array.from({ length: 100 }, () => `https://media.example.com/videos/${'a'.repeat(12_000)}`),
    });
    await expectProblem(await post('/v1/signed-urls', big), 413, 'payload-too-large');
  });

  it('writes one audit line per issuance with who, what, expiry and key, and never the token or key material', async () => {
    const before = t.log.lines.length;
    await post('/v1/signed-urls', { url: 'https://media.example.com/videos/audit.mp4', expiresIn: 60 });
    const lines = t.log.lines.slice(before).filter((line) => line.fields.audit === true);
    expect(lines).toHaveLength(1);
    expect(lines[0]!.fields).toMatchObject({
      caller: 'alice',
      authKind: 'jwt',
      profile: 'media',
      resources: ['https://media.example.com/videos/audit.mp4'],
      expires: NOW_S + 60,
      keyId: 'K2JCJMDEHXQW5F',
    });
    expect(typeof lines[0]!.fields.requestId).toBe('string');
    expect(t.log.text()).not.toContain(reader);
    expect(t.log.text()).not.toContain('PRIVATE KEY');
  });
});

describe('POST /v1/signed-cookies', () => {
  it('answers Set-Cookie headers with Secure; HttpOnly and the profile attributes, and the same cookies in the body', async () => {
    const response = await post('/v1/signed-cookies', {
      resource: 'https://media.example.com/videos/*',
      expiresIn: 900,
    });
    expect(response.status).toBe(200);
    const setCookies = response.headers.getSetCookie();
    expect(setCookies.map((c) => c.split('=')[0])).toEqual([
      'CloudFront-Policy',
      'CloudFront-Signature',
      'CloudFront-Key-Pair-Id',
      'CloudFront-Hash-Algorithm',
    ]);
    for (const cookie of setCookies)
      expect(cookie).toMatch(/; Domain=example\.com; Path=\/; Secure; HttpOnly; SameSite=None$/);
    const body = (await response.json()) as {
      cookies: { name: string; value: string; secure: boolean }[];
      expiresAt: string;
      keyId: string;
    };
    expect(body.expiresAt).toBe('2026-11-22T12:15:00Z');
    expect(body.cookies.map((c) => `${c.name}=${c.value}`)).toEqual(setCookies.map((c) => c.split(';')[0]));
    const cookieHeader = body.cookies.map((c) => `${c.name}=${c.value}`).join('; ');
    const verdict = verifyRequest({
      url: 'https://media.example.com/videos/x/y.mp4',
      cookie: cookieHeader,
      now: NOW_S + 5,
      trustedKeys: trusted(),
    });
    expect(verdict).toMatchObject({ allowed: true, via: 'cookie' });
  });

  it('refuses a wildcard broader than the grant', async () => {
    await expectProblem(
      await post('/v1/signed-cookies', { resource: 'https://media.example.com/*' }),
      403,
      'resource-not-granted',
    );
  });
});

describe('GET /v1/health, /openapi.json, CORS and errors', () => {
  it('reports each profile without secrets', async () => {
    const response = await t.app.request('/v1/health');
    expect(response.status).toBe(200);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toEqual({
      status: 'ok',
      profiles: {
        media: { canSign: true, activeKeyId: 'K2JCJMDEHXQW5F', ringAgeSeconds: 0, stale: false },
        docs: { canSign: true, activeKeyId: 'K2JCJMDEHXQW5F', ringAgeSeconds: 0, stale: false },
      },
    });
    expect(JSON.stringify(body)).not.toContain('PRIVATE');
  });

  it('answers 503 keys-unavailable with Retry-After when a profile has no ring, and health says unavailable', async () => {
    const empty = await testApp({ rings: { media: undefined, docs: undefined } });
    const token = await empty.token('alice', ['media:read']);
    const response = await empty.app.request('/v1/signed-urls', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ url: 'https://media.example.com/videos/a' }),
    });
    await expectProblem(response, 503, 'keys-unavailable');
    expect(response.headers.get('retry-after')).toMatch(/^\d+$/);
    const health = await empty.app.request('/v1/health');
    expect(health.status).toBe(503);
    expect(((await health.json()) as { status: string }).status).toBe('unavailable');
  });

  it('serves an OpenAPI 3.1 document generated from the route schemas', async () => {
    const response = await t.app.request('/openapi.json');
    expect(response.status).toBe(200);
    const doc = (await response.json()) as {
      openapi: string;
      paths: Record<
        string,
        Record<
          string,
          { requestBody?: { content: Record<string, { schema: { properties: Record<string, unknown> } }> } }
        >
      >;
    };
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(['/v1/signed-urls', '/v1/signed-cookies', '/v1/health']);
    const props =
      doc.paths['/v1/signed-urls']!.post!.requestBody!.content['application/json']!.schema.properties;
    expect(Object.keys(props).sort()).toEqual([
      'expiresAt',
      'expiresIn',
      'ipAddress',
      'notBefore',
      'profile',
      'resource',
      'url',
      'urls',
    ]);
  });

  it('allows CORS preflight from any profile origin, and checks the real request against its own profile', async () => {
    const preflight = await t.app.request('/v1/signed-urls', {
      method: 'OPTIONS',
      headers: {
        origin: 'https://app.example.com',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect(preflight.headers.get('access-control-allow-credentials')).toBe('true');
    const stranger = await t.app.request('/v1/signed-urls', {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(stranger.headers.get('access-control-allow-origin')).toBeNull();
    await expectProblem(
      await post(
        '/v1/signed-urls',
        { url: 'https://media.example.com/videos/a' },
        { origin: 'https://docs-app.example.com' },
      ),
      403,
      'origin-not-allowed',
    );
    expect(
      (
        await post(
          '/v1/signed-urls',
          { url: 'https://media.example.com/videos/a' },
          { origin: 'https://app.example.com' },
        )
      ).status,
    ).toBe(200);
  });

  it('answers an unexpected failure with a 500 that leaks nothing, and logs it', async () => {
    const broken = await testApp();
    const app = (await import('../../lib/http/app.ts')).createApp({
      config: (await import('../support/api.ts')).testConfig(),
      authenticator: {
        authenticate: () =>
          Promise.reject(new TypeError('connection string postgres://admin:hunter2@db failed')),
      },
      rings: new Map(),
      log: broken.log,
      metrics: broken.metrics,
      now: Date.now,
    });
    const response = await app.request('/v1/signed-urls', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    const body = await expectProblem(response, 500, 'internal');
    expect(JSON.stringify(body)).not.toContain('hunter2');
    expect(JSON.stringify(body)).not.toContain('TypeError');
    expect(
      broken.log.lines.some((l) => l.level === 'error' && JSON.stringify(l.fields).includes('hunter2')),
    ).toBe(true);
  });

  it('answers 404 problem for an unknown path', async () => {
    await expectProblem(await t.app.request('/v2/nothing'), 404, 'not-found');
  });
});
