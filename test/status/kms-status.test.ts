import type { KMSClient } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningKms, startKms } from '../../infra/local/kms.ts';
import { SdkKmsKeyPort } from '../../lib/aws/kms-key-port.ts';
import { liveSources } from '../../lib/cli/doctor.ts';
import { parseConfig } from '../../lib/config/index.ts';
import type { KmsKeyPort } from '../../lib/rotation/kms-keys.ts';
import { runRotation } from '../../lib/rotation/rotator.ts';
import { renderStatus } from '../../lib/status/page.ts';
import { readStatus } from '../../lib/status/read.ts';
import { kmsClientFor } from '../support/kms.ts';
import {
  HandClock,
  type RotationSandbox,
  startRotationSandbox,
  TIMINGS,
} from '../support/rotation-sandbox.ts';

// The status page of a signer: kms profile (docs/operators.md, "The status page"): each key shows the
// KMS key it signs through and KMS's word on it (Enabled, Disabled, PendingDeletion with the date),
// read through the KMS port with DescribeKey only, against the KMS, Secrets Manager and CloudFront
// stand-ins through the real SDK clients.

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

/** The port the status page gets: everything but DescribeKey throws, so a write cannot pass unseen. */
function describeOnly(port: KmsKeyPort): Pick<KmsKeyPort, 'describe'> & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    describe: (arn) => {
      calls.push(arn);
      return port.describe(arn);
    },
  };
}

describe('status of a signer: kms profile', () => {
  it('shows each key’s KMS key ARN and state: Enabled while it signs, PendingDeletion with its date once removed, Disabled when disabled', async () => {
    const secretId = 'signet/kms-status';
    const config = parseConfig({
      profiles: {
        media: {
          domains: ['media.example.com'],
          keyRing: { secretId },
          signer: 'kms',
          ttl: { default: 60, max: 300 },
          cache: { ttl: 30, maxStale: 60 },
          rotation: {
            rotateEvery: TIMINGS.rotateEvery,
            propagation: TIMINGS.propagation,
            clockSkew: 30,
          },
        },
      },
    });
    const profile = config.profiles.media!;
    const store = await sandbox.newStore(secretId);
    const port = new SdkKmsKeyPort(client);
    const run = () =>
      runRotation({
        profileName: 'media',
        profile,
        store,
        registry: sandbox.registry,
        now: clock.now,
        kms: port,
      });
    for (const seconds of [
      0,
      TIMINGS.propagation,
      TIMINGS.rotateEvery,
      TIMINGS.propagation,
      TIMINGS.removal,
    ]) {
      clock.advance(seconds);
      expect((await run()).ok).toBe(true);
    }
    const ring = (await store.load())!.ring;
    const active = ring.keys.find((key) => key.state === 'active')!;
    const removed = ring.history.at(-1)!;
    expect(removed.kmsKeyArn).toMatch(/^arn:aws:kms:/);

    const reader = describeOnly(port);
    const status = () =>
      readStatus({
        config,
        profileName: 'media',
        sources: {
          rotation: { store, registry: sandbox.registry },
          doctor: liveSources(sandbox.clients, port),
          kms: reader,
        },
        now: clock.now(),
        source: 'test',
        pollSeconds: 5,
      });
    const before = kms.standIn.countCalls('Sign');
    let doc = await status();
    const byState = (state: string) => doc.keys.find((key) => key.state === state)!;
    expect(byState('active').kms).toEqual({ arn: active.kmsKeyArn, state: 'Enabled', deletionDate: null });
    expect(byState('removed').kms).toEqual({
      arn: removed.kmsKeyArn,
      state: 'PendingDeletion',
      deletionDate: new Date(Date.parse(removed.removedAt!) + 30 * DAY_MS).toISOString(),
    });
    // Read-only: DescribeKey for the keys it shows, nothing else (no Sign, no write).
    expect([...reader.calls].sort()).toEqual([active.kmsKeyArn, removed.kmsKeyArn].sort());
    expect(kms.standIn.countCalls('Sign')).toBe(before);
    const page = renderStatus(doc).toString();
    expect(page).toContain(active.kmsKeyArn!);
    expect(page).toContain('data-kms-state="PendingDeletion"');

    await port.disable(active.kmsKeyArn!);
    doc = await status();
    expect(byState('active').kms).toMatchObject({ arn: active.kmsKeyArn, state: 'Disabled' });
    expect(renderStatus(doc).toString()).toContain('data-kms-state="Disabled"');
    // Doctor's finding for it reaches the page too (it names the command that undoes it).
    expect(doc.findings.map((finding) => finding.code)).toContain('KMS_KEY_UNUSABLE');
  });

  it('shows no KMS key for a secrets-manager profile and asks KMS nothing', async () => {
    const secretId = 'signet/sm-status';
    const config = parseConfig({
      profiles: { plain: { domains: ['media.example.com'], keyRing: { secretId } } },
    });
    const store = await sandbox.newStore(secretId);
    const boot = await runRotation({
      profileName: 'plain',
      profile: config.profiles.plain!,
      store,
      registry: sandbox.registry,
      now: clock.now,
    });
    expect(boot.action.kind).toBe('bootstrap');
    const reader = describeOnly(new SdkKmsKeyPort(client));
    const doc = await readStatus({
      config,
      profileName: 'plain',
      sources: {
        rotation: { store, registry: sandbox.registry },
        doctor: liveSources(sandbox.clients),
        kms: reader,
      },
      now: clock.now(),
      source: 'test',
      pollSeconds: 5,
    });
    expect(doc.keys.length).toBeGreaterThan(0);
    expect(doc.keys.map((key) => key.kms)).toEqual(doc.keys.map(() => null));
    expect(reader.calls).toEqual([]);
  });
});
