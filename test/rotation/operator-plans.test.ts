import { createPrivateKey, createPublicKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { RingKey } from '../../lib/keys/ring.ts';
import { listKeys } from '../../lib/rotation/inventory.ts';
import { publicKeyNameFor } from '../../lib/rotation/names.ts';
import { planRotation } from '../../lib/rotation/plan.ts';
import type { RegisteredPublicKey } from '../../lib/rotation/registry.ts';
import type { RotationState } from '../../lib/rotation/state.ts';
import { TIMINGS, testProfile } from '../support/profiles.ts';
import { ringKey } from '../support/rings.ts';

// The pure parts of the operator commands: `signet rotate --start` (planRotation's forceIntroduce)
// and `signet keys` (listKeys).

const PROFILE = 'media';
const profile = testProfile();
const T0 = Date.parse('2026-11-22T12:00:00.000Z');
const iso = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();
const GROUP_ID = '5b7a1f9e-1111-4c8e-9a43-0123456789ab';

function registered(key: RingKey, id: string): RegisteredPublicKey {
  const pem = createPublicKey(createPrivateKey(key.privateKey!)).export({ type: 'spki', format: 'pem' });
  return {
    id,
    name: publicKeyNameFor(PROFILE, key.fingerprint),
    encodedKey: pem.toString(),
    createdTime: iso(0),
  };
}

const active = ringKey({ id: 'KACTIVE0000001', createdAt: iso(0), trustedAt: iso(0), activatedAt: iso(200) });

function state(keys: RingKey[], now: number, extra: Partial<RotationState> = {}): RotationState {
  const ids = keys.flatMap((key) => (key.id === undefined ? [] : [key.id]));
  return {
    ring: { schema: 'signet.keyring/1', keyGroupId: GROUP_ID, keys, history: [] },
    group: { id: GROUP_ID, name: `signet-${PROFILE}`, items: ids, etag: 'E1' },
    publicKeys: keys.flatMap((key) => (key.id === undefined ? [] : [registered(key, key.id)])),
    now: new Date(T0 + now * 1000),
    profileName: PROFILE,
    profile,
    ...extra,
  };
}

describe('planRotation with forceIntroduce (signet rotate --start)', () => {
  it('introduces early when the active key is younger than rotateEvery', () => {
    const young = state([active], 300);
    expect(planRotation(young).kind).toBe('none');
    expect(planRotation(young, { forceIntroduce: true })).toEqual({ kind: 'introduce', reason: 'requested' });
    // Once due, the reason says so.
    expect(planRotation(state([active], 200 + TIMINGS.rotateEvery), { forceIntroduce: true })).toEqual({
      kind: 'introduce',
      reason: 'due',
    });
  });

  it('never introduces a second pending key, and respects the group quota', () => {
    const pending = ringKey({
      id: 'KPENDING000001',
      state: 'pending',
      createdAt: iso(250),
      trustedAt: iso(250),
    });
    expect(planRotation(state([active, pending], 300), { forceIntroduce: true }).kind).toBe('none');
    const full = state([active], 300, {
      group: {
        id: GROUP_ID,
        name: `signet-${PROFILE}`,
        items: [active.id!, 'K1', 'K2', 'K3', 'K4'],
        etag: 'E1',
      },
    });
    expect(planRotation(full, { forceIntroduce: true })).toMatchObject({
      kind: 'blocked',
      reason: 'group-full',
    });
  });
});

describe('listKeys (signet keys)', () => {
  it('lists ring keys with state, age and group membership, orphans, foreign keys and history, never a private key', () => {
    const pending = ringKey({ id: undefined, state: 'pending', createdAt: iso(250) });
    const orphanKey = ringKey({ createdAt: iso(0) });
    const base = state([active, pending], 400);
    const listing = listKeys({
      ...base,
      ring: {
        ...base.ring!,
        history: [{ id: 'KOLD0000000001', fingerprint: 'sha256:old', revokedAt: iso(100) }],
      },
      group: { ...base.group!, items: [active.id!, 'KORPHAN0000001', 'KFOREIGN000001'] },
      publicKeys: [...base.publicKeys, registered(orphanKey, 'KORPHAN0000001')],
    });
    expect(listing).toEqual({
      profile: PROFILE,
      keyGroupId: GROUP_ID,
      keys: [
        {
          id: active.id,
          state: 'active',
          algorithm: 'ecdsa-p256',
          hash: 'sha256',
          fingerprint: active.fingerprint,
          createdAt: iso(0),
          ageSeconds: 400,
          trustedAt: iso(0),
          activatedAt: iso(200),
          inGroup: true,
          registered: true,
          bounds: { ttlMax: 300, maxStale: 60, clockSkew: 30 },
        },
        {
          id: undefined,
          state: 'pending',
          algorithm: 'ecdsa-p256',
          hash: 'sha256',
          fingerprint: pending.fingerprint,
          createdAt: iso(250),
          ageSeconds: 150,
          trustedAt: pending.trustedAt,
          activatedAt: pending.activatedAt,
          inGroup: false,
          registered: false,
          bounds: { ttlMax: 300, maxStale: 60, clockSkew: 30 },
        },
        {
          id: 'KORPHAN0000001',
          state: 'orphan',
          algorithm: undefined,
          hash: undefined,
          fingerprint: orphanKey.fingerprint,
          createdAt: iso(0),
          ageSeconds: 400,
          inGroup: true,
          registered: true,
        },
      ],
      otherGroupKeys: ['KFOREIGN000001'],
      history: [{ id: 'KOLD0000000001', fingerprint: 'sha256:old', revokedAt: iso(100) }],
    });
    expect(JSON.stringify(listing)).not.toContain('PRIVATE KEY');
  });
});
