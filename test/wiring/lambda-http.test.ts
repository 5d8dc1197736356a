// lib/wiring/lambda-http.ts answers every event exactly as hono/aws-lambda's handler did: the same
// app behind both adapters, the same events, the same results.
import { generateKeyPairSync } from 'node:crypto';
import { Hono } from 'hono';
import { handle } from 'hono/aws-lambda';
import { describe, expect, it } from 'vitest';
import { hashApiKey } from '../../lib/auth/api-keys.ts';
import { createAuthenticator } from '../../lib/auth/authenticator.ts';
import { parseConfig } from '../../lib/config/index.ts';
import { createApp } from '../../lib/http/app.ts';
import { KeyRingCache } from '../../lib/keys/cache.ts';
import { MemoryKeyRingStore } from '../../lib/keys/memory-store.ts';
import { fingerprintOf } from '../../lib/signing/index.ts';
import { MemoryMetrics } from '../../lib/telemetry/memory-metrics.ts';
import { silentLog } from '../../lib/telemetry/ports.ts';
import { lambdaHandler } from '../../lib/wiring/lambda-http.ts';
import { httpApiEvent, lambdaContext } from '../support/lambda.ts';

const API_KEY = 'adapter-test-api-key-0123456789';
const NOW = Date.parse('2026-06-01T00:00:00Z');

async function signetApp() {
  // RSA: its signatures are deterministic, so both adapters' answers can be compared byte for byte.
  const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const store = new MemoryKeyRingStore();
  await store.save(
    {
      schema: 'signet.keyring/1',
      keyGroupId: '00000000-0000-4000-8000-000000000000',
      keys: [
        {
          id: 'K2JCJMDEHXQW5F',
          algorithm: 'rsa-2048',
          hash: 'sha1',
          privateKey: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
          fingerprint: fingerprintOf(pair.publicKey),
          state: 'active',
          createdAt: '2026-01-01T00:00:00Z',
        },
      ],
      history: [],
    } as never,
    undefined,
    'test',
  );
  const config = parseConfig({
    auth: { apiKeys: { secretId: 'unused' } },
    profiles: {
      media: {
        domains: ['media.example.com'],
        keyRing: { secretId: 'unused' },
        cors: { origins: ['https://app.example.com'] },
        grants: [{ when: { apiKeys: ['tester'] }, resources: ['https://media.example.com/*'] }],
      },
    },
  });
  return createApp({
    config,
    authenticator: createAuthenticator({
      config: config.auth,
      apiKeys: { load: async () => [{ id: 'tester', sha256: hashApiKey(API_KEY) }] },
      now: () => NOW / 1000,
    }),
    rings: new Map([
      ['media', new KeyRingCache({ store, ttlSeconds: 300, maxStaleSeconds: 3600, now: () => NOW })],
    ]),
    log: silentLog,
    metrics: new MemoryMetrics(),
    now: () => NOW,
  });
}

const json = { 'content-type': 'application/json', 'x-api-key': API_KEY };
const events = () => {
  const base64 = httpApiEvent({
    method: 'POST',
    path: '/v1/signed-urls',
    headers: json,
    body: Buffer.from(JSON.stringify({ url: 'https://media.example.com/b.mp4' })).toString('base64'),
  });
  base64.isBase64Encoded = true;
  const withCookies = httpApiEvent({ method: 'GET', path: '/v1/health' });
  withCookies.cookies = ['a=1', 'b=2'];
  const withQuery = httpApiEvent({ method: 'GET', path: '/v1/health' });
  withQuery.rawQueryString = 'x=1&y=%C3%A9';
  return {
    'signed URL': httpApiEvent({
      method: 'POST',
      path: '/v1/signed-urls',
      headers: json,
      body: JSON.stringify({ url: 'https://media.example.com/a.mp4', expiresIn: 300 }),
    }),
    'base64 body': base64,
    'signed cookies (Set-Cookie lines)': httpApiEvent({
      method: 'POST',
      path: '/v1/signed-cookies',
      headers: { ...json, origin: 'https://app.example.com' },
      body: JSON.stringify({ resource: 'https://media.example.com/videos/*', expiresIn: 300 }),
    }),
    'CORS preflight (204, no body)': httpApiEvent({
      method: 'OPTIONS',
      path: '/v1/signed-urls',
      headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST' },
    }),
    'problem (401)': httpApiEvent({
      method: 'POST',
      path: '/v1/signed-urls',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    }),
    'problem (400, bad JSON)': httpApiEvent({
      method: 'POST',
      path: '/v1/signed-urls',
      headers: json,
      body: '{',
    }),
    'not found': httpApiEvent({ method: 'GET', path: '/nowhere' }),
    'HEAD of health': httpApiEvent({ method: 'HEAD', path: '/v1/health' }),
    'non-ASCII header value': httpApiEvent({
      method: 'GET',
      path: '/v1/health',
      headers: { 'x-note': 'café' },
    }),
    'cookies in the event': withCookies,
    'query string': withQuery,
    'OpenAPI document': httpApiEvent({ method: 'GET', path: '/openapi.json' }),
  };
};

describe('lambdaHandler (payload 2.0 events to the Hono app)', () => {
  it('answers each event exactly as hono/aws-lambda does', async () => {
    const app = await signetApp();
    const hono = handle(app);
    const cases = Object.entries(events()).map(([name, event]) => ({
      name,
      event,
      context: lambdaContext(),
    }));
    // hono/aws-lambda's answers first, before lambdaHandler replaces the global Response.
    const expected: unknown[] = [];
    for (const { event, context } of cases)
      expected.push(await hono(structuredClone(event) as never, context));
    const ours = lambdaHandler(app);
    for (const [index, { name, event, context }] of cases.entries()) {
      expect(await ours(structuredClone(event), context), name).toEqual(expected[index]);
    }
  });

  it('passes the request line, headers, cookies and body to the app as a web Request would', async () => {
    const app = new Hono<{ Bindings: { event: unknown } }>();
    app.post('/echo', async (c) =>
      c.json({
        url: c.req.url,
        method: c.req.method,
        query: c.req.query('q'),
        cookie: c.req.header('cookie'),
        note: c.req.header('x-note'),
        body: await c.req.text(),
        contentLength: c.req.header('content-length'),
      }),
    );
    app.get('/binary', (c) => {
      c.header('content-type', 'application/octet-stream');
      return c.body(new Uint8Array([0, 1, 2, 255]));
    });
    const event = httpApiEvent({
      method: 'POST',
      path: '/echo',
      headers: { 'x-note': 'naïve' },
      body: 'héllo',
    });
    event.rawQueryString = 'q=1';
    event.cookies = ['a=1', 'b=2'];
    const ours = lambdaHandler(app);
    const hono = handle(app);
    const actual = await ours(structuredClone(event), lambdaContext());
    expect(actual).toEqual(await hono(structuredClone(event) as never, lambdaContext()));
    expect(JSON.parse(actual.body!)).toEqual({
      url: 'https://abc123.execute-api.us-east-1.amazonaws.com/echo?q=1',
      method: 'POST',
      query: '1',
      cookie: 'a=1; b=2',
      note: 'na%C3%AFve',
      body: 'héllo',
      contentLength: '6',
    });
    const binary = httpApiEvent({ method: 'GET', path: '/binary' });
    const answer = await ours(structuredClone(binary), lambdaContext());
    expect(answer).toEqual(await hono(structuredClone(binary) as never, lambdaContext()));
    expect(answer).toMatchObject({
      isBase64Encoded: true,
      body: Buffer.from([0, 1, 2, 255]).toString('base64'),
    });
  });
});

describe('the light Response', () => {
  it('keeps instanceof Response true of its own and of the runtime Responses', async () => {
    const runtimeResponse = Response.json({ a: 1 });
    lambdaHandler({ fetch: () => new Response('x') });
    const light = new Response('text', { status: 201, headers: { 'x-a': '1' } });
    expect(light).toBeInstanceOf(Response);
    expect(runtimeResponse).toBeInstanceOf(Response);
    expect(Response.json({ b: 2 })).toBeInstanceOf(Response);
    expect(light.status).toBe(201);
    expect(light.headers.get('x-a')).toBe('1');
    expect(await light.clone().text()).toBe('text');
    expect(await light.text()).toBe('text');
    expect(light.bodyUsed).toBe(true);
  });
});
