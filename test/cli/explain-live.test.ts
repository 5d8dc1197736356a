import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import {
  CreatePublicKeyCommand,
  DeletePublicKeyCommand,
  GetKeyGroupCommand,
  GetPublicKeyCommand,
  UpdateKeyGroupCommand,
} from '@aws-sdk/client-cloudfront';
import { GetSecretValueCommand, PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalService, startLocalService } from '../../infra/local/service.ts';
import { type AwsClients, createAwsClients } from '../../lib/aws/clients.ts';

import type { KeyRing } from '../../lib/keys/ring.ts';
import { parseSigningKey, publicKeyPem, signUrl } from '../../lib/signing/index.ts';
import { silentLog } from '../../lib/telemetry/ports.ts';
import { runCli, tempDir } from '../support/cli.ts';

let service: LocalService;
let clients: AwsClients;
let config: string;
let token: string;

beforeAll(async () => {
  const dir = tempDir();
  service = await startLocalService({ stateDir: dir, portBase: 0, edgePropagationMs: 0, log: silentLog });
  clients = createAwsClients(service.config);
  config = join(dir, 'config.json');
  token = await service.issuer.issue({ sub: 'demo', scope: ['demo:read'] });
}, 30_000);

afterAll(async () => {
  await service?.close();
});

async function api(path: string, body: unknown): Promise<Response> {
  const response = await fetch(`${service.endpoints.api}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  expect(response.status).toBe(200);
  return response;
}

async function signedUrl(): Promise<{ url: string; keyId: string }> {
  const body = (await (await api('/v1/signed-urls', { url: service.demoUrl })).json()) as {
    urls: { url: string }[];
    keyId: string;
  };
  return { url: body.urls[0]!.url, keyId: body.keyId };
}

function explain(...args: string[]) {
  return runCli(['explain', ...args, '--profile', 'demo', '--config', config]);
}

async function setGroupItems(groupId: string, change: (items: string[]) => string[]): Promise<void> {
  const current = await clients.cloudfront.send(new GetKeyGroupCommand({ Id: groupId }));
  const groupConfig = current.KeyGroup!.KeyGroupConfig!;
  await clients.cloudfront.send(
    new UpdateKeyGroupCommand({
      Id: groupId,
      IfMatch: current.ETag,
      KeyGroupConfig: { Name: groupConfig.Name!, Items: change(groupConfig.Items ?? []) },
    }),
  );
}

function iso(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

describe('signet explain --profile (live key group)', () => {
  it('explains a URL from the API as allowed, signed by the active key CloudFront trusts', async () => {
    const { url, keyId } = await signedUrl();
    const text = await explain(url);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`- key ${keyId} is trusted by CloudFront now: it is in key group`);
    expect(text.stdout).toContain("- it is the active key of profile demo's ring");
    expect(text.stdout).toContain('\nALLOWED\n');

    const json = await explain(url, '--json');
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({
      allowed: true,
      code: null,
      keyPairId: keyId,
      keyStatus: 'trusted',
      keyGroupIdAsKeyId: false,
      trustedKeyGroups: [service.config.profiles.demo!.keyGroupId],
    });
    expect((await fetch(url)).status).toBe(200);
  });

  it('explains cookies from the API too', async () => {
    const response = await api('/v1/signed-cookies', { resource: `${service.endpoints.edge}/private/*` });
    const cookie = response.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ');
    const run = await explain(service.demoUrl, '--cookie', cookie, '--json');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ allowed: true, keyStatus: 'trusted' });
  });

  it('says when the key that signed a URL was removed from the key group, as the edge refuses it', async () => {
    const demo = service.config.profiles.demo!;
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const key = parseSigningKey(privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const created = await clients.cloudfront.send(
      new CreatePublicKeyCommand({
        PublicKeyConfig: {
          Name: 'previous-demo-key',
          CallerReference: key.fingerprint,
          EncodedKey: publicKeyPem(key.publicKey),
        },
      }),
    );
    const oldId = created.PublicKey!.Id!;
    await setGroupItems(demo.keyGroupId!, (items) => [...items, oldId]);
    const now = Math.floor(Date.now() / 1000);
    const signed = signUrl({ url: service.demoUrl, key, keyPairId: oldId, expires: now + 3600, now });
    expect((await explain(signed.url)).code).toBe(0);
    expect((await fetch(signed.url)).status).toBe(200);

    // The key leaves: out of the group, deleted, and recorded in the ring's history.
    await setGroupItems(demo.keyGroupId!, (items) => items.filter((id) => id !== oldId));
    const current = await clients.cloudfront.send(new GetPublicKeyCommand({ Id: oldId }));
    await clients.cloudfront.send(new DeletePublicKeyCommand({ Id: oldId, IfMatch: current.ETag }));
    const secret = await clients.secretsManager.send(
      new GetSecretValueCommand({ SecretId: 'signet/demo/key-ring' }),
    );
    const ring = JSON.parse(secret.SecretString!) as KeyRing;
    const retiredAt = iso(Date.now() - 3_600_000);
    const removedAt = iso(Date.now() - 60_000);
    await clients.secretsManager.send(
      new PutSecretValueCommand({
        SecretId: 'signet/demo/key-ring',
        SecretString: JSON.stringify({
          ...ring,
          history: [...ring.history, { id: oldId, fingerprint: key.fingerprint, retiredAt, removedAt }],
        }),
      }),
    );

    const edge = await fetch(signed.url);
    expect(edge.status).toBe(403);
    expect(await edge.text()).toContain('<Code>InvalidKey</Code>');
    const text = await explain(signed.url);
    expect(text.code).toBe(1);
    expect(text.stdout).toContain(
      `- key ${oldId} was removed from the key group at ${removedAt} (retired at ${retiredAt}): it was profile demo's key and no longer is`,
    );
    expect(text.stdout).toContain('DENIED  InvalidKey (CloudFront: "Unknown Key")');
    const json = JSON.parse((await explain(signed.url, '--json')).stdout);
    expect(json).toMatchObject({
      allowed: false,
      code: 'InvalidKey',
      keyPairId: oldId,
      keyStatus: 'removed',
    });
  });

  it('says when the key group id was used as the Key-Pair-Id', async () => {
    const demo = service.config.profiles.demo!;
    const { url, keyId } = await signedUrl();
    // Another signer's mistake: the group id where the public key id belongs (not part of what is signed).
    const misused = url.replace(`Key-Pair-Id=${keyId}`, `Key-Pair-Id=${demo.keyGroupId}`);
    expect(misused).not.toBe(url);
    const edge = await fetch(misused);
    expect(edge.status).toBe(403);
    expect(await edge.text()).toContain('<Code>InvalidKey</Code>');

    const text = await explain(misused);
    expect(text.code).toBe(1);
    expect(text.stdout).toContain(
      `- Key-Pair-Id ${demo.keyGroupId} is the id of a key group, not a public key id (like K2JCJMDEHXQW5F): CloudFront answers InvalidKey ("Unknown Key"); sign with the public key id of the active key, ${keyId}`,
    );
    const json = JSON.parse((await explain(misused, '--json')).stdout);
    expect(json).toMatchObject({
      allowed: false,
      code: 'InvalidKey',
      keyPairId: demo.keyGroupId,
      keyStatus: 'unknown',
      keyGroupIdAsKeyId: true,
    });
  });

  it('refuses --profile together with key files (exit 2), and an unknown profile', async () => {
    const both = await runCli([
      'explain',
      service.demoUrl,
      '--profile',
      'demo',
      '--public-key-file',
      'x.pem',
      '--key-pair-id',
      'K2JCJMDEHXQW5F',
    ]);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('Expected either --profile');
    const unknown = await runCli(['explain', service.demoUrl, '--profile', 'nope', '--config', config]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('got "nope"');
  });
});
