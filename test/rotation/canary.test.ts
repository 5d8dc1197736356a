import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateDistributionCommand } from '@aws-sdk/client-cloudfront';
import { afterEach, describe, expect, it } from 'vitest';
import { startEdge } from '../../infra/local/edge.ts';
import { CANARY_TTL_SECONDS, type CanaryProbe } from '../../lib/rotation/canary.ts';
import { tempDir } from '../support/cli.ts';
import { type CycleContext, expectConverged, rotate } from '../support/rotation-cycle.ts';
import {
  HandClock,
  observeRotation,
  type RotationSandbox,
  startRotationSandbox,
  TIMINGS,
  testProfile,
} from '../support/rotation-sandbox.ts';
import { RecordingLog, RecordingMetrics } from '../support/rotation-telemetry.ts';

// Issue 5, acceptance 4: before activating, the rotator fetches a canary object through the
// distribution with a URL the pending key signed; only a 200 lets the activation happen.

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

const CLOCK_SKEW = 30;

/** Stand-ins, an edge that applies key group changes `edgeDelayS` late, and a profile with a canary on it. */
async function setUp(name: string, edgeDelayS: number) {
  const clock = new HandClock();
  const sandbox: RotationSandbox = await startRotationSandbox({ clock });
  closers.push(() => sandbox.close());
  const originsDir = tempDir();
  mkdirSync(join(originsDir, 'origin.example/private'), { recursive: true });
  writeFileSync(join(originsDir, 'origin.example/private/canary.txt'), 'ok\n');
  const edge = await startEdge({
    control: sandbox.cloudfront.standIn,
    propagationDelayMs: edgeDelayS * 1000,
    originsDir,
    now: clock.millis,
  });
  closers.push(() => edge.close());
  const profile = testProfile({
    rotation: {
      rotateEvery: TIMINGS.rotateEvery,
      propagation: TIMINGS.propagation,
      clockSkew: CLOCK_SKEW,
      canary: { url: `${edge.url}/private/canary.txt` },
    },
  });
  const log = new RecordingLog();
  const metrics = new RecordingMetrics();
  const context: CycleContext = {
    profileName: name,
    profile,
    store: await sandbox.newStore(`signet/${name}`),
    registry: sandbox.registry,
    clock,
    extra: { log, metrics },
  };
  return { clock, sandbox, edge, context, log, metrics };
}

async function trustGroup(sandbox: RotationSandbox, keyGroupId: string) {
  await sandbox.clients.cloudfront.send(
    new CreateDistributionCommand({
      DistributionConfig: {
        CallerReference: `canary-${keyGroupId}`,
        Comment: 'canary',
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

describe('the activation canary, through the sandbox edge', () => {
  it('holds the activation while the edge lacks the pending key, and lets it through once the key arrives', async () => {
    // The edge lags 200 s behind the API: longer than the 120 s propagation wait, as a slow
    // CloudFront rollout would. Only the canary notices.
    const { clock, sandbox, context, log, metrics } = await setUp('canary', 200);
    const boot = await rotate(context);
    await trustGroup(sandbox, boot.keyGroupId!);

    clock.advance(TIMINGS.propagation);
    const held = await rotate(context);
    expect(held).toMatchObject({
      ok: false,
      transitioned: false,
      activeKeyId: undefined,
      action: { kind: 'blocked', reason: 'canary-failed' },
    });
    expect(held.action.kind === 'blocked' && held.action.message).toMatch(
      /^Expected the canary http:\/\/127\.0\.0\.1:\d+\/private\/canary\.txt signed with pending key K\w+ to answer 200; got 403\./,
    );
    expect((await observeRotation(context.store, context.registry)).ring!.keys[0]!.state).toBe('pending');
    expect(metrics.of('RotationCanaryFailures')).toEqual([
      { kind: 'count', name: 'RotationCanaryFailures', value: 1, dimensions: { profile: 'canary' } },
    ]);
    expect(log.lines).toContainEqual(
      expect.objectContaining({
        level: 'error',
        message: 'rotation canary failed: activation held',
        fields: expect.objectContaining({ status: 403, keyId: boot.pendingKeyId }),
      }),
    );
    // The signed canary URL is a credential for a minute: only the unsigned one is logged.
    expect(log.text()).not.toContain('Signature=');
    expect(log.text()).not.toContain('PRIVATE KEY');

    clock.advance(60);
    expect((await rotate(context)).action.kind).toBe('blocked');
    clock.advance(20);
    const activated = await rotate(context);
    expect(activated).toMatchObject({
      ok: true,
      action: { kind: 'activate' },
      activeKeyId: boot.pendingKeyId,
    });
    expect(metrics.of('RotationCanaryFailures')).toHaveLength(2);
    await expectConverged(context);
  });

  it('passes at once when the edge keeps up', async () => {
    const { clock, sandbox, context, metrics } = await setUp('prompt', 60);
    const boot = await rotate(context);
    await trustGroup(sandbox, boot.keyGroupId!);
    clock.advance(TIMINGS.propagation);
    expect(await rotate(context)).toMatchObject({ ok: true, action: { kind: 'activate' } });
    expect(metrics.of('RotationCanaryFailures')).toEqual([]);
    expect(metrics.of('RotationCanaryPasses')).toEqual([
      { kind: 'count', name: 'RotationCanaryPasses', value: 1, dimensions: { profile: 'prompt' } },
    ]);
  });

  it('signs the canary with the pending key, canned and short-lived, and treats a failed fetch as a failure', async () => {
    const { clock, sandbox, context } = await setUp('probe', 0);
    const boot = await rotate(context);
    await trustGroup(sandbox, boot.keyGroupId!);
    clock.advance(TIMINGS.propagation);
    const seen: string[] = [];
    const failing: CanaryProbe = {
      async check(url) {
        seen.push(url);
        throw new Error('connect ECONNREFUSED');
      },
    };
    const held = await rotate(context, { canary: failing });
    expect(held.action).toMatchObject({ kind: 'blocked', reason: 'canary-failed' });
    expect(held.action.kind === 'blocked' && held.action.message).toContain(
      'the request failed: connect ECONNREFUSED.',
    );
    const url = new URL(seen[0]!);
    const now = Math.floor(clock.millis() / 1000);
    expect(url.pathname).toBe('/private/canary.txt');
    expect(url.searchParams.get('Expires')).toBe(String(now + CANARY_TTL_SECONDS + CLOCK_SKEW));
    expect(url.searchParams.get('Key-Pair-Id')).toBe(boot.pendingKeyId);
    expect(url.searchParams.has('Policy')).toBe(false);

    const answering: CanaryProbe = { check: async () => ({ status: 200 }) };
    expect((await rotate(context, { canary: answering })).action.kind).toBe('activate');
  });
});
