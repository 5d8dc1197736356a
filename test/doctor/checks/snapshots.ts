import { createPrivateKey, createPublicKey } from 'node:crypto';
import { expect } from 'vitest';
import type { Profile } from '../../../lib/config/schema.ts';
import type { CheckInput } from '../../../lib/doctor/checks/check.ts';
import { diagnose } from '../../../lib/doctor/diagnose.ts';
import type { DistributionView } from '../../../lib/doctor/distribution.ts';
import type { Finding, FindingCode } from '../../../lib/doctor/findings.ts';
import type {
  DistributionRead,
  DoctorSnapshot,
  KeyGroupRead,
  KmsKeyRead,
  ProfileSnapshot,
  RingRead,
} from '../../../lib/doctor/snapshot.ts';
import { type HistoryEntry, KEY_RING_SCHEMA, type RingKey } from '../../../lib/keys/ring.ts';
import { publicKeyCommentFor, publicKeyNameFor } from '../../../lib/rotation/names.ts';
import type { ListedKeyGroup, RegisteredPublicKey } from '../../../lib/rotation/registry.ts';
import { publicKeyPem } from '../../../lib/signing/index.ts';
import { testProfile } from '../../support/profiles.ts';
import { ringKey } from '../../support/rings.ts';

// Hand-built doctor snapshots: one profile, `media`, whose healthy state has one active key in its
// key group and registered in CloudFront, and a distribution that trusts the group. Each test
// breaks one thing. Keys are generated at run time (test/support/rings.ts); none is committed.
// Timings are testProfile()'s: rotateEvery 3600 s, propagation 120 s, removal 390 s after retirement.

export const T0 = Date.parse('2026-11-22T12:00:00.000Z');
/** The ISO time `seconds` from T0. */
export const iso = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();
/** The clock `seconds` from T0. */
export const at = (seconds = 0) => new Date(T0 + seconds * 1000);

export const PROFILE = 'media';
export const SECRET_ID = 'signet/test';
export const GROUP_ID = '5b7a1f9e-1111-4c8e-9a43-0123456789ab';
export const OTHER_GROUP_ID = '0c0ffee0-2222-4c8e-9a43-0123456789ab';
export const DISTRIBUTION_ID = 'EDFDVBD6EXAMPLE';
export const ACTIVE_ID = 'KACTIVE0000001';

/** The active key: trusted 30 minutes ago, activated 5 minutes after (past the 120 s propagation). */
export function activeKey(
  overrides: Partial<RingKey> & { algorithm?: 'ecdsa-p256' | 'rsa-2048' } = {},
): RingKey {
  return ringKey({
    id: ACTIVE_ID,
    createdAt: iso(-1800),
    trustedAt: iso(-1800),
    activatedAt: iso(-1500),
    ...overrides,
  });
}

/** A pending key, trusted `trustedAgo` seconds ago (never, when `undefined`). */
export function pendingKey(
  id: string,
  trustedAgo: number | undefined,
  overrides: Partial<RingKey> = {},
): RingKey {
  const {
    trustedAt: _t,
    activatedAt: _a,
    ...key
  } = ringKey({
    id,
    state: 'pending',
    createdAt: iso(-(trustedAgo ?? 60) - 10),
    ...overrides,
  });
  return trustedAgo === undefined ? key : { ...key, trustedAt: iso(-trustedAgo) };
}

/** A retiring key that stopped signing `retiredAgo` seconds ago (removable 390 s after). */
export function retiringKey(id: string, retiredAgo: number): RingKey {
  return ringKey({
    id,
    state: 'retiring',
    createdAt: iso(-retiredAgo - 7200),
    trustedAt: iso(-retiredAgo - 7200),
    activatedAt: iso(-retiredAgo - 7000),
    retiredAt: iso(-retiredAgo),
  });
}

/** CloudFront's public key for a ring key, as the rotator registers it (name and comment included). */
export function registered(key: RingKey, overrides: Partial<RegisteredPublicKey> = {}): RegisteredPublicKey {
  return {
    id: key.id!,
    name: publicKeyNameFor(PROFILE, key.fingerprint),
    encodedKey: publicPemOf(key),
    createdTime: key.createdAt,
    comment: publicKeyCommentFor(SECRET_ID),
    ...overrides,
  };
}

/** The SPKI PEM of a ring key's public half (recorded in the ring for a KMS key). */
export function publicPemOf(key: RingKey): string {
  if (key.publicKey !== undefined) return key.publicKey;
  return publicKeyPem(createPublicKey(createPrivateKey(key.privateKey!)));
}

/** A default cache behaviour that trusts `groups`. */
export function distributionTrusting(...groups: string[]): DistributionView {
  return {
    id: DISTRIBUTION_ID,
    aliases: [],
    behaviors: [{ pathPattern: '*', isDefault: true, trustedKeyGroups: groups }],
  };
}

/** What a test may change of the healthy snapshot; everything left out stays healthy. */
export interface Parts {
  readonly profile?: Profile;
  /** The ring's keys; the key group holds and CloudFront registers each key with an id, unless told otherwise. */
  readonly keys?: readonly RingKey[];
  readonly history?: readonly HistoryEntry[];
  /** The ring as read, replacing the ring built from `keys` and `history`. */
  readonly ring?: RingRead;
  /** The key group's items, replacing the ring's key ids. */
  readonly groupItems?: readonly string[];
  /** The key group as read, replacing the one built from `groupItems`. */
  readonly keyGroup?: KeyGroupRead;
  readonly distribution?: DistributionRead;
  /** The account's public keys, replacing the ring keys' registrations. */
  readonly publicKeys?: readonly RegisteredPublicKey[];
  /** Public keys added to the ring keys' registrations. */
  readonly extraPublicKeys?: readonly RegisteredPublicKey[];
  readonly keyGroups?: readonly ListedKeyGroup[];
  readonly configuredProfiles?: number;
  /** The config's api.publicOrigin. */
  readonly apiPublicOrigin?: string;
  /** The KMS keys as the doctor read them (a `signer: kms` profile); none read when left out. */
  readonly kmsKeys?: readonly KmsKeyRead[];
}

/** The healthy snapshot, with `parts` changed. */
export function snapshotOf(parts: Parts = {}): DoctorSnapshot {
  const keys = parts.keys ?? [activeKey()];
  const ids = keys.flatMap((key) => (key.id === undefined ? [] : [key.id]));
  const profile: ProfileSnapshot = {
    name: PROFILE,
    profile: parts.profile ?? testProfile(),
    ring: parts.ring ?? {
      status: 'ok',
      ring: {
        schema: KEY_RING_SCHEMA,
        keyGroupId: GROUP_ID,
        keys: [...keys],
        history: [...(parts.history ?? [])],
      },
    },
    keyGroup: parts.keyGroup ?? {
      status: 'ok',
      group: { id: GROUP_ID, name: `signet-${PROFILE}`, items: parts.groupItems ?? ids, etag: 'E1' },
    },
    distribution: parts.distribution ?? { status: 'ok', distribution: distributionTrusting(GROUP_ID) },
    ...(parts.kmsKeys === undefined ? {} : { kmsKeys: parts.kmsKeys }),
  };
  const publicKeys =
    parts.publicKeys ?? keys.flatMap((key) => (key.id === undefined ? [] : [registered(key)]));
  return {
    profiles: [profile],
    publicKeys: [...publicKeys, ...(parts.extraPublicKeys ?? [])],
    ...(parts.keyGroups === undefined ? {} : { keyGroups: parts.keyGroups }),
    configuredProfiles: parts.configuredProfiles ?? 1,
    ...(parts.apiPublicOrigin === undefined ? {} : { apiPublicOrigin: parts.apiPublicOrigin }),
  };
}

/** What `diagnose` hands each check of the snapshot's (only) profile. */
export function inputOf(snapshot: DoctorSnapshot, now: Date = at(0)): CheckInput {
  return {
    snapshot: snapshot.profiles[0]!,
    now,
    publicKeys: snapshot.publicKeys,
    ...(snapshot.keyGroups === undefined ? {} : { keyGroups: snapshot.keyGroups }),
    ...(snapshot.apiPublicOrigin === undefined ? {} : { apiPublicOrigin: snapshot.apiPublicOrigin }),
  };
}

/**
 * Runs one check on the snapshot's profile and returns what it found with `code`, after checking
 * that `diagnose` reports exactly those (so the check is one `diagnose` runs).
 */
export function judge(
  check: (input: CheckInput) => Finding[],
  snapshot: DoctorSnapshot,
  code: FindingCode,
  now: Date = at(0),
): Finding[] {
  const found = check(inputOf(snapshot, now)).filter((finding) => finding.code === code);
  const diagnosed = diagnose(snapshot, now).filter((finding) => finding.code === code);
  expect(diagnosed).toEqual(expect.arrayContaining(found));
  expect(diagnosed).toHaveLength(found.length);
  return found;
}
