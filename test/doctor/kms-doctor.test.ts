import { generateKeyPairSync } from 'node:crypto';
import {
  CancelKeyDeletionCommand,
  DisableKeyCommand,
  EnableKeyCommand,
  type KMSClient,
  ScheduleKeyDeletionCommand,
} from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningKms, startKms } from '../../infra/local/kms.ts';
import { SdkKmsKeyPort } from '../../lib/aws/kms-key-port.ts';
import { parseConfig } from '../../lib/config/index.ts';
import { diagnose } from '../../lib/doctor/diagnose.ts';
import { explainKey } from '../../lib/doctor/explain-key.ts';
import { readSnapshot } from '../../lib/doctor/read-snapshot.ts';
import type { DoctorSnapshot } from '../../lib/doctor/snapshot.ts';
import type { KeyRingStore } from '../../lib/keys/store.ts';
import { runRotation } from '../../lib/rotation/rotator.ts';
import { kmsClientFor } from '../support/kms.ts';
import {
  HandClock,
  type RotationSandbox,
  startRotationSandbox,
  TIMINGS,
  testProfile,
} from '../support/rotation-sandbox.ts';

const clock = new HandClock();
let kms: RunningKms;
let client: KMSClient;
let sandbox: RotationSandbox;
let port: SdkKmsKeyPort;
let store: KeyRingStore;
const secretId = 'signet/kms-doctor';
const profile = testProfile({ signer: 'kms', keyRing: { secretId } });
const config = parseConfig({
  profiles: {
    media: {
      domains: ['media.example.com'],
      keyRing: { secretId },
      signer: 'kms',
      ttl: { default: 60, max: 300 },
    },
  },
});

beforeAll(async () => {
  kms = await startKms({ now: clock.now });
  client = kmsClientFor(kms);
  sandbox = await startRotationSandbox({ clock });
  port = new SdkKmsKeyPort(client);
  store = await sandbox.newStore(secretId);
  const ports = {
    profileName: 'media',
    profile,
    store,
    registry: sandbox.registry,
    now: clock.now,
    kms: port,
  };
  await runRotation(ports);
  clock.advance(TIMINGS.propagation);
  await runRotation(ports);
});
afterAll(async () => {
  client.destroy();
  await sandbox.close();
  await kms.close();
});

function read(): Promise<DoctorSnapshot> {
  return readSnapshot(config, ['media'], {
    ringSourceFor: () => store,
    registry: sandbox.registry,
    distributions: { getDistribution: async () => undefined },
    kms: port,
  });
}

const kmsFindings = (snapshot: DoctorSnapshot) =>
  diagnose(snapshot, clock.now()).filter((finding) => finding.code.startsWith('KMS_'));

async function activeKey() {
  const ring = (await store.load())!.ring;
  return ring.keys.find((key) => key.state === 'active')!;
}

describe('signet doctor on a signer: kms profile', () => {
  it('finds nothing wrong with an enabled KMS key whose public key CloudFront and the ring hold', async () => {
    const snapshot = await read();
    expect(snapshot.profiles[0]!.kmsKeys).toEqual([
      expect.objectContaining({
        status: 'ok',
        state: 'Enabled',
        publicKeyPem: expect.stringContaining('PUBLIC KEY'),
      }),
    ]);
    expect(kmsFindings(snapshot)).toEqual([]);
  });

  it('reports a disabled, then a pending-deletion KMS key behind the active key as an error, with the command that undoes it', async () => {
    const active = await activeKey();
    const arn = active.kmsKeyArn!;
    await client.send(new DisableKeyCommand({ KeyId: arn }));
    try {
      expect(kmsFindings(await read())).toEqual([
        expect.objectContaining({
          severity: 'error',
          code: 'KMS_KEY_UNUSABLE',
          keyId: active.id,
          message: expect.stringMatching(/is Disabled: the API cannot sign \(503\)/),
          remedy: `aws kms enable-key --key-id ${arn}`,
        }),
      ]);
      await client.send(new ScheduleKeyDeletionCommand({ KeyId: arn, PendingWindowInDays: 30 }));
      const [finding] = kmsFindings(await read());
      expect(finding).toMatchObject({
        severity: 'error',
        code: 'KMS_KEY_UNUSABLE',
        message: expect.stringMatching(/is scheduled for deletion on /),
        remedy: `aws kms cancel-key-deletion --key-id ${arn} && aws kms enable-key --key-id ${arn}`,
      });
      // explain says the same about the key a failing URL names.
      const explained = explainKey({
        keyPairId: active.id,
        profileName: 'media',
        ring: (await store.load())!.ring,
        keyGroupId: undefined,
        trustedGroups: new Map(),
        publicKeys: new Map(),
        trustSource: 'test',
        kmsKeys: (await read()).profiles[0]!.kmsKeys!,
      });
      expect(explained.notes.join('\n')).toMatch(/signs through KMS key .* scheduled for deletion/);
    } finally {
      if ((await port.describe(arn))?.state === 'PendingDeletion') {
        await client.send(new CancelKeyDeletionCommand({ KeyId: arn }));
      }
      await client.send(new EnableKeyCommand({ KeyId: arn }));
    }
    expect(kmsFindings(await read())).toEqual([]);
  });

  it('reports a ring naming a KMS key whose public key is not the recorded one', async () => {
    const versioned = (await store.load())!;
    const active = versioned.ring.keys.find((key) => key.state === 'active')!;
    const other = await port.createSigningKey({ algorithm: 'ecdsa-p256', description: 'other', tags: {} });
    const wrong = {
      ...versioned.ring,
      keys: versioned.ring.keys.map((key) => (key === active ? { ...key, kmsKeyArn: other.arn } : key)),
    };
    const written = await store.save(wrong, versioned.version, 'test:wrong-arn');
    try {
      expect(kmsFindings(await read())).toEqual([
        expect.objectContaining({
          severity: 'error',
          code: 'KMS_PUBLIC_KEY_MISMATCH',
          keyId: active.id,
          message: expect.stringContaining(`The KMS key ${other.arn} has public key`),
        }),
      ]);
    } finally {
      await store.save(versioned.ring, written, 'test:restore');
    }
  });

  it("reports a CloudFront public key that is not its KMS key's", async () => {
    const snapshot = await read();
    const active = await activeKey();
    const stranger = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
      .publicKey.export({ type: 'spki', format: 'pem' })
      .toString();
    const altered: DoctorSnapshot = {
      ...snapshot,
      publicKeys: snapshot.publicKeys.map((key) =>
        key.id === active.id ? { ...key, encodedKey: stranger } : key,
      ),
    };
    expect(kmsFindings(altered)).toEqual([
      expect.objectContaining({
        severity: 'error',
        code: 'KMS_PUBLIC_KEY_MISMATCH',
        message: expect.stringMatching(/is not the public key of its KMS key .*403 InvalidSignature/),
      }),
    ]);
  });
});
