import { describe, expect, it } from 'vitest';
import {
  classifySignetKeys,
  findForeignKeys,
  findOrphans,
  fingerprintOfRegistered,
  groupFoundByName,
  holdsOwnKey,
  holdsRingKey,
  keyGroupNotOursMessage,
  knownToRing,
  ownKeyGroup,
} from '../../lib/rotation/ownership.ts';
import {
  ACTIVE_ID,
  at,
  commentOf,
  GROUP_ID,
  group,
  iso,
  key,
  listed,
  OTHER_GROUP_ID,
  PROFILE,
  registered,
  ringOf,
  state,
  steady,
  TIMINGS,
  testProfile,
} from '../support/rotation-states.ts';

// Which keys and key groups are this ring's (docs/design.md, "Rotation"): what the planner may
// delete or join, what doctor and `signet keys` report as another stage's, and what teardown
// removes. Each rule with the case where dropping it would delete or join another stage's key.

const stray = key(3, {});
const theirs = key(4, {});
const THIRD_GROUP_ID = '3a3a3a3a-3333-4c8e-9a43-0123456789ab';
const garbled = (id: string) => ({ ...registered(stray, id), encodedKey: 'not a PEM' });

describe("which key group is this ring's", () => {
  const pending = key(1, { id: 'KPENDING00001', state: 'pending' });
  const fresh = state({ ring: ringOf([pending], { keyGroupId: undefined }), now: at(0) });

  it('a group is found by name only when neither the ring, the config nor the bootstrap names one', () => {
    expect(groupFoundByName({ ...fresh, group: group([]) })).toBe(true);
    expect(groupFoundByName(fresh)).toBe(false);
    expect(groupFoundByName({ ...fresh, group: group([]), ring: ringOf([pending]) })).toBe(false);
    expect(groupFoundByName({ ...fresh, group: group([]), adoptKeyGroupId: GROUP_ID })).toBe(false);
    expect(
      groupFoundByName({ ...fresh, group: group([]), profile: testProfile({ keyGroupId: GROUP_ID }) }),
    ).toBe(false);
  });

  it("a group the config names is this ring's even while it holds none of its keys", () => {
    const named = {
      ...fresh,
      group: group(['KPRODKEY00001']),
      profile: testProfile({ keyGroupId: GROUP_ID }),
    };
    expect(ownKeyGroup(named)?.id).toBe(GROUP_ID);
    expect(ownKeyGroup({ ...fresh, group: group(['KPRODKEY00001']) })).toBeUndefined();
  });

  it("a group found by name holds the ring's key by id, even one CloudFront no longer lists", () => {
    const ring = ringOf([pending]);
    expect(holdsRingKey(group(['KPENDING00001']), ring, [])).toBe(true);
    expect(holdsRingKey(group(['KOTHER', 'KPENDING00001']), ring, [registered(pending)])).toBe(true);
    expect(holdsRingKey(group(['KOTHER']), ring, [registered(pending)])).toBe(false);
  });

  it("a group found by name holds the ring's key by fingerprint when the ring never recorded its id", () => {
    // A bootstrap that created the public key and the group, then crashed before writing the id.
    const idless = key(1, { state: 'pending' });
    const ring = ringOf([idless], { keyGroupId: undefined });
    expect(holdsRingKey(group(['KCRASHED00001']), ring, [registered(idless, 'KCRASHED00001')])).toBe(true);
    expect(holdsRingKey(group(['KCRASHED00001']), ring, [registered(stray, 'KCRASHED00001')])).toBe(false);
    expect(holdsRingKey(group(['KCRASHED00001']), ring, [garbled('KCRASHED00001')])).toBe(false);
    expect(holdsRingKey(group(['KCRASHED00001']), ring, [])).toBe(false);
  });

  it('a group found by name holds a key whose comment names this ring (the ring was written again)', () => {
    const ours = registered(stray, 'KSTRAY0000001', { comment: commentOf() });
    const other = registered(theirs, 'KTHEIRS000001', { comment: commentOf('signet/prod') });
    const s = { ...fresh, ring: ringOf([], { keyGroupId: undefined }) };
    expect(holdsOwnKey(group(['KTHEIRS000001', 'KSTRAY0000001']), { ...s, publicKeys: [other, ours] })).toBe(
      true,
    );
    expect(holdsOwnKey(group(['KTHEIRS000001']), { ...s, publicKeys: [other, ours] })).toBe(false);
    expect(holdsOwnKey(group(['KSTRAY0000001']), { ...s, ring: undefined, publicKeys: [ours] })).toBe(true);
  });

  it('tells the operator which group it will not join and how to adopt it deliberately', () => {
    expect(keyGroupNotOursMessage(PROFILE, OTHER_GROUP_ID, 'signet-dev-media')).toBe(
      "a key group named signet-dev-media already exists and holds none of this ring's keys: another stage or " +
        `stack uses this name; set profiles.${PROFILE}.keyGroupId to adopt it deliberately, or use a different ` +
        `profile name or stage (its id is ${OTHER_GROUP_ID}).`,
    );
  });
});

describe("which Signet keys no ring key holds are this ring's to delete", () => {
  const ourGroups = [listed([ACTIVE_ID], GROUP_ID, `signet-${PROFILE}`)];
  const withKeys = (s: ReturnType<typeof steady>, ...extra: ReturnType<typeof registered>[]) => ({
    ...s,
    publicKeys: [...s.publicKeys, ...extra],
  });

  it('judges nothing before bootstrap', () => {
    const s = state({
      now: at(0),
      publicKeys: [registered(stray, 'KSTRAY0000001', { comment: commentOf() })],
    });
    expect(classifySignetKeys(s)).toEqual({ orphans: [], foreign: [] });
  });

  it('never takes a ring key for a leftover: by id, even with a PEM it cannot read, or by fingerprint', () => {
    const s = steady(at(10));
    expect(classifySignetKeys({ ...s, publicKeys: [garbled(ACTIVE_ID)] })).toEqual({
      orphans: [],
      foreign: [],
    });
    // A pending key whose CreatePublicKey answered but whose id never reached the ring.
    const idless = key(1, { state: 'pending' });
    const crashed = steady(at(10), [idless]);
    expect(classifySignetKeys(withKeys(crashed, registered(idless, 'KCRASHED00001')))).toEqual({
      orphans: [],
      foreign: [],
    });
  });

  it('leaves a key another key group holds, saying which (the first that lists it)', () => {
    const s = {
      ...steady(at(10)),
      keyGroups: [
        ...ourGroups,
        listed(['KPRODKEY00001'], OTHER_GROUP_ID, `signet-prod-${PROFILE}`),
        listed(['KPRODKEY00001'], THIRD_GROUP_ID, 'hand-made'),
      ],
    };
    const prod = registered(theirs, 'KPRODKEY00001', { comment: commentOf() });
    expect(classifySignetKeys(withKeys(s, prod))).toEqual({
      orphans: [],
      foreign: [{ key: prod, reason: 'other-group', groupId: OTHER_GROUP_ID }],
    });
    expect(findForeignKeys(withKeys(s, prod))).toEqual([
      { key: prod, reason: 'other-group', groupId: OTHER_GROUP_ID },
    ]);
    expect(findOrphans(withKeys(s, prod))).toEqual([]);
  });

  it("counts a namesake group that is not this ring's as another group, even when no list was read", () => {
    const pending = key(1, { state: 'pending' });
    const prod = registered(theirs, 'KPRODKEY00001');
    const s = state({
      ring: ringOf([pending], { keyGroupId: undefined }),
      group: group(['KPRODKEY00001'], OTHER_GROUP_ID),
      publicKeys: [prod],
      now: at(10),
    });
    expect(classifySignetKeys(s)).toEqual({
      orphans: [],
      foreign: [{ key: prod, reason: 'other-group', groupId: OTHER_GROUP_ID }],
    });
  });

  it("names the first listed group that holds another stage's key, ahead of a namesake group", () => {
    const pending = key(1, { state: 'pending' });
    const prod = registered(theirs, 'KPRODKEY00001');
    const s = state({
      ring: ringOf([pending], { keyGroupId: undefined }),
      group: group(['KPRODKEY00001'], OTHER_GROUP_ID),
      keyGroups: [
        listed(['KPRODKEY00001'], THIRD_GROUP_ID, 'hand-made'),
        listed(['KPRODKEY00001'], OTHER_GROUP_ID, `signet-${PROFILE}`),
      ],
      publicKeys: [prod],
      now: at(10),
    });
    expect(findForeignKeys(s)).toEqual([{ key: prod, reason: 'other-group', groupId: THIRD_GROUP_ID }]);
  });

  it("classifies keys of a ring whose group is not made yet, with the account's groups listed", () => {
    const pending = key(1, { state: 'pending' });
    const mine = registered(stray, 'KSTRAY0000001', { comment: commentOf() });
    const s = state({
      ring: ringOf([pending], { keyGroupId: undefined }),
      keyGroups: [listed(['KPRODKEY00001'], OTHER_GROUP_ID, `signet-prod-${PROFILE}`)],
      publicKeys: [mine],
      now: at(10),
    });
    expect(classifySignetKeys(s)).toEqual({
      orphans: [{ key: mine, inGroup: false, deletableAt: at(10) }],
      foreign: [],
    });
  });

  it("deletes at once a key the ring's history knows, by id or by fingerprint; others wait out the removal delay", () => {
    const base = steady(at(10), [], ['KSTRAY0000001']);
    const inGroup = registered(stray, 'KSTRAY0000001');
    const withHistory = (entry: { id?: string; fingerprint: string }) =>
      withKeys({ ...base, ring: { ...base.ring!, history: [{ ...entry, revokedAt: iso(5) }] } }, inGroup);
    const now = [{ key: inGroup, inGroup: true, deletableAt: at(10) }];
    expect(findOrphans(withHistory({ id: 'KSTRAY0000001', fingerprint: 'sha256:other' }))).toEqual(now);
    expect(findOrphans(withHistory({ id: 'KELSE00000001', fingerprint: stray.fingerprint }))).toEqual(now);
    const later = [{ key: inGroup, inGroup: true, deletableAt: at(TIMINGS.removal) }];
    expect(findOrphans(withHistory({ id: 'KELSE00000001', fingerprint: theirs.fingerprint }))).toEqual(later);
    expect(findOrphans(withKeys(base, inGroup))).toEqual(later);
  });

  it("leaves a key whose comment names another ring, saying whether this ring's group holds it", () => {
    const other = commentOf('signet/prod');
    const held = registered(stray, 'KSTRAY0000001', { comment: other });
    const loose = registered(theirs, 'KTHEIRS000001', { comment: other });
    const s = { ...steady(at(10), [], ['KSTRAY0000001']), keyGroups: ourGroups };
    expect(classifySignetKeys(withKeys(s, held, loose))).toEqual({
      orphans: [],
      foreign: [
        { key: held, reason: 'other-ring', groupId: GROUP_ID },
        { key: loose, reason: 'other-ring' },
      ],
    });
  });

  it('in a group this ring adopted, deletes only keys whose comment names this ring', () => {
    const unnamed = registered(stray, 'KSTRAY0000001');
    const named = registered(theirs, 'KTHEIRS000001', { comment: commentOf() });
    const base = steady(at(TIMINGS.removal), [], ['KSTRAY0000001', 'KTHEIRS000001']);
    const expected = {
      orphans: [{ key: named, inGroup: true, deletableAt: at(TIMINGS.removal) }],
      foreign: [{ key: unnamed, reason: 'shared-group', groupId: GROUP_ID }],
    };
    const byConfig = { ...withKeys(base, unnamed, named), profile: testProfile({ keyGroupId: GROUP_ID }) };
    expect(classifySignetKeys(byConfig)).toEqual(expected);
    const byBootstrap = { ...withKeys(base, unnamed, named), adoptKeyGroupId: GROUP_ID };
    expect(classifySignetKeys(byBootstrap)).toEqual(expected);
    // In a group this ring created, an unnamed key is a leftover of its own.
    expect(findOrphans(withKeys(base, unnamed))).toEqual([
      { key: unnamed, inGroup: true, deletableAt: at(TIMINGS.removal) },
    ]);
  });

  it('out of every group, deletes its own key only when it could read every group', () => {
    const mine = registered(stray, 'KSTRAY0000001', { comment: commentOf() });
    const s = withKeys(steady(at(10)), mine);
    expect(classifySignetKeys(s)).toEqual({ orphans: [], foreign: [{ key: mine, reason: 'unclaimed' }] });
    expect(classifySignetKeys({ ...s, keyGroups: ourGroups })).toEqual({
      orphans: [{ key: mine, inGroup: false, deletableAt: at(10) }],
      foreign: [],
    });
  });
});

describe("what teardown treats as this ring's key", () => {
  const active = key(0, { id: ACTIVE_ID, state: 'active' });
  const ring = ringOf([active], { history: [{ id: 'KREMOVED00001', fingerprint: theirs.fingerprint }] });

  it('a key the ring or its history names by id, or holds by fingerprint', () => {
    expect(knownToRing(ring, garbled(ACTIVE_ID))).toBe(true);
    expect(knownToRing(ring, garbled('KREMOVED00001'))).toBe(true);
    expect(knownToRing(ring, registered(active, 'KCRASHED00001'))).toBe(true);
    expect(knownToRing(ring, registered(theirs, 'KCRASHED00002'))).toBe(true);
  });

  it('not a key it never held, nor one whose PEM it cannot read under another id', () => {
    expect(knownToRing(ring, registered(stray, 'KSTRAY0000001'))).toBe(false);
    expect(knownToRing(ring, garbled('KSTRAY0000001'))).toBe(false);
    expect(fingerprintOfRegistered(garbled('KSTRAY0000001'))).toBeUndefined();
    expect(fingerprintOfRegistered(registered(stray, 'KSTRAY0000001'))).toBe(stray.fingerprint);
  });
});
