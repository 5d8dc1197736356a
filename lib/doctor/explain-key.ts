import type { KeyRing } from '../keys/ring.ts';
import { HISTORY_RETENTION_SECONDS } from '../rotation/history.ts';
import { fingerprintOf, parseVerifyingKey } from '../signing/index.ts';
import { looksLikeKeyGroupId } from './checks/key-group-id-as-key-id.ts';
import type { KmsKeyRead } from './snapshot.ts';

/** What CloudFront and the ring say about the key a request names. */
export type KeyStatus = 'trusted' | 'in-ring-not-in-group' | 'removed' | 'revoked' | 'unknown';

/** What live `signet explain` knows when it judges a key. */
export interface KeyContext {
  /** The Key-Pair-Id the request carries, if any. */
  readonly keyPairId: string | undefined;
  readonly profileName: string;
  readonly ring: KeyRing | undefined;
  /** The profile's key group (the ring's, else the config's). */
  readonly keyGroupId: string | undefined;
  /** Key groups the edge trusts for this request's path, with the public key ids each holds now. */
  readonly trustedGroups: ReadonlyMap<string, readonly string[]>;
  /** Every public key id of the account, with its name. */
  readonly publicKeys: ReadonlyMap<string, string>;
  /** Where the trusted groups come from, for the notes: "cache behaviour /private/* of E…". */
  readonly trustSource: string;
  /** The KMS keys of the ring (signer: kms), as read: a disabled or mismatched one explains a failure. */
  readonly kmsKeys?: readonly KmsKeyRead[];
}

/** The key's status and sentences explaining it, for the text and JSON output. */
export interface KeyExplanation {
  readonly keyStatus: KeyStatus;
  readonly keyGroupIdAsKeyId: boolean;
  readonly notes: readonly string[];
}

/**
 * Explains the key a request names against live configuration: whether CloudFront trusts it now,
 * whether it was ever in this profile's ring (and when it left), and whether it is a key group id
 * used where a public key id belongs (CloudFront then answers InvalidKey, "Unknown Key"). Pure.
 */
export function explainKey(context: KeyContext): KeyExplanation {
  const { keyPairId: id, ring, profileName } = context;
  if (id === undefined || id === '') {
    return { keyStatus: 'unknown', keyGroupIdAsKeyId: false, notes: ['the request names no key'] };
  }
  const notes: string[] = [];
  const holders = [...context.trustedGroups]
    .filter(([, items]) => items.includes(id))
    .map(([group]) => group);
  const ringKey = ring?.keys.find((key) => key.id === id);
  const history = ring?.history.find((entry) => entry.id === id);
  const groupsText = [...context.trustedGroups.keys()].join(', ') || 'none';

  let keyStatus: KeyStatus;
  if (holders.length > 0) {
    keyStatus = 'trusted';
    notes.push(
      `key ${id} is trusted by CloudFront now: it is in key group ${holders.join(', ')} (${context.trustSource})`,
    );
  } else if (ringKey !== undefined) {
    keyStatus = 'in-ring-not-in-group';
    notes.push(
      `key ${id} is the ${ringKey.state} key of profile ${profileName}'s ring, but no key group trusted for this request holds it (trusted: ${groupsText}; ${context.trustSource})${context.publicKeys.has(id) ? '' : ', and CloudFront has no public key with this id'}`,
    );
  } else if (history?.revokedAt !== undefined) {
    keyStatus = 'revoked';
    notes.push(
      `key ${id} was revoked at ${history.revokedAt}${history.retiredAt === undefined ? '' : ` (retired at ${history.retiredAt})`}: it was profile ${profileName}'s key and no longer is${validUntilNote(history.validUntil)}`,
    );
  } else if (history !== undefined) {
    keyStatus = 'removed';
    notes.push(
      `key ${id} was removed from the key group at ${history.removedAt ?? 'an unrecorded time'}${history.retiredAt === undefined ? '' : ` (retired at ${history.retiredAt})`}: it was profile ${profileName}'s key and no longer is${validUntilNote(history.validUntil)}`,
    );
  } else {
    keyStatus = 'unknown';
    const name = context.publicKeys.get(id);
    notes.push(
      `key ${id} is in no key group trusted for this request (trusted: ${groupsText}) and not in profile ${profileName}'s ring or its history: it was not this profile's key in the last ${HISTORY_RETENTION_SECONDS / 86_400} days (the history keeps a key that long after its last URL expired)${name === undefined ? '' : ` (CloudFront has a public key ${id} named ${name})`}`,
    );
  }
  if (keyStatus === 'trusted' && ringKey !== undefined) {
    notes.push(`it is the ${ringKey.state} key of profile ${profileName}'s ring`);
  } else if (keyStatus === 'trusted' && history !== undefined) {
    notes.push(
      `profile ${profileName}'s ring says it left at ${history.removedAt ?? history.revokedAt}, yet CloudFront still trusts it`,
    );
  } else if (keyStatus === 'trusted') {
    notes.push(`it is not in profile ${profileName}'s ring: another profile or another signer uses it`);
  }

  const arn = ringKey?.kmsKeyArn ?? history?.kmsKeyArn;
  if (arn !== undefined)
    notes.push(kmsNote(arn, context.kmsKeys, ringKey?.fingerprint ?? history?.fingerprint));

  const keyGroupIdAsKeyId =
    looksLikeKeyGroupId(id) || id === context.keyGroupId || context.trustedGroups.has(id);
  if (keyGroupIdAsKeyId) {
    const active = ring?.keys.find((key) => key.state === 'active')?.id;
    const isGroup = id === context.keyGroupId || context.trustedGroups.has(id);
    notes.push(
      `Key-Pair-Id ${id} ${isGroup ? 'is the id of a key group' : 'has the shape of a key group id (a UUID)'}, not a public key id (like K2JCJMDEHXQW5F): CloudFront answers InvalidKey ("Unknown Key")${active === undefined ? '' : `; sign with the public key id of the active key, ${active}`}`,
    );
  }
  return { keyStatus, keyGroupIdAsKeyId, notes };
}

/** What KMS says about the key behind a ring key (signer: kms). */
function kmsNote(
  arn: string,
  reads: readonly KmsKeyRead[] | undefined,
  fingerprint: string | undefined,
): string {
  const read = reads?.find((candidate) => candidate.arn === arn);
  if (read === undefined) return `it signs through KMS key ${arn} (its state was not read)`;
  if (read.status === 'missing')
    return `it signed through KMS key ${arn}, which no longer exists: nothing can sign with it`;
  if (read.status === 'unreadable')
    return `it signs through KMS key ${arn}, which could not be read (${read.message})`;
  if (read.state === 'PendingDeletion') {
    return `it signs through KMS key ${arn}, which is scheduled for deletion${read.deletionDate === undefined ? '' : ` on ${read.deletionDate.toISOString()}`}: nothing can sign with it (undo: aws kms cancel-key-deletion, then aws kms enable-key)`;
  }
  if (read.state !== 'Enabled') {
    return `it signs through KMS key ${arn}, which is ${read.state}: nothing can sign with it (aws kms enable-key --key-id ${arn})`;
  }
  const kms =
    read.publicKeyPem === undefined
      ? undefined
      : fingerprintOf(parseVerifyingKey(read.publicKeyPem).publicKey);
  if (kms !== undefined && fingerprint !== undefined && kms !== fingerprint) {
    return `it signs through KMS key ${arn}, whose public key (${kms}) is not the one the ring records (${fingerprint}): the API refuses to sign with it`;
  }
  return `it signs through KMS key ${arn} (enabled; its public key matches the ring)`;
}

/** What the ring recorded, when the key left, about the last URL it signed (the bound in force then). */
function validUntilNote(validUntil: string | undefined): string {
  return validUntil === undefined
    ? ''
    : `; the last URL or cookie it signed was valid until ${validUntil}, under the bounds recorded while it signed`;
}
