import { describe, expect, it } from 'vitest';
import { checkGroupSize } from '../../../lib/doctor/checks/group-size.ts';
import { publicKeyCommentFor } from '../../../lib/rotation/names.ts';
import { ringKey } from '../../support/rings.ts';
import {
  ACTIVE_ID,
  activeKey,
  GROUP_ID,
  iso,
  judge,
  registered,
  retiringKey,
  snapshotOf,
} from './snapshots.ts';

// CloudFront's key group holds at most 5 keys, and a full group blocks rotation, never forced
// (docs/design.md, "Invariants").

const strangers = (count: number) => Array.from({ length: count }, (_, i) => `KSTRANGER0000${i + 1}`);
/** An active key past rotateEvery (3600 s): a rotation is due. */
const due = activeKey({ createdAt: iso(-4000), trustedAt: iso(-4000), activatedAt: iso(-3700) });

describe('GROUP_FULL', () => {
  it('a warning one key short of full, naming the keys no ring of this profile holds', () => {
    const snapshot = snapshotOf({ groupItems: [ACTIVE_ID, ...strangers(3)] });
    expect(judge(checkGroupSize, snapshot, 'GROUP_FULL')).toEqual([
      {
        severity: 'warning',
        code: 'GROUP_FULL',
        profile: 'media',
        keyId: null,
        message: `Key group ${GROUP_ID} holds 4 of CloudFront's 5 keys (KSTRANGER00001, KSTRANGER00002, KSTRANGER00003 in no ring of this profile): one more key and rotation is blocked.`,
        remedy: `Take KSTRANGER00001, KSTRANGER00002, KSTRANGER00003 out of key group ${GROUP_ID} if nothing signs with them (aws cloudfront update-key-group).`,
      },
    ]);
  });

  it('an error when full and a rotation is due', () => {
    const snapshot = snapshotOf({ keys: [due], groupItems: [ACTIVE_ID, ...strangers(4)] });
    const [finding] = judge(checkGroupSize, snapshot, 'GROUP_FULL');
    expect(finding).toMatchObject({ severity: 'error' });
    expect(finding!.message).toMatch(
      /holds 5 of CloudFront's 5 keys .*: a rotation is due and cannot introduce a key, so the active key keeps ageing\.$/,
    );
  });

  it('a warning when full and no rotation is due yet', () => {
    const snapshot = snapshotOf({ groupItems: [ACTIVE_ID, ...strangers(4)] });
    const [finding] = judge(checkGroupSize, snapshot, 'GROUP_FULL');
    expect(finding).toMatchObject({ severity: 'warning' });
    expect(finding!.message).toMatch(/: the next rotation will be blocked unless a key leaves first\.$/);
  });

  it('with only the ring’s keys, says to wait for the retiring keys’ removal (or revoke one)', () => {
    const keys = [activeKey(), ...[1, 2, 3].map((i) => retiringKey(`KRETIRING0000${i}`, 100))];
    const [finding] = judge(checkGroupSize, snapshotOf({ keys }), 'GROUP_FULL');
    expect(finding).toMatchObject({
      severity: 'warning',
      message: `Key group ${GROUP_ID} holds 4 of CloudFront's 5 keys: one more key and rotation is blocked.`,
      remedy:
        "Wait for the retiring keys' removal (`signet rotate --profile media` removes them when due), or signet revoke KRETIRING00001 --profile media --yes",
    });
  });

  it('never suggests removing another ring’s key from a shared group', () => {
    const theirs = registered(ringKey({ id: 'KTHEIRS0000001' }), {
      comment: publicKeyCommentFor('signet/prod'),
    });
    const snapshot = snapshotOf({
      extraPublicKeys: [theirs],
      groupItems: [ACTIVE_ID, theirs.id, ...strangers(2)],
    });
    const [finding] = judge(checkGroupSize, snapshot, 'GROUP_FULL');
    expect(finding!.message).toContain('(KSTRANGER00001, KSTRANGER00002 in no ring of this profile)');
    expect(finding!.remedy).not.toContain(theirs.id);
  });

  it('is not reported with two free slots', () => {
    expect(
      judge(checkGroupSize, snapshotOf({ groupItems: [ACTIVE_ID, ...strangers(2)] }), 'GROUP_FULL'),
    ).toEqual([]);
  });
});
