import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalService, startLocalService } from '../../infra/local/service.ts';
import { startUserService } from '../../infra/local/user-service.ts';
import { createAwsClients } from '../../lib/aws/clients.ts';
import { SecretsManagerKeyRingStore } from '../../lib/aws/secrets-manager-key-ring-store.ts';
import { parseConfig } from '../../lib/config/index.ts';
import { silentLog } from '../../lib/telemetry/ports.ts';
import { runCli, tempDir } from '../support/cli.ts';

// npm start -- --kms: the demo profile signs through the KMS stand-in, end to end.
let service: LocalService;
let token: string;
const stateDir = tempDir();

beforeAll(async () => {
  service = await startLocalService({
    stateDir,
    portBase: 0,
    edgePropagationMs: 200,
    kms: true,
    log: silentLog,
  });
  token = await service.issuer.issue({ sub: 'demo', scope: ['demo:read', 'demo:user'] });
}, 60_000);

afterAll(async () => {
  await service?.close();
});

function api(path: string, body: unknown) {
  return fetch(`${service.endpoints.api}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
}

describe('npm start -- --kms', () => {
  it('bootstraps the demo profile with a KMS key: the ring holds its ARN and no private key', async () => {
    expect(service.config.profiles.demo).toMatchObject({ signer: 'kms', expiryRounding: 60 });
    const clients = createAwsClients(service.config);
    try {
      const loaded = await new SecretsManagerKeyRingStore(
        clients.secretsManager,
        service.config.profiles.demo!.keyRing.secretId,
      ).load();
      const active = loaded!.ring.keys.find((key) => key.state === 'active')!;
      expect(active.kmsKeyArn).toMatch(/^arn:aws:kms:us-east-1:000000000000:key\//);
      expect(active.privateKey).toBeUndefined();
      expect(service.sandbox.kms!.standIn.listKeys()).toContainEqual(
        expect.objectContaining({
          arn: active.kmsKeyArn,
          state: 'Enabled',
          tags: expect.objectContaining({
            'signet:key-ring': service.config.profiles.demo!.keyRing.secretId,
          }),
        }),
      );
    } finally {
      clients.secretsManager.destroy();
      clients.cloudfront.destroy();
    }
  });

  it('signet keys shows the KMS key each key signs through', async () => {
    const { stdout, code } = await runCli(['keys', '--config', join(stateDir, 'config.json'), '--json']);
    expect(code).toBe(0);
    const listing = JSON.parse(stdout) as { keys: { state: string; kmsKeyArn?: string }[] };
    expect(listing.keys.find((key) => key.state === 'active')?.kmsKeyArn).toMatch(/^arn:aws:kms:/);
  });

  it('a URL and cookies signed through KMS open the protected objects at the edge; identical requests share a signature', async () => {
    const kms = service.sandbox.kms!.standIn;
    kms.resetCalls();
    const urls: string[] = [];
    for (let i = 0; i < 3; i++) {
      const response = await api('/v1/signed-urls', { url: service.demoUrl });
      expect(response.status).toBe(200);
      urls.push(((await response.json()) as { urls: { url: string }[] }).urls[0]!.url);
    }
    // Expiries on a 60 s grid: three requests within a second (or two, across a grid line) make at most two policies.
    expect(kms.countCalls('Sign')).toBeLessThanOrEqual(2);
    const opened = await fetch(urls[0]!);
    expect(opened.status).toBe(200);
    expect(await opened.text()).toBe('Hello from behind a CloudFront signature.\n');
    const cookies = await api('/v1/signed-cookies', {
      resource: `${service.endpoints.edge}/private/*`,
      expiresIn: 120,
    });
    expect(cookies.status).toBe(200);
    const cookie = cookies.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ');
    const viaCookies = await fetch(`${service.endpoints.edge}/private/hello.txt`, { headers: { cookie } });
    expect(viaCookies.status).toBe(200);
  });
});

describe('npm start -- --config FILE with a signer: kms profile', () => {
  it('runs it on the KMS stand-in: its key is a KMS key, and the API signs through it', async () => {
    const config = parseConfig({
      auth: {
        jwt: {
          issuer: 'https://auth.example.com/',
          audience: 'media-api',
          jwksUrl: 'https://auth.example.com/jwks.json',
        },
      },
      profiles: {
        media: {
          domains: ['media.example.com'],
          keyRing: { secretId: 'signet/prod/media/key-ring' },
          signer: 'kms',
          algorithm: 'rsa-2048',
          grants: [{ when: { claims: { scope: 'media:read' } }, resources: ['https://media.example.com/*'] }],
        },
      },
    });
    const user = await startUserService({
      config,
      configPath: '/nonexistent/signet.yml',
      stateDir: null,
      portBase: 0,
      edgePropagationMs: 0,
      log: silentLog,
    });
    try {
      expect(user.config.aws?.endpoints?.kms).toBe(user.sandbox.kms!.url);
      const keys = user.sandbox.kms!.standIn.listKeys();
      expect(keys).toEqual([expect.objectContaining({ spec: 'RSA_2048', state: 'Enabled' })]);
      const bearer = await user.issuer.issue({ sub: 'alice', scope: ['media:read'] });
      const response = await fetch(`${user.endpoints.api}/v1/signed-urls`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer}` },
        body: JSON.stringify({ url: 'https://media.example.com/a.txt' }),
      });
      expect(response.status).toBe(200);
      expect(user.sandbox.kms!.standIn.countCalls('Sign')).toBe(1);
    } finally {
      await user.close();
    }
  }, 60_000);
});
