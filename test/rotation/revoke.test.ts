import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkInvariants } from '../../lib/rotation/invariants.ts';
import { fingerprintOfRegistered } from '../../lib/rotation/ownership.ts';
import { revokeKey } from '../../lib/rotation/revoke.ts';
import { type CycleContext, expectConverged, rotate } from '../support/rotation-cycle.ts';
import { FaultSwitch, InjectedFaultError, withFaults } from '../support/rotation-faults.ts';
import {
  HandClock,
  observeRotation,
  startRotationSandbox,
  TIMINGS,
  testProfile,
} from '../support/rotation-sandbox.ts';
import { RecordingLog, RecordingMetrics } from '../support/rotation-telemetry.ts';

// `signet revoke` as a lib/rotation operation (docs/design.md, "Revocation"): the key leaves the ring (into
// history with revokedAt), the group and CloudFront; the newest trusted key takes over, or signing
// stops until a new key has propagated. testProfile: maxStale 60, ttl.max 300, clockSkew 30.

const profile = testProfile();
let sandbox: Awaited<ReturnType<typeof startRotationSandbox>>;

beforeAll(async () => {
  sandbox = await startRotationSandbox();
});
afterAll(async () => {
  await sandbox?.close();
});

/** A profile with its own secret, clock and CloudFront stand-in. */
async function freshProfile(name: string): Promise<CycleContext> {
  const clock = new HandClock();
  const own = await startRotationSandbox({ clock, secretsManager: sandbox.secretsManager });
  closers.push(() => own.close());
  return {
    profileName: name,
    profile,
    store: await own.newStore(`signet/${name}`),
    registry: own.registry,
    clock,
  };
}
const closers: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const close of closers) await close();
});

/** Bootstraps and activates the first key; with `pending`, also introduces a second one. */
async function activeProfile(name: string, options: { pending?: 'propagated' | 'fresh' } = {}) {
  const context = await freshProfile(name);
  await rotate(context);
  context.clock.advance(TIMINGS.propagation);
  const first = await rotate(context);
  let pendingKeyId: string | undefined;
  if (options.pending !== undefined) {
    context.clock.advance(TIMINGS.rotateEvery);
    pendingKeyId = (await rotate(context)).pendingKeyId;
    if (options.pending === 'propagated') context.clock.advance(TIMINGS.propagation);
  }
  return { context, activeKeyId: first.activeKeyId!, pendingKeyId };
}

function revoke(context: CycleContext, keyId: string, extra: Partial<Parameters<typeof revokeKey>[0]> = {}) {
  return revokeKey({
    profileName: context.profileName,
    profile: context.profile,
    store: context.store,
    registry: context.registry,
    now: context.clock.now,
    keyId,
    ...extra,
  });
}

const iso = (clock: HandClock, plusSeconds = 0) =>
  new Date(clock.millis() + plusSeconds * 1000).toISOString();

describe('revokeKey', () => {
  it('revokes the active key, activates the propagated pending key and says which URLs fail until when', async () => {
    const { context, activeKeyId, pendingKeyId } = await activeProfile('swap', { pending: 'propagated' });
    const before = await observeRotation(context.store, context.registry);
    const revoked = before.ring!.keys.find((key) => key.id === activeKeyId)!;
    const log = new RecordingLog();
    const metrics = new RecordingMetrics();

    const result = await revoke(context, activeKeyId, { log, metrics });

    expect(result.plan).toMatchObject({
      keyId: activeKeyId,
      previousState: 'active',
      activate: { keyId: pendingKeyId, wasState: 'pending' },
      inGroup: true,
      registered: true,
      introduce: false,
      signing: { stops: false },
    });
    // Signed from its activation until now, plus maxStale (60 s) for cached rings; valid up to
    // ttl.max (300 s) + clockSkew (30 s) after that.
    expect(result.plan.exposure).toEqual({
      signedFrom: new Date(revoked.activatedAt!),
      signedUntil: new Date(iso(context.clock, 60)),
      failingUntil: new Date(iso(context.clock, 60 + 300 + 30)),
    });
    expect(result).toMatchObject({ activeKeyId: pendingKeyId, pendingKeyId: undefined, violations: [] });
    const after = await observeRotation(context.store, context.registry);
    expect(after.ring!.keys).toEqual([
      expect.objectContaining({ id: pendingKeyId, state: 'active', activatedAt: iso(context.clock) }),
    ]);
    expect(after.ring!.history).toEqual([
      {
        id: activeKeyId,
        fingerprint: revoked.fingerprint,
        activatedAt: revoked.activatedAt,
        retiredAt: iso(context.clock),
        revokedAt: iso(context.clock),
        // The recorded "fails until": later runs and doctor judge the revocation by it.
        validUntil: iso(context.clock, 60 + 300 + 30),
      },
    ]);
    expect(after.group!.items).toEqual([pendingKeyId]);
    expect(after.publicKeys.map((key) => key.id)).toEqual([pendingKeyId]);
    expect(metrics.of('RotationRevocations')).toEqual([
      {
        kind: 'count',
        name: 'RotationRevocations',
        value: 1,
        dimensions: { profile: 'swap', state: 'active' },
      },
    ]);
    expect(log.lines).toContainEqual(expect.objectContaining({ level: 'warn', message: 'key revoked' }));
    expect(log.text()).not.toContain('PRIVATE KEY');
    await expectConverged(context);

    // Twice is harmless: the ring already says so, nothing left to withdraw.
    const again = await revoke(context, activeKeyId);
    expect(again.plan).toMatchObject({ previousState: 'revoked', nextRing: undefined, inGroup: false });
    expect(again.commits).toEqual([]);
  });

  it('with no other trusted key: introduces one and says signing stops until it has propagated', async () => {
    const { context, activeKeyId } = await activeProfile('alone');
    const result = await revoke(context, activeKeyId);
    expect(result.plan).toMatchObject({
      previousState: 'active',
      activate: undefined,
      introduce: true,
      signing: { stops: true, resumesAt: new Date(iso(context.clock, TIMINGS.propagation)) },
    });
    expect(result.activeKeyId).toBeUndefined();
    const after = await observeRotation(context.store, context.registry);
    const replacement = after.ring!.keys[0]!;
    expect(after.ring!.keys).toHaveLength(1);
    expect(replacement).toMatchObject({ state: 'pending', trustedAt: iso(context.clock) });
    expect(result.pendingKeyId).toBe(replacement.id);
    expect(after.group!.items).toEqual([replacement.id]);
    // CloudFront refuses an empty key group: the replacement joins it before the revoked key leaves.
    expect(result.commits.map((commit) => commit.step)).toEqual(['revoke', 'trust', 'revoke']);
    expect(after.publicKeys.map((key) => key.id)).toEqual([replacement.id]);

    // The rotator activates it once it has propagated, not before.
    context.clock.advance(TIMINGS.propagation - 1);
    expect((await rotate(context)).action.kind).toBe('none');
    context.clock.advance(1);
    expect(await rotate(context)).toMatchObject({
      action: { kind: 'activate' },
      activeKeyId: replacement.id,
    });
    await expectConverged(context);
  });

  it('prefers waiting for a pending key that has not propagated over activating it early', async () => {
    const { context, activeKeyId, pendingKeyId } = await activeProfile('early', { pending: 'fresh' });
    context.clock.advance(10);
    const result = await revoke(context, activeKeyId);
    expect(result.plan).toMatchObject({
      activate: undefined,
      introduce: false,
      signing: {
        stops: true,
        waitingForKeyId: pendingKeyId,
        resumesAt: new Date(iso(context.clock, TIMINGS.propagation - 10)),
      },
    });
    expect(result).toMatchObject({ activeKeyId: undefined, pendingKeyId });
  });

  it('revokes a retiring key (URLs it signed until its retirement fail) and a pending key (none fail)', async () => {
    const { context, activeKeyId, pendingKeyId } = await activeProfile('retire', { pending: 'propagated' });
    const activated = await rotate(context);
    expect(activated.action.kind).toBe('activate');
    const retiredAt = iso(context.clock);
    context.clock.advance(100);
    const retiring = await revoke(context, activeKeyId);
    expect(retiring.plan).toMatchObject({
      previousState: 'retiring',
      activate: undefined,
      signing: { stops: false },
    });
    expect(retiring.plan.exposure.signedUntil).toEqual(new Date(Date.parse(retiredAt) + 60_000));
    expect(retiring.activeKeyId).toBe(pendingKeyId);

    context.clock.advance(TIMINGS.rotateEvery);
    const introduced = await rotate(context);
    const pending = await revoke(context, introduced.pendingKeyId!);
    expect(pending.plan).toMatchObject({ previousState: 'pending', exposure: {}, signing: { stops: false } });
    expect(pending.activeKeyId).toBe(pendingKeyId);
    await expectConverged(context);
  });

  it('refuses a key that is neither in the ring nor in its history', async () => {
    const { context } = await activeProfile('unknown');
    await expect(revoke(context, 'K00000000000000')).rejects.toMatchObject({
      code: 'ERR_REVOKE_UNKNOWN_KEY',
    });
  });

  for (const pending of ['propagated', undefined] as const) {
    const scenario = pending === undefined ? 'the only key' : 'with a propagated pending key';
    it(`converges after a crash before or after every call (${scenario}), never leaving an active key the group lacks`, async () => {
      const faults = new FaultSwitch();
      const wrap = (context: CycleContext) => ({
        ...context,
        store: withFaults(context.store, faults, 'store'),
        registry: withFaults(context.registry, faults, 'registry'),
      });
      const probe = await activeProfile(`probe-${pending}`, {
        ...(pending === undefined ? {} : { pending }),
      });
      await revoke(wrap(probe.context), probe.activeKeyId);
      const calls = faults.calls;
      expect(calls).toBeGreaterThanOrEqual(8);

      for (let at = 1; at <= calls; at++) {
        for (const when of ['before', 'after'] as const) {
          const { context, activeKeyId, pendingKeyId } = await activeProfile(
            `crash-${pending}-${at}-${when}`,
            {
              ...(pending === undefined ? {} : { pending }),
            },
          );
          faults.plan = { at, when };
          faults.calls = 0;
          await revoke(wrap(context), activeKeyId).catch((error: unknown) => {
            expect(error).toBeInstanceOf(InjectedFaultError);
          });
          faults.plan = undefined;
          // Whatever the crash left: the ring's active key is one every edge trusts, and no key is lost.
          const crashed = await observeRotation(context.store, context.registry);
          const codes = checkInvariants({
            ...crashed,
            now: context.clock.now(),
            profileName: context.profileName,
            profile,
          }).map((violation) => violation.code);
          expect(codes).not.toContain('ACTIVE_NOT_IN_GROUP');
          expect(codes).not.toContain('ACTIVE_NOT_PROPAGATED');
          // Every key in the group but the revoked one (whose private key is dropped on purpose) has its
          // private key in the ring.
          const fingerprints = new Set(crashed.ring!.keys.map((key) => key.fingerprint));
          for (const id of crashed.group!.items.filter((item) => item !== activeKeyId)) {
            const key = crashed.publicKeys.find((candidate) => candidate.id === id)!;
            expect(fingerprints).toContain(fingerprintOfRegistered(key));
          }

          // Once the ring records the revocation, the scheduled rotator finishes the work as well as
          // a second `signet revoke` does; before that, nothing was revoked and the operator reruns.
          const recorded = crashed.ring!.history.length > 0;
          if (!recorded || at % 2 === 0) await revoke(context, activeKeyId);
          else await rotate(context);
          await rotate(context);
          const after = await observeRotation(context.store, context.registry);
          expect(after.ring!.history).toEqual([
            expect.objectContaining({ id: activeKeyId, revokedAt: expect.any(String) }),
          ]);
          expect(after.group!.items).not.toContain(activeKeyId);
          expect(after.publicKeys.map((key) => key.id)).not.toContain(activeKeyId);
          if (pendingKeyId !== undefined)
            expect(after.ring!.keys.find((key) => key.state === 'active')!.id).toBe(pendingKeyId);
          else
            expect(after.ring!.keys).toEqual([
              expect.objectContaining({ state: 'pending', trustedAt: expect.any(String) }),
            ]);
          await expectConverged(context);
        }
      }
    });
  }
});
