import { describe, expect, it } from 'vitest';
import { checkAccountQuota } from '../../../lib/doctor/checks/account-quota.ts';
import { diagnose } from '../../../lib/doctor/diagnose.ts';
import type { DoctorSnapshot } from '../../../lib/doctor/snapshot.ts';
import { publicKeyCommentFor, publicKeyNameFor } from '../../../lib/rotation/names.ts';
import type { RegisteredPublicKey } from '../../../lib/rotation/registry.ts';
import { testProfile } from '../../support/profiles.ts';
import { activeKey, at, iso, snapshotOf } from './snapshots.ts';

// CloudFront's default quota of 10 public keys per account, shared by every profile and stage
// (docs/design.md, "The sandbox"); each profile needs a free one to rotate.

/** Public keys of something else in the account (not named like Signet's: no orphan findings). */
const others = (count: number): RegisteredPublicKey[] =>
  Array.from({ length: count }, (_, i) => ({
    id: `KOTHER00000${i}`,
    name: `hand-made-${i}`,
    encodedKey: 'not judged',
    createdTime: iso(-86_400),
  }));
/** An active key past rotateEvery (3600 s): a rotation is due. */
const due = activeKey({ createdAt: iso(-4000), trustedAt: iso(-4000), activatedAt: iso(-3700) });

/** The account findings, checked to be the ones diagnose reports. */
function judgeAccount(snapshot: DoctorSnapshot) {
  const found = checkAccountQuota(snapshot, at(0));
  expect(diagnose(snapshot, at(0)).filter((finding) => finding.profile === null)).toEqual(found);
  return found;
}

const REMEDY =
  'Delete public keys no key group uses (see ORPHAN_PUBLIC_KEY), or raise the "Public keys" quota of CloudFront in Service Quotas and set aws.publicKeyQuota in the config to the new value.';

describe('ACCOUNT_KEYS_HEADROOM', () => {
  it('information with enough free keys', () => {
    expect(judgeAccount(snapshotOf())).toEqual([
      {
        severity: 'info',
        code: 'ACCOUNT_KEYS_HEADROOM',
        profile: null,
        keyId: null,
        message:
          "The account holds 1 of CloudFront's 10 public keys (the default quota, adjustable, shared by every stage and profile: unstaged 1, other 0), 9 free.",
        remedy: 'Nothing to do.',
      },
    ]);
  });

  it('is not reported near the limit (ACCOUNT_KEYS_NEAR_LIMIT instead)', () => {
    expect(judgeAccount(snapshotOf({ extraPublicKeys: others(7) })).map((finding) => finding.code)).toEqual([
      'ACCOUNT_KEYS_NEAR_LIMIT',
    ]);
  });
});

describe('ACCOUNT_KEYS_NEAR_LIMIT', () => {
  it('a warning with no more free keys than the profiles need to rotate (and one for a revoke)', () => {
    expect(judgeAccount(snapshotOf({ extraPublicKeys: others(7) }))).toEqual([
      {
        severity: 'warning',
        code: 'ACCOUNT_KEYS_NEAR_LIMIT',
        profile: null,
        keyId: null,
        message:
          "The account holds 8 of CloudFront's 10 public keys (the default quota, adjustable, shared by every stage and profile: unstaged 1, other 7), 2 free: 1 profile(s) each need a free one to rotate, and a revoke may need another.",
        remedy: REMEDY,
      },
    ]);
  });

  it('counts every configured profile, checked or not', () => {
    const [finding] = judgeAccount(snapshotOf({ extraPublicKeys: others(5), configuredProfiles: 4 }));
    expect(finding).toMatchObject({ severity: 'warning', code: 'ACCOUNT_KEYS_NEAR_LIMIT' });
    expect(finding!.message).toContain('6 of CloudFront');
    expect(finding!.message).toContain('4 free: 4 profile(s) each need a free one to rotate');
  });

  it('a warning with none free while no rotation is due', () => {
    expect(judgeAccount(snapshotOf({ extraPublicKeys: others(9) }))).toEqual([
      expect.objectContaining({
        severity: 'warning',
        code: 'ACCOUNT_KEYS_NEAR_LIMIT',
        message:
          "The account holds 10 of CloudFront's 10 public keys (the default quota, adjustable, shared by every stage and profile: unstaged 1, other 9), 0 free: no rotation can introduce a key (TooManyPublicKeys).",
        remedy: REMEDY,
      }),
    ]);
  });

  it('an error with none free and a rotation due', () => {
    const [finding] = judgeAccount(snapshotOf({ keys: [due], extraPublicKeys: others(9) }));
    expect(finding).toMatchObject({ severity: 'error', code: 'ACCOUNT_KEYS_NEAR_LIMIT' });
    expect(finding!.message).toMatch(
      /: no rotation can introduce a key \(TooManyPublicKeys\), and one is due\.$/,
    );
  });

  it('says which stage holds how many: the ring’s own stage, other stages by key comment or group name', () => {
    const prodKey = {
      ...others(1)[0]!,
      id: 'KPROD000000001',
      name: publicKeyNameFor('media', 'sha256:prodprodprodprodprod'),
      comment: publicKeyCommentFor('signet/prod/media/key-ring', 'prod'),
    };
    const qaKey = {
      ...others(1)[0]!,
      id: 'KQA00000000001',
      name: publicKeyNameFor('media', 'sha256:qaqaqaqaqaqaqaqaqaqa'),
    };
    const snapshot = snapshotOf({
      profile: { ...testProfile(), stage: 'dev' },
      extraPublicKeys: [prodKey, qaKey, ...others(6)],
      keyGroups: [{ id: 'GQA', name: 'signet-qa-media', items: [qaKey.id] }],
    });
    const [finding] = judgeAccount(snapshot);
    expect(finding!.message).toContain(
      "The account holds 9 of CloudFront's 10 public keys (the default quota, adjustable, shared by every stage and profile: dev 1, prod 1, qa 1, other 6), 1 free",
    );
  });

  it('counts against a raised quota (aws.publicKeyQuota) and says so', () => {
    const raised = { ...testProfile(), publicKeyQuota: 20 };
    expect(judgeAccount(snapshotOf({ profile: raised, extraPublicKeys: others(9) }))).toEqual([
      {
        severity: 'info',
        code: 'ACCOUNT_KEYS_HEADROOM',
        profile: null,
        keyId: null,
        message:
          "The account holds 10 of CloudFront's 20 public keys (aws.publicKeyQuota; the default is 10, shared by every stage and profile: unstaged 1, other 9), 10 free.",
        remedy: 'Nothing to do.',
      },
    ]);
    const [full] = judgeAccount(snapshotOf({ profile: raised, keys: [due], extraPublicKeys: others(19) }));
    expect(full).toMatchObject({ severity: 'error', code: 'ACCOUNT_KEYS_NEAR_LIMIT', remedy: REMEDY });
    expect(full!.message).toContain("20 of CloudFront's 20 public keys");
  });

  it('counts against the default quota when no profile could be read', () => {
    const [finding] = checkAccountQuota(
      { ...snapshotOf({ extraPublicKeys: others(3) }), profiles: [] },
      at(0),
    );
    expect(finding!.message).toContain(
      "The account holds 4 of CloudFront's 10 public keys (the default quota",
    );
  });

  it('is not reported with more free keys than the margin', () => {
    expect(judgeAccount(snapshotOf({ extraPublicKeys: others(6) })).map((finding) => finding.code)).toEqual([
      'ACCOUNT_KEYS_HEADROOM',
    ]);
  });
});
