import { createPrivateKey, createPublicKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { explainKey } from '../../lib/doctor/explain-key.ts';
import { KEY_RING_SCHEMA, type KeyRing, type RingKey } from '../../lib/keys/ring.ts';
import { refusedConfigChanges, removableAt } from '../../lib/rotation/bounds.ts';
import { checkInvariants } from '../../lib/rotation/invariants.ts';
import { listKeys } from '../../lib/rotation/inventory.ts';
import { publicKeyNameFor } from '../../lib/rotation/names.ts';
import { planRotation } from '../../lib/rotation/plan.ts';
import type { RegisteredPublicKey } from '../../lib/rotation/registry.ts';
import { planRevoke } from '../../lib/rotation/revoke.ts';
import type { RotationState } from '../../lib/rotation/state.ts';
import { testProfile } from '../support/profiles.ts';
import { ringKey } from '../support/rings.ts';

// Recorded bounds (docs/design.md, "Recorded bounds"): a key is judged, kept and removed by the
// longest timings in force while it could sign, never by today's config alone. The profile of
// testProfile() records { ttlMax 300, maxStale 60, clockSkew 30 }: removal 390 s after retirement.

const PROFILE = 'media';
const GROUP_ID = '5b7a1f9e-1111-4c8e-9a43-0123456789ab';
const T0 = Date.parse('2026-11-22T12:00:00.000Z');
const iso = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();
const base = testProfile();
const shorter = testProfile({ ttl: { default: 30, max: 30 }, cache: { ttl: 5, maxStale: 10 } });
const longer = testProfile({ ttl: { default: 60, max: 900 } });

function registered(key: RingKey): RegisteredPublicKey {
  const pem = createPublicKey(createPrivateKey(key.privateKey!)).export({ type: 'spki', format: 'pem' });
  return {
    id: key.id!,
    name: publicKeyNameFor(PROFILE, key.fingerprint),
    encodedKey: pem.toString(),
    createdTime: iso(0),
  };
}

/** An active key (activated at 0) and a key that retired at `retiredAt`, both in the group. */
function rotated(
  retiredAt: number,
  now: number,
  profile = base,
  extra: Partial<KeyRing> = {},
): RotationState {
  const active = ringKey({
    id: 'KACTIVE0000001',
    createdAt: iso(-200),
    trustedAt: iso(-200),
    activatedAt: iso(retiredAt),
  });
  const retiring = ringKey({
    id: 'KRETIRE0000001',
    state: 'retiring',
    createdAt: iso(-7200),
    activatedAt: iso(-7000),
    retiredAt: iso(retiredAt),
  });
  const keys = [active, retiring];
  return {
    ring: { schema: KEY_RING_SCHEMA, keyGroupId: GROUP_ID, keys, history: [], ...extra },
    group: { id: GROUP_ID, name: `signet-${PROFILE}`, items: keys.map((k) => k.id!), etag: 'E1' },
    publicKeys: keys.map(registered),
    now: new Date(T0 + now * 1000),
    profileName: PROFILE,
    profile,
  };
}

describe('removal under a changed config', () => {
  it('keeps a retiring key for its recorded bound when ttl.max and maxStale are lowered', () => {
    // Under the shorter config alone the key could go 10 + 30 + 30 = 70 s after retirement.
    expect(planRotation(rotated(0, 100, shorter)).kind).toBe('none');
    expect(planRotation(rotated(0, 389, shorter))).toEqual({ kind: 'none', nextAt: new Date(T0 + 390_000) });
    expect(planRotation(rotated(0, 390, shorter))).toMatchObject({ kind: 'remove', keyId: 'KRETIRE0000001' });
  });

  it('waits for the current config when it is longer than the recorded bound', () => {
    // ttl.max raised to 900 s: 60 + 900 + 30 = 990 s. The active key's bound is recorded first.
    const recorded = (state: RotationState): RotationState => {
      const action = planRotation(state);
      if (action.kind !== 'record-bounds') return state;
      const raised = new Map(action.keys.map((k) => [k.fingerprint, k.bounds]));
      const keys = state.ring!.keys.map((k) => ({ ...k, bounds: raised.get(k.fingerprint) ?? k.bounds }));
      return { ...state, ring: { ...state.ring!, keys } };
    };
    expect(planRotation(recorded(rotated(0, 390, longer))).kind).toBe('none');
    expect(planRotation(recorded(rotated(0, 989, longer))).kind).toBe('none');
    expect(planRotation(recorded(rotated(0, 990, longer)))).toMatchObject({
      kind: 'remove',
      keyId: 'KRETIRE0000001',
    });
  });

  it('adds the current removeAfter on top of the bound (a margin, not part of a URL’s life)', () => {
    const margin = testProfile({
      rotation: { rotateEvery: 3600, propagation: 120, clockSkew: 30, removeAfter: 100 },
    });
    expect(planRotation(rotated(0, 390, margin)).kind).not.toBe('remove');
    expect(planRotation(rotated(0, 490, margin))).toMatchObject({ kind: 'remove' });
  });

  it('records the bound a key was removed under, and lists it in signet keys', () => {
    const state = rotated(0, 100, shorter);
    const listing = listKeys(state);
    const retiring = listing.keys.find((row) => row.state === 'retiring')!;
    expect(retiring).toMatchObject({ validUntil: iso(390), removableAt: iso(390) });
    expect(removableAt(state.ring!.keys[1]!, shorter)?.toISOString()).toBe(iso(390));
  });
});

describe('record-bounds', () => {
  it('raises the bounds of every key that can still sign when the config lengthens them, and only then', () => {
    // At 30 s the retiring key is still inside its maxStale (60 s): a cached ring may still sign with it.
    expect(planRotation(rotated(0, 30, longer))).toEqual({
      kind: 'record-bounds',
      keys: [
        { fingerprint: expect.any(String), bounds: { ttlMax: 900, maxStale: 60, clockSkew: 30 } },
        { fingerprint: expect.any(String), bounds: { ttlMax: 900, maxStale: 60, clockSkew: 30 } },
      ],
    });
    // Past its maxStale the retiring key signs nothing more: only the active key's bound is raised.
    const later = planRotation(rotated(0, 61, longer));
    expect(later.kind === 'record-bounds' && later.keys.length).toBe(1);
    // A shorter config never lowers a recorded bound, so nothing is written.
    expect(planRotation(rotated(0, 30, shorter)).kind).toBe('none');
  });

  it('records bounds for keys of a ring written before bounds existed', () => {
    const state = rotated(0, 30);
    const keys = state.ring!.keys.map(({ bounds: _bounds, ...rest }) => rest);
    expect(planRotation({ ...state, ring: { ...state.ring!, keys } })).toMatchObject({
      kind: 'record-bounds',
      keys: [
        { bounds: { ttlMax: 300, maxStale: 60, clockSkew: 30 } },
        { bounds: { ttlMax: 300, maxStale: 60, clockSkew: 30 } },
      ],
    });
  });
});

describe('invariants judge the past by what was recorded', () => {
  it('judges an activation by the propagation recorded at the time, not today’s', () => {
    const state = rotated(0, 10);
    const active = { ...state.ring!.keys[0]!, trustedAt: iso(-120), activatedAt: iso(0) };
    const waited = { ...active, bounds: { ...active.bounds!, propagation: 120 } };
    const slower = testProfile({ rotation: { rotateEvery: 3600, propagation: 600, clockSkew: 30 } });
    const ring = { ...state.ring!, keys: [waited, state.ring!.keys[1]!] };
    expect(checkInvariants({ ...state, ring, profile: slower })).toEqual([]);
    // Without the record, today's (longer) wait is all there is to judge by.
    const unrecorded = { ...ring, keys: [active, state.ring!.keys[1]!] };
    expect(checkInvariants({ ...state, ring: unrecorded, profile: slower }).map((v) => v.code)).toEqual([
      'ACTIVE_NOT_PROPAGATED',
    ]);
  });

  it('says until when a retiring key that left the group early had URLs outstanding', () => {
    const state = rotated(0, 100, shorter);
    const group = { ...state.group!, items: ['KACTIVE0000001'] };
    expect(checkInvariants({ ...state, group })).toEqual([
      expect.objectContaining({
        code: 'RETIRING_KEY_LEFT_GROUP',
        severity: 'error',
        message: expect.stringContaining(`before ${iso(390)}`),
      }),
    ]);
  });
});

describe('a full key group held by recorded bounds', () => {
  it('blocks introduction and names the keys and fields that hold the slots', () => {
    // rotateEvery lowered to 120 s with ttl.max lowered to 30 s: retiring keys recorded at 300 s stay.
    const fast = testProfile({
      ttl: { default: 30, max: 30 },
      cache: { ttl: 5, maxStale: 10 },
      rotation: { rotateEvery: 120, propagation: 60, clockSkew: 5 },
    });
    const state = rotated(0, 200, fast);
    const fillers = ['KFILL00000001', 'KFILL00000002', 'KFILL00000003'];
    const full = { ...state, group: { ...state.group!, items: [...state.group!.items, ...fillers] } };
    const action = planRotation(full);
    expect(action).toMatchObject({ kind: 'blocked', reason: 'group-full' });
    expect(action.kind === 'blocked' && action.message).toMatch(
      /KRETIRE0000001 until .*ttl\.max 300s \(now 30s\), cache\.maxStale 60s \(now 10s\), rotation\.clockSkew 30s \(now 5s\)/,
    );
  });
});

describe('a lowered rotation.propagation', () => {
  const lowered = testProfile({ rotation: { rotateEvery: 3600, propagation: 30, clockSkew: 30 } });
  /** The active key activated after waiting 120 s; a pending key trusted at 1000 s. */
  function pendingAfter(profile = lowered, now = 1100): RotationState {
    const state = rotated(0, now, profile);
    const [active] = state.ring!.keys;
    const waited = { ...active!, bounds: { ...active!.bounds!, propagation: 120 } };
    const pending = ringKey({
      id: 'KPENDING000001',
      state: 'pending',
      createdAt: iso(990),
      trustedAt: iso(1000),
      activatedAt: undefined,
    });
    const keys = [waited, pending];
    return {
      ...state,
      ring: { ...state.ring!, keys },
      group: { ...state.group!, items: keys.map((k) => k.id!) },
      publicKeys: keys.map(registered),
    };
  }

  it('is refused without a canary, naming the field: activation keeps the longest wait honoured before', () => {
    expect(refusedConfigChanges(pendingAfter().ring!, lowered)).toEqual([
      {
        field: 'rotation.propagation',
        message: expect.stringContaining('rotation.propagation was lowered to 30s, below the 120s'),
      },
    ]);
    expect(planRotation(pendingAfter(lowered, 1100))).toEqual({
      kind: 'none',
      nextAt: new Date(T0 + 1_120_000),
    });
    expect(planRotation(pendingAfter(lowered, 1120))).toMatchObject({
      kind: 'activate',
      keyId: 'KPENDING000001',
    });
  });

  it('applies with a canary, which holds activation until the edge accepts the new key', () => {
    const canary = testProfile({
      rotation: {
        rotateEvery: 3600,
        propagation: 30,
        clockSkew: 30,
        canary: { url: 'https://media.example.com/canary.txt' },
      },
    });
    expect(refusedConfigChanges(pendingAfter(canary).ring!, canary)).toEqual([]);
    expect(planRotation(pendingAfter(canary, 1030))).toMatchObject({ kind: 'activate' });
  });

  it('is not a refusal when raised, or when nothing was recorded yet', () => {
    const raised = testProfile({ rotation: { rotateEvery: 3600, propagation: 600, clockSkew: 30 } });
    expect(refusedConfigChanges(pendingAfter(raised).ring!, raised)).toEqual([]);
    expect(planRotation(pendingAfter(raised, 1599)).kind).toBe('none');
    expect(refusedConfigChanges(rotated(0, 10).ring!, lowered)).toEqual([]);
  });
});

describe('operators read the recorded bounds', () => {
  it('signet revoke says until when URLs fail from the recorded bounds, not a lowered config', () => {
    const state = rotated(0, 100, shorter);
    const plan = planRevoke(state, 'KRETIRE0000001');
    // Retired at 0: signed until 0 + maxStale 60 (recorded), valid until 390 — not 10 and 70.
    expect(plan.exposure).toEqual({
      signedFrom: new Date(state.ring!.keys[1]!.activatedAt!),
      signedUntil: new Date(T0 + 60_000),
      failingUntil: new Date(T0 + 390_000),
    });
    expect(plan.nextRing!.history).toEqual([
      expect.objectContaining({ id: 'KRETIRE0000001', validUntil: iso(390) }),
    ]);
  });

  it('live explain says until when the last URL of a key that left was valid', () => {
    const state = rotated(0, 100);
    const ring = {
      ...state.ring!,
      history: [
        { id: 'KGONEKEY000001', fingerprint: 'sha256:gone', removedAt: iso(-10), validUntil: iso(-20) },
      ],
    };
    const explained = explainKey({
      keyPairId: 'KGONEKEY000001',
      profileName: PROFILE,
      ring,
      keyGroupId: GROUP_ID,
      trustedGroups: new Map([[GROUP_ID, ['KACTIVE0000001']]]),
      publicKeys: new Map(),
      trustSource: 'the default cache behaviour',
    });
    expect(explained.keyStatus).toBe('removed');
    expect(explained.notes[0]).toContain(`the last URL or cookie it signed was valid until ${iso(-20)}`);
  });

  it('live explain says a key found nowhere is older than the history the ring keeps', () => {
    const state = rotated(0, 100);
    const explained = explainKey({
      keyPairId: 'KTRIMMED000001',
      profileName: PROFILE,
      ring: state.ring!,
      keyGroupId: GROUP_ID,
      trustedGroups: new Map([[GROUP_ID, ['KACTIVE0000001']]]),
      publicKeys: new Map(),
      trustSource: 'the default cache behaviour',
    });
    expect(explained.keyStatus).toBe('unknown');
    // History is trimmed 400 days after each entry's bound (docs/design.md): explain says so rather
    // than implying the key was never this profile's.
    expect(explained.notes[0]).toContain(
      "not in profile media's ring or its history: it was not this profile's key in the last 400 days",
    );
  });
});
