import { describe, expect, it } from 'vitest';
import { checkOwnership } from '../../../lib/doctor/checks/ownership.ts';
import { publicKeyCommentFor } from '../../../lib/rotation/names.ts';
import { testProfile } from '../../support/profiles.ts';
import { ringKey } from '../../support/rings.ts';
import { ACTIVE_ID, GROUP_ID, iso, judge, OTHER_GROUP_ID, registered, snapshotOf } from './snapshots.ts';

// Signet-named public keys of the profile that no ring key holds: this ring's orphans, or another
// stage's keys, never touched (docs/design.md, "Rotation": a key tied to another ring is listed,
// never deleted).

const ORPHAN_ID = 'KORPHAN0000001';
/**
 * A Signet public key of profile media that no ring key holds, created `createdAgo` seconds ago,
 * its comment naming this ring unless told otherwise (`null`: no comment, as before comments named rings).
 */
function stray(createdAgo: number, comment: string | null = publicKeyCommentFor('signet/test')) {
  const key = registered(ringKey({ id: ORPHAN_ID, createdAt: iso(-createdAgo) }));
  if (comment === null) {
    const { comment: _c, ...uncommented } = key;
    return uncommented;
  }
  return { ...key, comment };
}

describe('ORPHAN_PUBLIC_KEY', () => {
  it('this ring’s key in the group but in no ring key, old enough to delete', () => {
    const orphan = stray(1000);
    const snapshot = snapshotOf({ extraPublicKeys: [orphan], groupItems: [ACTIVE_ID, ORPHAN_ID] });
    expect(judge(checkOwnership, snapshot, 'ORPHAN_PUBLIC_KEY')).toEqual([
      {
        severity: 'warning',
        code: 'ORPHAN_PUBLIC_KEY',
        profile: 'media',
        keyId: ORPHAN_ID,
        message: `Public key ${ORPHAN_ID} (${orphan.name}) was created by Signet for this ring but is in no ring key, and takes a slot of key group ${GROUP_ID}: it uses one of the account’s 10 public keys.`,
        remedy: 'Run `signet rotate --profile media`: it deletes the orphan.',
      },
    ]);
  });

  it('says to leave a recent one until none of the URLs it may have signed can be valid', () => {
    const snapshot = snapshotOf({ extraPublicKeys: [stray(100)], groupItems: [ACTIVE_ID, ORPHAN_ID] });
    const [finding] = judge(checkOwnership, snapshot, 'ORPHAN_PUBLIC_KEY');
    expect(finding).toMatchObject({
      severity: 'warning',
      remedy: `Leave it until ${iso(290)} (URLs it may have signed are valid until then); \`signet rotate --profile media\` deletes it after that.`,
    });
  });

  it('a Signet-named key in no key group that names no ring: perhaps another stage’s leftover, left to it', () => {
    const unclaimed = stray(1000, null);
    const snapshot = snapshotOf({ extraPublicKeys: [unclaimed] });
    expect(judge(checkOwnership, snapshot, 'ORPHAN_PUBLIC_KEY')).toEqual([
      expect.objectContaining({
        severity: 'warning',
        keyId: ORPHAN_ID,
        message: `Public key ${ORPHAN_ID} (${unclaimed.name}) is named like a Signet key of profile media but is in no key group and unknown to this ring: perhaps another stage's or stack's crash leftover, which its own rotator adopts or deletes. It uses one of the account’s 10 public keys.`,
        remedy:
          'Leave it to the stage that made it: run `signet keys --profile media` against each stage that uses profile media; Signet never deletes a key no ring of its own knows.',
      }),
    ]);
  });

  it('is not reported for a key the ring holds', () => {
    expect(judge(checkOwnership, snapshotOf(), 'ORPHAN_PUBLIC_KEY')).toEqual([]);
  });

  it('is not reported for a key in the group that Signet did not name', () => {
    const handMade = { ...stray(1000), name: 'hand-made-key' };
    const snapshot = snapshotOf({ extraPublicKeys: [handMade], groupItems: [ACTIVE_ID, ORPHAN_ID] });
    expect(judge(checkOwnership, snapshot, 'ORPHAN_PUBLIC_KEY')).toEqual([]);
  });
});

describe('FOREIGN_PUBLIC_KEY', () => {
  it('a Signet-named key another key group holds: another stage’s, information only', () => {
    const foreign = stray(1000, null);
    const snapshot = snapshotOf({
      extraPublicKeys: [foreign],
      keyGroups: [
        { id: GROUP_ID, name: 'signet-media', items: [ACTIVE_ID] },
        { id: OTHER_GROUP_ID, name: 'signet-media', items: [ORPHAN_ID] },
      ],
    });
    expect(judge(checkOwnership, snapshot, 'FOREIGN_PUBLIC_KEY')).toEqual([
      {
        severity: 'info',
        code: 'FOREIGN_PUBLIC_KEY',
        profile: 'media',
        keyId: ORPHAN_ID,
        message: `Public key ${ORPHAN_ID} (${foreign.name}) is held by key group ${OTHER_GROUP_ID}, not this ring's: another stage or stack uses profile name media. This ring never changes or deletes it.`,
        remedy: 'Nothing to do here: the ring that owns it rotates it.',
      },
    ]);
  });

  it('a key in this ring’s group whose comment names another ring', () => {
    const comment = publicKeyCommentFor('signet/prod');
    const snapshot = snapshotOf({
      extraPublicKeys: [stray(1000, comment)],
      groupItems: [ACTIVE_ID, ORPHAN_ID],
    });
    const [finding] = judge(checkOwnership, snapshot, 'FOREIGN_PUBLIC_KEY');
    expect(finding).toMatchObject({ severity: 'info', keyId: ORPHAN_ID });
    expect(finding!.message).toContain(
      `belongs to another key ring (${comment}), and shares key group ${GROUP_ID} with this ring:`,
    );
  });

  it('a key without a ring in its comment, in a group this ring adopted', () => {
    const snapshot = snapshotOf({
      profile: testProfile({ keyGroupId: GROUP_ID }),
      extraPublicKeys: [stray(1000, null)],
      groupItems: [ACTIVE_ID, ORPHAN_ID],
    });
    const [finding] = judge(checkOwnership, snapshot, 'FOREIGN_PUBLIC_KEY');
    expect(finding!.message).toContain(
      `sits in the adopted key group ${GROUP_ID} and is unknown to this ring: another adopter's:`,
    );
  });

  it('is not reported for a key whose comment names this ring: that one is an orphan of its own', () => {
    const snapshot = snapshotOf({
      extraPublicKeys: [stray(1000)],
      keyGroups: [{ id: GROUP_ID, name: 'signet-media', items: [ACTIVE_ID] }],
    });
    expect(judge(checkOwnership, snapshot, 'FOREIGN_PUBLIC_KEY')).toEqual([]);
    expect(judge(checkOwnership, snapshot, 'ORPHAN_PUBLIC_KEY')).toHaveLength(1);
  });
});
