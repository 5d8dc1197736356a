import type { Profile } from '../config/schema.ts';
import type { KeyRing, RingKey } from '../keys/ring.ts';
import { fingerprintOf, type KeyAlgorithm, parseVerifyingKey } from '../signing/index.ts';
import { boundsOfProfile } from './bounds.ts';
import { RotationError } from './errors.ts';

/**
 * The KMS key lifecycle of `signer: kms` profiles (docs/operators.md, "KMS signing"). The rotator
 * creates one KMS key per ring key, tagged with the ring it belongs to; a key that leaves the ring is
 * scheduled for deletion with the longest waiting period, so a mistaken removal can be undone
 * (CancelKeyDeletion) for 30 days; and a KMS key tagged for the ring that no ring key names (a
 * rotator killed between CreateKey and the ring write) is scheduled for deletion too, not left billing.
 */

/** The tag that binds a KMS key to its ring: IAM conditions grant kms:Sign only on keys carrying it. */
export const KMS_RING_TAG = 'signet:key-ring';
/** KMS's longest waiting period before a scheduled deletion happens, in days. */
export const KMS_DELETION_WINDOW_DAYS = 30;
/**
 * An untracked KMS key younger than this is left alone: a concurrent rotator may have just created it
 * and not yet written the ring. Seconds.
 */
export const KMS_ORPHAN_GRACE_SECONDS = 15 * 60;

/** A KMS key as the rotator sees it. */
export interface KmsKeyInfo {
  readonly arn: string;
  readonly state: 'Enabled' | 'Disabled' | 'PendingDeletion' | 'PendingImport' | 'Unavailable' | string;
  readonly createdAt: Date;
  readonly deletionDate?: Date | undefined;
}

/** What the rotator needs from KMS (lib/aws/kms-key-port.ts over the SDK). */
export interface KmsKeyPort {
  /** CreateKey (SIGN_VERIFY, the spec for `algorithm`, tagged) and GetPublicKey: the ARN and SPKI PEM. */
  createSigningKey(input: {
    readonly algorithm: KeyAlgorithm;
    readonly description: string;
    readonly tags: Readonly<Record<string, string>>;
  }): Promise<{ readonly arn: string; readonly publicKeyPem: string }>;
  /** The public key KMS holds for `arn` (SPKI PEM). */
  publicKey(arn: string): Promise<string>;
  describe(arn: string): Promise<KmsKeyInfo | undefined>;
  /** Every key carrying tag `key` = `value`. */
  listTagged(key: string, value: string): Promise<readonly KmsKeyInfo[]>;
  /** ScheduleKeyDeletion; a key already pending deletion or gone is fine. */
  scheduleDeletion(arn: string, days: number): Promise<void>;
  /** DisableKey: stops signing at once (revoke). */
  disable(arn: string): Promise<void>;
  /** Sign (SHA-256 digest), for the canary of a pending KMS key; optional (needs kms:Sign). */
  signDigest?(arn: string, algorithm: KeyAlgorithm, digest: Buffer): Promise<Buffer>;
}

/** The tags of a profile's KMS keys. */
export function kmsTagsFor(profile: Profile, profileName: string): Record<string, string> {
  return {
    [KMS_RING_TAG]: profile.keyRing.secretId,
    'signet:profile': profileName,
    ...(profile.stage === undefined ? {} : { 'signet:stage': profile.stage }),
  };
}

/** Creates a KMS key for a new pending ring key and describes it (no private key: it stays in KMS). */
export async function newKmsRingKey(
  kms: KmsKeyPort,
  profile: Profile,
  profileName: string,
  now: Date,
): Promise<RingKey> {
  const { algorithm } = profile;
  const created = await kms.createSigningKey({
    algorithm,
    description: `Signet CloudFront signing key for ${profile.keyRing.secretId} (profile ${profileName})`,
    tags: kmsTagsFor(profile, profileName),
  });
  const publicKey = parseVerifyingKey(created.publicKeyPem);
  if (publicKey.algorithm !== algorithm) {
    throw new RotationError(
      'ERR_ROTATION_KEY_MISMATCH',
      `Expected KMS to create a ${algorithm} key; its public key is ${publicKey.algorithm}.`,
    );
  }
  return {
    algorithm,
    hash: 'sha256',
    kmsKeyArn: created.arn,
    publicKey: created.publicKeyPem,
    fingerprint: fingerprintOf(publicKey.publicKey),
    state: 'pending',
    createdAt: now.toISOString(),
    bounds: boundsOfProfile(profile),
  };
}

/**
 * Whether this run sweeps the KMS keys tagged for the ring (docs/operators.md, "KMS signing"): always
 * for a `signer: kms` profile or one marked `kms: retiring` (switched back: a key a kill left untracked
 * before the switch is named by nothing but its tag); else while the ring names a KMS key, or a KMS
 * key left it less than {@link KMS_DELETION_WINDOW_DAYS} ago (a kill between the ring write and
 * ScheduleKeyDeletion). A profile that never signed through KMS makes no KMS call: the sweep lists
 * every key of the account and region and reads each one's tags.
 */
export function kmsSweepDue(profile: Profile, ring: KeyRing | undefined, now: Date): boolean {
  if (profile.signer === 'kms' || profile.kms === 'retiring') return true;
  if (ring === undefined) return false;
  if (ring.keys.some((key) => key.kmsKeyArn !== undefined)) return true;
  const since = now.getTime() - KMS_DELETION_WINDOW_DAYS * 86_400_000;
  return ring.history.some((entry) => {
    if (entry.kmsKeyArn === undefined) return false;
    const left = entry.removedAt ?? entry.revokedAt;
    return left === undefined || Date.parse(left) > since;
  });
}

/**
 * Schedules deletion of every KMS key tagged for this ring that no ring key names and that is older
 * than {@link KMS_ORPHAN_GRACE_SECONDS}: removed keys whose scheduling a crash interrupted, and keys
 * created by a run killed before its ring write. Answers the ARNs scheduled, and those of untracked
 * keys left alone because they are younger than the grace period (a later run schedules them).
 */
export async function sweepKmsKeys(
  kms: KmsKeyPort,
  ring: KeyRing | undefined,
  profile: Profile,
  now: Date,
): Promise<{ readonly scheduled: string[]; readonly waiting: string[] }> {
  const tracked = new Set(
    (ring?.keys ?? []).flatMap((key) => (key.kmsKeyArn === undefined ? [] : [key.kmsKeyArn])),
  );
  const scheduled: string[] = [];
  const waiting: string[] = [];
  for (const key of await kms.listTagged(KMS_RING_TAG, profile.keyRing.secretId)) {
    if (tracked.has(key.arn) || key.state === 'PendingDeletion') continue;
    if (now.getTime() - key.createdAt.getTime() < KMS_ORPHAN_GRACE_SECONDS * 1000) {
      waiting.push(key.arn);
      continue;
    }
    await kms.scheduleDeletion(key.arn, KMS_DELETION_WINDOW_DAYS);
    scheduled.push(key.arn);
  }
  return { scheduled, waiting };
}
