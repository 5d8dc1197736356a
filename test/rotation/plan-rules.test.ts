import { describe, expect, it } from 'vitest';
import type { RingKey } from '../../lib/keys/ring.ts';
import { publicKeyNameFor } from '../../lib/rotation/names.ts';
import { keyGroupNotOursMessage } from '../../lib/rotation/ownership.ts';
import { PHASE_KINDS, planRotation, type RotationAction } from '../../lib/rotation/plan.ts';
import {
  ACTIVE_ID,
  activeKey,
  at,
  commentOf,
  foreignKeys,
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
  testProfile,
} from '../support/rotation-states.ts';

// The planner's safety rules, each with a state where removing the rule changes what the rotator
// would do (docs/design.md, "Rotation"): what it refuses, what it keeps, and what it deletes.

const longerTtl = testProfile({ ttl: { default: 60, max: 3600 } });
const LONG = { ttlMax: 3600, maxStale: 60, clockSkew: 30 };

describe("planRotation: a key group found by name that is not this ring's", () => {
  it("refuses to bootstrap into a group named like this profile's that holds none of its keys", () => {
    const namesake = group(['KPRODKEY00001'], OTHER_GROUP_ID, `signet-${PROFILE}`);
    expect(planRotation(state({ now: at(0), group: namesake }))).toEqual({
      kind: 'blocked',
      reason: 'key-group-not-ours',
      message: keyGroupNotOursMessage(PROFILE, OTHER_GROUP_ID, `signet-${PROFILE}`),
    });
    expect(keyGroupNotOursMessage(PROFILE, OTHER_GROUP_ID, 'signet-media')).toContain(
      `set profiles.${PROFILE}.keyGroupId to adopt it`,
    );
  });

  it("finishes a bootstrap in the group found by name when the group holds the ring's key", () => {
    // The bootstrap crashed after adding its key to the group, before the ring recorded the group.
    const pending = key(1, { id: 'KPENDING00001', state: 'pending', trustedAt: iso(0) });
    const s = state({
      ring: ringOf([pending], { keyGroupId: undefined }),
      group: group(['KPENDING00001']),
      publicKeys: [registered(pending)],
      now: at(10),
    });
    const trust = { kind: 'trust-pending', keyId: 'KPENDING00001', keyFingerprint: pending.fingerprint };
    expect(planRotation(s)).toEqual(trust);
    // The same with the config naming that group.
    expect(planRotation({ ...s, profile: testProfile({ keyGroupId: GROUP_ID }) })).toEqual(trust);
  });
});

describe('planRotation: the key group the ring, the config and CloudFront name must agree', () => {
  it('says which group it expected when CloudFront holds another', () => {
    expect(planRotation({ ...steady(at(10)), group: group([ACTIVE_ID], OTHER_GROUP_ID) })).toEqual({
      kind: 'blocked',
      reason: 'key-group-mismatch',
      message: `Expected key group ${GROUP_ID} (ring or config); got ${OTHER_GROUP_ID}.`,
    });
  });

  it('holds a ring that has no group yet to the one the config names', () => {
    const pending = key(1, { id: 'KPENDING00001', state: 'pending', trustedAt: iso(0) });
    const s = state({
      ring: ringOf([pending], { keyGroupId: undefined }),
      group: group(['KPENDING00001'], OTHER_GROUP_ID),
      publicKeys: [registered(pending)],
      profile: testProfile({ keyGroupId: GROUP_ID }),
      now: at(10),
    });
    expect(planRotation(s)).toEqual({
      kind: 'blocked',
      reason: 'key-group-mismatch',
      message: `Expected key group ${GROUP_ID} (ring or config); got ${OTHER_GROUP_ID}.`,
    });
  });

  it("still registers a bootstrap's key while the group the config names is not there yet", () => {
    const pending = key(1, { state: 'pending' });
    const s = state({
      ring: ringOf([pending], { keyGroupId: undefined }),
      profile: testProfile({ keyGroupId: GROUP_ID }),
      now: at(10),
    });
    expect(planRotation(s)).toMatchObject({ kind: 'register-pending', keyFingerprint: pending.fingerprint });
  });

  it('names both groups when the ring and the config disagree, and goes on when they agree', () => {
    const s = steady(at(10));
    expect(planRotation({ ...s, profile: testProfile({ keyGroupId: 'another-group' }) })).toEqual({
      kind: 'blocked',
      reason: 'key-group-mismatch',
      message: `Expected the ring's key group ${GROUP_ID} to be the configured another-group.`,
    });
    expect(planRotation({ ...s, profile: testProfile({ keyGroupId: GROUP_ID }) })).toEqual({
      kind: 'none',
      nextAt: at(3600),
    });
  });

  it('says which group is missing and what to do', () => {
    expect(planRotation({ ...steady(at(10)), group: undefined })).toEqual({
      kind: 'blocked',
      reason: 'key-group-missing',
      message: `The ring's key group ${GROUP_ID} does not exist in CloudFront; restore it or re-bootstrap.`,
    });
  });
});

describe('planRotation: bounds are recorded only for keys CloudFront still trusts', () => {
  const retiring = key(2, {
    id: 'KRETIRING0001',
    state: 'retiring',
    activatedAt: iso(-3600),
    retiredAt: iso(0),
  });
  const raisedActive = { fingerprint: activeKey().fingerprint, bounds: LONG };

  it('raises the bounds of a retiring key still in the group when ttl.max grows', () => {
    const s = { ...steady(at(10), [retiring], ['KRETIRING0001']), profile: longerTtl };
    expect(planRotation(s)).toEqual({
      kind: 'record-bounds',
      keys: [raisedActive, { fingerprint: retiring.fingerprint, bounds: LONG }],
    });
  });

  it('leaves the bounds of a retiring key out of the group, or deleted, as they are: they are final', () => {
    const outOfGroup = { ...steady(at(10), [retiring]), profile: longerTtl };
    expect(planRotation(outOfGroup)).toEqual({ kind: 'record-bounds', keys: [raisedActive] });
    const inGroup = steady(at(10), [retiring], ['KRETIRING0001']);
    const deleted = {
      ...inGroup,
      profile: longerTtl,
      publicKeys: inGroup.publicKeys.filter((k) => k.id !== 'KRETIRING0001'),
    };
    expect(planRotation(deleted)).toEqual({ kind: 'record-bounds', keys: [raisedActive] });
  });

  it('raises the bounds of a pending key not yet in the group: it is about to sign', () => {
    const pending = key(1, { id: 'KPENDING00001', state: 'pending', createdAt: iso(5) });
    const s = { ...steady(at(10), [pending]), profile: longerTtl };
    expect(planRotation(s)).toEqual({
      kind: 'record-bounds',
      keys: [raisedActive, { fingerprint: pending.fingerprint, bounds: LONG }],
    });
  });
});

describe('planRotation: interrupted work', () => {
  const pending = key(1, { state: 'pending', createdAt: iso(10) });

  it('finishes the older of two interrupted pending keys first', () => {
    const newer = key(2, { state: 'pending', createdAt: iso(20) });
    expect(planRotation(steady(at(30), [newer, pending]))).toEqual({
      kind: 'register-pending',
      keyFingerprint: pending.fingerprint,
      publicKeyName: publicKeyNameFor(PROFILE, pending.fingerprint),
    });
  });

  it('registers again a pending key whose recorded public key was deleted from CloudFront', () => {
    const gone = { ...pending, id: 'KGONE00000001' };
    const s = steady(at(20), [gone]);
    const withoutIt = { ...s, publicKeys: s.publicKeys.filter((k) => k.id !== 'KGONE00000001') };
    expect(planRotation(withoutIt)).toMatchObject({
      kind: 'register-pending',
      keyFingerprint: pending.fingerprint,
    });
  });

  it('adopts only a public key Signet named: one made by hand from the same key pair is not adopted', () => {
    const s = steady(at(20), [pending]);
    const handMade = registered(pending, 'KMANUAL000001', { name: 'hand-made-key' });
    expect(planRotation({ ...s, publicKeys: [...s.publicKeys, handMade] })).toMatchObject({
      kind: 'register-pending',
    });
  });

  it("is blocked, not pushed past 5 keys, when adopting a crashed run's key into a full group", () => {
    const s = steady(at(20), [pending], ['K2', 'K3', 'K4', 'K5']);
    const crashed = registered(pending, 'KCRASHED00001');
    expect(planRotation({ ...s, publicKeys: [...s.publicKeys, crashed] })).toMatchObject({
      kind: 'blocked',
      reason: 'group-full',
    });
    // Already in the full group: adopting adds nothing to it.
    const holding = steady(at(20), [pending], ['K2', 'K3', 'K4', 'KCRASHED00001']);
    expect(planRotation({ ...holding, publicKeys: [...holding.publicKeys, crashed] })).toEqual({
      kind: 'adopt-orphan',
      keyId: 'KCRASHED00001',
      keyFingerprint: pending.fingerprint,
    });
  });

  it('is blocked, not pushed past 5 keys, when trusting a registered pending key into a full group', () => {
    const registeredPending = { ...pending, id: 'KPENDING00001' };
    expect(planRotation(steady(at(20), [registeredPending], ['K2', 'K3', 'K4', 'K5']))).toMatchObject({
      kind: 'blocked',
      reason: 'group-full',
    });
    // Already in the full group, only its trustedAt is missing: recording it adds nothing.
    expect(planRotation(steady(at(20), [registeredPending], ['K2', 'K3', 'K4', 'KPENDING00001']))).toEqual({
      kind: 'trust-pending',
      keyId: 'KPENDING00001',
      keyFingerprint: pending.fingerprint,
    });
  });
});

describe('planRotation: an active key CloudFront does not trust is reported, never signed on with', () => {
  it('says the key is gone and to revoke it', () => {
    expect(planRotation({ ...steady(at(10)), publicKeys: [] })).toEqual({
      kind: 'blocked',
      reason: 'active-key-missing',
      message:
        `The active key ${ACTIVE_ID} no longer exists in CloudFront: every URL it signs is refused. ` +
        'Revoke it (`signet revoke`) to introduce a new key.',
    });
  });

  it('says which group lacks it', () => {
    expect(planRotation({ ...steady(at(10)), group: group(['KOTHER']) })).toEqual({
      kind: 'blocked',
      reason: 'active-key-not-in-group',
      message:
        `The active key ${ACTIVE_ID} is not in key group ${GROUP_ID}: every URL it signs is refused. ` +
        'Add it back or revoke it.',
    });
  });

  it('says so when the ring has no key group at all', () => {
    const s = steady(at(10));
    const action = planRotation({ ...s, ring: { ...s.ring!, keyGroupId: undefined }, group: undefined });
    expect(action).toEqual({
      kind: 'blocked',
      reason: 'active-key-not-in-group',
      message:
        `The active key ${ACTIVE_ID} is not in any key group: every URL it signs is refused. ` +
        'Add it back or revoke it.',
    });
  });
});

describe('planRotation: a removal a killed run left half-done', () => {
  // The config now allows ttl.max 3600; the retiring key signed under 300 (recorded), and left
  // CloudFront's trust before the longer config arrived: what it signed is valid until 0 + 390.
  const active = key(0, {
    id: ACTIVE_ID,
    state: 'active',
    trustedAt: iso(-7200),
    activatedAt: iso(0),
    bounds: LONG,
  });
  const retiring = key(2, {
    id: 'KRETIRING0001',
    state: 'retiring',
    activatedAt: iso(-7200),
    retiredAt: iso(0),
  });
  const halfDone = (now: number, items: string[], registeredIds: string[]) =>
    state({
      ring: ringOf([active, retiring]),
      group: group(items),
      publicKeys: [active, retiring].filter((k) => registeredIds.includes(k.id!)).map((k) => registered(k)),
      profile: longerTtl,
      now: at(now),
    });
  const removal = {
    kind: 'remove',
    keyId: 'KRETIRING0001',
    keyFingerprint: retiring.fingerprint,
    validUntil: at(390),
  };

  it("is finished once its recorded bounds have passed, not the longer config's (out of the group)", () => {
    const both = [ACTIVE_ID, 'KRETIRING0001'];
    expect(planRotation(halfDone(389, [ACTIVE_ID], both))).toEqual({ kind: 'none', nextAt: at(3600) });
    expect(planRotation(halfDone(390, [ACTIVE_ID], both))).toEqual(removal);
  });

  it('is finished once its recorded bounds have passed (deleted from CloudFront, still in the group)', () => {
    const items = [ACTIVE_ID, 'KRETIRING0001'];
    expect(planRotation(halfDone(389, items, [ACTIVE_ID]))).toEqual({ kind: 'none', nextAt: at(3600) });
    expect(planRotation(halfDone(390, items, [ACTIVE_ID]))).toEqual(removal);
  });

  it('never hands a retiring key without a CloudFront id to removal', () => {
    const idless = key(2, { state: 'retiring', activatedAt: iso(-7200), retiredAt: iso(0) });
    const s = steady(at(10_000), [idless]);
    expect(planRotation(s)).toEqual({ kind: 'introduce', reason: 'due' });
  });
});

describe('planRotation: when the next key is due', () => {
  it("counts rotateEvery from the active key's activation, not its creation", () => {
    const active: RingKey = { ...activeKey(), createdAt: iso(0), activatedAt: iso(1000) };
    const s = (now: number) =>
      state({
        ring: ringOf([active]),
        group: group([ACTIVE_ID]),
        publicKeys: [registered(active)],
        now: at(now),
      });
    expect(planRotation(s(4599))).toEqual({ kind: 'none', nextAt: at(4600) });
    expect(planRotation(s(4600))).toEqual({ kind: 'introduce', reason: 'due' });
  });

  it('counts the phases a conflicting concurrent run must leave to the next run', () => {
    // After another writer changed the ring, a run still finishes repairs but advances no phase.
    const kinds: RotationAction['kind'][] = [
      'bootstrap',
      'introduce',
      'register-pending',
      'adopt-orphan',
      'trust-pending',
      'activate',
      'record-bounds',
      'remove',
      'delete-orphan',
      'blocked',
      'none',
    ];
    expect(kinds.filter((kind) => PHASE_KINDS.has(kind))).toEqual([
      'bootstrap',
      'introduce',
      'activate',
      'remove',
    ]);
  });
});

describe('planRotation: what a full group or account says', () => {
  it('names the group and the quota', () => {
    expect(planRotation(steady(at(3600), [], ['K2', 'K3', 'K4', 'K5']))).toEqual({
      kind: 'blocked',
      reason: 'group-full',
      message: `Key group ${GROUP_ID} holds 5 keys, CloudFront's maximum of 5; remove one to rotate.`,
    });
  });

  it("names each retiring key held longer than today's config, until when, and by which setting", () => {
    const retiring = (index: number, id: string, retiredAt: number, bounds: RingKey['bounds']) =>
      key(index, { id, state: 'retiring', activatedAt: iso(-7200), retiredAt: iso(retiredAt), bounds });
    const keys = [
      retiring(2, 'KRETIRINGA001', 0, { ttlMax: 3600, maxStale: 60, clockSkew: 30 }),
      retiring(3, 'KRETIRINGB001', 3000, { ttlMax: 300, maxStale: 600, clockSkew: 30 }),
      // Recorded under the same timings as today's: not held longer, not named.
      retiring(4, 'KRETIRINGC001', 3500, { ttlMax: 300, maxStale: 60, clockSkew: 30 }),
    ];
    const s = steady(at(3600), keys, ['KRETIRINGA001', 'KRETIRINGB001', 'KRETIRINGC001', 'KHANDMADE0001']);
    expect(planRotation(s)).toEqual({
      kind: 'blocked',
      reason: 'group-full',
      message:
        `Key group ${GROUP_ID} holds 5 keys, CloudFront's maximum of 5; remove one to rotate. ` +
        'Retiring keys stay until everything they signed under the config in force then has expired: ' +
        `KRETIRINGA001 until ${iso(3690)} (ttl.max 3600s (now 300s)); ` +
        `KRETIRINGB001 until ${iso(3930)} (cache.maxStale 600s (now 60s)). ` +
        'Rotation resumes once they are removed; a shorter rotation.rotateEvery than the old timings allow waits for that.',
    });
  });

  it("counts the account's keys by stage when the account is full", () => {
    const s = steady(at(3600));
    const full = {
      ...s,
      profile: testProfile({ stage: 'dev' }),
      publicKeys: [...s.publicKeys, ...foreignKeys(9)],
    };
    expect(planRotation(full)).toEqual({
      kind: 'blocked',
      reason: 'account-full',
      message:
        "The account holds 10 of 10 public keys: dev 1, other 9, CloudFront's default maximum (shared by every " +
        'stage and profile); delete one, or raise the quota in Service Quotas and set aws.publicKeyQuota in the config.',
    });
  });

  it('plans with a raised quota (aws.publicKeyQuota), and is blocked again once that is full', () => {
    const s = steady(at(3600));
    const ten = [...s.publicKeys, ...foreignKeys(9)];
    const profile = testProfile({ stage: 'dev', publicKeyQuota: 12 });
    // Ten keys: full for the default quota, two free under the raised one, so the due key comes.
    expect(planRotation({ ...s, publicKeys: ten })).toMatchObject({
      kind: 'blocked',
      reason: 'account-full',
    });
    expect(planRotation({ ...s, profile, publicKeys: ten })).toMatchObject({ kind: 'introduce' });
    expect(planRotation({ ...s, profile, publicKeys: [...s.publicKeys, ...foreignKeys(11)] })).toEqual({
      kind: 'blocked',
      reason: 'account-full',
      message:
        'The account holds 12 of 12 public keys: dev 1, other 11, the quota the config names (aws.publicKeyQuota, ' +
        'shared by every stage and profile); delete one, or raise the quota in Service Quotas and aws.publicKeyQuota with it.',
    });
  });
});

describe("planRotation: another stage's keys are never deleted", () => {
  it("leaves a key another stage's group holds, even one whose comment names this ring", () => {
    const s = steady(at(10));
    const theirs = registered(key(3, {}), 'KPRODKEY00001', { comment: commentOf() });
    const keyGroups = [
      listed([ACTIVE_ID], GROUP_ID, `signet-${PROFILE}`),
      listed(['KPRODKEY00001'], OTHER_GROUP_ID, `signet-prod-${PROFILE}`),
    ];
    expect(planRotation({ ...s, keyGroups, publicKeys: [...s.publicKeys, theirs] })).toEqual({
      kind: 'none',
      nextAt: at(3600),
    });
    // The same key in no group is this ring's leftover, and goes.
    const alone = [listed([ACTIVE_ID], GROUP_ID, `signet-${PROFILE}`)];
    expect(planRotation({ ...s, keyGroups: alone, publicKeys: [...s.publicKeys, theirs] })).toEqual({
      kind: 'delete-orphan',
      keyId: 'KPRODKEY00001',
      inGroup: false,
    });
  });
});
