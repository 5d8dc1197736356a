import { createServer } from 'node:http';
import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { close, listen } from '../../infra/local/http.ts';
import { MemoryStateStore } from '../../infra/local/state.ts';
import { createDevTokenIssuer, type DevTokenIssuer } from '../../infra/local/token-issuer.ts';
import { serializeKeyRing } from '../../lib/keys/ring.ts';
import { parseSigningKey, parseVerifyingKey, publicKeyPem, verifyRequest } from '../../lib/signing/index.ts';
import { httpApiEvent, lambdaContext } from '../support/lambda.ts';
import { activeRing, ringKey } from '../support/rings.ts';
import { type SecretsManagerFixture, startFixture } from '../support/secrets-manager-fixture.ts';

type Handler = (
  event: unknown,
  context: unknown,
) => Promise<{ statusCode: number; headers?: Record<string, string>; cookies?: string[]; body: string }>;

let sandbox: SecretsManagerFixture;
let issuer: DevTokenIssuer;
let jwks: ReturnType<typeof createServer>;
let issuerUrl: string;
const key = ringKey({ id: 'K2JCJMDEHXQW5F' });

function configFor(trustGatewayClaims: boolean): string {
  return JSON.stringify({
    aws: { region: 'us-east-1', endpoints: { secretsManager: sandbox.url } },
    auth: {
      trustGatewayClaims,
      jwt: {
        issuer: issuerUrl,
        audience: 'signet-lambda',
        jwksUrl: `${issuerUrl}/.well-known/jwks.json`,
        algorithms: ['ES256'],
      },
    },
    profiles: {
      media: {
        domains: ['media.example.com'],
        keyRing: { secretId: 'signet/lambda' },
        grants: [{ when: { claims: { scope: 'media:read' } }, resources: ['https://media.example.com/*'] }],
      },
    },
  });
}

async function loadHandler(trustGatewayClaims: boolean): Promise<Handler> {
  vi.resetModules();
  vi.stubEnv('SIGNET_CONFIG', configFor(trustGatewayClaims));
  vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'SILENT');
  vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'true');
  vi.stubEnv('AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED', 'true');
  const module = (await import('../../functions/api.ts')) as { handler: Handler };
  return module.handler;
}

beforeAll(async () => {
  sandbox = await startFixture();
  await sandbox.client.send(
    new CreateSecretCommand({ Name: 'signet/lambda', SecretString: serializeKeyRing(activeRing(key)) }),
  );
  jwks = createServer((request, response) => issuer.handleJwks(request, response));
  issuerUrl = await listen(jwks, 0, 'test JWKS');
  issuer = createDevTokenIssuer({
    store: new MemoryStateStore(),
    issuer: issuerUrl,
    audience: 'signet-lambda',
  });
});

afterAll(async () => {
  vi.unstubAllEnvs();
  await close(jwks);
  await sandbox.stop();
});

describe('functions/api handler (API Gateway HTTP API, payload 2.0)', () => {
  it('signs a URL for a bearer token, with the key ring from Secrets Manager, and answers the v2 shape', async () => {
    const handler = await loadHandler(false);
    const token = await issuer.issue({ sub: 'alice', scope: ['media:read'] });
    const event = httpApiEvent({
      method: 'POST',
      path: '/v1/signed-urls',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ url: 'https://media.example.com/a.mp4', expiresIn: 60 }),
    });
    const response = await handler(event, lambdaContext());
    expect(response.statusCode).toBe(200);
    expect(response.headers?.['cache-control']).toBe('no-store');
    const body = JSON.parse(response.body) as { urls: { url: string }[]; keyId: string };
    expect(body.keyId).toBe('K2JCJMDEHXQW5F');
    const trusted = new Map([
      [key.id!, parseVerifyingKey(publicKeyPem(parseSigningKey(key.privateKey!).publicKey))],
    ]);
    expect(
      verifyRequest({ url: body.urls[0]!.url, now: Math.floor(Date.now() / 1000), trustedKeys: trusted })
        .allowed,
    ).toBe(true);

    // Warm invocations reuse the cached ring: no further Secrets Manager read.
    const reads = sandbox.standIn.countCalls('GetSecretValue');
    for (let i = 0; i < 5; i++) expect((await handler(event, lambdaContext())).statusCode).toBe(200);
    expect(sandbox.standIn.countCalls('GetSecretValue')).toBe(reads);
  });

  it('returns Set-Cookie as the v2 cookies list for signed cookies', async () => {
    const handler = await loadHandler(false);
    const token = await issuer.issue({ sub: 'alice', scope: ['media:read'] });
    const response = await handler(
      httpApiEvent({
        method: 'POST',
        path: '/v1/signed-cookies',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ resource: 'https://media.example.com/*' }),
      }),
      lambdaContext(),
    );
    expect(response.statusCode).toBe(200);
    const cookies = response.cookies ?? [];
    expect(cookies.map((c) => c.split('=')[0])).toEqual([
      'CloudFront-Policy',
      'CloudFront-Signature',
      'CloudFront-Key-Pair-Id',
      'CloudFront-Hash-Algorithm',
    ]);
    for (const cookie of cookies) expect(cookie).toContain('; Secure; HttpOnly;');
  });

  it('answers 401 problem+json without credentials', async () => {
    const handler = await loadHandler(false);
    const response = await handler(
      httpApiEvent({
        method: 'POST',
        path: '/v1/signed-urls',
        headers: { 'content-type': 'application/json' },
        body: '{"url":"https://media.example.com/a"}',
      }),
      lambdaContext(),
    );
    expect(response.statusCode).toBe(401);
    expect(response.headers?.['content-type']).toBe('application/problem+json');
    expect(JSON.parse(response.body)).toMatchObject({ type: '/problems/unauthenticated' });
  });

  it('trusts claims from an API Gateway JWT authorizer only when configured to', async () => {
    const request = () =>
      httpApiEvent({
        method: 'POST',
        path: '/v1/signed-urls',
        headers: { 'content-type': 'application/json' },
        body: '{"url":"https://media.example.com/a"}',
        claims: { sub: 'gateway-user', scope: 'media:read', iss: issuerUrl, aud: 'signet-lambda' },
      });
    const trusting = await loadHandler(true);
    expect((await trusting(request(), lambdaContext())).statusCode).toBe(200);
    const strict = await loadHandler(false);
    expect((await strict(request(), lambdaContext())).statusCode).toBe(401);
  });

  it('answers GET /v1/health', async () => {
    const handler = await loadHandler(false);
    const response = await handler(httpApiEvent({ method: 'GET', path: '/v1/health' }), lambdaContext());
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body)).toMatchObject({
      status: 'ok',
      profiles: { media: { canSign: true, activeKeyId: 'K2JCJMDEHXQW5F' } },
    });
  });
});
