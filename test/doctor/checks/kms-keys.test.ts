import { describe, expect, it } from 'vitest';
import { checkKmsKeys } from '../../../lib/doctor/checks/kms-keys.ts';
import type { KmsKeyRead } from '../../../lib/doctor/snapshot.ts';
import type { RingKey } from '../../../lib/keys/ring.ts';
import { testProfile } from '../../support/profiles.ts';
import { ringKey } from '../../support/rings.ts';
import {
  ACTIVE_ID,
  activeKey,
  inputOf,
  judge,
  type Parts,
  pendingKey,
  publicPemOf,
  registered,
  retiringKey,
  snapshotOf,
} from './snapshots.ts';

// The KMS keys behind a `signer: kms` ring (docs/operators.md, "KMS signing"): what the operator is
// told when a KMS key cannot sign, or signs with a public key other than the one the ring recorded
// or CloudFront holds. Each test reads the KMS keys as the doctor would (status, state, public key).

const ARN = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const OTHER_ARN = 'arn:aws:kms:us-east-1:123456789012:key/0000ffff-12ab-34cd-56ef-1234567890ab';
const REVOKE = (id: string) => `signet revoke ${id} --profile media --yes`;
const ROTATE = 'Run `signet rotate --profile media`.';
const kmsProfile = testProfile({ signer: 'kms' });

/** A ring key that signs through KMS key `arn`: its public key recorded, no private key. */
function kmsKey(key: RingKey, arn = ARN): RingKey {
  const { privateKey: _private, ...rest } = key;
  return { ...rest, publicKey: publicPemOf(key), kmsKeyArn: arn };
}

/** The KMS key as read while enabled, with the public key of `key` (the one the ring recorded). */
function enabled(key: RingKey, arn = ARN): Extract<KmsKeyRead, { status: 'ok' }> {
  return { arn, status: 'ok', state: 'Enabled', publicKeyPem: key.publicKey };
}

function findings(parts: Parts) {
  return judge(checkKmsKeys, snapshotOf({ profile: kmsProfile, ...parts }), 'KMS_KEY_UNUSABLE')
    .concat(judge(checkKmsKeys, snapshotOf({ profile: kmsProfile, ...parts }), 'KMS_KEY_UNREADABLE'))
    .concat(judge(checkKmsKeys, snapshotOf({ profile: kmsProfile, ...parts }), 'KMS_PUBLIC_KEY_MISMATCH'));
}

const active = kmsKey(activeKey());

describe('a healthy KMS ring', () => {
  it('reports nothing when every KMS key is enabled and holds the public key the ring and CloudFront have', () => {
    const pending = kmsKey(pendingKey('KPENDING000001', 60), OTHER_ARN);
    expect(
      findings({ keys: [active, pending], kmsKeys: [enabled(active), enabled(pending, OTHER_ARN)] }),
    ).toEqual([]);
  });

  it('finds nothing at all for a healthy KMS ring', () => {
    const snapshot = snapshotOf({ profile: kmsProfile, keys: [active], kmsKeys: [enabled(active)] });
    expect(checkKmsKeys(inputOf(snapshot))).toEqual([]);
  });

  it('reports nothing when the KMS keys were not read (a Secrets Manager profile)', () => {
    expect(findings({ keys: [active] })).toEqual([]);
  });

  it('reports nothing about keys kept in the ring (secrets-manager) when the ring also has KMS keys', () => {
    const local = activeKey({ id: 'KLOCAL00000001' });
    const pending = kmsKey(pendingKey('KPENDING000001', 60));
    expect(findings({ keys: [local, pending], kmsKeys: [enabled(pending)] })).toEqual([]);
  });

  it('reports nothing when the ring could not be read', () => {
    expect(
      findings({
        ring: { status: 'missing' } as never,
        kmsKeys: [{ arn: ARN, status: 'missing' }],
      }),
    ).toEqual([]);
  });

  it('has nothing to compare when KMS gave no public key for an enabled key', () => {
    expect(findings({ keys: [active], kmsKeys: [{ arn: ARN, status: 'ok', state: 'Enabled' }] })).toEqual([]);
  });

  it('has nothing to compare with CloudFront when the key is not registered there (yet)', () => {
    expect(findings({ keys: [active], publicKeys: [], kmsKeys: [enabled(active)] })).toEqual([]);
  });
});

describe('KMS_KEY_UNREADABLE', () => {
  it('warns when the KMS key could not be read, with the reason', () => {
    expect(
      findings({
        keys: [active],
        kmsKeys: [{ arn: ARN, status: 'unreadable', message: 'AccessDeniedException: not authorized' }],
      }),
    ).toEqual([
      {
        severity: 'warning',
        code: 'KMS_KEY_UNREADABLE',
        profile: 'media',
        keyId: ACTIVE_ID,
        message: `The KMS key ${ARN} of the active key ${ACTIVE_ID} could not be read (AccessDeniedException: not authorized): whether it can sign is unknown.`,
        remedy:
          'Grant the doctor kms:DescribeKey and kms:GetPublicKey on keys tagged signet:key-ring (docs/operators.md, "Rotating and revoking by hand").',
      },
    ]);
  });

  it('warns when the doctor has no read of a key the ring names, naming the key by fingerprint before it has an id', () => {
    const { id: _id, ...unregistered } = kmsKey(pendingKey('KPENDING000001', undefined), OTHER_ARN);
    const [finding, ...rest] = findings({ keys: [active, unregistered], kmsKeys: [enabled(active)] });
    expect(rest).toEqual([]);
    expect(finding).toMatchObject({ severity: 'warning', code: 'KMS_KEY_UNREADABLE', keyId: null });
    expect(finding!.message).toBe(
      `The KMS key ${OTHER_ARN} of the pending key ${unregistered.fingerprint} could not be read: whether it can sign is unknown.`,
    );
  });
});

describe('KMS_KEY_UNUSABLE', () => {
  it('is an error when the active key’s KMS key is disabled: the API cannot sign', () => {
    expect(findings({ keys: [active], kmsKeys: [{ arn: ARN, status: 'ok', state: 'Disabled' }] })).toEqual([
      {
        severity: 'error',
        code: 'KMS_KEY_UNUSABLE',
        profile: 'media',
        keyId: ACTIVE_ID,
        message: `The KMS key ${ARN} behind the active key ${ACTIVE_ID} is Disabled: the API cannot sign (503) for this profile.`,
        remedy: `aws kms enable-key --key-id ${ARN}`,
      },
    ]);
  });

  it('is an error when a retiring key’s KMS key is scheduled for deletion, with the date and how to cancel it', () => {
    const retiring = kmsKey(retiringKey('KRETIRING00001', 60), OTHER_ARN);
    const [finding, ...rest] = findings({
      keys: [active, retiring],
      kmsKeys: [
        enabled(active),
        {
          arn: OTHER_ARN,
          status: 'ok',
          state: 'PendingDeletion',
          deletionDate: new Date('2026-12-01T00:00:00.000Z'),
        },
      ],
    });
    expect(rest).toEqual([]);
    expect(finding).toEqual({
      severity: 'error',
      code: 'KMS_KEY_UNUSABLE',
      profile: 'media',
      keyId: 'KRETIRING00001',
      message: `The KMS key ${OTHER_ARN} behind the retiring key KRETIRING00001 is scheduled for deletion on 2026-12-01T00:00:00.000Z: signers holding a cached ring cannot sign with it.`,
      remedy: `aws kms cancel-key-deletion --key-id ${OTHER_ARN} && aws kms enable-key --key-id ${OTHER_ARN}`,
    });
  });

  it('says "scheduled for deletion" without a date when KMS gave none', () => {
    const [finding] = findings({
      keys: [active],
      kmsKeys: [{ arn: ARN, status: 'ok', state: 'PendingDeletion' }],
    });
    expect(finding!.message).toBe(
      `The KMS key ${ARN} behind the active key ${ACTIVE_ID} is scheduled for deletion: the API cannot sign (503) for this profile.`,
    );
  });

  it('is a warning for a pending key: it cannot be activated, but nothing signs with it yet', () => {
    const pending = kmsKey(pendingKey('KPENDING000001', 60), OTHER_ARN);
    const [finding, ...rest] = findings({
      keys: [active, pending],
      kmsKeys: [enabled(active), { arn: OTHER_ARN, status: 'ok', state: 'Disabled' }],
    });
    expect(rest).toEqual([]);
    expect(finding).toEqual({
      severity: 'warning',
      code: 'KMS_KEY_UNUSABLE',
      profile: 'media',
      keyId: 'KPENDING000001',
      message: `The KMS key ${OTHER_ARN} behind the pending key KPENDING000001 is Disabled: it cannot be activated.`,
      remedy: `aws kms enable-key --key-id ${OTHER_ARN}`,
    });
  });

  it('is an error when the KMS key no longer exists: the key is revoked', () => {
    expect(findings({ keys: [active], kmsKeys: [{ arn: ARN, status: 'missing' }] })).toEqual([
      {
        severity: 'error',
        code: 'KMS_KEY_UNUSABLE',
        profile: 'media',
        keyId: ACTIVE_ID,
        message: `The KMS key ${ARN} behind the active key ${ACTIVE_ID} does not exist (deleted): the API cannot sign (503) for this profile.`,
        remedy: REVOKE(ACTIVE_ID),
      },
    ]);
  });

  it('asks for a rotation when the deleted KMS key is behind a key CloudFront has no id for yet', () => {
    const { id: _id, ...unregistered } = kmsKey(pendingKey('KPENDING000001', undefined), OTHER_ARN);
    const [finding, ...rest] = findings({
      keys: [active, unregistered],
      kmsKeys: [enabled(active), { arn: OTHER_ARN, status: 'missing' }],
    });
    expect(rest).toEqual([]);
    expect(finding).toEqual({
      severity: 'warning',
      code: 'KMS_KEY_UNUSABLE',
      profile: 'media',
      keyId: null,
      message: `The KMS key ${OTHER_ARN} behind the pending key ${unregistered.fingerprint} does not exist (deleted): it cannot be activated.`,
      remedy: ROTATE,
    });
  });
});

describe('KMS_PUBLIC_KEY_MISMATCH', () => {
  const stranger = ringKey();

  it('is an error when the KMS key holds another public key than the ring recorded: the API refuses to sign', () => {
    expect(
      findings({ keys: [active], kmsKeys: [{ ...enabled(active), publicKeyPem: publicPemOf(stranger) }] }),
    ).toEqual([
      {
        severity: 'error',
        code: 'KMS_PUBLIC_KEY_MISMATCH',
        profile: 'media',
        keyId: ACTIVE_ID,
        message: `The KMS key ${ARN} has public key ${stranger.fingerprint}, but the ring records ${active.fingerprint} for the active key ${ACTIVE_ID}: the ring names the wrong KMS key, and the API refuses to sign with it (503).`,
        remedy: REVOKE(ACTIVE_ID),
      },
    ]);
  });

  it('is an error when the ring’s recorded public key is not the one its fingerprint names', () => {
    // KMS holds the key of the recorded fingerprint, the recorded PEM is another key's.
    // CloudFront holds the KMS key's public key: only the ring is wrong.
    const forged = { ...active, publicKey: publicPemOf(stranger) };
    const [finding, ...rest] = findings({
      keys: [forged],
      publicKeys: [registered(active)],
      kmsKeys: [enabled(active)],
    });
    expect(rest).toEqual([]);
    expect(finding).toMatchObject({ severity: 'error', code: 'KMS_PUBLIC_KEY_MISMATCH', keyId: ACTIVE_ID });
    expect(finding!.message).toContain(
      `The KMS key ${ARN} has public key ${active.fingerprint}, but the ring`,
    );
  });

  it('is an error when the ring’s fingerprint is not the one of its recorded public key', () => {
    // KMS holds the recorded PEM's key, the recorded fingerprint is another key's.
    const forged = { ...active, fingerprint: stranger.fingerprint };
    const [finding] = findings({ keys: [forged], kmsKeys: [enabled(active)] });
    expect(finding).toMatchObject({ severity: 'error', code: 'KMS_PUBLIC_KEY_MISMATCH', keyId: ACTIVE_ID });
    expect(finding!.message).toContain(
      `has public key ${active.fingerprint}, but the ring records ${stranger.fingerprint}`,
    );
  });

  it('asks for a rotation when the key has no CloudFront id yet', () => {
    const { id: _id, ...unregistered } = kmsKey(pendingKey('KPENDING000001', undefined), OTHER_ARN);
    const [finding, ...rest] = findings({
      keys: [active, unregistered],
      kmsKeys: [
        enabled(active),
        { ...enabled(unregistered, OTHER_ARN), publicKeyPem: publicPemOf(stranger) },
      ],
    });
    expect(rest).toEqual([]);
    expect(finding).toMatchObject({ code: 'KMS_PUBLIC_KEY_MISMATCH', keyId: null, remedy: ROTATE });
    expect(finding!.message).toContain(`for the pending key ${unregistered.fingerprint}:`);
  });

  it('is an error when CloudFront holds another public key under the key’s id: every URL is refused at the edge', () => {
    expect(
      findings({
        keys: [active],
        publicKeys: [registered(activeKey(), { id: ACTIVE_ID, encodedKey: publicPemOf(stranger) })],
        kmsKeys: [enabled(active)],
      }),
    ).toEqual([
      {
        severity: 'error',
        code: 'KMS_PUBLIC_KEY_MISMATCH',
        profile: 'media',
        keyId: ACTIVE_ID,
        message: `CloudFront's public key ${ACTIVE_ID} (${stranger.fingerprint}) is not the public key of its KMS key ${ARN} (${active.fingerprint}): every URL signed with it is refused (403 InvalidSignature).`,
        remedy: REVOKE(ACTIVE_ID),
      },
    ]);
  });

  it('says so when CloudFront’s public key under the id is not a valid public key', () => {
    const [finding] = findings({
      keys: [active],
      publicKeys: [{ ...registered(activeKey()), encodedKey: 'not a key' }],
      kmsKeys: [enabled(active)],
    });
    expect(finding!.message).toContain(
      `CloudFront's public key ${ACTIVE_ID} (not a valid public key) is not`,
    );
  });

  it('compares each key with its own CloudFront registration and its own KMS key', () => {
    const pending = kmsKey(pendingKey('KPENDING000001', 60), OTHER_ARN);
    const [finding, ...rest] = findings({
      keys: [active, pending],
      publicKeys: [
        { ...registered(activeKey()), id: ACTIVE_ID, encodedKey: active.publicKey! },
        { ...registered(activeKey()), id: 'KPENDING000001', encodedKey: publicPemOf(stranger) },
      ],
      kmsKeys: [enabled(active), enabled(pending, OTHER_ARN)],
    });
    expect(rest).toEqual([]);
    expect(finding).toMatchObject({ code: 'KMS_PUBLIC_KEY_MISMATCH', keyId: 'KPENDING000001' });
  });
});
