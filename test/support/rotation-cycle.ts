import { expect } from 'vitest';
import type { Profile } from '../../lib/config/schema.ts';
import type { KeyRingStore } from '../../lib/keys/store.ts';
import { checkInvariants } from '../../lib/rotation/invariants.ts';
import { isSignetKeyNameOf } from '../../lib/rotation/names.ts';
import { fingerprintOfRegistered } from '../../lib/rotation/ownership.ts';
import type { KeyGroupRegistry } from '../../lib/rotation/registry.ts';
import { type RotationResult, type RunRotationOptions, runRotation } from '../../lib/rotation/rotator.ts';
import { type HandClock, observeRotation } from './rotation-sandbox.ts';

/** The ports and settings a run needs, minus what each step varies. */
export interface CycleContext {
  readonly profileName: string;
  readonly profile: Profile;
  readonly store: KeyRingStore;
  readonly registry: KeyGroupRegistry;
  readonly clock: HandClock;
  readonly extra?: Partial<RunRotationOptions>;
}

/** One run at the current time. */
export function rotate(
  context: CycleContext,
  extra: Partial<RunRotationOptions> = {},
): Promise<RotationResult> {
  return runRotation({
    profileName: context.profileName,
    profile: context.profile,
    store: context.store,
    registry: context.registry,
    now: context.clock.now,
    ...context.extra,
    ...extra,
  });
}

/**
 * Asserts that no private key is lost: every Signet key of the profile in the group has its private
 * key in the ring (AWSCURRENT), matched by fingerprint. Read through `store` and `registry`, which
 * should be the undecorated ones.
 */
export async function expectNoLostPrivateKey(context: CycleContext): Promise<void> {
  const { ring, group, publicKeys } = await observeRotation(context.store, context.registry);
  if (group === undefined) return;
  const fingerprints = new Set(ring?.keys.map((key) => key.fingerprint) ?? []);
  for (const id of group.items) {
    const key = publicKeys.find((candidate) => candidate.id === id);
    if (key === undefined || !isSignetKeyNameOf(context.profileName, key.name)) continue;
    expect(fingerprints, `key ${id} is in the group but its private key is in no ring`).toContain(
      fingerprintOfRegistered(key),
    );
  }
}

/** Asserts a converged state: invariants hold (no warnings either), no Signet key outside the ring. */
export async function expectConverged(context: CycleContext): Promise<void> {
  const observed = await observeRotation(context.store, context.registry);
  const violations = checkInvariants({
    ring: observed.ring,
    group: observed.group,
    publicKeys: observed.publicKeys,
    now: context.clock.now(),
    profileName: context.profileName,
    profile: context.profile,
  });
  expect(violations).toEqual([]);
  const ringIds = new Set(observed.ring?.keys.map((key) => key.id));
  const signetKeys = observed.publicKeys.filter((key) => isSignetKeyNameOf(context.profileName, key.name));
  expect(signetKeys.filter((key) => !ringIds.has(key.id))).toEqual([]);
  expect(observed.group?.items.length ?? 0).toBeLessThanOrEqual(5);
}
