import type { Profile } from '../config/schema.ts';
import type { HistoryEntry, KeyRing, RingKey, SigningBounds } from '../keys/ring.ts';
import { parseVerifyingKey } from '../signing/index.ts';
import {
  activationWaitSeconds,
  boundsOfProfile,
  effectiveBounds,
  raisedBounds,
  removableAt,
  validitySeconds,
} from './bounds.ts';
import { isSignetKeyNameOf, keyGroupNameFor, publicKeyNameFor, ringTagFor, ringTagOf } from './names.ts';
import { MAX_KEYS_PER_GROUP, MAX_PUBLIC_KEYS_PER_ACCOUNT } from './quotas.ts';
import type { ListedKeyGroup, RegisteredKeyGroup, RegisteredPublicKey } from './registry.ts';
import { removalDelaySeconds } from './timings.ts';

/** What the rotator sees of one profile at one moment: the planner's whole input. */
export interface RotationState {
  /** The key ring (AWSCURRENT), or `undefined` before bootstrap. */
  readonly ring: KeyRing | undefined;
  /**
   * The key group as CloudFront reports it: the ring's, else the one to adopt (`adoptKeyGroupId`,
   * `profile.keyGroupId`, or the group named `signet-<profile>`); `undefined` when there is none.
   * A group found only by its name is this ring's only if it holds one of the ring's keys (see
   * {@link ownKeyGroup}): another stage or stack may use the same profile name.
   */
  readonly group: RegisteredKeyGroup | undefined;
  /** The key group the bootstrap was told to adopt (`adoptKeyGroupId`, the custom resource's), if any. */
  readonly adoptKeyGroupId?: string;
  /**
   * Every key group of the account (ListKeyGroups), to tell a key that another group holds from a
   * leftover. `undefined` when not read: then a key outside this ring's group that its history does
   * not know is left alone, since it may be in another group.
   */
  readonly keyGroups?: readonly ListedKeyGroup[];
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

/** Why a run cannot advance. Reported, never forced (docs/design.md, "Rotation"). */
export type BlockedReason =
  | 'group-full'
  | 'account-full'
  | 'key-group-missing'
  | 'key-group-mismatch'
  | 'active-key-missing'
  | 'active-key-not-in-group'
  | 'quota-exceeded'
  /**
   * A key group named `signet-<profile>` exists, was not named by the ring or the config, and holds
   * none of this ring's keys: another stage's or stack's. Never joined silently.
   */
  | 'key-group-not-ours'
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
  /**
   * The config in force would let these keys sign URLs that outlive their recorded bounds (a longer
   * `ttl.max`, `cache.maxStale` or `clockSkew`, or a ring written before bounds were recorded):
   * raise the bounds in the ring. A ring write only; the run then plans again.
   */
  | {
      readonly kind: 'record-bounds';
      readonly keys: readonly { readonly fingerprint: string; readonly bounds: SigningBounds }[];
    }
  /** Phase 3: out of the group, DeletePublicKey, out of the ring into `history` with `removedAt`. */
  | { readonly kind: 'remove'; readonly keyId: string; readonly keyFingerprint: string }
  /**
   * A Signet public key that belongs to this ring (see {@link findOrphans}) but that no ring key
   * holds: out of the group if there, then deleted.
   */
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
 * Chooses the next action for one profile: at most one phase per run (docs/design.md, "Rotation"). Pure: no I/O,
 * no clock but `state.now`. Interrupted work (a pending key not yet registered or trusted) comes
 * first, then orphan cleanup, activation, removal and introduction.
 */
export function planRotation(state: RotationState, options: PlanOptions = {}): RotationAction {
  const { ring, publicKeys, now, profileName, profile } = state;
  const notOurs = namesakeNotOurs(state);
  if (notOurs !== undefined) return notOurs;
  const group = ownKeyGroup(state);
  const accountFull = publicKeys.length >= MAX_PUBLIC_KEYS_PER_ACCOUNT;
  const groupFull = group !== undefined && group.items.length >= MAX_KEYS_PER_GROUP;

  if (ring === undefined) {
    if (accountFull) return accountFullAction(publicKeys.length);
    if (groupFull) return groupFullAction(group, state);
    return { kind: 'bootstrap' };
  }
  const mismatch = keyGroupMismatch(ring, group, profile);
  if (mismatch !== undefined) return mismatch;

  // Before anything is removed or signs further: what a key may sign under today's config must be
  // on record, so that a later, shorter config cannot bring its removal forward.
  const raised = ring.keys.flatMap((key) => {
    const bounds = raisedBounds(key, profile, now);
    return bounds === undefined ? [] : [{ fingerprint: key.fingerprint, bounds }];
  });
  if (raised.length > 0) return { kind: 'record-bounds', keys: raised };

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
      if (!inGroup.has(existing.id) && groupFull) return groupFullAction(group, state);
      return { kind: 'adopt-orphan', keyId: existing.id, keyFingerprint: pending.fingerprint };
    }
    if (accountFull) return accountFullAction(publicKeys.length);
    if (groupFull) return groupFullAction(group, state);
    return { kind: 'register-pending', keyFingerprint: pending.fingerprint, publicKeyName };
  }
  if (
    pending?.id !== undefined &&
    (!inGroup.has(pending.id) || pending.trustedAt === undefined || ring.keyGroupId === undefined)
  ) {
    if (!inGroup.has(pending.id) && groupFull) return groupFullAction(group, state);
    return { kind: 'trust-pending', keyId: pending.id, keyFingerprint: pending.fingerprint };
  }

  const orphan = findOrphans(state).find((candidate) => candidate.deletableAt.getTime() <= now.getTime());
  if (orphan !== undefined) return { kind: 'delete-orphan', keyId: orphan.key.id, inGroup: orphan.inGroup };

  if (pending?.id !== undefined && pending.trustedAt !== undefined) {
    const due = at(pending.trustedAt, activationWaitSeconds(ring, profile));
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
    (key): key is RingKey & { id: string } =>
      key.id !== undefined &&
      (removableAt(key, profile)?.getTime() ?? Number.POSITIVE_INFINITY) <= now.getTime(),
  );
  if (removable !== undefined)
    return { kind: 'remove', keyId: removable.id, keyFingerprint: removable.fingerprint };

  if (pending === undefined) {
    const introduceAt = active === undefined ? undefined : rotationDueAt(active, profile);
    const due = introduceAt === undefined || introduceAt.getTime() <= now.getTime();
    if (due || options.forceIntroduce === true) {
      if (groupFull) return groupFullAction(group, state);
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

/**
 * Whether `state.group` was found only by its name `signet-<profile>`: neither the ring nor the
 * config nor the bootstrap's `adoptKeyGroupId` names a group.
 */
export function groupFoundByName(state: RotationState): boolean {
  return (
    state.group !== undefined &&
    state.ring?.keyGroupId === undefined &&
    state.adoptKeyGroupId === undefined &&
    state.profile.keyGroupId === undefined
  );
}

/**
 * Whether the group holds one of the ring's keys: by id, or by the fingerprint of the public key
 * under an id (a bootstrap that created the group, then crashed before the ring recorded the id).
 */
export function holdsRingKey(
  group: Pick<ListedKeyGroup, 'items'>,
  ring: KeyRing,
  publicKeys: readonly RegisteredPublicKey[],
): boolean {
  const ids = new Set(ring.keys.flatMap((key) => (key.id === undefined ? [] : [key.id])));
  const fingerprints = new Set(ring.keys.map((key) => key.fingerprint));
  const registered = new Map(publicKeys.map((key) => [key.id, key]));
  return group.items.some((id) => {
    if (ids.has(id)) return true;
    const key = registered.get(id);
    const fingerprint = key === undefined ? undefined : fingerprintOfRegistered(key);
    return fingerprint !== undefined && fingerprints.has(fingerprint);
  });
}

/**
 * The key group this ring works with: the one the ring or the config names, or the one the
 * bootstrap was told to adopt; a group found only by name counts only when it holds one of the
 * ring's keys. Names carry the profile, not the stage, so `signet-media` may be another stage's
 * group; joining it would make each stage's rotator delete the other's keys.
 */
export function ownKeyGroup(state: RotationState): RegisteredKeyGroup | undefined {
  const { group, ring, publicKeys } = state;
  if (group === undefined || !groupFoundByName(state)) return group;
  return ring !== undefined && holdsRingKey(group, ring, publicKeys) ? group : undefined;
}

/** The blocked action when the only key group by this profile's name is not provably this ring's. */
function namesakeNotOurs(state: RotationState): RotationAction | undefined {
  const { group, profileName } = state;
  if (group === undefined || !groupFoundByName(state) || ownKeyGroup(state) !== undefined) return undefined;
  return {
    kind: 'blocked',
    reason: 'key-group-not-ours',
    message: keyGroupNotOursMessage(profileName, group.id),
  };
}

/** Why a run will not join the key group named `signet-<profile>`, and what the operator can do. */
export function keyGroupNotOursMessage(profileName: string, groupId: string): string {
  return (
    `a key group named ${keyGroupNameFor(profileName)} already exists and holds none of this ring's keys: ` +
    `another stage or stack uses this profile name; set profiles.${profileName}.keyGroupId to adopt it ` +
    `deliberately, or use a different profile name (its id is ${groupId}).`
  );
}

/** A Signet public key of this ring that no ring key holds, and when it may be deleted. */
export interface Orphan {
  readonly key: RegisteredPublicKey;
  /** This ring's key group holds it. */
  readonly inGroup: boolean;
  /**
   * Out of the group: now (no edge trusts it). In the group: now if the ring's history says it left;
   * otherwise (the ring was replaced or rolled back, so it may have signed URLs) not before its
   * creation + the removal delay, the earliest moment none of its URLs can still be valid.
   */
  readonly deletableAt: Date;
}

/**
 * A Signet-named public key of this profile that is not this ring's: listed, never changed.
 * - `other-group`: another key group holds it (another stage's group, or one someone built by hand);
 * - `other-ring`: its comment names another key ring (a stage sharing this ring's group, or a
 *   leftover of another stage that its own rotator adopts or deletes);
 * - `shared-group`: in a group this ring adopted, made before comments named rings: another
 *   adopter's, as far as this ring can tell;
 * - `unclaimed`: in no key group (or in none this run could see), unknown to the ring, and its
 *   comment names no ring: perhaps another stage's crash leftover, which its own rotator adopts.
 */
export interface ForeignKey {
  readonly key: RegisteredPublicKey;
  readonly reason: 'other-group' | 'other-ring' | 'shared-group' | 'unclaimed';
  /** The key group that holds it, when one does. */
  readonly groupId?: string;
}

/** The profile's Signet-named public keys that no ring key holds, split into this ring's and others'. */
export interface SignetKeyOwnership {
  readonly orphans: readonly Orphan[];
  readonly foreign: readonly ForeignKey[];
}

/**
 * Decides, for each Signet-named public key of the profile that no ring key holds (by id or by
 * fingerprint; those the planner registers or adopts), whether it is this ring's to delete.
 *
 * The name says only which profile (docs/design.md, "Contracts"), and two stages or stacks may share a profile name
 * and a CloudFront account, even a key group (an operator's deliberate `keyGroupId`). So a key is
 * this ring's orphan only if something ties it to this ring, in this order:
 * 1. another key group holds it (and this ring's does not): never this ring's;
 * 2. the ring's history knows it (by id or fingerprint): a key this ring revoked or removed;
 * 3. its comment names another ring: never this ring's;
 * 4. this ring's group holds it: this ring's if its comment names this ring, or names none and the
 *    group is one this ring created (not adopted: an adopted group may hold other adopters' keys);
 * 5. in no group: this ring's only if its comment names this ring.
 * Everything else is foreign. Pure.
 */
export function classifySignetKeys(state: RotationState): SignetKeyOwnership {
  const { ring, publicKeys, profileName, profile } = state;
  if (ring === undefined) return { orphans: [], foreign: [] };
  const group = ownKeyGroup(state);
  const ringIds = new Set(ring.keys.flatMap((key) => (key.id === undefined ? [] : [key.id])));
  const ringFingerprints = new Set(ring.keys.map((key) => key.fingerprint));
  const inGroup = new Set(group?.items ?? []);
  const holder = new Map<string, string>();
  for (const other of state.keyGroups ?? []) {
    if (other.id === group?.id) continue;
    for (const id of other.items) if (!holder.has(id)) holder.set(id, other.id);
  }
  // A namesake group that is not this ring's is another group, even when no list was read.
  if (state.group !== undefined && state.group.id !== group?.id) {
    for (const id of state.group.items) if (!holder.has(id)) holder.set(id, state.group.id);
  }
  const adopted =
    group !== undefined && (group.id === profile.keyGroupId || group.id === state.adoptKeyGroupId);
  const ourTag = ringTagFor(profile.keyRing.secretId);
  const removal = removalDelaySeconds(profile) * 1000;

  const orphans: Orphan[] = [];
  const foreign: ForeignKey[] = [];
  for (const key of publicKeys) {
    if (!isSignetKeyNameOf(profileName, key.name) || ringIds.has(key.id)) continue;
    const fingerprint = fingerprintOfRegistered(key);
    if (fingerprint !== undefined && ringFingerprints.has(fingerprint)) continue;
    const held = inGroup.has(key.id);
    const otherGroupId = holder.get(key.id);
    if (otherGroupId !== undefined && !held) {
      foreign.push({ key, reason: 'other-group', groupId: otherGroupId });
      continue;
    }
    const left = ring.history.some(
      (entry: HistoryEntry) =>
        entry.id === key.id || (fingerprint !== undefined && entry.fingerprint === fingerprint),
    );
    if (left) {
      orphans.push({ key, inGroup: held, deletableAt: state.now });
      continue;
    }
    const tag = ringTagOf(key.comment);
    if (tag !== undefined && tag !== ourTag) {
      foreign.push({ key, reason: 'other-ring', ...(held ? { groupId: group!.id } : {}) });
      continue;
    }
    if (held) {
      if (tag === undefined && adopted) {
        foreign.push({ key, reason: 'shared-group', groupId: group!.id });
        continue;
      }
      const created = Date.parse(key.createdTime);
      const deletableAt = Number.isNaN(created) ? state.now : new Date(created + removal);
      orphans.push({ key, inGroup: true, deletableAt });
      continue;
    }
    // In no group this run could see: deleting it can break no edge, but only this ring's own go.
    if (tag === ourTag && state.keyGroups !== undefined)
      orphans.push({ key, inGroup: false, deletableAt: state.now });
    else foreign.push({ key, reason: 'unclaimed' });
  }
  return { orphans, foreign };
}

/** This ring's Signet public keys that no ring key holds (see {@link classifySignetKeys}). */
export function findOrphans(state: RotationState): Orphan[] {
  return [...classifySignetKeys(state).orphans];
}

/** The profile's Signet-named public keys that are not this ring's: never changed, only reported. */
export function findForeignKeys(state: RotationState): ForeignKey[] {
  return [...classifySignetKeys(state).foreign];
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
  if (pending?.trustedAt !== undefined && ring !== undefined)
    candidates.push(at(pending.trustedAt, activationWaitSeconds(ring, profile)));
  for (const key of ring?.keys ?? []) {
    const removal = removableAt(key, profile);
    if (removal !== undefined) candidates.push(removal);
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

function groupFullAction(group: RegisteredKeyGroup | undefined, state: RotationState): RotationAction {
  return {
    kind: 'blocked',
    reason: 'group-full',
    message:
      `Key group ${group?.id} holds ${group?.items.length} keys, CloudFront's maximum of ${MAX_KEYS_PER_GROUP}; remove one to rotate.` +
      heldLongerThanConfig(state),
  };
}

/**
 * Names the retiring keys that stay in the group longer than the current config alone would keep
 * them, because a longer config was in force while they signed: why a shortened `ttl.max` (or
 * `cache.maxStale`, `rotation.clockSkew`) together with a shorter `rotation.rotateEvery` can fill
 * the group. Empty when there are none.
 */
export function heldLongerThanConfig(state: RotationState): string {
  const { ring, profile } = state;
  const current = boundsOfProfile(profile);
  const held = (ring?.keys ?? []).flatMap((key) => {
    const removal = removableAt(key, profile);
    if (removal === undefined || key.bounds === undefined) return [];
    const recorded = effectiveBounds(key, profile);
    if (validitySeconds(recorded) <= validitySeconds(current)) return [];
    const fields = (['ttlMax', 'maxStale', 'clockSkew'] as const)
      .filter((field) => recorded[field] > current[field])
      .map((field) => `${FIELD_NAMES[field]} ${recorded[field]}s (now ${current[field]}s)`);
    return [`${key.id ?? key.fingerprint} until ${removal.toISOString()} (${fields.join(', ')})`];
  });
  if (held.length === 0) return '';
  return (
    ` Retiring keys stay until everything they signed under the config in force then has expired: ${held.join('; ')}. ` +
    'Rotation resumes once they are removed; a shorter rotation.rotateEvery than the old timings allow waits for that.'
  );
}

const FIELD_NAMES = {
  ttlMax: 'ttl.max',
  maxStale: 'cache.maxStale',
  clockSkew: 'rotation.clockSkew',
} as const;

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
