// The API function's init phase (functions/api.ts's top-level await): what a cold start loads before
// its first request, and what happens when the stand-ins are down while it does. Not timed.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { close, listen } from '../../infra/local/http.ts';
import {
  createSecretsManagerStandIn,
  type SecretsManagerStandIn,
} from '../../infra/local/secrets-manager.ts';
import { MemoryStateStore } from '../../infra/local/state.ts';
import { createDevTokenIssuer, type DevTokenIssuer } from '../../infra/local/token-issuer.ts';
import { hashApiKey } from '../../lib/auth/api-keys.ts';
import { serializeKeyRing } from '../../lib/keys/ring.ts';
import { httpApiEvent, lambdaContext } from '../support/lambda.ts';
import { activeRing, ringKey } from '../support/rings.ts';
import { sdkClient } from '../support/secrets-manager-fixture.ts';

type Handler = (
  event: unknown,
  context: unknown,
) => Promise<{ statusCode: number; body: string; headers?: Record<string, string> }>;

const API_KEY = 'init-test-api-key-0123456789';

/** A server in front of a stand-in that can be taken down (every connection dropped) and brought back. */
class Switchable {
  up = true;
  /** Accepts each request and never answers it (a connection gone silent), while set. */
  hang = false;
  calls = 0;
  readonly server: Server;
  readonly #held: ServerResponse[] = [];
  url = '';
  constructor(handle: (request: IncomingMessage, response: ServerResponse) => void) {
    this.server = createServer((request, response) => {
      this.calls++;
      if (this.hang) this.#held.push(response);
      else if (this.up) handle(request, response);
      else request.socket.destroy();
    });
  }
  /** Drops every request held by {@link hang}. */
  release(): void {
    for (const response of this.#held.splice(0)) response.socket?.destroy();
  }
}

let standIn: SecretsManagerStandIn;
let issuer: DevTokenIssuer;
let secrets: Switchable;
let jwks: Switchable;

beforeAll(async () => {
  standIn = createSecretsManagerStandIn();
  secrets = new Switchable(standIn.handle);
  secrets.url = await listen(secrets.server, 0, 'Secrets Manager stand-in');
  jwks = new Switchable((request, response) => issuer.handleJwks(request, response));
  jwks.url = await listen(jwks.server, 0, 'test JWKS');
  issuer = createDevTokenIssuer({ store: new MemoryStateStore(), issuer: jwks.url, audience: 'signet-init' });
  const client = sdkClient(secrets.url);
  await client.send(
    new CreateSecretCommand({
      Name: 'signet/init',
      SecretString: serializeKeyRing(activeRing(ringKey({ id: 'K2JCJMDEHXQW5F' }))),
    }),
  );
  await client.send(
    new CreateSecretCommand({
      Name: 'signet/init-api-keys',
      SecretString: JSON.stringify({ keys: [{ id: 'init', sha256: hashApiKey(API_KEY) }] }),
    }),
  );
  client.destroy();
});

afterAll(async () => {
  vi.unstubAllEnvs();
  await close(secrets.server);
  await close(jwks.server);
});

beforeEach(() => {
  secrets.up = true;
  secrets.hang = false;
  secrets.release();
  jwks.up = true;
});

/** A fresh module instance of functions/api.ts: its import is the Lambda init phase. */
async function coldStart(): Promise<Handler> {
  vi.resetModules();
  vi.stubEnv(
    'SIGNET_CONFIG',
    JSON.stringify({
      aws: { region: 'us-east-1', endpoints: { secretsManager: secrets.url } },
      auth: {
        apiKeys: { secretId: 'signet/init-api-keys' },
        jwt: {
          issuer: jwks.url,
          audience: 'signet-init',
          jwksUrl: `${jwks.url}/.well-known/jwks.json`,
          algorithms: ['ES256'],
        },
      },
      profiles: {
        media: {
          domains: ['media.example.com'],
          keyRing: { secretId: 'signet/init' },
          grants: [
            { when: { claims: { scope: 'media:read' } }, resources: ['https://media.example.com/*'] },
            { when: { apiKeys: ['init'] }, resources: ['https://media.example.com/*'] },
          ],
        },
      },
    }),
  );
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'test');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'test');
  vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'SILENT');
  vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'true');
  vi.stubEnv('AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED', 'true');
  const module = (await import('../../functions/api.ts')) as { handler: Handler };
  return module.handler;
}

function signRequest(headers: Record<string, string>) {
  return httpApiEvent({
    method: 'POST',
    path: '/v1/signed-urls',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ url: 'https://media.example.com/a.mp4', expiresIn: 300 }),
  });
}

describe('functions/api init phase', () => {
  it('loads the key ring, the API keys and the JWKS before the first request, which then calls neither', async () => {
    standIn.resetCalls();
    jwks.calls = 0;
    const handler = await coldStart();
    // The init read the ring and the API key list, and fetched the key set.
    expect(standIn.countCalls('GetSecretValue')).toBe(2);
    expect(jwks.calls).toBe(1);

    standIn.resetCalls();
    jwks.calls = 0;
    secrets.calls = 0;
    const token = await issuer.issue({ sub: 'alice', scope: ['media:read'] });
    const byToken = await handler(signRequest({ authorization: `Bearer ${token}` }), lambdaContext());
    expect(byToken.statusCode, byToken.body).toBe(200);
    const byKey = await handler(signRequest({ 'x-api-key': API_KEY }), lambdaContext());
    expect(byKey.statusCode, byKey.body).toBe(200);
    expect(standIn.countCalls('GetSecretValue')).toBe(0);
    expect(jwks.calls).toBe(0);
    expect(secrets.calls).toBe(0);
  });

  it('survives an init with Secrets Manager and the issuer down, and the first request loads what is missing', async () => {
    secrets.up = false;
    jwks.up = false;
    secrets.calls = 0;
    jwks.calls = 0;
    // The import resolves (the container is not lost) although every load failed.
    const handler = await coldStart();
    expect(secrets.calls).toBeGreaterThan(0);
    expect(jwks.calls).toBeGreaterThan(0);

    secrets.up = true;
    jwks.up = true;
    standIn.resetCalls();
    jwks.calls = 0;
    const token = await issuer.issue({ sub: 'bob', scope: ['media:read'] });
    const first = await handler(signRequest({ authorization: `Bearer ${token}` }), lambdaContext());
    expect(first.statusCode, first.body).toBe(200);
    expect(JSON.parse(first.body).keyId).toBe('K2JCJMDEHXQW5F');
    // The first request made the loads the init could not: the ring and the key set, once each.
    expect(standIn.countCalls('GetSecretValue')).toBe(1);
    expect(jwks.calls).toBe(1);
    const byKey = await handler(signRequest({ 'x-api-key': API_KEY }), lambdaContext());
    expect(byKey.statusCode, byKey.body).toBe(200);
    expect(standIn.countCalls('GetSecretValue')).toBe(2);
  });

  it('answers 503 while the store stays down after a failed init, never crashing, and signs once it is back', async () => {
    secrets.up = false;
    const handler = await coldStart();
    const token = await issuer.issue({ sub: 'carol', scope: ['media:read'] });
    const answer = await handler(signRequest({ authorization: `Bearer ${token}` }), lambdaContext());
    expect(answer.statusCode).toBe(503);
    expect(answer.body).not.toMatch(/ECONNRESET|socket|stack/i);

    // The same container, once Secrets Manager answers again: no restart needed.
    secrets.up = true;
    const later = await handler(signRequest({ authorization: `Bearer ${token}` }), lambdaContext());
    expect(later.statusCode, later.body).toBe(200);
    expect(JSON.parse(later.body).keyId).toBe('K2JCJMDEHXQW5F');
  });

  it('gives up on a store that hangs: the init ends, the caller gets a 503 with Retry-After, not a timeout', async () => {
    secrets.hang = true;
    secrets.calls = 0;
    // The import resolves although no Secrets Manager call ever answers.
    const handler = await coldStart();
    expect(secrets.calls).toBeGreaterThan(0);

    const token = await issuer.issue({ sub: 'dan', scope: ['media:read'] });
    const answer = await handler(signRequest({ authorization: `Bearer ${token}` }), lambdaContext());
    expect(answer.statusCode, answer.body).toBe(503);
    expect(Number(answer.headers?.['retry-after'])).toBeGreaterThan(0);
    expect(answer.body).not.toMatch(/timed out|TimeoutError|socket|stack/i);

    secrets.hang = false;
    secrets.release();
    const later = await handler(signRequest({ authorization: `Bearer ${token}` }), lambdaContext());
    expect(later.statusCode, later.body).toBe(200);
  });
});
