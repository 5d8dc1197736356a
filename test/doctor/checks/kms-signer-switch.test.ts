import { describe, expect, it } from 'vitest';
import { checkKmsSignerSwitch } from '../../../lib/doctor/checks/kms-signer-switch.ts';
import type { RingKey } from '../../../lib/keys/ring.ts';
import { testProfile } from '../../support/profiles.ts';
import { activeKey, judge, pendingKey, publicPemOf, retiringKey, snapshotOf } from './snapshots.ts';

// A profile switched back from signer: kms (docs/operators.md, "KMS signing"): packaging keeps the
// KMS permissions only for signer: kms and kms: retiring profiles, so a ring still holding KMS keys
// under neither is an error before the deploy that would make the API answer 503; a retiring
// profile whose ring holds no KMS key any more may drop the mark.

const ARN = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const secretsManager = testProfile();
const retiring = testProfile({ kms: 'retiring' });
const kms = testProfile({ signer: 'kms' });

/** A ring key that signs through a KMS key: its public key recorded, no private key. */
function kmsKey(key: RingKey): RingKey {
  const { privateKey: _private, ...rest } = key;
  return { ...rest, publicKey: publicPemOf(key), kmsKeyArn: ARN };
}

describe('KMS_SIGNER_SWITCHED', () => {
  it('is an error naming every KMS key of the ring when the profile is neither signer: kms nor kms: retiring', () => {
    const pending = kmsKey(pendingKey('KPENDING000001', 30));
    const found = judge(
      checkKmsSignerSwitch,
      snapshotOf({
        profile: secretsManager,
        keys: [kmsKey(activeKey()), retiringKey('KRETIRING00001', 10), pending],
      }),
      'KMS_SIGNER_SWITCHED',
    );
    expect(found).toEqual([
      {
        severity: 'error',
        code: 'KMS_SIGNER_SWITCHED',
        profile: 'media',
        keyId: null,
        message:
          "Profile media has signer: secrets-manager without kms: retiring, but its key ring still holds keys that sign through KMS (active key KACTIVE0000001, pending key KPENDING000001): a deploy of this config drops the KMS permissions and the KMS-enabled API, so the API answers 503 for this profile and the rotator cannot schedule those keys' deletion until they are rotated out.",
        remedy:
          'Add kms: retiring to profile media and deploy; remove it once the rotator logs "KMS retired" (docs/operators.md, "KMS signing").',
      },
    ]);
  });

  it('names a KMS key without a CloudFront id by its fingerprint', () => {
    const { id: _id, ...unregistered } = kmsKey(pendingKey('KPENDING000001', undefined));
    const found = judge(
      checkKmsSignerSwitch,
      snapshotOf({ profile: secretsManager, keys: [activeKey(), unregistered] }),
      'KMS_SIGNER_SWITCHED',
    );
    expect(found).toHaveLength(1);
    expect(found[0]!.message).toContain(`(pending key ${unregistered.fingerprint})`);
  });

  it('is not reported for a signer: kms profile, a retiring one, or a ring without KMS keys', () => {
    const kmsRing = { keys: [kmsKey(activeKey())] };
    expect(
      judge(checkKmsSignerSwitch, snapshotOf({ profile: kms, ...kmsRing }), 'KMS_SIGNER_SWITCHED'),
    ).toEqual([]);
    expect(
      judge(checkKmsSignerSwitch, snapshotOf({ profile: retiring, ...kmsRing }), 'KMS_SIGNER_SWITCHED'),
    ).toEqual([]);
    expect(
      judge(checkKmsSignerSwitch, snapshotOf({ profile: secretsManager }), 'KMS_SIGNER_SWITCHED'),
    ).toEqual([]);
    // Nothing at all, of any code, for a profile that signs through KMS or is retiring with KMS keys left.
    for (const profile of [kms, retiring]) {
      expect(checkKmsSignerSwitch({ snapshot: snapshotOf({ profile, ...kmsRing }).profiles[0]! })).toEqual(
        [],
      );
    }
    // A ring that could not be read is RING_UNREADABLE's to report, not this check's.
    expect(
      checkKmsSignerSwitch({
        snapshot: snapshotOf({
          profile: secretsManager,
          ring: { status: 'missing', message: 'does not exist' },
        }).profiles[0]!,
      }),
    ).toEqual([]);
  });
});

describe('KMS_RETIRED', () => {
  it('tells a kms: retiring profile whose ring holds no KMS key that the mark may go', () => {
    const found = judge(checkKmsSignerSwitch, snapshotOf({ profile: retiring }), 'KMS_RETIRED');
    expect(found).toEqual([
      {
        severity: 'info',
        code: 'KMS_RETIRED',
        profile: 'media',
        keyId: null,
        message:
          'Profile media is marked kms: retiring, and its key ring holds no KMS key any more: once the rotator has logged "KMS retired" for it (every KMS key tagged for the ring scheduled for deletion), the mark only keeps KMS permissions deployed that nothing uses.',
        remedy: 'Remove kms: retiring from profile media and deploy (docs/operators.md, "KMS signing").',
      },
    ]);
  });

  it('is not reported while a KMS key is left, nor for a profile that is not retiring', () => {
    expect(
      judge(
        checkKmsSignerSwitch,
        snapshotOf({ profile: retiring, keys: [kmsKey(activeKey())] }),
        'KMS_RETIRED',
      ),
    ).toEqual([]);
    expect(judge(checkKmsSignerSwitch, snapshotOf({ profile: secretsManager }), 'KMS_RETIRED')).toEqual([]);
    expect(
      judge(checkKmsSignerSwitch, snapshotOf({ profile: kms, keys: [activeKey()] }), 'KMS_RETIRED'),
    ).toEqual([]);
  });
});
