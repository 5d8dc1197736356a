import type { HistoryEntry, KeyRing } from '../keys/ring.ts';
import { parseVerifyingKey } from '../signing/index.ts';
import { isSignetKeyNameOf, ringTagFor, ringTagOf } from './names.ts';
import type { ListedKeyGroup, RegisteredKeyGroup, RegisteredPublicKey } from './registry.ts';
import type { RotationState } from './state.ts';
import { removalDelaySeconds } from './timings.ts';

// Which keys and key groups are this ring's (docs/design.md, "Rotation"): the rules the planner,
// the invariants, doctor, `signet keys` and teardown share, so that none of them deletes or judges
// another stage's keys by a rule of its own.

/**
 * Whether `state.group` was found only by its name (`signet-<stage>-<profile>`, or the older
 * `signet-<profile>`): neither the ring nor the config nor the bootstrap's `adoptKeyGroupId` names a group.
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
 * Whether a group found by name is this ring's: it holds one of the ring's keys
 * ({@link holdsRingKey}), or a public key whose comment names this ring (a ring written again
 * after its group was made: the comment is the ownership rule that survives it).
 */
export function holdsOwnKey(
  group: Pick<ListedKeyGroup, 'items'>,
  state: Pick<RotationState, 'ring' | 'publicKeys' | 'profile'>,
): boolean {
  const { ring, publicKeys, profile } = state;
  if (ring !== undefined && holdsRingKey(group, ring, publicKeys)) return true;
  const tag = ringTagFor(profile.keyRing.secretId);
  const registered = new Map(publicKeys.map((key) => [key.id, key]));
  return group.items.some((id) => ringTagOf(registered.get(id)?.comment) === tag);
}

/**
 * The key group this ring works with: the one the ring or the config names, or the one the
 * bootstrap was told to adopt; a group found only by name counts only when it holds one of the
 * ring's keys ({@link holdsOwnKey}). Another stage or stack may use the same name (`signet-<profile>`
 * from before names carried the stage, or the same stage and profile in another stack); joining it
 * would make each rotator delete the other's keys.
 */
export function ownKeyGroup(state: RotationState): RegisteredKeyGroup | undefined {
  const { group } = state;
  if (group === undefined || !groupFoundByName(state)) return group;
  return holdsOwnKey(group, state) ? group : undefined;
}

/** Why a run will not join the key group it found by name, and what the operator can do. */
export function keyGroupNotOursMessage(profileName: string, groupId: string, groupName: string): string {
  return (
    `a key group named ${groupName} already exists and holds none of this ring's keys: ` +
    `another stage or stack uses this name; set profiles.${profileName}.keyGroupId to adopt it ` +
    `deliberately, or use a different profile name or stage (its id is ${groupId}).`
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

/**
 * Whether the ring holds (or held, per its history) this public key, by id or by fingerprint (a key
 * whose CreatePublicKey answered but whose id never reached the ring: a crashed bootstrap).
 */
export function knownToRing(ring: KeyRing, key: RegisteredPublicKey): boolean {
  const entries: readonly { id?: string | undefined; fingerprint: string }[] = [
    ...ring.keys,
    ...ring.history,
  ];
  if (entries.some((entry) => entry.id === key.id)) return true;
  const fingerprint = fingerprintOfRegistered(key);
  return fingerprint !== undefined && entries.some((entry) => entry.fingerprint === fingerprint);
}
