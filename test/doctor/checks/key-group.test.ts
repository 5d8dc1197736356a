import { describe, expect, it } from 'vitest';
import { checkKeyGroup } from '../../../lib/doctor/checks/key-group.ts';
import { checkKeyGroupIdAsKeyId } from '../../../lib/doctor/checks/key-group-id-as-key-id.ts';
import { diagnose } from '../../../lib/doctor/diagnose.ts';
import { testProfile } from '../../support/profiles.ts';
import {
  ACTIVE_ID,
  activeKey,
  at,
  GROUP_ID,
  judge,
  OTHER_GROUP_ID,
  registered,
  retiringKey,
  snapshotOf,
} from './snapshots.ts';

// The key group the profile's keys must be in, and key group ids where public key ids belong
// (docs/design.md, "CloudFront facts Signet relies on").

/** A key group id with its hyphens dropped and upper-cased: a valid ring key id by shape. */
const UUID_SHAPED = '5B7A1F9E11114C8E9A430123456789AB';
const OTHER_UUID_SHAPED = '0C0FFEE022224C8E9A430123456789AB';

describe('checkKeyGroup', () => {
  it('KEY_GROUP_MISSING: neither the ring nor the config names a key group', () => {
    const snapshot = snapshotOf({ keyGroup: { status: 'unset' } });
    expect(judge(checkKeyGroup, snapshot, 'KEY_GROUP_MISSING')).toEqual([
      {
        severity: 'error',
        code: 'KEY_GROUP_MISSING',
        profile: 'media',
        keyId: null,
        message:
          'Neither the key ring nor the config names a key group: no CloudFront edge trusts this profile’s keys.',
        remedy:
          'Bootstrap the profile with `signet rotate --profile media`, or set keyGroupId to the key group the distribution trusts.',
      },
    ]);
  });

  it('KEY_GROUP_MISSING: the named key group does not exist in CloudFront', () => {
    const snapshot = snapshotOf({ keyGroup: { status: 'missing', id: GROUP_ID } });
    const [finding] = judge(checkKeyGroup, snapshot, 'KEY_GROUP_MISSING');
    expect(finding).toMatchObject({
      severity: 'error',
      message: `Key group ${GROUP_ID} does not exist in CloudFront: every URL signed for this profile is refused (403 InvalidKey), and rotation is blocked.`,
      remedy:
        'Set keyGroupId (config and ring) to the key group the distribution trusts, or restore the group with the ring’s keys.',
    });
  });

  it('no KEY_GROUP_MISSING when CloudFront has the group', () => {
    expect(judge(checkKeyGroup, snapshotOf(), 'KEY_GROUP_MISSING')).toEqual([]);
  });

  it('KEY_GROUP_MISMATCH: the config names another key group than the ring', () => {
    const snapshot = snapshotOf({ profile: testProfile({ keyGroupId: OTHER_GROUP_ID }) });
    expect(judge(checkKeyGroup, snapshot, 'KEY_GROUP_MISMATCH')).toEqual([
      {
        severity: 'error',
        code: 'KEY_GROUP_MISMATCH',
        profile: 'media',
        keyId: null,
        message: `The ring names key group ${GROUP_ID} but the config names ${OTHER_GROUP_ID}: the rotator refuses to run until they agree, and the distribution may trust the wrong one.`,
        remedy: `Set keyGroupId of profile media in the config to ${GROUP_ID} (the group the rotator maintains).`,
      },
    ]);
  });

  it('no KEY_GROUP_MISMATCH when the config names the ring’s key group', () => {
    const snapshot = snapshotOf({ profile: testProfile({ keyGroupId: GROUP_ID }) });
    expect(judge(checkKeyGroup, snapshot, 'KEY_GROUP_MISMATCH')).toEqual([]);
  });
});

describe('checkKeyGroupIdAsKeyId', () => {
  it('KEY_GROUP_ID_AS_KEY_ID: a ring key id shaped like a key group id (a UUID)', () => {
    const snapshot = snapshotOf({ keys: [activeKey({ id: UUID_SHAPED })] });
    expect(judge(checkKeyGroupIdAsKeyId, snapshot, 'KEY_GROUP_ID_AS_KEY_ID')).toEqual([
      {
        severity: 'error',
        code: 'KEY_GROUP_ID_AS_KEY_ID',
        profile: 'media',
        keyId: UUID_SHAPED,
        message: `The ring uses ${UUID_SHAPED} as a public key id, but it has the shape of a key group id (a UUID): CloudFront expects a public key id (like K2JCJMDEHXQW5F) in Key-Pair-Id and answers 403 InvalidKey ("Unknown Key").`,
        remedy:
          'Put the CloudFront public key id (aws cloudfront list-public-keys) in the ring instead, or replace the key: `signet rotate --profile media`.',
      },
    ]);
  });

  it('KEY_GROUP_ID_AS_KEY_ID: a ring key id that is the id of the profile’s key group', () => {
    const groupId = 'KGROUPID000001';
    const snapshot = snapshotOf({
      keys: [activeKey({ id: groupId })],
      keyGroup: { status: 'ok', group: { id: groupId, name: 'signet-media', items: [groupId], etag: 'E1' } },
    });
    const [finding] = judge(checkKeyGroupIdAsKeyId, snapshot, 'KEY_GROUP_ID_AS_KEY_ID');
    expect(finding).toMatchObject({ severity: 'error', keyId: groupId });
    expect(finding!.message).toContain(`but it is the id of key group ${groupId}:`);
  });

  it('KEY_GROUP_ID_AS_KEY_ID: in an invalid ring too, judged by the shape of the ids found in it', () => {
    const snapshot = snapshotOf({
      ring: { status: 'invalid', message: 'keys.0.id: Invalid string', keyIds: [GROUP_ID, 'K2JCJMDEHXQW5F'] },
    });
    const found = judge(checkKeyGroupIdAsKeyId, snapshot, 'KEY_GROUP_ID_AS_KEY_ID');
    expect(found).toEqual([expect.objectContaining({ severity: 'error', keyId: GROUP_ID })]);
    expect(found[0]!.message).toContain(`but it is the id of key group ${GROUP_ID}:`);
  });

  it('is the only thing said of such a key: the other checks of ring keys skip it', () => {
    // Registered but out of the group, signing with SHA-1; unregistered, with a fingerprint not its
    // own: each would be reported by another check if its id were a public key id.
    const active = activeKey({ id: UUID_SHAPED, algorithm: 'rsa-2048' });
    const retiring = { ...retiringKey(OTHER_UUID_SHAPED, 100), fingerprint: activeKey().fingerprint };
    const snapshot = snapshotOf({
      keys: [active, retiring],
      groupItems: [],
      publicKeys: [registered(active)],
    });
    const found = diagnose(snapshot, at(0)).filter((finding) => finding.keyId !== null);
    expect(found.map((finding) => [finding.code, finding.keyId])).toEqual([
      ['KEY_GROUP_ID_AS_KEY_ID', OTHER_UUID_SHAPED],
      ['KEY_GROUP_ID_AS_KEY_ID', UUID_SHAPED],
    ]);
  });

  it('KEY_GROUP_ID_AS_KEY_ID: judged by the shape alone while the key group cannot be read', () => {
    const snapshot = snapshotOf({
      keys: [activeKey({ id: UUID_SHAPED })],
      keyGroup: { status: 'missing', id: GROUP_ID },
    });
    const [finding] = judge(checkKeyGroupIdAsKeyId, snapshot, 'KEY_GROUP_ID_AS_KEY_ID');
    expect(finding!.message).toContain('but it has the shape of a key group id (a UUID):');
  });

  it('no KEY_GROUP_ID_AS_KEY_ID for an id that only contains a UUID, or for a ring not yet written', () => {
    for (const id of [`K${UUID_SHAPED}`, `${UUID_SHAPED}K`]) {
      expect(
        judge(checkKeyGroupIdAsKeyId, snapshotOf({ keys: [activeKey({ id })] }), 'KEY_GROUP_ID_AS_KEY_ID'),
      ).toEqual([]);
    }
    const missing = snapshotOf({ ring: { status: 'missing', message: 'no value yet' } });
    expect(judge(checkKeyGroupIdAsKeyId, missing, 'KEY_GROUP_ID_AS_KEY_ID')).toEqual([]);
  });

  it('no KEY_GROUP_ID_AS_KEY_ID for a public key id, valid ring or not', () => {
    expect(judge(checkKeyGroupIdAsKeyId, snapshotOf(), 'KEY_GROUP_ID_AS_KEY_ID')).toEqual([]);
    const invalid = snapshotOf({ ring: { status: 'invalid', message: 'bad', keyIds: [ACTIVE_ID] } });
    expect(judge(checkKeyGroupIdAsKeyId, invalid, 'KEY_GROUP_ID_AS_KEY_ID')).toEqual([]);
  });
});
