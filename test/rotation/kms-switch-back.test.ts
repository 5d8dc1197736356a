import { CreateDistributionCommand } from '@aws-sdk/client-cloudfront';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKms } from '../../infra/local/kms.ts';
import { type RunningSecretsManager, startSecretsManager } from '../../infra/local/secrets-manager.ts';
import { SdkKmsKeyPort } from '../../lib/aws/kms-key-port.ts';
import { localSigningKey, ringKeyPublicKey } from '../../lib/keys/kms.ts';
import type { KeyRingStore } from '../../lib/keys/store.ts';
import { KMS_DELETION_WINDOW_DAYS, KMS_RING_TAG, type KmsKeyPort } from '../../lib/rotation/kms-keys.ts';
import { type RotationResult, type RunRotationOptions, runRotation } from '../../lib/rotation/rotator.ts';
import { signUrl } from '../../lib/signing/index.ts';
import { RemoteSigner } from '../../lib/signing/remote.ts';
import { CapturingLog } from '../support/api.ts';
import { startEdgeWithFile } from '../support/edge.ts';
import { kmsClientFor } from '../support/kms.ts';
import { type FaultPlan, FaultSwitch, injectSdkFaults } from '../support/rotation-faults.ts';
import {
  HandClock,
  type RotationSandbox,
  startRotationSandbox,
  TIMINGS,
  testProfile,
} from '../support/rotation-sandbox.ts';

// Issue 16, switching back (docs/operators.md, "KMS signing"): a signer: kms profile is killed
// mid-rotation (a fault before or after a write to KMS, CloudFront or Secrets Manager), then its
// config is switched to signer: secrets-manager. Clean runs converge: the ring ends with no KMS key,
// every KMS key tagged for it is pending deletion (none left billing), and every URL signed with the
// active key along the way, through KMS or not, is answered 200 by the sandbox edge until it expires.

const EDGE_DELAY_S = 60;
const URL_TTL_S = 300;
const CYCLE = [0, TIMINGS.propagation, TIMINGS.rotateEvery, TIMINGS.propagation, TIMINGS.removal];
const WRITE = (label: string) => !/\.(Get|List|Describe)/.test(label);

let secretsManager: RunningSecretsManager;
let count = 0;
beforeAll(async () => {
  secretsManager = await startSecretsManager({ port: 0 });
});
afterAll(async () => {
  await secretsManager?.close();
});

interface Outcome {
  readonly calls: number;
  readonly log: readonly string[];
  readonly fired: string | undefined;
  /** KMS keys tagged for the ring that are neither the ring's nor pending deletion, at the end. */
  readonly billing: readonly string[];
  readonly ringKmsKeys: number;
  readonly statuses: readonly number[];
  /** The last run logged "KMS retired" (the operator may remove kms: retiring). */
  readonly retired: boolean;
}

async function trust(sandbox: RotationSandbox, keyGroupId: string, name: string) {
  await sandbox.clients.cloudfront.send(
    new CreateDistributionCommand({
      DistributionConfig: {
        CallerReference: `switch-back-${name}`,
        Comment: name,
        Enabled: true,
        Origins: { Quantity: 1, Items: [{ Id: 'origin', DomainName: 'origin.example' }] },
        DefaultCacheBehavior: {
          TargetOriginId: 'origin',
          ViewerProtocolPolicy: 'allow-all',
          TrustedKeyGroups: { Enabled: true, Quantity: 1, Items: [keyGroupId] },
        },
      },
    }),
  );
}

/** The file's URL signed with the ring's active key (through KMS when it is a KMS key), or undefined. */
async function signWithActive(
  store: KeyRingStore,
  kms: SdkKmsKeyPort,
  edgeUrl: string,
  nowMs: number,
): Promise<string | undefined> {
  const active = (await store.load())?.ring.keys.find((key) => key.state === 'active');
  if (active === undefined) return undefined;
  const now = Math.floor(nowMs / 1000);
  const options = { keyPairId: active.id!, hash: active.hash, expires: now + URL_TTL_S, now };
  const url = `${edgeUrl}/private/file.txt`;
  const arn = active.kmsKeyArn;
  if (arn === undefined) return signUrl({ ...options, url, key: localSigningKey(active) }).url;
  const remote = new RemoteSigner({
    algorithm: active.algorithm,
    publicKey: ringKeyPublicKey(active),
    signDigest: (digest) => kms.signDigest(arn, active.algorithm, digest),
  });
  return (await remote.signUrls([url], options))[0]!.url;
}

async function scenario(plan: FaultPlan | undefined, retiring: boolean): Promise<Outcome> {
  const clock = new HandClock();
  const sandbox = await startRotationSandbox({ clock, secretsManager });
  const edge = await startEdgeWithFile(sandbox, EDGE_DELAY_S, 'switched back\n');
  const kms = await startKms({ now: clock.now });
  const client = kmsClientFor(kms);
  const profileName = `switchback${++count}`;
  const secretId = `signet/${profileName}`;
  const store = await sandbox.newStore(secretId);
  const faults = new FaultSwitch();
  faults.plan = plan;
  faults.armed = false;
  injectSdkFaults(sandbox.clients.secretsManager as never, faults, 'secretsmanager');
  injectSdkFaults(sandbox.clients.cloudfront as never, faults, 'cloudfront');
  injectSdkFaults(client as never, faults, 'kms');
  const port = new SdkKmsKeyPort(client);
  const base: RunRotationOptions = {
    profileName,
    profile: testProfile({ signer: 'kms', keyRing: { secretId } }),
    store,
    registry: sandbox.registry,
    now: clock.now,
    kms: port,
  };
  const switched: RunRotationOptions = {
    ...base,
    profile: testProfile({
      signer: 'secrets-manager',
      ...(retiring ? { kms: 'retiring' } : {}),
      keyRing: { secretId },
    }),
  };

  let trusted = false;
  const outstanding: { url: string; expires: number }[] = [];
  const statuses: number[] = [];
  /** After each run: trust the key group once it exists, sign with the active key, fetch every live URL. */
  const check = async () => {
    const ring = (await store.load())?.ring;
    if (!trusted && ring?.keyGroupId !== undefined) {
      await trust(sandbox, ring.keyGroupId, profileName);
      trusted = true;
    }
    const url = await signWithActive(store, port, edge.url, clock.millis());
    if (url !== undefined) outstanding.push({ url, expires: clock.millis() + URL_TTL_S * 1000 });
    for (const signed of outstanding) {
      if (signed.expires <= clock.millis()) continue;
      statuses.push((await fetch(signed.url)).status);
    }
  };

  try {
    // signer: kms until the fault fires (or through the whole cycle when none is planned).
    for (const seconds of CYCLE) {
      clock.advance(seconds);
      faults.armed = true;
      let result: RotationResult | 'crashed';
      try {
        result = await runRotation(base);
      } catch (error) {
        if (faults.fired === undefined) throw error;
        result = 'crashed';
      } finally {
        faults.armed = false;
      }
      await check();
      if (result === 'crashed') break;
      expect(result.ok, JSON.stringify(result.violations)).toBe(true);
    }

    // Switched back: clean runs, following the times the rotator gives, until the ring holds no KMS
    // key and every KMS key tagged for it is scheduled for deletion (or the runs run out).
    const billing = () =>
      kms.standIn
        .listKeys()
        .filter((key) => key.tags[KMS_RING_TAG] === secretId && key.state !== 'PendingDeletion');
    let retired = false;
    for (let run = 0; run < 40; run++) {
      const log = new CapturingLog();
      const result = await runRotation({ ...switched, log });
      expect(result.ok, JSON.stringify([result.violations, result.refused])).toBe(true);
      await check();
      const ring = (await store.load())?.ring;
      const ringKms = ring?.keys.filter((key) => key.kmsKeyArn !== undefined) ?? [];
      // "KMS retired" (remove kms: retiring) only once nothing of the ring is left in KMS.
      retired = log.lines.some((line) => line.message.startsWith('KMS retired'));
      if (retired)
        expect({ ringKms: ringKms.length, billing: billing().length }).toEqual({ ringKms: 0, billing: 0 });
      if (ringKms.length === 0 && billing().length === 0 && result.action.kind === 'none') break;
      const next = result.nextAt === undefined ? 60 : (result.nextAt.getTime() - clock.millis()) / 1000;
      clock.advance(Math.min(Math.max(Math.ceil(next), 1), 600));
    }
    const ring = (await store.load())?.ring;
    return {
      calls: faults.calls,
      log: faults.log,
      fired: faults.fired,
      billing: billing().map((key) => key.arn),
      ringKmsKeys: ring?.keys.filter((key) => key.kmsKeyArn !== undefined).length ?? -1,
      statuses,
      retired,
    };
  } finally {
    client.destroy();
    await kms.close();
    await edge.close();
    await sandbox.close();
  }
}

/** Every fault plan over the writes of the signer: kms cycle: before and after each. */
async function plans(): Promise<{ plans: FaultPlan[]; log: readonly string[] }> {
  const clean = await scenario(undefined, true);
  expect(clean.billing).toEqual([]);
  expect(clean.retired).toBe(true);
  expect(clean.ringKmsKeys).toBe(0);
  expect(clean.statuses.length).toBeGreaterThan(10);
  expect(clean.statuses.filter((status) => status !== 200)).toEqual([]);
  const found: FaultPlan[] = [];
  for (let at = 1; at <= clean.calls; at++) {
    if (WRITE(clean.log[at - 1]!)) found.push({ at, when: 'before' }, { at, when: 'after' });
  }
  return { plans: found, log: clean.log };
}

async function runAll(list: readonly FaultPlan[], retiring: boolean): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  for (let index = 0; index < list.length; index += 6) {
    outcomes.push(
      ...(await Promise.all(list.slice(index, index + 6).map((plan) => scenario(plan, retiring)))),
    );
  }
  return outcomes;
}

/** A KMS port whose next ScheduleKeyDeletion dies before it is sent (a killed rotator), once. */
function killedBeforeScheduling(port: KmsKeyPort): KmsKeyPort & { killed: boolean } {
  const wrapped = {
    killed: false,
    createSigningKey: (input: Parameters<KmsKeyPort['createSigningKey']>[0]) => port.createSigningKey(input),
    publicKey: (arn: string) => port.publicKey(arn),
    describe: (arn: string) => port.describe(arn),
    listTagged: (key: string, value: string) => port.listTagged(key, value),
    scheduleDeletion: async (arn: string, days: number) => {
      if (!wrapped.killed) {
        wrapped.killed = true;
        throw new Error('killed before ScheduleKeyDeletion');
      }
      await port.scheduleDeletion(arn, days);
    },
    disable: (arn: string) => port.disable(arn),
  };
  return wrapped;
}

describe('switching a signer: kms profile back to secrets-manager', () => {
  it('with kms: retiring, converges after a kill at any write of the KMS cycle: no KMS key left billing, every signed URL answered 200', async () => {
    const { plans: list, log } = await plans();
    expect(log).toContain('kms.CreateKeyCommand');
    expect(list.length).toBeGreaterThan(20);
    const outcomes = await runAll(list, true);
    expect(outcomes.filter((outcome) => outcome.fired === undefined)).toEqual([]);
    expect(outcomes.filter((outcome) => outcome.fired?.includes(' kms.')).length).toBeGreaterThanOrEqual(4);
    for (const outcome of outcomes) {
      expect({
        fired: outcome.fired,
        billing: outcome.billing,
        ringKmsKeys: outcome.ringKmsKeys,
        retired: outcome.retired,
      }).toEqual({ fired: outcome.fired, billing: [], ringKmsKeys: 0, retired: true });
      expect(outcome.statuses.filter((status) => status !== 200)).toEqual([]);
    }
  }, 300_000);

  it('without kms: retiring but with KMS permissions (signet rotate with an operator’s credentials, the sandbox), a kill before ScheduleKeyDeletion of the ring’s last KMS key is swept (its history entry), and 30 days on no KMS call is made', async () => {
    const clock = new HandClock();
    const sandbox = await startRotationSandbox({ clock, secretsManager });
    const kms = await startKms({ now: clock.now });
    const client = kmsClientFor(kms);
    try {
      const secretId = `signet/switchback-history-${++count}`;
      const store = await sandbox.newStore(secretId);
      const port = new SdkKmsKeyPort(client);
      const base = { profileName: 'history', store, registry: sandbox.registry, now: clock.now };
      const kmsProfile = testProfile({ signer: 'kms', keyRing: { secretId } });
      const smProfile = testProfile({ keyRing: { secretId } });
      expect((await runRotation({ ...base, profile: kmsProfile, kms: port })).action.kind).toBe('bootstrap');
      clock.advance(TIMINGS.propagation);
      expect((await runRotation({ ...base, profile: kmsProfile, kms: port })).action.kind).toBe('activate');
      const kmsArn = (await store.load())!.ring.keys[0]!.kmsKeyArn!;

      // Switched back without the mark: the next key is a Secrets Manager key.
      const killing = killedBeforeScheduling(port);
      for (const [seconds, kind] of [
        [TIMINGS.rotateEvery, 'introduce'],
        [TIMINGS.propagation, 'activate'],
      ] as const) {
        clock.advance(seconds);
        expect((await runRotation({ ...base, profile: smProfile, kms: killing })).action.kind).toBe(kind);
      }
      clock.advance(TIMINGS.removal);
      await expect(runRotation({ ...base, profile: smProfile, kms: killing })).rejects.toThrow(
        /killed before ScheduleKeyDeletion/,
      );
      const ring = (await store.load())!.ring;
      expect(ring.keys.map((key) => key.kmsKeyArn)).toEqual([undefined]);
      expect(ring.history.at(-1)?.kmsKeyArn).toBe(kmsArn);
      const stateOf = () => kms.standIn.listKeys().find((key) => key.arn === kmsArn)?.state;
      expect(stateOf()).toBe('Enabled');

      // Only the history names it now: the next run sweeps it all the same.
      clock.advance(60);
      expect((await runRotation({ ...base, profile: smProfile, kms: port })).ok).toBe(true);
      expect(stateOf()).toBe('PendingDeletion');

      // Once "KMS retired" the operator may drop the stack's KMS permissions while the history entry
      // is still within its window: the sweep is then refused, which is a warning, not a failed run.
      kms.standIn.inject({ operation: 'ListKeys', error: 'AccessDeniedException' });
      const log = new CapturingLog();
      clock.advance(60);
      expect((await runRotation({ ...base, profile: smProfile, kms: port, log })).ok).toBe(true);
      expect(log.lines.filter((line) => line.level === 'warn').map((line) => line.message)).toContain(
        'KMS sweep skipped: not allowed to list the KMS keys tagged for this ring',
      );
      kms.standIn.clearFaults();
      // ...but a signer: kms profile's stack has them: a refusal there fails the run.
      kms.standIn.inject({ operation: 'ListKeys', error: 'AccessDeniedException', times: 1 });
      await expect(runRotation({ ...base, profile: kmsProfile, kms: port })).rejects.toMatchObject({
        name: 'AccessDeniedException',
      });
      kms.standIn.clearFaults();

      // Past the deletion window the ring has no reason to scan KMS any more.
      clock.advance(KMS_DELETION_WINDOW_DAYS * 86_400);
      const listed = kms.standIn.countCalls('ListKeys');
      await runRotation({ ...base, profile: smProfile, kms: port });
      expect(kms.standIn.countCalls('ListKeys')).toBe(listed);
    } finally {
      client.destroy();
      await kms.close();
      await sandbox.close();
    }
  });

  it('without kms: retiring but with KMS permissions (a deployed stack refuses this switch: bootstrap-guards.test.ts), sweeps while the ring names a KMS key; only a key a kill left before the first ring write stays billing (why kms: retiring exists)', async () => {
    const { plans: list, log } = await plans();
    // The KMS writes only: CreateKey and ScheduleKeyDeletion, before and after.
    const kmsPlans = list.filter((plan) => log[plan.at - 1]!.startsWith('kms.'));
    const outcomes = await runAll(kmsPlans, false);
    const firstCreate = log.indexOf('kms.CreateKeyCommand') + 1;
    for (const outcome of outcomes) {
      expect(outcome.ringKmsKeys).toBe(0);
      expect(outcome.statuses.filter((status) => status !== 200)).toEqual([]);
      // Not marked retiring: the rotator never says "KMS retired".
      expect(outcome.retired).toBe(false);
      const orphaned = outcome.fired === `after kms.CreateKeyCommand (call ${firstCreate})`;
      expect({ fired: outcome.fired, billing: outcome.billing.length }).toEqual({
        fired: outcome.fired,
        billing: orphaned ? 1 : 0,
      });
    }
  }, 300_000);
});
