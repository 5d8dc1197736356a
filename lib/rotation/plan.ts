import type { Profile } from '../config/schema.ts';
import type { HistoryEntry, KeyRing, RingKey } from '../keys/ring.ts';
import { parseVerifyingKey } from '../signing/index.ts';
import { isSignetKeyNameOf, publicKeyNameFor } from './names.ts';
import type { RegisteredKeyGroup, RegisteredPublicKey } from './registry.ts';
import { MAX_KEYS_PER_GROUP, MAX_PUBLIC_KEYS_PER_ACCOUNT, removalDelaySeconds } from './timings.ts';

/** What the rotator sees of one profile at one moment: the planner's whole input. */
export interface RotationState {
  /** The key ring (AWSCURRENT), or `undefined` before bootstrap. */
  readonly ring: KeyRing | undefined;
  /**
   * The key group as CloudFront reports it: the ring's, else the one to adopt (`adoptKeyGroupId`,
   * `profile.keyGroupId`, or the group named `signet-<profile>`); `undefined` when there is none.
   */
  readonly group: RegisteredKeyGroup | undefined;
  /** Every public key of the account (the 10-key quota is per account). */
  readonly publicKeys: readonly RegisteredPublicKey[];
  readonly now: Date;
  readonly profileName: string;
  readonly profile: Profile;
}

/** Switches of {@link planRotation}. */
export interface PlanOptions {
  /**
   * Activate a trusted pending key without waiting for `rotation.propagation`. Test-only: it exists
   * to show that the end-to-end tests catch the 403s this causes. Never set in a deployment.
   */
  readonly activateWithoutPropagation?: boolean;
  /**
   * Introduce a new pending key now even if the active key is younger than `rotateEvery` (an
   * operator's `signet rotate --start`). Still never while a pending key exists, never past the
   * group or account quota, and never ahead of interrupted work, an activation or a removal that is due.
   */
  readonly forceIntroduce?: boolean;
}

/** Why a run cannot advance. Reported, never forced (DESIGN §4). */
export type BlockedReason =
  | 'group-full'
  | 'account-full'
  | 'key-group-missing'
  | 'key-group-mismatch'
  | 'active-key-missing'
  | 'active-key-not-in-group'
  | 'quota-exceeded'
  /** The canary object, fetched through the distribution with a URL the pending key signed, did not answer 200. */
  | 'canary-failed';

/** The one thing a run does, chosen by {@link planRotation}. */
export type RotationAction =
  /** No ring yet: generate a key, write the ring with it pending, register it, create or adopt the group. */
  | { readonly kind: 'bootstrap' }
  /** Phase 1: generate a key, write it pending (no id yet), then register it as `register-pending` does. */
  | { readonly kind: 'introduce'; readonly reason: 'due' | 'no-active-key' | 'requested' }
  /** A pending key without its CloudFront public key: create it, add it to the group, record id and trustedAt. */
  | { readonly kind: 'register-pending'; readonly keyFingerprint: string; readonly publicKeyName: string }
  /**
   * A Signet public key in no ring by id whose key is a ring's pending key (a run crashed after
   * CreatePublicKey): record its id, add it to the group, record trustedAt.
   */
  | { readonly kind: 'adopt-orphan'; readonly keyId: string; readonly keyFingerprint: string }
  /** A pending key with its id but not (or not provably) in the group: add it, record trustedAt now. */
  | { readonly kind: 'trust-pending'; readonly keyId: string; readonly keyFingerprint: string }
  /** Phase 2: the pending key becomes active; the old active key becomes retiring with `retiredAt`. */
  | {
      readonly kind: 'activate';
      readonly keyId: string;
      readonly keyFingerprint: string;
      readonly retiringKeyId: string | undefined;
    }
  /** Phase 3: out of the group, DeletePublicKey, out of the ring into `history` with `removedAt`. */
  | { readonly kind: 'remove'; readonly keyId: string; readonly keyFingerprint: string }
  /** A Signet public key of this profile that no ring holds: out of the group if there, then deleted. */
  | { readonly kind: 'delete-orphan'; readonly keyId: string; readonly inGroup: boolean }
  | { readonly kind: 'blocked'; readonly reason: BlockedReason; readonly message: string }
  /** Nothing to do; `nextAt` is when the next phase falls due, when one is scheduled. */
  | { readonly kind: 'none'; readonly nextAt?: Date };

/** The action kinds that advance a rotation phase (the rest repair or finish an interrupted one). */
export const PHASE_KINDS: ReadonlySet<RotationAction['kind']> = new Set([
  'bootstrap',
  'introduce',
  'activate',
  'remove',
]);

/**
 * Chooses the next action for one profile: at most one phase per run (DESIGN §4). Pure: no I/O,
 * no clock but `state.now`. Interrupted work (a pending key not yet registered or trusted) comes
 * first, then orphan cleanup, activation, removal and introduction.
 */
export function planRotation(state: RotationState, options: PlanOptions = {}): RotationAction {
  const { ring, group, publicKeys, now, profileName, profile } = state;
  const accountFull = publicKeys.length >= MAX_PUBLIC_KEYS_PER_ACCOUNT;
  const groupFull = group !== undefined && group.items.length >= MAX_KEYS_PER_GROUP;

  if (ring === undefined) {
    if (accountFull) return accountFullAction(publicKeys.length);
    if (groupFull) return groupFullAction(group);
    return { kind: 'bootstrap' };
  }
  const mismatch = keyGroupMismatch(ring, group, profile);
  if (mismatch !== undefined) return mismatch;

  const registered = new Map(publicKeys.map((key) => [key.id, key]));
  const inGroup = new Set(group?.items ?? []);
  const pending = ring.keys
    .filter((key) => key.state === 'pending')
    .sort((a, b) => a.createdAt.localeCompare(b.createdAt))[0];
  const active = ring.keys.find((key) => key.state === 'active');

  // Finish an interrupted introduce or bootstrap first: the ring already holds the private key.
  if (pending !== undefined && (pending.id === undefined || !registered.has(pending.id))) {
    const publicKeyName = publicKeyNameFor(profileName, pending.fingerprint);
    const existing = publicKeys.find(
      (key) => key.name === publicKeyName && fingerprintOfRegistered(key) === pending.fingerprint,
    );
    if (existing !== undefined) {
      if (!inGroup.has(existing.id) && groupFull) return groupFullAction(group);
      return { kind: 'adopt-orphan', keyId: existing.id, keyFingerprint: pending.fingerprint };
    }
    if (accountFull) return accountFullAction(publicKeys.length);
    if (groupFull) return groupFullAction(group);
    return { kind: 'register-pending', keyFingerprint: pending.fingerprint, publicKeyName };
  }
  if (
    pending?.id !== undefined &&
    (!inGroup.has(pending.id) || pending.trustedAt === undefined || ring.keyGroupId === undefined)
  ) {
    if (!inGroup.has(pending.id) && groupFull) return groupFullAction(group);
    return { kind: 'trust-pending', keyId: pending.id, keyFingerprint: pending.fingerprint };
  }

  const orphan = findOrphans(state).find((candidate) => candidate.deletableAt.getTime() <= now.getTime());
  if (orphan !== undefined) return { kind: 'delete-orphan', keyId: orphan.key.id, inGroup: orphan.inGroup };

  if (pending?.id !== undefined && pending.trustedAt !== undefined) {
    const due = at(pending.trustedAt, profile.rotation.propagation);
    if (options.activateWithoutPropagation === true || due.getTime() <= now.getTime()) {
      return {
        kind: 'activate',
        keyId: pending.id,
        keyFingerprint: pending.fingerprint,
        retiringKeyId: active?.id,
      };
    }
  }

  if (active?.id !== undefined && !registered.has(active.id)) {
    return {
      kind: 'blocked',
      reason: 'active-key-missing',
      message:
        `The active key ${active.id} no longer exists in CloudFront: every URL it signs is refused. ` +
        'Revoke it (`signet revoke`) to introduce a new key.',
    };
  }
  if (active?.id !== undefined && !inGroup.has(active.id)) {
    return {
      kind: 'blocked',
      reason: 'active-key-not-in-group',
      message:
        `The active key ${active.id} is not in key group ${group?.id}: every URL it signs is refused. ` +
        'Add it back or revoke it.',
    };
  }

  const removable = ring.keys.find(
    (key): key is RingKey & { id: string; retiredAt: string } =>
      key.state === 'retiring' &&
      key.id !== undefined &&
      key.retiredAt !== undefined &&
      at(key.retiredAt, removalDelaySeconds(profile)).getTime() <= now.getTime(),
  );
  if (removable !== undefined)
    return { kind: 'remove', keyId: removable.id, keyFingerprint: removable.fingerprint };

  if (pending === undefined) {
    const introduceAt = active === undefined ? undefined : rotationDueAt(active, profile);
    const due = introduceAt === undefined || introduceAt.getTime() <= now.getTime();
    if (due || options.forceIntroduce === true) {
      if (groupFull) return groupFullAction(group);
      if (accountFull) return accountFullAction(publicKeys.length);
      return {
        kind: 'introduce',
        reason: active === undefined ? 'no-active-key' : due ? 'due' : 'requested',
      };
    }
  }

  const nextAt = nextDueAt(state, pending, active);
  return nextAt === undefined ? { kind: 'none' } : { kind: 'none', nextAt };
}

/** A Signet public key of this profile that no ring key owns, and when it may be deleted. */
export interface Orphan {
  readonly key: RegisteredPublicKey;
  readonly inGroup: boolean;
  /**
   * Out of the group: now (no edge trusts it). In the group: now if the ring's history says it left;
   * otherwise (the ring was replaced or rolled back, so it may have signed URLs) not before its
   * creation + the removal delay, the earliest moment none of its URLs can still be valid.
   */
  readonly deletableAt: Date;
}

/** The profile's Signet public keys that belong to no ring key (by id or by fingerprint). */
export function findOrphans(state: RotationState): Orphan[] {
  const { ring, group, publicKeys, profileName, profile } = state;
  if (ring === undefined) return [];
  const ringIds = new Set(ring.keys.flatMap((key) => (key.id === undefined ? [] : [key.id])));
  const ringFingerprints = new Set(ring.keys.map((key) => key.fingerprint));
  const inGroup = new Set(group?.items ?? []);
  const orphans: Orphan[] = [];
  for (const key of publicKeys) {
    if (!isSignetKeyNameOf(profileName, key.name) || ringIds.has(key.id)) continue;
    const fingerprint = fingerprintOfRegistered(key);
    if (fingerprint !== undefined && ringFingerprints.has(fingerprint)) continue;
    const left = ring.history.some(
      (entry: HistoryEntry) =>
        entry.id === key.id || (fingerprint !== undefined && entry.fingerprint === fingerprint),
    );
    const held = inGroup.has(key.id);
    const created = Date.parse(key.createdTime);
    const deletableAt =
      !held || left || Number.isNaN(created)
        ? state.now
        : new Date(created + removalDelaySeconds(profile) * 1000);
    orphans.push({ key, inGroup: held, deletableAt });
  }
  return orphans;
}

/** The fingerprint of a registered public key, or `undefined` if its PEM does not parse. */
export function fingerprintOfRegistered(key: RegisteredPublicKey): string | undefined {
  try {
    return parseVerifyingKey(key.encodedKey).fingerprint;
  } catch {
    return undefined;
  }
}

/** When the active key is due for replacement: its activation (else creation) + `rotateEvery`. */
export function rotationDueAt(active: RingKey, profile: Profile): Date {
  return at(active.activatedAt ?? active.createdAt, profile.rotation.rotateEvery);
}

function nextDueAt(state: RotationState, pending: RingKey | undefined, active: RingKey | undefined) {
  const { ring, profile } = state;
  const candidates: Date[] = [];
  if (pending?.trustedAt !== undefined) candidates.push(at(pending.trustedAt, profile.rotation.propagation));
  for (const key of ring?.keys ?? []) {
    if (key.state === 'retiring' && key.retiredAt !== undefined)
      candidates.push(at(key.retiredAt, removalDelaySeconds(profile)));
  }
  if (pending === undefined && active !== undefined) candidates.push(rotationDueAt(active, profile));
  for (const orphan of findOrphans(state)) candidates.push(orphan.deletableAt);
  return candidates.sort((a, b) => a.getTime() - b.getTime())[0];
}

function keyGroupMismatch(
  ring: KeyRing,
  group: RegisteredKeyGroup | undefined,
  profile: Profile,
): RotationAction | undefined {
  if (ring.keyGroupId !== undefined && group === undefined) {
    return {
      kind: 'blocked',
      reason: 'key-group-missing',
      message: `The ring's key group ${ring.keyGroupId} does not exist in CloudFront; restore it or re-bootstrap.`,
    };
  }
  const expected = ring.keyGroupId ?? profile.keyGroupId;
  if (group !== undefined && expected !== undefined && group.id !== expected) {
    return {
      kind: 'blocked',
      reason: 'key-group-mismatch',
      message: `Expected key group ${expected} (ring or config); got ${group.id}.`,
    };
  }
  if (
    ring.keyGroupId !== undefined &&
    profile.keyGroupId !== undefined &&
    ring.keyGroupId !== profile.keyGroupId
  ) {
    return {
      kind: 'blocked',
      reason: 'key-group-mismatch',
      message: `Expected the ring's key group ${ring.keyGroupId} to be the configured ${profile.keyGroupId}.`,
    };
  }
  return undefined;
}

function groupFullAction(group: RegisteredKeyGroup | undefined): RotationAction {
  return {
    kind: 'blocked',
    reason: 'group-full',
    message: `Key group ${group?.id} holds ${group?.items.length} keys, CloudFront's maximum of ${MAX_KEYS_PER_GROUP}; remove one to rotate.`,
  };
}

function accountFullAction(count: number): RotationAction {
  return {
    kind: 'blocked',
    reason: 'account-full',
    message: `The account holds ${count} public keys, CloudFront's default maximum of ${MAX_PUBLIC_KEYS_PER_ACCOUNT}; delete one or raise the quota.`,
  };
}

function at(iso: string, plusSeconds: number): Date {
  return new Date(Date.parse(iso) + plusSeconds * 1000);
}
