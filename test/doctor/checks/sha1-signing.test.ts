import { describe, expect, it } from 'vitest';
import { checkSha1Signing } from '../../../lib/doctor/checks/sha1-signing.ts';
import { testProfile } from '../../support/profiles.ts';
import { ACTIVE_ID, activeKey, judge, snapshotOf } from './snapshots.ts';

// RSA keys may sign with SHA-1 (docs/design.md, "Signing"); doctor asks for SHA-256 or ECDSA.

const rsa = activeKey({ algorithm: 'rsa-2048' }); // ringKey gives RSA keys hash sha1

describe('SHA1_SIGNING', () => {
  it('an active key that signs with RSA-SHA1', () => {
    expect(judge(checkSha1Signing, snapshotOf({ keys: [rsa] }), 'SHA1_SIGNING')).toEqual([
      {
        severity: 'warning',
        code: 'SHA1_SIGNING',
        profile: 'media',
        keyId: ACTIVE_ID,
        message: `The active key ${ACTIVE_ID} signs with RSA-SHA1: SHA-1 is deprecated; CloudFront verifies SHA-256 (Hash-Algorithm=SHA256) and ECDSA P-256 keys.`,
        remedy:
          'Set "algorithm": "ecdsa-p256" (or "hash": "sha256") in profile media, then rotate: `signet rotate --profile media`.',
      },
    ]);
  });

  it('says so when the profile makes new keys sign with SHA-1 too', () => {
    const profile = testProfile({ algorithm: 'rsa-2048', hash: 'sha1' });
    const [finding] = judge(checkSha1Signing, snapshotOf({ profile, keys: [rsa] }), 'SHA1_SIGNING');
    expect(finding!.message).toContain(
      'signs with RSA-SHA1, and the profile makes new keys sign with SHA-1 too:',
    );
  });

  it('is not reported for the same RSA key signing with SHA-256', () => {
    expect(
      judge(checkSha1Signing, snapshotOf({ keys: [{ ...rsa, hash: 'sha256' }] }), 'SHA1_SIGNING'),
    ).toEqual([]);
  });

  it('is not reported for a retiring SHA-1 key: it no longer signs', () => {
    const snapshot = snapshotOf({
      keys: [activeKey({ id: 'KNEWACTIVE0001' }), { ...rsa, state: 'retiring', retiredAt: rsa.activatedAt! }],
    });
    expect(judge(checkSha1Signing, snapshot, 'SHA1_SIGNING')).toEqual([]);
  });
});
