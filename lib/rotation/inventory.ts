import type { HistoryEntry, RingKey, SigningBounds } from '../keys/ring.ts';
import { activationWaitSeconds, effectiveBounds, removableAt, validUntilOf } from './bounds.ts';
import { findOrphans, fingerprintOfRegistered } from './ownership.ts';
import type { RotationState } from './state.ts';

/** One key as `signet keys` shows it: never the private key. */
export interface KeyListingRow {
  /** The CloudFront public key id; absent while a pending key is not yet registered. */
  readonly id: string | undefined;
  /** A ring state, or `orphan`: a Signet key of this profile that no ring key owns. */
  readonly state: RingKey['state'] | 'orphan';
  readonly algorithm: RingKey['algorithm'] | undefined;
  readonly hash: RingKey['hash'] | undefined;
  readonly fingerprint: string | undefined;
  readonly createdAt: string | undefined;
  /** Seconds since `createdAt` (the ring's, else CloudFront's creation time). */
  readonly ageSeconds: number | undefined;
  readonly trustedAt?: string;
  /** The KMS key that signs for it (`signer: kms`). */
  readonly kmsKeyArn?: string;
  readonly activatedAt?: string;
  readonly retiredAt?: string;
  readonly inGroup: boolean;
  /** CloudFront still has its public key. */
  readonly registered: boolean;
  /**
   * What the key may sign under, as the ring records it (the longest config in force while it
   * could sign), raised to the current config's where that is longer. Absent for orphans.
   */
  readonly bounds?: SigningBounds;
  /** A retiring key: the last instant anything it signed can be valid. */
  readonly validUntil?: string;
  /** A retiring key: when the rotator takes it out of the key group (`validUntil` + `removeAfter`). */
  readonly removableAt?: string;
}

/** Everything `signet keys` prints for one profile. */
export interface KeyListing {
  readonly profile: string;
  readonly keyGroupId: string | undefined;
  /** Ring keys (active, pending, retiring), then orphans. */
  readonly keys: readonly KeyListingRow[];
  /** Keys of the group Signet did not create (another tool's, or another profile's): listed, never touched. */
  readonly otherGroupKeys: readonly string[];
  /** Keys that left the ring: removed after rotation or revoked. */
  readonly history: readonly HistoryEntry[];
  /**
   * No key is active yet: when the trusted pending key will have propagated, so that the rotator's
   * next run activates it and signing starts. Absent once a key is active, or before one is trusted.
   */
  readonly signingStartsAt?: string;
}

const STATE_ORDER: Record<KeyListingRow['state'], number> = { active: 0, pending: 1, retiring: 2, orphan: 3 };

/** Lists a profile's keys from one observed state. Pure: ages count from `state.now`. */
export function listKeys(state: RotationState): KeyListing {
  const { ring, group, publicKeys, now, profileName } = state;
  const inGroup = new Set(group?.items ?? []);
  const registered = new Set(publicKeys.map((key) => key.id));
  const age = (iso: string | undefined) => {
    const at = iso === undefined ? Number.NaN : Date.parse(iso);
    return Number.isNaN(at) ? undefined : Math.max(0, Math.floor((now.getTime() - at) / 1000));
  };
  const rows: KeyListingRow[] = (ring?.keys ?? []).map((key) => ({
    id: key.id,
    state: key.state,
    algorithm: key.algorithm,
    hash: key.hash,
    fingerprint: key.fingerprint,
    createdAt: key.createdAt,
    ageSeconds: age(key.createdAt),
    ...(key.trustedAt === undefined ? {} : { trustedAt: key.trustedAt }),
    ...(key.kmsKeyArn === undefined ? {} : { kmsKeyArn: key.kmsKeyArn }),
    ...(key.activatedAt === undefined ? {} : { activatedAt: key.activatedAt }),
    ...(key.retiredAt === undefined ? {} : { retiredAt: key.retiredAt }),
    inGroup: key.id !== undefined && inGroup.has(key.id),
    registered: key.id !== undefined && registered.has(key.id),
    bounds: effectiveBounds(key, state.profile),
    ...(key.state === 'retiring' && key.retiredAt !== undefined
      ? {
          validUntil: validUntilOf(key, state.profile, new Date(key.retiredAt)).toISOString(),
          removableAt: removableAt(key, state.profile)!.toISOString(),
        }
      : {}),
  }));
  for (const orphan of findOrphans(state)) {
    rows.push({
      id: orphan.key.id,
      state: 'orphan',
      algorithm: undefined,
      hash: undefined,
      fingerprint: fingerprintOfRegistered(orphan.key),
      createdAt: orphan.key.createdTime,
      ageSeconds: age(orphan.key.createdTime),
      inGroup: orphan.inGroup,
      registered: true,
    });
  }
  rows.sort((a, b) => STATE_ORDER[a.state] - STATE_ORDER[b.state]);
  const listed = new Set(rows.flatMap((row) => (row.id === undefined ? [] : [row.id])));
  const pendingTrusted = ring?.keys.find((key) => key.state === 'pending' && key.trustedAt !== undefined);
  const startsAt =
    ring === undefined || ring.keys.some((key) => key.state === 'active') || pendingTrusted === undefined
      ? undefined
      : new Date(Date.parse(pendingTrusted.trustedAt!) + activationWaitSeconds(ring, state.profile) * 1000);
  return {
    ...(startsAt === undefined ? {} : { signingStartsAt: startsAt.toISOString() }),
    profile: profileName,
    keyGroupId: ring?.keyGroupId ?? group?.id,
    keys: rows,
    otherGroupKeys: (group?.items ?? []).filter((id) => !listed.has(id)),
    history: ring?.history ?? [],
  };
}
