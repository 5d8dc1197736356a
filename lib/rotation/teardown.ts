import { randomUUID } from 'node:crypto';
import type { Profile } from '../config/schema.ts';
import type { HistoryEntry, KeyRing, RingKey } from '../keys/ring.ts';
import type { KeyRingStore } from '../keys/store.ts';
import { type Log, silentLog } from '../telemetry/ports.ts';
import { isSignetKeyNameOf, keyGroupNameFor, legacyKeyGroupNameFor } from './names.ts';
import { knownToRing } from './ownership.ts';
import { type KeyGroupRegistry, type RegisteredKeyGroup, RegistryInUseError } from './registry.ts';
import { findKeyGroup, retryOnConflict, retryOnStaleETag } from './retry.ts';

/** Stable codes of a teardown that could not finish. */
export type TeardownErrorCode =
  /** A distribution still trusts the key group; nothing was changed. */
  | 'ERR_TEARDOWN_KEY_GROUP_IN_USE'
  /** The adopted key group holds only Signet's keys, and CloudFront refuses an empty group; nothing was changed. */
  | 'ERR_TEARDOWN_ADOPTED_GROUP_WOULD_BE_EMPTY'
  /** A public key of the ring is still in a key group Signet does not delete. */
  | 'ERR_TEARDOWN_KEY_IN_USE'
  /** Other writers kept changing the ring or the key group. */
  | 'ERR_TEARDOWN_RETRIES_EXHAUSTED';

/** A teardown that stopped, with a stable {@link TeardownErrorCode} and a message for the operator. */
export class TeardownError extends Error {
  readonly code: TeardownErrorCode;
  constructor(code: TeardownErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TeardownError';
    this.code = code;
  }
}

/** Options of {@link tearDownProfile}. */
export interface TearDownOptions {
  readonly profileName: string;
  readonly profile: Profile;
  readonly store: KeyRingStore;
  readonly registry: KeyGroupRegistry;
  readonly now: () => Date;
  /** The key group the bootstrap was told to adopt (the custom resource's `AdoptKeyGroupId`), if any. */
  readonly adoptKeyGroupId?: string;
  readonly log?: Log;
  /** Names this teardown in the ring's transition. Default: a random id. */
  readonly runId?: string;
  /** Whole-teardown attempts when another writer changed the ring or the group first. Default `CONFLICT_ATTEMPTS` (lib/rotation/retry.ts). */
  readonly maxAttempts?: number;
  /** Delete (or update) attempts on the key group when its ETag went stale. Default `ETAG_ATTEMPTS` (lib/rotation/retry.ts). */
  readonly groupAttempts?: number;
}

/** What happened to the profile's key group. */
export type TeardownGroupOutcome =
  /** Signet created it, and this teardown deleted it. */
  | 'deleted'
  /** The ring names a group that no longer exists (a retried teardown, or deleted by hand). */
  | 'already-gone'
  /**
   * Adopted, not created by Signet, or holding keys this ring does not know (another stage adopted
   * it): left in place without this ring's keys.
   */
  | 'adopted-retained'
  /** The ring never recorded a group, and none named `signet-<stage>-<profile>` (or `signet-<profile>`) exists. */
  | 'none';

/** What {@link tearDownProfile} did. */
export interface TeardownResult {
  readonly profile: string;
  readonly keyGroupId: string | undefined;
  readonly keyGroup: TeardownGroupOutcome;
  /** Signet public keys this teardown deleted (a retry lists only what was left). */
  readonly deletedKeyIds: readonly string[];
  /** Whether this teardown wrote the ring (a retry after the write finds it written). */
  readonly ringWritten: boolean;
  /** The ring's version after the teardown; `undefined` when the secret never held a ring. */
  readonly ringVersion: string | undefined;
  readonly attempts: number;
}

/**
 * Whether a ring was emptied by {@link tearDownProfile}: no keys left, history recording removals.
 * No other path leaves a ring without keys (bootstrap writes its first key with the ring; a revoke
 * of the last key adds a replacement in the same write), so the scheduled rotator takes this to mean
 * "deleted on purpose" and does not introduce a key into a profile whose stack is going away.
 */
export function isTornDown(ring: KeyRing): boolean {
  return ring.keys.length === 0 && ring.history.some((entry) => entry.removedAt !== undefined);
}

/**
 * Deletes what Signet made for one profile, for a CloudFormation Delete with `DeleteKeysOnDelete`.
 * Only what the ring knows is touched (keys by id or fingerprint, in `keys` or `history`), and of
 * those only Signet-created public keys (`signet-<profile>-…`, docs/design.md, "Contracts").
 *
 * Which key group Signet created: the ring has no field saying so, so the rule is the one the
 * bootstrap itself follows. The group the teardown looks at is the ring's `keyGroupId` (else, for a
 * bootstrap interrupted before it recorded one, the adopted id or the group named `signet-<stage>-<profile>` or `signet-<profile>`
 * if it holds one of the ring's keys: the name carries the profile, not the stage, so a group of that
 * name holding none is another stage's). It is this ring's to delete when it is named
 * `signet-<profile>`, is not the group the bootstrap was told to adopt (`adoptKeyGroupId` or the
 * profile's `keyGroupId`), and holds only keys the ring knows. Any other group is left in place with
 * only this ring's keys taken out of it.
 *
 * Order, so that a crash or CloudFormation's retried Delete at any point converges, and so that a
 * refusal leaves everything as it was:
 * 1. the key group: DeleteKeyGroup (If-Match) for Signet's group, or UpdateKeyGroup without Signet's
 *    keys for an adopted one. First, because this is the step CloudFront refuses while a distribution
 *    still trusts the group; refused here, nothing else has changed and the ring still holds every
 *    private key. A group already gone is skipped.
 * 2. the ring (compare-and-swap): every key moved into `history` with `removedAt`. After step 1 no
 *    edge trusts those keys, so their private keys are dropped; `keyGroupId` stays, so a scheduled run
 *    racing the teardown finds its group missing and stops instead of creating a new one.
 * 3. DeletePublicKey for each Signet public key the ring knows (already gone is fine). Last, since
 *    CloudFront refuses to delete a key that a group holds; a retry finds them through `history`.
 * A conflict on the ring or the group re-reads and starts over (every step is idempotent), bounded.
 */
export async function tearDownProfile(options: TearDownOptions): Promise<TeardownResult> {
  const runId = options.runId ?? randomUUID();
  return retryOnConflict(
    {
      maxAttempts: options.maxAttempts,
      onConflict: (conflict) =>
        (options.log ?? silentLog).warn('teardown conflict: re-reading and starting over', {
          profile: options.profileName,
          code: conflict.code,
        }),
      exhausted: (maxAttempts, cause) =>
        new TeardownError(
          'ERR_TEARDOWN_RETRIES_EXHAUSTED',
          `Expected to tear down profile ${options.profileName} within ${maxAttempts} attempts; ` +
            'other writers kept changing the key ring or key group. Retry the delete.',
          { cause },
        ),
    },
    ({ number }) => attempt(options, runId, number),
  );
}

async function attempt(options: TearDownOptions, runId: string, attempts: number): Promise<TeardownResult> {
  const { profileName, registry, store } = options;
  const log = options.log ?? silentLog;
  const loaded = await store.load();
  if (loaded === undefined) {
    // The bootstrap never wrote a ring (a Create that failed early): Signet knows of nothing to delete.
    log.info('teardown: the key ring secret holds no ring; nothing to delete', { profile: profileName });
    return {
      profile: profileName,
      keyGroupId: undefined,
      keyGroup: 'none',
      deletedKeyIds: [],
      ringWritten: false,
      ringVersion: undefined,
      attempts,
    };
  }
  const { ring } = loaded;
  const adopted = options.adoptKeyGroupId ?? options.profile.keyGroupId;
  const publicKeys = await registry.listPublicKeys();
  const ours = publicKeys.filter((key) => isSignetKeyNameOf(profileName, key.name) && knownToRing(ring, key));
  const ourIds = new Set(ours.map((key) => key.id));

  // 1. The key group.
  const groupId = ring.keyGroupId ?? adopted;
  const { stage } = options.profile;
  const names = [keyGroupNameFor(profileName, stage), legacyKeyGroupNameFor(profileName)];
  let group =
    groupId === undefined
      ? ((await registry.findKeyGroupByName(names[0]!)) ??
        (stage === undefined ? undefined : await registry.findKeyGroupByName(names[1]!)))
      : await findKeyGroup(registry, groupId);
  // Found only by name, a group is this ring's only if it holds one of the ring's keys: otherwise it
  // is another stage's or stack's that happens to share the profile name, and is not touched.
  if (groupId === undefined && group !== undefined && !group.items.some((id) => ourIds.has(id))) {
    log.info('teardown: the key group named like this profile holds none of its keys; left alone', {
      profile: profileName,
      keyGroupId: group.id,
    });
    group = undefined;
  }
  let outcome: TeardownGroupOutcome;
  if (group === undefined) {
    outcome = groupId === undefined ? 'none' : 'already-gone';
  } else if (
    group.id !== adopted &&
    names.includes(group.name) &&
    group.items.every((id) => ourIds.has(id))
  ) {
    await deleteGroup(options, group);
    outcome = 'deleted';
    log.info('teardown: key group deleted', { profile: profileName, keyGroupId: group.id });
  } else {
    // Adopted, or shared with keys this ring does not know (another stage that adopted it, or a key
    // added by hand): only this ring's keys leave, so the others keep signing.
    await withdrawFromAdopted(options, group, ourIds);
    outcome = 'adopted-retained';
    log.info('teardown: adopted or shared key group left in place without Signet keys', {
      profile: profileName,
      keyGroupId: group.id,
    });
  }

  // 2. The ring: every key into history. Skipped when a previous attempt already wrote it.
  let ringVersion = loaded.version;
  let ringWritten = false;
  if (ring.keys.length > 0) {
    const iso = options.now().toISOString();
    const next: KeyRing = { ...ring, keys: [], history: [...ring.history, ...ring.keys.map(toHistory(iso))] };
    ringVersion = await store.save(next, loaded.version, `teardown:${iso}:${runId}`);
    ringWritten = true;
    log.info('teardown: key ring emptied into history', {
      profile: profileName,
      removed: ring.keys.map((key) => key.id ?? key.fingerprint),
    });
  }

  // 3. The public keys.
  const deletedKeyIds: string[] = [];
  for (const key of ours) {
    try {
      await registry.deletePublicKey(key.id);
    } catch (error) {
      if (!(error instanceof RegistryInUseError)) throw error;
      throw new TeardownError(
        'ERR_TEARDOWN_KEY_IN_USE',
        `Public key ${key.id} (${key.name}) is still in a key group this teardown does not delete; ` +
          'take it out of that group, then delete again.',
        { cause: error },
      );
    }
    deletedKeyIds.push(key.id);
    log.info('teardown: public key deleted', { profile: profileName, keyId: key.id });
  }
  return {
    profile: profileName,
    keyGroupId: group?.id ?? groupId,
    keyGroup: outcome,
    deletedKeyIds,
    ringWritten,
    ringVersion,
    attempts,
  };
}

function toHistory(iso: string): (key: RingKey) => HistoryEntry {
  return (key) => {
    // The active key stops signing now; a pending one never signed; a retiring one keeps its date.
    // No `validUntil`: a teardown breaks outstanding URLs on purpose (the stack is going away), so
    // invariants and doctor are not asked to judge these removals.
    const retiredAt = key.retiredAt ?? (key.state === 'active' ? iso : undefined);
    return {
      ...(key.id === undefined ? {} : { id: key.id }),
      fingerprint: key.fingerprint,
      ...(key.activatedAt === undefined ? {} : { activatedAt: key.activatedAt }),
      ...(retiredAt === undefined ? {} : { retiredAt }),
      removedAt: iso,
    };
  };
}

/** DeleteKeyGroup with If-Match; a stale ETag re-reads (the group may be gone by then) and retries. */
async function deleteGroup(options: TearDownOptions, group: RegisteredKeyGroup): Promise<void> {
  try {
    await retryOnStaleETag(
      options.registry,
      group,
      (current) => options.registry.deleteKeyGroup(current),
      options.groupAttempts,
    );
  } catch (error) {
    if (error instanceof RegistryInUseError) {
      const distribution = options.profile.distributionId;
      throw new TeardownError(
        'ERR_TEARDOWN_KEY_GROUP_IN_USE',
        `${error.message} The distribution must stop trusting key group ${group.id} first: take the ` +
          `group out of its cache behaviours' TrustedKeyGroups${
            distribution === undefined ? '' : ` (the profile's distribution is ${distribution})`
          }, wait until it is deployed, then delete again. Nothing was deleted.`,
        { cause: error },
      );
    }
    throw error;
  }
}

/**
 * Takes the ring's Signet keys out of an adopted group (If-Match; re-read on a stale ETag). CloudFront
 * refuses a key group without keys, and Signet never deletes a group it did not create, so a group
 * that would be left empty is refused before anything changes.
 */
async function withdrawFromAdopted(
  options: TearDownOptions,
  group: RegisteredKeyGroup,
  ours: ReadonlySet<string>,
): Promise<void> {
  await retryOnStaleETag(
    options.registry,
    group,
    async (current) => {
      const keep = current.items.filter((id) => !ours.has(id));
      if (keep.length === current.items.length) return;
      if (keep.length === 0) {
        throw new TeardownError(
          'ERR_TEARDOWN_ADOPTED_GROUP_WOULD_BE_EMPTY',
          `Key group ${current.id} was adopted, not created by Signet, and holds only Signet's keys; ` +
            'CloudFront does not allow a key group without keys, and Signet does not delete a group it did ' +
            'not create. Add another key to the group, or delete the group yourself once no distribution ' +
            'trusts it, then delete again. Nothing was deleted.',
        );
      }
      await options.registry.updateKeyGroup(current, keep);
    },
    options.groupAttempts,
  );
}
