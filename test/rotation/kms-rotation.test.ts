import type { KMSClient } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningKms, startKms } from '../../infra/local/kms.ts';
import { SdkKmsKeyPort } from '../../lib/aws/kms-key-port.ts';
import { KMS_ORPHAN_GRACE_SECONDS, KMS_RING_TAG, type KmsKeyPort } from '../../lib/rotation/kms-keys.ts';
import { revokeKey } from '../../lib/rotation/revoke.ts';
import { runRotation } from '../../lib/rotation/rotator.ts';
import { parseVerifyingKey, verifyRequest } from '../../lib/signing/index.ts';
import { kmsClientFor } from '../support/kms.ts';
import {
  HandClock,
  observeRotation,
  type RotationSandbox,
  startRotationSandbox,
  TIMINGS,
  testProfile,
} from '../support/rotation-sandbox.ts';

const DAY_MS = 86_400_000;
let kms: RunningKms;
let client: KMSClient;
let sandbox: RotationSandbox;
const clock = new HandClock();

beforeAll(async () => {
  kms = await startKms({ now: clock.now });
  client = kmsClientFor(kms);
  sandbox = await startRotationSandbox({ clock });
});
afterAll(async () => {
  client.destroy();
  await sandbox.close();
  await kms.close();
});

/** A KMS port that dies (as a killed rotator would) right after the named call succeeded, once. */
function crashingAfter(port: KmsKeyPort, call: 'createSigningKey' | 'scheduleDeletion'): KmsKeyPort {
  let armed = true;
  const crash = () => {
    armed = false;
    throw new Error(`killed after ${call}`);
  };
  return {
    createSigningKey: async (input) => {
      const created = await port.createSigningKey(input);
      if (armed && call === 'createSigningKey') crash();
      return created;
    },
    publicKey: (arn) => port.publicKey(arn),
    describe: (arn) => port.describe(arn),
    listTagged: (key, value) => port.listTagged(key, value),
    scheduleDeletion: async (arn, days) => {
      await port.scheduleDeletion(arn, days);
      if (armed && call === 'scheduleDeletion') crash();
    },
    disable: (arn) => port.disable(arn),
  };
}

const stateOf = (arn: string) => kms.standIn.listKeys().find((key) => key.arn === arn);

describe('rotation of signer: kms profiles', () => {
  it('creates tagged KMS keys, registers their public keys in CloudFront, and schedules removed ones for deletion (30 days)', async () => {
    const secretId = 'signet/kms-cycle';
    const profile = testProfile({ signer: 'kms', keyRing: { secretId } });
    const store = await sandbox.newStore(secretId);
    const port = new SdkKmsKeyPort(client);
    const run = (over: Partial<Parameters<typeof runRotation>[0]> = {}) =>
      runRotation({
        profileName: secretId.slice('signet/'.length),
        profile,
        store,
        registry: sandbox.registry,
        now: clock.now,
        kms: port,
        ...over,
      });

    expect(await run()).toMatchObject({ ok: true, action: { kind: 'bootstrap' } });
    let seen = await observeRotation(store, sandbox.registry);
    const first = seen.ring!.keys[0]!;
    expect(first).toMatchObject({
      state: 'pending',
      hash: 'sha256',
      kmsKeyArn: expect.stringMatching(/^arn:aws:kms:/),
    });
    expect(first.privateKey).toBeUndefined();
    expect(stateOf(first.kmsKeyArn!)).toMatchObject({
      state: 'Enabled',
      spec: 'ECC_NIST_P256',
      tags: { [KMS_RING_TAG]: secretId, 'signet:profile': 'kms-cycle' },
    });
    // CloudFront holds exactly the public key KMS gives for that key.
    const registered = seen.publicKeys.find((key) => key.id === first.id)!;
    expect(parseVerifyingKey(registered.encodedKey).fingerprint).toBe(first.fingerprint);
    expect(parseVerifyingKey(await port.publicKey(first.kmsKeyArn!)).fingerprint).toBe(first.fingerprint);

    clock.advance(TIMINGS.propagation);
    expect(await run()).toMatchObject({ action: { kind: 'activate' }, activeKeyId: first.id });
    clock.advance(TIMINGS.rotateEvery);
    expect(await run()).toMatchObject({ action: { kind: 'introduce' } });
    clock.advance(TIMINGS.propagation);
    expect(await run()).toMatchObject({ action: { kind: 'activate' } });
    clock.advance(TIMINGS.removal);
    const removal = await run();
    expect(removal).toMatchObject({ ok: true, action: { kind: 'remove', keyId: first.id } });
    seen = await observeRotation(store, sandbox.registry);
    expect(seen.ring!.keys.map((key) => key.kmsKeyArn)).not.toContain(first.kmsKeyArn);
    expect(seen.ring!.history.at(-1)).toMatchObject({ id: first.id, kmsKeyArn: first.kmsKeyArn });
    const described = await port.describe(first.kmsKeyArn!);
    expect(described?.state).toBe('PendingDeletion');
    expect(described!.deletionDate!.getTime() - clock.millis()).toBe(30 * DAY_MS);
    // The key that signs now is untouched.
    expect(stateOf(seen.ring!.keys.find((key) => key.state === 'active')!.kmsKeyArn!)?.state).toBe('Enabled');
  });

  it('converges after a kill right after CreateKey: the untracked tagged key is scheduled for deletion once past the grace period', async () => {
    const secretId = 'signet/kms-crash-create';
    const profile = testProfile({ signer: 'kms', keyRing: { secretId } });
    const store = await sandbox.newStore(secretId);
    const port = new SdkKmsKeyPort(client);
    const run = (kmsPort: KmsKeyPort) =>
      runRotation({
        profileName: secretId.slice('signet/'.length),
        profile,
        store,
        registry: sandbox.registry,
        now: clock.now,
        kms: kmsPort,
      });

    await expect(run(crashingAfter(port, 'createSigningKey'))).rejects.toThrow(
      /killed after createSigningKey/,
    );
    const orphans = kms.standIn.listKeys().filter((key) => key.tags[KMS_RING_TAG] === secretId);
    expect(orphans).toHaveLength(1);
    expect((await store.load())?.ring).toBeUndefined();

    // The rerun bootstraps with a new key; the orphan is too young to judge (a concurrent run may own it).
    expect(await run(port)).toMatchObject({ action: { kind: 'bootstrap' } });
    expect(stateOf(orphans[0]!.arn)?.state).toBe('Enabled');
    clock.advance(KMS_ORPHAN_GRACE_SECONDS);
    const later = await run(port);
    expect(later.commits.map((commit) => commit.transition)).toContain(`kms-sweep:${orphans[0]!.arn}`);
    expect(stateOf(orphans[0]!.arn)?.state).toBe('PendingDeletion');
    const ring = (await store.load())!.ring;
    expect(stateOf(ring.keys[0]!.kmsKeyArn!)?.state).toBe('Enabled');
  });

  it('converges after a kill between the ring write that removed a key and its ScheduleKeyDeletion', async () => {
    const secretId = 'signet/kms-crash-remove';
    const profile = testProfile({ signer: 'kms', keyRing: { secretId } });
    const store = await sandbox.newStore(secretId);
    const port = new SdkKmsKeyPort(client);
    // A port whose ScheduleKeyDeletion never reaches KMS, once: the kill came before the call.
    let dropped = false;
    const dropping: KmsKeyPort = {
      ...crashingAfter(port, 'createSigningKey'),
      createSigningKey: (input) => port.createSigningKey(input),
      scheduleDeletion: async (arn, days) => {
        if (!dropped) {
          dropped = true;
          throw new Error('killed before ScheduleKeyDeletion');
        }
        await port.scheduleDeletion(arn, days);
      },
    };
    const run = (kmsPort: KmsKeyPort) =>
      runRotation({
        profileName: secretId.slice('signet/'.length),
        profile,
        store,
        registry: sandbox.registry,
        now: clock.now,
        kms: kmsPort,
      });
    await run(port);
    clock.advance(TIMINGS.propagation);
    await run(port);
    const first = (await store.load())!.ring.keys[0]!;
    clock.advance(TIMINGS.rotateEvery);
    await run(port);
    clock.advance(TIMINGS.propagation);
    await run(port);
    clock.advance(TIMINGS.removal);
    await expect(run(dropping)).rejects.toThrow(/killed before ScheduleKeyDeletion/);
    expect((await store.load())!.ring.keys.map((key) => key.kmsKeyArn)).not.toContain(first.kmsKeyArn);
    expect(stateOf(first.kmsKeyArn!)?.state).toBe('Enabled');
    await run(port);
    expect(stateOf(first.kmsKeyArn!)?.state).toBe('PendingDeletion');
  });

  it('signet revoke disables the revoked key’s KMS key at once and schedules its deletion (undoable for 30 days)', async () => {
    const secretId = 'signet/kms-revoke';
    const profile = testProfile({ signer: 'kms', keyRing: { secretId } });
    const store = await sandbox.newStore(secretId);
    const port = new SdkKmsKeyPort(client);
    const profileName = 'kms-revoke';
    const ports = { profileName, profile, store, registry: sandbox.registry, now: clock.now, kms: port };
    await runRotation(ports);
    clock.advance(TIMINGS.propagation);
    await runRotation(ports);
    const active = (await store.load())!.ring.keys[0]!;
    kms.standIn.resetCalls();
    const result = await revokeKey({ ...ports, keyId: active.id! });
    expect(result.commits.map((commit) => commit.transition)).toContain(`kms-disable:${active.kmsKeyArn}`);
    expect(kms.standIn.countCalls('DisableKey')).toBe(1);
    expect(stateOf(active.kmsKeyArn!)?.state).toBe('PendingDeletion');
    const ring = (await store.load())!.ring;
    expect(ring.history.at(-1)).toMatchObject({
      id: active.id,
      kmsKeyArn: active.kmsKeyArn,
      revokedAt: expect.any(String),
    });
    // The replacement is a new KMS key, pending.
    expect(ring.keys).toEqual([
      expect.objectContaining({ state: 'pending', kmsKeyArn: expect.stringMatching(/^arn:aws:kms:/) }),
    ]);
    // A rerun does nothing more to the KMS key.
    await revokeKey({ ...ports, keyId: active.id! });
    expect(kms.standIn.countCalls('DisableKey')).toBe(1);
  });

  it('checks the canary with a URL the pending KMS key signed before activating it', async () => {
    const secretId = 'signet/kms-canary';
    const profile = testProfile({
      signer: 'kms',
      keyRing: { secretId },
      rotation: {
        rotateEvery: TIMINGS.rotateEvery,
        propagation: TIMINGS.propagation,
        clockSkew: 30,
        canary: { url: 'https://media.example.com/canary.txt' },
      },
    });
    const store = await sandbox.newStore(secretId);
    const checked: boolean[] = [];
    const probe = {
      async check(url: string) {
        const ring = (await store.load())!.ring;
        const trustedKeys = new Map(ring.keys.map((key) => [key.id!, parseVerifyingKey(key.publicKey!)]));
        const allowed = verifyRequest({ url, now: Math.floor(clock.millis() / 1000), trustedKeys }).allowed;
        checked.push(allowed);
        return { status: allowed ? 200 : 403 };
      },
    };
    const ports = {
      profileName: 'kms-canary',
      profile,
      store,
      registry: sandbox.registry,
      now: clock.now,
      kms: new SdkKmsKeyPort(client),
      canary: probe,
    };
    await runRotation(ports);
    clock.advance(TIMINGS.propagation);
    expect(await runRotation(ports)).toMatchObject({ ok: true, action: { kind: 'activate' } });
    expect(checked).toEqual([true]);
  });

  it('refuses to rotate a signer: kms profile without a KMS client, saying so', async () => {
    const secretId = 'signet/kms-no-client';
    const profile = testProfile({ signer: 'kms', keyRing: { secretId } });
    const store = await sandbox.newStore(secretId);
    await expect(
      runRotation({
        profileName: secretId.slice('signet/'.length),
        profile,
        store,
        registry: sandbox.registry,
        now: clock.now,
      }),
    ).rejects.toThrow(/Expected a KMS client for profile kms-no-client \(signer: kms\)/);
  });
});
