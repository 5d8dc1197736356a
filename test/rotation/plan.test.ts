import { createPrivateKey, createPublicKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { KeyRing, RingKey } from '../../lib/keys/ring.ts';
import { checkInvariants } from '../../lib/rotation/invariants.ts';
import { publicKeyCommentFor, publicKeyNameFor } from '../../lib/rotation/names.ts';
import { planRotation } from '../../lib/rotation/plan.ts';
import type { RegisteredKeyGroup, RegisteredPublicKey } from '../../lib/rotation/registry.ts';
import type { RotationState } from '../../lib/rotation/state.ts';
import { TIMINGS, testProfile } from '../support/profiles.ts';
import { ringKey } from '../support/rings.ts';

const PROFILE = 'media';
const profile = testProfile();
const T0 = Date.parse('2026-11-22T12:00:00.000Z');
const at = (seconds: number) => new Date(T0 + seconds * 1000);
const iso = (seconds: number) => at(seconds).toISOString();
const GROUP_ID = '5b7a1f9e-1111-4c8e-9a43-0123456789ab';

// Keys are generated at run time; a handful is enough for every case.
const pool = Array.from({ length: 4 }, () => ringKey());
let nextId = 0;
const freshId = () => `K${String(++nextId).padStart(13, '0')}`;

function key(index: number, overrides: Partial<RingKey>): RingKey {
  const { id: _id, trustedAt: _t, activatedAt: _a, ...base } = pool[index]!;
  return { ...base, createdAt: iso(0), ...overrides };
}

function registered(ring: RingKey, id = ring.id!, createdAt = iso(0)): RegisteredPublicKey {
  const pem = createPublicKey(createPrivateKey(ring.privateKey!)).export({ type: 'spki', format: 'pem' });
  return {
    id,
    name: publicKeyNameFor(PROFILE, ring.fingerprint),
    encodedKey: pem.toString(),
    createdTime: createdAt,
  };
}

function foreignKeys(count: number): RegisteredPublicKey[] {
  const pem = registered(pool[3]!, 'KFOREIGN').encodedKey;
  return Array.from({ length: count }, (_, index) => ({
    id: `KOTHER${index}`,
    name: `other-${index}`,
    encodedKey: pem,
    createdTime: iso(0),
  }));
}

function group(items: readonly string[]): RegisteredKeyGroup {
  return { id: GROUP_ID, name: `signet-${PROFILE}`, items, etag: 'E1' };
}

function ringOf(keys: RingKey[], extra: Partial<KeyRing> = {}): KeyRing {
  return { schema: 'signet.keyring/1', keyGroupId: GROUP_ID, keys, history: [], ...extra };
}

function state(partial: Partial<RotationState> & { now: Date }): RotationState {
  return { ring: undefined, group: undefined, publicKeys: [], profileName: PROFILE, profile, ...partial };
}

/** One active key (activated at 0, trusted long before), registered and in the group. */
function steady(now: Date, extraKeys: RingKey[] = [], extraIds: string[] = []): RotationState {
  const active = key(0, { id: 'KACTIVE000001', state: 'active', trustedAt: iso(-7200), activatedAt: iso(0) });
  const keys = [active, ...extraKeys];
  return state({
    ring: ringOf(keys),
    group: group(['KACTIVE000001', ...extraIds]),
    publicKeys: keys.filter((k) => k.id !== undefined).map((k) => registered(k)),
    now,
  });
}

describe('planRotation: bootstrap', () => {
  it('bootstraps when there is no ring', () => {
    expect(planRotation(state({ now: at(0) }))).toEqual({ kind: 'bootstrap' });
  });

  it('bootstraps into an adopted group that has room', () => {
    const adopt = { adoptKeyGroupId: GROUP_ID };
    expect(planRotation(state({ now: at(0), group: group(['KEXISTING0001']), ...adopt }))).toEqual({
      kind: 'bootstrap',
    });
  });

  it('is blocked, not forced, when the account already holds 10 public keys', () => {
    expect(planRotation(state({ now: at(0), publicKeys: foreignKeys(10) }))).toMatchObject({
      kind: 'blocked',
      reason: 'account-full',
    });
  });

  it('is blocked when the group to adopt already holds 5 keys', () => {
    const full = group(['K1', 'K2', 'K3', 'K4', 'K5']);
    expect(planRotation(state({ now: at(0), group: full, adoptKeyGroupId: GROUP_ID }))).toMatchObject({
      kind: 'blocked',
      reason: 'group-full',
    });
  });
});

describe('planRotation: an interrupted introduce or bootstrap is finished first', () => {
  const pending = key(1, { state: 'pending', createdAt: iso(10) });

  it('registers a pending key that has no public key yet', () => {
    const s = steady(at(20), [pending]);
    expect(planRotation(s)).toEqual({
      kind: 'register-pending',
      keyFingerprint: pending.fingerprint,
      publicKeyName: publicKeyNameFor(PROFILE, pending.fingerprint),
    });
  });

  it('registers the first key of a bootstrap whose ring has no key group yet', () => {
    const s = state({ ring: ringOf([pending], { keyGroupId: undefined }), now: at(20) });
    expect(planRotation(s)).toMatchObject({ kind: 'register-pending', keyFingerprint: pending.fingerprint });
  });

  it('adopts the public key a crashed run created for the pending key, instead of creating a second', () => {
    const s = steady(at(20), [pending]);
    const orphan = registered(pending, 'KCRASHED00001');
    const withOrphan = { ...s, publicKeys: [...s.publicKeys, orphan] };
    expect(planRotation(withOrphan)).toEqual({
      kind: 'adopt-orphan',
      keyId: 'KCRASHED00001',
      keyFingerprint: pending.fingerprint,
    });
  });

  it('treats a public key with the right name but another key as not ours to adopt', () => {
    const s = steady(at(20), [pending]);
    const impostor = {
      ...registered(pool[3]!, 'KIMPOSTOR0001'),
      name: publicKeyNameFor(PROFILE, pending.fingerprint),
    };
    expect(planRotation({ ...s, publicKeys: [...s.publicKeys, impostor] }).kind).toBe('register-pending');
  });

  it('is blocked when registering would exceed the account or group quota', () => {
    const s = steady(at(20), [pending]);
    expect(planRotation({ ...s, publicKeys: [...s.publicKeys, ...foreignKeys(9)] })).toMatchObject({
      kind: 'blocked',
      reason: 'account-full',
    });
    expect(planRotation({ ...s, group: group(['KACTIVE000001', 'K2', 'K3', 'K4', 'K5']) })).toMatchObject({
      kind: 'blocked',
      reason: 'group-full',
    });
  });

  it('adds a registered pending key that is not in the group (trust-pending)', () => {
    const registeredPending = { ...pending, id: freshId() };
    const s = steady(at(20), [registeredPending]);
    expect(planRotation({ ...s, publicKeys: [...s.publicKeys, registered(registeredPending)] })).toEqual({
      kind: 'trust-pending',
      keyId: registeredPending.id,
      keyFingerprint: pending.fingerprint,
    });
  });

  it('records trustedAt for a pending key already in the group without it', () => {
    const registeredPending = { ...pending, id: freshId() };
    const s = steady(at(20), [registeredPending], [registeredPending.id]);
    expect(planRotation({ ...s, publicKeys: [...s.publicKeys, registered(registeredPending)] }).kind).toBe(
      'trust-pending',
    );
  });

  it('re-adds (and re-times) a trusted pending key someone took out of the group', () => {
    const trusted = { ...pending, id: freshId(), trustedAt: iso(20) };
    const s = steady(at(TIMINGS.propagation * 10), [trusted]);
    expect(planRotation({ ...s, publicKeys: [...s.publicKeys, registered(trusted)] }).kind).toBe(
      'trust-pending',
    );
  });
});

describe('planRotation: activate', () => {
  const trustedAt = 4000;
  const pending = key(1, {
    id: 'KPENDING00001',
    state: 'pending',
    createdAt: iso(trustedAt - 5),
    trustedAt: iso(trustedAt),
  });
  const withPending = (now: Date) => {
    const s = steady(now, [pending], ['KPENDING00001']);
    return { ...s, publicKeys: [...s.publicKeys, registered(pending)] };
  };

  it('waits for propagation, saying when activation falls due', () => {
    expect(planRotation(withPending(at(trustedAt + TIMINGS.propagation - 1)))).toEqual({
      kind: 'none',
      nextAt: at(trustedAt + TIMINGS.propagation),
    });
  });

  it('activates once trustedAt + propagation has passed, retiring the old active key', () => {
    expect(planRotation(withPending(at(trustedAt + TIMINGS.propagation)))).toEqual({
      kind: 'activate',
      keyId: 'KPENDING00001',
      keyFingerprint: pending.fingerprint,
      retiringKeyId: 'KACTIVE000001',
    });
  });

  it('activates at once only with the test-only switch', () => {
    expect(planRotation(withPending(at(trustedAt)), { activateWithoutPropagation: true }).kind).toBe(
      'activate',
    );
  });

  it('activates the first key of a bootstrap (no key to retire)', () => {
    const first = { ...pending, trustedAt: iso(0) };
    const s = state({
      ring: ringOf([first]),
      group: group(['KPENDING00001']),
      publicKeys: [registered(first)],
      now: at(TIMINGS.propagation),
    });
    expect(planRotation(s)).toMatchObject({ kind: 'activate', retiringKeyId: undefined });
  });
});

describe('planRotation: remove', () => {
  const retiring = key(2, {
    id: 'KRETIRING0001',
    state: 'retiring',
    activatedAt: iso(-3600),
    retiredAt: iso(0),
  });
  const withRetiring = (now: Date) => {
    const s = steady(now, [retiring], ['KRETIRING0001']);
    return { ...s, publicKeys: [...s.publicKeys, registered(retiring)] };
  };

  it('keeps a retiring key until retiredAt + maxStale + ttl.max + clockSkew', () => {
    expect(planRotation(withRetiring(at(TIMINGS.removal - 1)))).toEqual({
      kind: 'none',
      nextAt: at(TIMINGS.removal),
    });
  });

  it('removes it once that has passed', () => {
    expect(planRotation(withRetiring(at(TIMINGS.removal)))).toEqual({
      kind: 'remove',
      keyId: 'KRETIRING0001',
      keyFingerprint: retiring.fingerprint,
      // What it signed is valid until then: recorded in the history when it leaves.
      validUntil: at(TIMINGS.removal),
    });
  });

  it('waits removeAfter longer when configured', () => {
    const s = {
      ...withRetiring(at(TIMINGS.removal)),
      profile: testProfile({
        rotation: {
          rotateEvery: TIMINGS.rotateEvery,
          propagation: TIMINGS.propagation,
          clockSkew: 30,
          removeAfter: 60,
        },
      }),
    };
    expect(planRotation(s).kind).toBe('none');
    expect(planRotation({ ...s, now: at(TIMINGS.removal + 60) }).kind).toBe('remove');
  });
});

describe('planRotation: introduce', () => {
  it('waits until the active key is rotateEvery old', () => {
    expect(planRotation(steady(at(TIMINGS.rotateEvery - 1)))).toEqual({
      kind: 'none',
      nextAt: at(TIMINGS.rotateEvery),
    });
  });

  it('introduces a key once it is', () => {
    expect(planRotation(steady(at(TIMINGS.rotateEvery)))).toEqual({ kind: 'introduce', reason: 'due' });
  });

  it('introduces at once when the ring has no active and no pending key', () => {
    const retiring = key(2, { id: 'KRETIRING0001', state: 'retiring', retiredAt: iso(0) });
    const s = state({
      ring: ringOf([retiring]),
      group: group(['KRETIRING0001']),
      publicKeys: [registered(retiring)],
      now: at(10),
    });
    expect(planRotation(s)).toEqual({ kind: 'introduce', reason: 'no-active-key' });
  });

  it('is blocked when the group holds 5 keys', () => {
    const s = steady(at(TIMINGS.rotateEvery), [], ['K2', 'K3', 'K4', 'K5']);
    expect(planRotation(s)).toMatchObject({ kind: 'blocked', reason: 'group-full' });
  });

  it('is blocked when the account holds 10 public keys', () => {
    const s = steady(at(TIMINGS.rotateEvery));
    expect(planRotation({ ...s, publicKeys: [...s.publicKeys, ...foreignKeys(9)] })).toMatchObject({
      kind: 'blocked',
      reason: 'account-full',
    });
  });
});

describe('planRotation: orphans and broken states', () => {
  const stray = key(2, {});

  it('deletes a key in no group only when its comment names this ring; an unclaimed one is left alone', () => {
    const s = { ...steady(at(10)), keyGroups: [group(['KACTIVE000001'])] };
    const ours = {
      ...registered(stray, 'KSTRAY0000001'),
      comment: publicKeyCommentFor(profile.keyRing.secretId),
    };
    expect(planRotation({ ...s, publicKeys: [...s.publicKeys, ours] })).toEqual({
      kind: 'delete-orphan',
      keyId: 'KSTRAY0000001',
      inGroup: false,
    });
    // Named like this profile's keys but tied to nothing of this ring: perhaps another stage's leftover.
    const unclaimed = registered(stray, 'KSTRAY0000001');
    expect(planRotation({ ...s, publicKeys: [...s.publicKeys, unclaimed] })).toEqual({
      kind: 'none',
      nextAt: at(TIMINGS.rotateEvery),
    });
  });

  it('leaves keys of other profiles and non-Signet keys alone', () => {
    const s = steady(at(10));
    const otherProfile = {
      ...registered(stray, 'KOTHERPROF001'),
      name: publicKeyNameFor('media-eu', stray.fingerprint),
    };
    expect(planRotation({ ...s, publicKeys: [...s.publicKeys, otherProfile, ...foreignKeys(2)] }).kind).toBe(
      'none',
    );
  });

  it('keeps an unknown Signet key in the group until it cannot have signed a valid URL', () => {
    const base = steady(at(10), [], ['KSTRAY0000001']);
    const s = { ...base, publicKeys: [...base.publicKeys, registered(stray, 'KSTRAY0000001', iso(0))] };
    expect(planRotation(s)).toEqual({ kind: 'none', nextAt: at(TIMINGS.removal) });
    expect(planRotation({ ...s, now: at(TIMINGS.removal) })).toEqual({
      kind: 'delete-orphan',
      keyId: 'KSTRAY0000001',
      inGroup: true,
    });
  });

  it('deletes at once a key the ring history says has left', () => {
    const base = steady(at(10), [], ['KSTRAY0000001']);
    const ring = {
      ...base.ring!,
      history: [{ id: 'KSTRAY0000001', fingerprint: stray.fingerprint, revokedAt: iso(5) }],
    };
    const s = { ...base, ring, publicKeys: [...base.publicKeys, registered(stray, 'KSTRAY0000001')] };
    expect(planRotation(s)).toMatchObject({ kind: 'delete-orphan', inGroup: true });
  });

  it('is blocked when the ring names a key group CloudFront does not have', () => {
    expect(planRotation({ ...steady(at(10)), group: undefined })).toMatchObject({
      kind: 'blocked',
      reason: 'key-group-missing',
    });
  });

  it('is blocked when the config names another key group than the ring', () => {
    const s = { ...steady(at(10)), profile: testProfile({ keyGroupId: 'another-group' }) };
    expect(planRotation(s)).toMatchObject({ kind: 'blocked', reason: 'key-group-mismatch' });
  });

  it('is blocked when the active key is not in the group or no longer exists', () => {
    const s = steady(at(TIMINGS.rotateEvery));
    expect(planRotation({ ...s, group: group(['KOTHER']) })).toMatchObject({
      kind: 'blocked',
      reason: 'active-key-not-in-group',
    });
    expect(planRotation({ ...s, publicKeys: [] })).toMatchObject({
      kind: 'blocked',
      reason: 'active-key-missing',
    });
  });

  it('is pure: the same state gives the same action and is not modified', () => {
    const s = steady(at(TIMINGS.rotateEvery));
    const before = JSON.stringify(s);
    expect(planRotation(s)).toEqual(planRotation(s));
    expect(JSON.stringify(s)).toBe(before);
  });
});

describe('checkInvariants', () => {
  it('finds nothing wrong in a steady ring', () => {
    expect(checkInvariants(steady(at(10)))).toEqual([]);
  });

  it('reports a group over the 5-key quota', () => {
    const s = steady(at(10), [], ['K2', 'K3', 'K4', 'K5', 'K6']);
    expect(checkInvariants(s).map((v) => v.code)).toContain('GROUP_OVER_QUOTA');
  });

  it('reports an active key activated before it propagated (a warning with the test-only switch)', () => {
    const s = steady(at(10));
    const early = { ...s.ring!.keys[0]!, trustedAt: iso(-10) };
    const ring = { ...s.ring!, keys: [early] };
    expect(checkInvariants({ ...s, ring })).toEqual([
      expect.objectContaining({ code: 'ACTIVE_NOT_PROPAGATED', severity: 'error', keyId: 'KACTIVE000001' }),
    ]);
    expect(checkInvariants({ ...s, ring }, { activatedWithoutPropagation: true })).toEqual([
      expect.objectContaining({ code: 'ACTIVE_NOT_PROPAGATED', severity: 'warning' }),
    ]);
  });

  it('reports a retiring key that left the group while its URLs may be valid', () => {
    const retiring = key(2, { id: 'KRETIRING0001', state: 'retiring', retiredAt: iso(0) });
    const s = steady(at(10), [retiring]);
    const withKey = { ...s, publicKeys: [...s.publicKeys, registered(retiring)] };
    expect(checkInvariants(withKey).map((v) => v.code)).toEqual(['RETIRING_KEY_LEFT_GROUP']);
    // Past its removal delay it may be mid-removal: the next run finishes that.
    expect(checkInvariants({ ...withKey, now: at(TIMINGS.removal) })).toEqual([]);
  });

  it('reports a key removed before the bound recorded when it left, while that bound lasts', () => {
    const s = steady(at(10));
    const entry = { id: 'KOLD', fingerprint: 'sha256:x', retiredAt: iso(0), removedAt: iso(5) };
    const early = { ...s.ring!, history: [{ ...entry, validUntil: iso(390) }] };
    expect(checkInvariants({ ...s, ring: early }).map((v) => v.code)).toEqual(['KEY_REMOVED_TOO_EARLY']);
    // Once the last URL it signed has expired, it is history, not a live violation.
    expect(checkInvariants({ ...s, ring: early, now: at(390) })).toEqual([]);
    // Removed after its recorded bound: fine, whatever today's config says.
    const onTime = { ...s.ring!, history: [{ ...entry, validUntil: iso(4) }] };
    expect(checkInvariants({ ...s, ring: onTime })).toEqual([]);
    // An entry from before bounds were recorded is not judged by today's timings.
    expect(checkInvariants({ ...s, ring: { ...s.ring!, history: [entry] } })).toEqual([]);
  });

  it('reports unregistered ring keys and orphans in the group as errors, stray keys as warnings', () => {
    const pending = key(1, { state: 'pending' });
    const stray = key(2, {});
    const s = steady(at(10), [pending], ['KSTRAY0000001']);
    const found = checkInvariants({
      ...s,
      publicKeys: [...s.publicKeys, registered(stray, 'KSTRAY0000001')],
    });
    expect(found.map((v) => [v.code, v.severity])).toEqual([
      ['RING_KEY_UNREGISTERED', 'error'],
      ['ORPHAN_IN_GROUP', 'error'],
    ]);
    const outside = steady(at(10));
    expect(
      checkInvariants({
        ...outside,
        publicKeys: [...outside.publicKeys, registered(stray, 'KSTRAY0000001')],
      }),
    ).toEqual([expect.objectContaining({ code: 'ORPHAN_PUBLIC_KEY', severity: 'warning' })]);
  });

  it('reports a missing key group and an account at its quota', () => {
    expect(checkInvariants({ ...steady(at(10)), group: undefined }).map((v) => v.code)).toEqual([
      'KEY_GROUP_MISSING',
    ]);
    const s = steady(at(10));
    expect(checkInvariants({ ...s, publicKeys: [...s.publicKeys, ...foreignKeys(9)] })).toEqual([
      expect.objectContaining({ code: 'ACCOUNT_AT_QUOTA', severity: 'warning' }),
    ]);
  });
});
