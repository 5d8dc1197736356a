import type { Profile } from '../config/schema.ts';
import type { KeyRing, RingKey, SigningBounds } from '../keys/ring.ts';
import {
  activationWaitSeconds,
  boundsOfProfile,
  effectiveBounds,
  leftKeyValidUntil,
  raisedBounds,
  removableAt,
  validitySeconds,
  validUntilOf,
} from './bounds.ts';
import { publicKeyNameFor } from './names.ts';
import {
  findOrphans,
  fingerprintOfRegistered,
  groupFoundByName,
  keyGroupNotOursMessage,
  ownKeyGroup,
} from './ownership.ts';
import { countAccountKeys, describeAccountKeys, MAX_KEYS_PER_GROUP, publicKeyQuotaOf } from './quotas.ts';
import type { RegisteredKeyGroup } from './registry.ts';
import type { RotationState } from './state.ts';

/** The blocked action when the only key group by this profile's name is not provably this ring's. */
function namesakeNotOurs(state: RotationState): RotationAction | undefined {
  const { group, profileName } = state;
  if (group === undefined || !groupFoundByName(state) || ownKeyGroup(state) !== undefined) return undefined;
  return {
    kind: 'blocked',
    reason: 'key-group-not-ours',
    message: keyGroupNotOursMessage(profileName, group.id, group.name),
  };
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
   * A key group named `signet-<stage>-<profile>` exists, was not named by the ring or the config,
   * and holds none of this ring's keys: another stack's. Never joined silently.
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
  /**
   * Phase 3: out of the group, DeletePublicKey, out of the ring into `history` with `removedAt` and
   * `validUntil`, the last instant anything it signed can be valid.
   */
  | {
      readonly kind: 'remove';
      readonly keyId: string;
      readonly keyFingerprint: string;
      readonly validUntil: Date;
    }
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
  const accountFull = publicKeys.length >= publicKeyQuotaOf(profile);
  const groupFull = group !== undefined && group.items.length >= MAX_KEYS_PER_GROUP;

  if (ring === undefined) {
    if (accountFull) return accountFullAction(state);
    if (groupFull) return groupFullAction(group, state);
    return { kind: 'bootstrap' };
  }
  const mismatch = keyGroupMismatch(ring, group, profile);
  if (mismatch !== undefined) return mismatch;

  // Before anything is removed or signs further: what a key may sign under today's config must be
  // on record, so that a later, shorter config cannot bring its removal forward.
  // A key CloudFront no longer trusts (out of the group, or deleted) signs nothing valid whatever
  // the config: its bounds are final.
  const trustedIds = new Set((group?.items ?? []).filter((id) => publicKeys.some((key) => key.id === id)));
  const raised = ring.keys.flatMap((key) => {
    if (key.state === 'retiring' && (key.id === undefined || !trustedIds.has(key.id))) return [];
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
    if (accountFull) return accountFullAction(state);
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
        `The active key ${active.id} is not in ${group === undefined ? 'any key group' : `key group ${group.id}`}: every URL it signs is refused. ` +
        'Add it back or revoke it.',
    };
  }

  // Due by the later of recorded and current bounds; or a removal a killed run left half-done (the
  // key is out of the group or of CloudFront already) once nothing it signed can be valid, even if
  // a longer config arrived since: finishing it breaks nothing, and leaving it would stay wrong.
  for (const key of ring.keys) {
    if (key.id === undefined || key.state !== 'retiring' || key.retiredAt === undefined) continue;
    const left = !inGroup.has(key.id) || !registered.has(key.id);
    const finished =
      left && (leftKeyValidUntil(key, profile)?.getTime() ?? Number.POSITIVE_INFINITY) <= now.getTime();
    if (finished || (removableAt(key, profile)?.getTime() ?? Number.POSITIVE_INFINITY) <= now.getTime()) {
      return {
        kind: 'remove',
        keyId: key.id,
        keyFingerprint: key.fingerprint,
        validUntil: finished
          ? leftKeyValidUntil(key, profile)!
          : validUntilOf(key, profile, new Date(key.retiredAt)),
      };
    }
  }

  if (pending === undefined) {
    const introduceAt = active === undefined ? undefined : rotationDueAt(active, profile);
    const due = introduceAt === undefined || introduceAt.getTime() <= now.getTime();
    if (due || options.forceIntroduce === true) {
      if (groupFull) return groupFullAction(group, state);
      if (accountFull) return accountFullAction(state);
      return {
        kind: 'introduce',
        reason: active === undefined ? 'no-active-key' : due ? 'due' : 'requested',
      };
    }
  }

  const nextAt = nextDueAt(state, pending, active);
  return nextAt === undefined ? { kind: 'none' } : { kind: 'none', nextAt };
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

function accountFullAction(state: RotationState): RotationAction {
  return {
    kind: 'blocked',
    reason: 'account-full',
    message:
      state.profile.publicKeyQuota === undefined
        ? `The account holds ${accountKeysSummary(state)}, CloudFront's default maximum (shared by every stage and profile); ` +
          'delete one, or raise the quota in Service Quotas and set aws.publicKeyQuota in the config.'
        : `The account holds ${accountKeysSummary(state)}, the quota the config names (aws.publicKeyQuota, shared by every stage and profile); ` +
          'delete one, or raise the quota in Service Quotas and aws.publicKeyQuota with it.',
  };
}

/**
 * `9 of 10 public keys: dev 4, prod 5, other 0`: every public key of the account against the quota,
 * and which stage holds how many ({@link countAccountKeys}).
 */
export function accountKeysSummary(state: RotationState): string {
  const { ring, profile, publicKeys, keyGroups } = state;
  const count = countAccountKeys(publicKeys, keyGroups, [
    {
      stage: profile.stage,
      secretId: profile.keyRing.secretId,
      keyIds: (ring?.keys ?? []).flatMap((key) => (key.id === undefined ? [] : [key.id])),
    },
  ]);
  return `${count.total} of ${publicKeyQuotaOf(profile)} public keys: ${describeAccountKeys(count)}`;
}

function at(iso: string, plusSeconds: number): Date {
  return new Date(Date.parse(iso) + plusSeconds * 1000);
}
