import { randomUUID } from 'node:crypto';
import type { Profile } from '../config/schema.ts';
import type { KeyRingStore } from '../keys/store.ts';
import { type Log, silentLog } from '../telemetry/ports.ts';
import { RotationError } from './errors.ts';
import { MAX_KEYS_PER_GROUP } from './quotas.ts';
import type { DistributionTrust, DistributionTrustReader, KeyGroupRegistry } from './registry.ts';
import { findKeyGroup, retryOnConflict, retryOnStaleETag } from './retry.ts';

// Moving a ring to another key group (docs/operators.md, "Changing the key group"): what a stack
// update with a new AdoptKeyGroupId (or keyGroupId) does. Every link stays valid: the new group
// trusts the ring's keys before the ring switches to it, and the old group keeps them.

/** Options of {@link moveKeyGroup}. */
export interface MoveKeyGroupOptions {
  readonly profileName: string;
  readonly profile: Profile;
  readonly store: KeyRingStore;
  readonly registry: KeyGroupRegistry;
  /** What proves that no distribution trusts the old group without the new one; absent: nothing proves it. */
  readonly distributions: DistributionTrustReader | undefined;
  /** The key group the ring is to use. */
  readonly to: string;
  readonly now: () => Date;
  readonly log?: Log;
  readonly runId?: string;
}

/** What {@link moveKeyGroup} did. */
export type MoveKeyGroupResult =
  /** The ring has no key group yet (a bootstrap adopts `to`), or already uses `to`. */
  | { readonly moved: false }
  | {
      readonly moved: true;
      readonly from: string;
      readonly to: string;
      /** The ring's keys the new group was given (it held the others already). */
      readonly addedKeyIds: readonly string[];
      /** The ring's keys the old group keeps; each leaves it when the rotator removes it. */
      readonly keptInOld: readonly string[];
    };

/** A move Signet will not make, with what the operator can do: nothing was changed. */
export class KeyGroupMoveRefusedError extends RotationError {
  constructor(message: string) {
    super('ERR_ROTATION_KEY_GROUP_MOVE_REFUSED', message);
    this.name = 'KeyGroupMoveRefusedError';
  }
}

/**
 * Moves the profile's ring from the key group it records to `to`, or refuses
 * ({@link KeyGroupMoveRefusedError}) with nothing changed. The move is made only when it provably
 * breaks no link:
 * 1. `to` exists and can hold every key of the ring that has a CloudFront id (active, pending,
 *    retiring: every key whose URLs may still be valid) within CloudFront's 5 keys per group;
 * 2. every distribution of the account (ListDistributions) is `Deployed`, and every cache behaviour
 *    that trusts the old group trusts `to` as well: so an edge that has not yet learnt `to`'s new
 *    keys still accepts them through the old group, and a key introduced later into `to` only is
 *    trusted wherever the old group was.
 * Then, in this order (a crash at any point leaves a state a retry finishes): `to` gets the ring's
 * keys; the ring records `to` (compare-and-swap). The old group keeps its keys: a distribution may
 * still trust it, and the rotator takes each key out of it when it removes the key.
 */
export async function moveKeyGroup(options: MoveKeyGroupOptions): Promise<MoveKeyGroupResult> {
  const runId = options.runId ?? randomUUID();
  return retryOnConflict(
    {
      exhausted: (maxAttempts, cause) =>
        new RotationError(
          'ERR_ROTATION_RETRIES_EXHAUSTED',
          `Expected to move profile ${options.profileName} to key group ${options.to} within ${maxAttempts} attempts; ` +
            'other writers kept changing the key ring or key group.',
          { cause },
        ),
    },
    () => attempt(options, runId),
  );
}

async function attempt(options: MoveKeyGroupOptions, runId: string): Promise<MoveKeyGroupResult> {
  const { profileName, registry, store, to } = options;
  const log = options.log ?? silentLog;
  const loaded = await store.load();
  const from = loaded?.ring.keyGroupId;
  if (loaded === undefined || from === undefined || from === to) return { moved: false };
  const { ring } = loaded;
  const refuse = (why: string): never => {
    throw new KeyGroupMoveRefusedError(
      `Signet did not move profile ${profileName} from key group ${from} to ${to}: ${why} Nothing was changed. ` +
        `To move without breaking a link: make every cache behaviour that trusts ${from} trust ${to} as well ` +
        '(a behaviour trusts up to 4 key groups) and wait until each distribution is Deployed; deploy again ' +
        `(the bootstrap gives ${to} the ring's keys and moves the ring; ${from} keeps its keys); after ` +
        `rotation.propagation, drop ${from} from the behaviours. Or deploy with the old key group ${from}.`,
    );
  };

  const target = await findKeyGroup(registry, to);
  if (target === undefined) return refuse(`key group ${to} does not exist.`);
  const registered = new Set((await registry.listPublicKeys()).map((key) => key.id));
  const ringIds = ring.keys.flatMap((key) =>
    key.id !== undefined && registered.has(key.id) ? [key.id] : [],
  );
  const needed = [...new Set([...target.items, ...ringIds])];
  if (needed.length > MAX_KEYS_PER_GROUP) {
    return refuse(
      `${to} holds ${target.items.length} key(s); with the ring's ${ringIds.length} it would hold ${needed.length}, ` +
        `over CloudFront's ${MAX_KEYS_PER_GROUP} per key group.`,
    );
  }
  if (options.distributions === undefined)
    return refuse('nothing here can list the distributions that trust it.');
  let distributions: readonly DistributionTrust[];
  try {
    distributions = await options.distributions.listDistributionTrust();
  } catch (error) {
    return refuse(
      `the distributions that trust it could not be listed (${(error as Error).name}: ${(error as Error).message}).`,
    );
  }
  const involved = distributions.filter((d) =>
    d.behaviors.some((b) => b.trustedKeyGroups.includes(from) || b.trustedKeyGroups.includes(to)),
  );
  const deploying = involved.filter((d) => d.status !== 'Deployed').map((d) => `${d.id} (${d.status})`);
  if (deploying.length > 0) return refuse(`distribution(s) ${deploying.join(', ')} are not Deployed yet.`);
  const oldOnly = involved.flatMap((d) =>
    d.behaviors
      .filter((b) => b.trustedKeyGroups.includes(from) && !b.trustedKeyGroups.includes(to))
      .map((b) => `${d.id} ${b.pathPattern}`),
  );
  if (oldOnly.length > 0) {
    return refuse(
      `cache behaviour(s) ${oldOnly.join(', ')} trust ${from} but not ${to}, so a key the rotator adds to ${to} only would be refused there.`,
    );
  }

  // 1. The new group trusts every key of the ring.
  const added = ringIds.filter((id) => !target.items.includes(id));
  if (added.length > 0) {
    await retryOnStaleETag(registry, target, async (current) => {
      const items = [...new Set([...current.items, ...ringIds])];
      if (items.length > MAX_KEYS_PER_GROUP) return refuse(`${to} filled up while the ring moved.`);
      return items.length === current.items.length ? current : registry.updateKeyGroup(current, items);
    });
  }
  // 2. The ring switches (compare-and-swap: another writer's change re-reads and starts over).
  const transition = `move-key-group:${to}:${options.now().toISOString()}:${runId}`;
  await store.save({ ...ring, keyGroupId: to }, loaded.version, transition);
  const old = await findKeyGroup(registry, from);
  const keptInOld = (old?.items ?? []).filter((id) => ringIds.includes(id));
  log.info('key group moved', { profile: profileName, from, to, addedKeyIds: added, keptInOld });
  return { moved: true, from, to, addedKeyIds: added, keptInOld };
}
