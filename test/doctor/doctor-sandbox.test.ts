import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CreateDistributionCommand,
  CreateKeyGroupCommand,
  CreatePublicKeyCommand,
  DeleteKeyGroupCommand,
  DeletePublicKeyCommand,
  type DistributionConfig,
  GetDistributionConfigCommand,
  GetKeyGroupCommand,
  GetPublicKeyCommand,
  ListPublicKeysCommand,
  UpdateDistributionCommand,
  UpdateKeyGroupCommand,
} from '@aws-sdk/client-cloudfront';
import { CreateSecretCommand, PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type LocalService, startLocalService } from '../../infra/local/service.ts';
import { type AwsClients, createAwsClients } from '../../lib/aws/clients.ts';
import type { Finding } from '../../lib/doctor/findings.ts';

import type { KeyRing, RingKey } from '../../lib/keys/ring.ts';
import { publicKeyNameFor } from '../../lib/rotation/names.ts';
import { fingerprintOf, publicKeyPem } from '../../lib/signing/index.ts';
import { silentLog } from '../../lib/telemetry/ports.ts';
import { runCli, tempDir } from '../support/cli.ts';

let service: LocalService;
let clients: AwsClients;
let dir: string;
let edgeHost: string;
let counter = 0;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

beforeAll(async () => {
  dir = tempDir();
  service = await startLocalService({ stateDir: dir, portBase: 0, edgePropagationMs: 0, log: silentLog });
  clients = createAwsClients(service.config);
  edgeHost = new URL(service.endpoints.edge).host;
}, 30_000);

afterAll(async () => {
  await service?.close();
});

// --- fixtures: a profile built from scratch through the real SDK clients, then broken through them ---

interface GeneratedKey {
  privatePem: string;
  publicPem: string;
  fingerprint: string;
}

function generateKey(algorithm: 'ecdsa-p256' | 'rsa-2048' = 'ecdsa-p256'): GeneratedKey {
  const pair =
    algorithm === 'rsa-2048'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return {
    privatePem: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    publicPem: publicKeyPem(pair.publicKey as KeyObject),
    fingerprint: fingerprintOf(pair.publicKey as KeyObject),
  };
}

async function createPublicKey(name: string, key: GeneratedKey): Promise<string> {
  const created = await clients.cloudfront.send(
    new CreatePublicKeyCommand({
      PublicKeyConfig: {
        Name: name,
        CallerReference: `${name}-${key.fingerprint}`,
        EncodedKey: key.publicPem,
      },
    }),
  );
  return created.PublicKey!.Id!;
}

async function setGroupItems(groupId: string, items: string[]): Promise<void> {
  const current = await clients.cloudfront.send(new GetKeyGroupCommand({ Id: groupId }));
  await clients.cloudfront.send(
    new UpdateKeyGroupCommand({
      Id: groupId,
      IfMatch: current.ETag,
      KeyGroupConfig: { Name: current.KeyGroup!.KeyGroupConfig!.Name!, Items: items },
    }),
  );
}

async function deletePublicKey(id: string): Promise<void> {
  const current = await clients.cloudfront.send(new GetPublicKeyCommand({ Id: id }));
  await clients.cloudfront.send(new DeletePublicKeyCommand({ Id: id, IfMatch: current.ETag }));
}

function ringKeyOf(key: GeneratedKey, id: string, overrides: Partial<RingKey> = {}): RingKey {
  const now = Date.now();
  return {
    id,
    algorithm: key.privatePem.length > 1000 ? 'rsa-2048' : 'ecdsa-p256',
    hash: 'sha256',
    privateKey: key.privatePem,
    fingerprint: key.fingerprint,
    state: 'active',
    createdAt: iso(now - 3 * HOUR),
    trustedAt: iso(now - 3 * HOUR),
    activatedAt: iso(now - 2 * HOUR),
    ...overrides,
  };
}

function iso(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

interface Fixture {
  name: string;
  secretId: string;
  groupId: string;
  active: { key: GeneratedKey; id: string };
  retiring?: { key: GeneratedKey; id: string };
  ring: KeyRing;
  configFile: string;
}

const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  // Each test leaves the account as it found it: the sandbox enforces CloudFront's 10-key quota.
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function createFixture(
  options: {
    algorithm?: 'ecdsa-p256' | 'rsa-2048';
    hash?: 'sha1';
    retiring?: boolean;
    distribution?: boolean;
  } = {},
): Promise<Fixture> {
  counter += 1;
  const name = `fx${counter}`;
  const secretId = `signet/${name}/key-ring`;
  const key = generateKey(options.algorithm);
  const id = await createPublicKey(publicKeyNameFor(name, key.fingerprint), key);
  const keys = [{ key, id }];
  let retiring: Fixture['retiring'];
  if (options.retiring) {
    const old = generateKey();
    retiring = { key: old, id: await createPublicKey(publicKeyNameFor(name, old.fingerprint), old) };
    keys.push(retiring);
  }
  const group = await clients.cloudfront.send(
    new CreateKeyGroupCommand({ KeyGroupConfig: { Name: `signet-${name}`, Items: keys.map((k) => k.id) } }),
  );
  const groupId = group.KeyGroup!.Id!;
  cleanups.push(async () => {
    const current = await clients.cloudfront.send(new GetKeyGroupCommand({ Id: groupId }));
    await clients.cloudfront.send(new DeleteKeyGroupCommand({ Id: groupId, IfMatch: current.ETag }));
    const listed = await clients.cloudfront.send(new ListPublicKeysCommand({}));
    for (const item of listed.PublicKeyList?.Items ?? []) {
      if (!item.Name!.startsWith('signet-demo-')) await deletePublicKey(item.Id!);
    }
  });
  const ringKeys: RingKey[] = [ringKeyOf(key, id, options.hash === 'sha1' ? { hash: 'sha1' } : {})];
  if (retiring !== undefined) {
    ringKeys.push(
      ringKeyOf(retiring.key, retiring.id, {
        state: 'retiring',
        createdAt: iso(Date.now() - 3 * DAY),
        trustedAt: iso(Date.now() - 3 * DAY),
        activatedAt: iso(Date.now() - 3 * DAY + HOUR),
        retiredAt: iso(Date.now() - 2 * HOUR),
      }),
    );
  }
  const ring: KeyRing = { schema: 'signet.keyring/1', keyGroupId: groupId, keys: ringKeys, history: [] };
  await clients.secretsManager.send(
    new CreateSecretCommand({ Name: secretId, SecretString: JSON.stringify(ring) }),
  );

  let distributionId: string | undefined;
  if (options.distribution) {
    const created = await clients.cloudfront.send(
      new CreateDistributionCommand({ DistributionConfig: distributionConfig(name, [groupId]) }),
    );
    distributionId = created.Distribution!.Id!;
    cleanups.push(() => updateDistribution(distributionId!, distributionConfig(name, [])));
  }
  const profile = {
    domains: [edgeHost],
    keyRing: { secretId },
    keyGroupId: groupId,
    ...(distributionId === undefined ? {} : { distributionId }),
    algorithm: options.algorithm ?? 'ecdsa-p256',
    ...(options.hash === undefined ? {} : { hash: options.hash }),
    grants: [{ when: { claims: { scope: `${name}:read` } }, resources: [`http://${edgeHost}/${name}/*`] }],
  };
  const configFile = join(dir, `${name}.json`);
  writeFileSync(
    configFile,
    JSON.stringify({ ...service.config, profiles: { ...service.config.profiles, [name]: profile } }),
  );
  return {
    name,
    secretId,
    groupId,
    active: { key, id },
    ...(retiring ? { retiring } : {}),
    ring,
    configFile,
  };
}

function distributionConfig(name: string, trusted: string[]): DistributionConfig {
  return {
    CallerReference: `fixture-${name}`,
    Comment: `fixture ${name}`,
    Enabled: true,
    // The default behaviour serves another origin (a public site): no spelling of a protected path
    // reaches the protected origin unsigned (UNSIGNED_DEFAULT_BEHAVIOR).
    Origins: {
      Quantity: 2,
      Items: [
        { Id: 'origin', DomainName: 'demo-origin.signet.local' },
        { Id: 'site', DomainName: 'site.signet.local' },
      ],
    },
    DefaultCacheBehavior: { TargetOriginId: 'site', ViewerProtocolPolicy: 'allow-all' },
    CacheBehaviors: {
      Quantity: 1,
      Items: [
        {
          PathPattern: `/${name}/*`,
          TargetOriginId: 'origin',
          ViewerProtocolPolicy: 'allow-all',
          TrustedKeyGroups: { Enabled: trusted.length > 0, Quantity: trusted.length, Items: trusted },
        },
      ],
    },
  };
}

async function updateDistribution(id: string, config: DistributionConfig): Promise<void> {
  const current = await clients.cloudfront.send(new GetDistributionConfigCommand({ Id: id }));
  await clients.cloudfront.send(
    new UpdateDistributionCommand({ Id: id, IfMatch: current.ETag, DistributionConfig: config }),
  );
}

async function putRing(fixture: Fixture, ring: unknown): Promise<void> {
  await clients.secretsManager.send(
    new PutSecretValueCommand({ SecretId: fixture.secretId, SecretString: JSON.stringify(ring) }),
  );
}

async function doctor(fixture: Fixture | undefined, ...args: string[]) {
  const configFile = fixture?.configFile ?? join(dir, 'config.json');
  const profile = fixture?.name ?? 'demo';
  const run = await runCli(['doctor', '--json', '--profile', profile, '--config', configFile, ...args]);
  expect(run.stderr).toBe('');
  const body = JSON.parse(run.stdout) as { ok: boolean; findings: Finding[] };
  return { ...run, ...body, codes: body.findings.map((f) => f.code) };
}

function finding(findings: Finding[], code: string): Finding {
  const found = findings.find((f) => f.code === code);
  expect(found, `expected a ${code} finding in ${JSON.stringify(findings, null, 1)}`).toBeDefined();
  return found!;
}

// --- the tests ---

describe('signet doctor against the sandbox', () => {
  it('finds nothing wrong with the healthy demo profile and a healthy profile behind its own distribution', async () => {
    const demo = await doctor(undefined);
    expect(demo.code).toBe(0);
    expect(demo.ok).toBe(true);
    expect(demo.findings.filter((f) => f.severity !== 'info')).toEqual([]);
    expect(finding(demo.findings, 'ACCOUNT_KEYS_HEADROOM').message).toContain('holds 1 of');

    const fixture = await createFixture({ retiring: true, distribution: true });
    const healthy = await doctor(fixture);
    expect(healthy.findings.filter((f) => f.severity !== 'info')).toEqual([]);
    expect(healthy.code).toBe(0);
  });

  it('ACTIVE_KEY_NOT_IN_GROUP and PUBLIC_KEY_MISSING: the active key dropped from the group, then deleted', async () => {
    const fixture = await createFixture({ retiring: true });
    await setGroupItems(fixture.groupId, [fixture.retiring!.id]);
    const dropped = await doctor(fixture);
    expect(dropped.code).toBe(1);
    expect(dropped.ok).toBe(false);
    expect(finding(dropped.findings, 'ACTIVE_KEY_NOT_IN_GROUP')).toMatchObject({
      severity: 'error',
      profile: fixture.name,
      keyId: fixture.active.id,
      remedy: expect.stringContaining(`signet revoke ${fixture.active.id} --profile ${fixture.name} --yes`),
    });
    expect(dropped.codes).not.toContain('PUBLIC_KEY_MISSING');

    await deletePublicKey(fixture.active.id);
    const deleted = await doctor(fixture);
    expect(deleted.code).toBe(1);
    expect(finding(deleted.findings, 'PUBLIC_KEY_MISSING')).toMatchObject({
      severity: 'error',
      keyId: fixture.active.id,
      message: expect.stringContaining('NoSuchPublicKey'),
    });
  });

  it('ORPHAN_PUBLIC_KEY: a Signet-named public key that no ring holds, left to whoever made it', async () => {
    const fixture = await createFixture();
    const stray = generateKey();
    const strayId = await createPublicKey(publicKeyNameFor(fixture.name, stray.fingerprint), stray);
    const result = await doctor(fixture);
    // In no group and tied to nothing of this ring: maybe another stage's leftover, so never deleted.
    expect(finding(result.findings, 'ORPHAN_PUBLIC_KEY')).toMatchObject({
      severity: 'warning',
      keyId: strayId,
      remedy: expect.stringContaining('Signet never deletes a key no ring of its own knows'),
    });
    expect(finding(result.findings, 'ORPHAN_PUBLIC_KEY')?.remedy).not.toMatch(
      /signet rotate|revoke|delete-public-key/,
    );
    // A warning alone does not fail the check.
    expect(result.code).toBe(0);
  });

  it("PUBLIC_KEY_MISMATCH: the ring's private key is not the one CloudFront holds under its id", async () => {
    const fixture = await createFixture();
    const other = generateKey();
    await putRing(fixture, {
      ...fixture.ring,
      keys: [ringKeyOf(other, fixture.active.id)],
    });
    const result = await doctor(fixture);
    expect(result.code).toBe(1);
    expect(finding(result.findings, 'PUBLIC_KEY_MISMATCH')).toMatchObject({
      severity: 'error',
      keyId: fixture.active.id,
      message: expect.stringContaining(other.fingerprint),
    });
    expect(result.stdout).not.toContain('PRIVATE KEY');
  });

  it('GROUP_FULL: a warning at 4 keys, an error at 5 when a rotation is due', async () => {
    const fixture = await createFixture({ retiring: true });
    const extras: string[] = [];
    for (let i = 0; i < 3; i += 1)
      extras.push(await createPublicKey(`extra-${fixture.name}-${i}`, generateKey()));
    await setGroupItems(fixture.groupId, [fixture.active.id, fixture.retiring!.id, extras[0]!, extras[1]!]);
    const four = await doctor(fixture);
    expect(finding(four.findings, 'GROUP_FULL')).toMatchObject({ severity: 'warning' });
    expect(four.code).toBe(0);

    await setGroupItems(fixture.groupId, [fixture.active.id, fixture.retiring!.id, ...extras]);
    const old = iso(Date.now() - 40 * DAY);
    await putRing(fixture, {
      ...fixture.ring,
      keys: fixture.ring.keys.map((k) =>
        k.state === 'active' ? { ...k, createdAt: old, trustedAt: old, activatedAt: old } : k,
      ),
    });
    const five = await doctor(fixture);
    expect(five.code).toBe(1);
    expect(finding(five.findings, 'GROUP_FULL')).toMatchObject({
      severity: 'error',
      message: expect.stringContaining('holds 5 of'),
    });
    expect(finding(five.findings, 'KEY_AGE').severity).toBe('warning');
  });

  it('KEY_GROUP_NOT_TRUSTED: the demo distribution’s /private/* made to trust another key group', async () => {
    const demo = service.config.profiles.demo!;
    const spare = await createPublicKey('spare-for-other-group', generateKey());
    const other = await clients.cloudfront.send(
      new CreateKeyGroupCommand({ KeyGroupConfig: { Name: 'someone-elses-group', Items: [spare] } }),
    );
    const current = await clients.cloudfront.send(
      new GetDistributionConfigCommand({ Id: demo.distributionId! }),
    );
    const original = current.DistributionConfig!;
    const behavior = original.CacheBehaviors!.Items![0]!;
    await updateDistribution(demo.distributionId!, {
      ...original,
      CacheBehaviors: {
        Quantity: 1,
        Items: [
          { ...behavior, TrustedKeyGroups: { Enabled: true, Quantity: 1, Items: [other.KeyGroup!.Id!] } },
        ],
      },
    });
    cleanups.push(async () => {
      await updateDistribution(demo.distributionId!, original);
      const group = await clients.cloudfront.send(new GetKeyGroupCommand({ Id: other.KeyGroup!.Id! }));
      await clients.cloudfront.send(
        new DeleteKeyGroupCommand({ Id: other.KeyGroup!.Id!, IfMatch: group.ETag }),
      );
      await deletePublicKey(spare);
    });
    const result = await doctor(undefined);
    expect(result.code).toBe(1);
    expect(finding(result.findings, 'KEY_GROUP_NOT_TRUSTED')).toMatchObject({
      severity: 'error',
      profile: 'demo',
      message: expect.stringContaining(`Cache behaviour /private/* of distribution ${demo.distributionId}`),
      remedy: expect.stringContaining(`Add key group ${demo.keyGroupId}`),
    });
  });

  it('SHA1_SIGNING: an RSA key that signs with SHA-1', async () => {
    const fixture = await createFixture({ algorithm: 'rsa-2048', hash: 'sha1' });
    const result = await doctor(fixture);
    expect(finding(result.findings, 'SHA1_SIGNING')).toMatchObject({
      severity: 'warning',
      keyId: fixture.active.id,
    });
    expect(result.codes).not.toContain('PUBLIC_KEY_MISMATCH');
    expect(result.code).toBe(0);
  });

  it('KEY_GROUP_ID_AS_KEY_ID: the key group id written into the ring as a key id', async () => {
    const fixture = await createFixture();
    await putRing(fixture, { ...fixture.ring, keys: [{ ...fixture.ring.keys[0]!, id: fixture.groupId }] });
    const result = await doctor(fixture);
    expect(result.code).toBe(1);
    expect(result.codes).toContain('RING_INVALID');
    expect(finding(result.findings, 'KEY_GROUP_ID_AS_KEY_ID')).toMatchObject({
      severity: 'error',
      keyId: fixture.groupId,
      message: expect.stringContaining(`it is the id of key group ${fixture.groupId}`),
    });
  });

  it('ACTIVE_KEY_TOO_NEW, PENDING_STUCK, RETIRING_OVERDUE and KEY_REMOVED_WHILE_VALID from the ring’s timestamps', async () => {
    const fixture = await createFixture({ retiring: true });
    const pending = generateKey();
    const pendingId = await createPublicKey(publicKeyNameFor(fixture.name, pending.fingerprint), pending);
    await setGroupItems(fixture.groupId, [fixture.active.id, fixture.retiring!.id, pendingId]);
    const now = Date.now();
    const [active, retiring] = fixture.ring.keys;
    await putRing(fixture, {
      ...fixture.ring,
      keys: [
        // In the group for 10 minutes, activated after 5: propagation is 1 h.
        {
          ...active,
          createdAt: iso(now - 10 * 60_000),
          trustedAt: iso(now - 10 * 60_000),
          activatedAt: iso(now - 5 * 60_000),
        },
        // Removal delay is maxStale 1 h + ttl.max 24 h + skew 5 min: due a day ago.
        { ...retiring, retiredAt: iso(now - 2 * DAY) },
        ringKeyOf(pending, pendingId, {
          state: 'pending',
          trustedAt: iso(now - 3 * HOUR),
          activatedAt: undefined,
        }),
      ],
      history: [
        {
          id: 'KGONEKEY000001',
          fingerprint: generateKey().fingerprint,
          retiredAt: iso(now - 2 * HOUR),
          removedAt: iso(now - HOUR),
          // The bound recorded when it left: what it signed is valid for another 23 h.
          validUntil: iso(now + 23 * HOUR),
        },
      ],
    });
    const result = await doctor(fixture);
    expect(result.code).toBe(1);
    expect(finding(result.findings, 'ACTIVE_KEY_TOO_NEW')).toMatchObject({
      severity: 'error',
      keyId: fixture.active.id,
    });
    expect(finding(result.findings, 'PENDING_STUCK')).toMatchObject({
      severity: 'warning',
      keyId: pendingId,
    });
    expect(finding(result.findings, 'RETIRING_OVERDUE')).toMatchObject({
      severity: 'warning',
      keyId: fixture.retiring!.id,
    });
    expect(finding(result.findings, 'KEY_REMOVED_WHILE_VALID')).toMatchObject({
      severity: 'error',
      keyId: 'KGONEKEY000001',
    });
  });

  it('ACCOUNT_KEYS_NEAR_LIMIT: the account close to its 10 public keys', async () => {
    const fixture = await createFixture();
    // demo + fixture + 6 = 8 of 10: two profiles configured, two free slots.
    for (let i = 0; i < 6; i += 1) await createPublicKey(`filler-${fixture.name}-${i}`, generateKey());
    const result = await doctor(fixture);
    expect(finding(result.findings, 'ACCOUNT_KEYS_NEAR_LIMIT')).toMatchObject({
      severity: 'warning',
      profile: null,
      message: expect.stringContaining('holds 8 of'),
    });
    expect(result.codes).not.toContain('ACCOUNT_KEYS_HEADROOM');
  });

  it('RING_UNREADABLE and KEY_GROUP_MISSING: a secret that does not exist, a key group that does not', async () => {
    const fixture = await createFixture();
    const config = JSON.parse(JSON.stringify(service.config));
    config.profiles.ghost = {
      domains: [edgeHost],
      keyRing: { secretId: 'signet/ghost/key-ring' },
      keyGroupId: '00000000-0000-4000-8000-000000000000',
    };
    const file = join(dir, 'ghost.json');
    writeFileSync(file, JSON.stringify(config));
    const result = await doctor({ ...fixture, name: 'ghost', configFile: file });
    expect(result.code).toBe(1);
    expect(finding(result.findings, 'RING_UNREADABLE').message).toContain('does not exist');
    expect(finding(result.findings, 'KEY_GROUP_MISSING').severity).toBe('error');
  });
});

describe('signet doctor on the command line', () => {
  it('prints a table with each finding and its remedy, and exits 1 on an error', async () => {
    const fixture = await createFixture({ retiring: true });
    await setGroupItems(fixture.groupId, [fixture.retiring!.id]);
    const run = await runCli(['doctor', '--config', fixture.configFile]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^SEVERITY\s+CODE\s+PROFILE\s+KEY\n/);
    expect(run.stdout).toMatch(
      new RegExp(`error\\s+ACTIVE_KEY_NOT_IN_GROUP\\s+${fixture.name}\\s+${fixture.active.id}\\n`),
    );
    expect(run.stdout).toContain(
      `    remedy: Put ${fixture.active.id} back into key group ${fixture.groupId}`,
    );
    expect(run.stdout).toContain('profiles checked: demo, ');
    expect(run.stdout).toMatch(/FAILED: [1-9]\d* error\(s\)/);
    expect(run.stdout).not.toContain('PRIVATE KEY');
  });

  it('answers an unknown profile with exit 2 and an unreachable endpoint with exit 3', async () => {
    const config = join(dir, 'config.json');
    const unknown = await runCli(['doctor', '--profile', 'nope', '--config', config]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('Expected --profile to name a configured profile (demo); got "nope"');

    const offline = JSON.parse(JSON.stringify(service.config));
    offline.aws.endpoints = { secretsManager: 'http://127.0.0.1:9', cloudfront: 'http://127.0.0.1:9' };
    const file = join(dir, 'offline.json');
    writeFileSync(file, JSON.stringify(offline));
    const down = await runCli(['doctor', '--config', file]);
    expect(down.code).toBe(3);
    expect(down.stderr).toContain(
      'Could not read the live configuration from Secrets Manager at http://127.0.0.1:9',
    );
    expect(down.stderr).toContain('ECONNREFUSED');
  }, 20_000);

  it('prints --help', async () => {
    const run = await runCli(['doctor', '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Usage: signet doctor \[--profile P\] \[--json\] \[--config FILE\]/);
  });
});
