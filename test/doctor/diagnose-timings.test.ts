import { createPrivateKey, createPublicKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Profile } from '../../lib/config/schema.ts';
import { diagnose } from '../../lib/doctor/diagnose.ts';
import type { DoctorSnapshot } from '../../lib/doctor/snapshot.ts';
import { KEY_RING_SCHEMA, type RingKey } from '../../lib/keys/ring.ts';
import { publicKeyNameFor } from '../../lib/rotation/names.ts';
import { ringKey } from '../support/rings.ts';
import { testProfile } from '../support/rotation-sandbox.ts';

// Doctor and a lowered rotation.propagation (docs/design.md, "Recorded bounds"): the rotator refuses
// it without a canary and keeps the longest wait it honoured before; doctor says so, and does not
// call the pending key stuck while the rotator waits on purpose.

const T0 = Date.parse('2026-11-22T12:00:00.000Z');
const iso = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();
const GROUP_ID = '5b7a1f9e-1111-4c8e-9a43-0123456789ab';
const active = ringKey({
  id: 'KACTIVE0000001',
  createdAt: iso(-9000),
  trustedAt: iso(-9000),
  activatedAt: iso(-7500),
  bounds: { ttlMax: 300, maxStale: 60, clockSkew: 30, propagation: 1500 },
});
const pending = ringKey({
  id: 'KPENDING000001',
  state: 'pending',
  createdAt: iso(-1300),
  trustedAt: iso(-1300),
  activatedAt: undefined,
});

function snapshot(profile: Profile, keys: RingKey[] = [active, pending]): DoctorSnapshot {
  const registered = keys.map((key) => ({
    id: key.id!,
    name: publicKeyNameFor('media', key.fingerprint),
    encodedKey: createPublicKey(createPrivateKey(key.privateKey!))
      .export({ type: 'spki', format: 'pem' })
      .toString(),
    createdTime: key.createdAt,
  }));
  return {
    profiles: [
      {
        name: 'media',
        profile,
        ring: { status: 'ok', ring: { schema: KEY_RING_SCHEMA, keyGroupId: GROUP_ID, keys, history: [] } },
        keyGroup: {
          status: 'ok',
          group: { id: GROUP_ID, name: 'signet-media', items: keys.map((k) => k.id!), etag: 'E1' },
        },
        distribution: { status: 'unset' },
      },
    ],
    publicKeys: registered,
    configuredProfiles: 1,
  };
}

const codes = (s: DoctorSnapshot, now = 0) =>
  diagnose(s, new Date(T0 + now * 1000)).map((f) => [f.code, f.severity]);
const lowered = testProfile({ rotation: { rotateEvery: 86_400, propagation: 60, clockSkew: 30 } });

describe('doctor on a lowered rotation.propagation', () => {
  it('reports the refusal (a warning: nothing is refused at the edge) and no stuck pending key', () => {
    const found = diagnose(snapshot(lowered), new Date(T0));
    expect(found.filter((f) => f.code === 'CONFIG_CHANGE_REFUSED')).toEqual([
      expect.objectContaining({
        severity: 'warning',
        message: expect.stringContaining('rotation.propagation was lowered to 60s, below the 1500s'),
        remedy: 'Set rotation.propagation of profile media back, or configure rotation.canary for it.',
      }),
    ]);
    // Trusted 1300 s ago: past 60 s + 15 min of slack, but the rotator waits 1500 s on purpose.
    expect(codes(snapshot(lowered))).not.toContainEqual(['PENDING_STUCK', 'warning']);
    // Past the wait it honours (and the slack), the pending key is stuck indeed.
    expect(codes(snapshot(lowered), 1500)).toContainEqual(['PENDING_STUCK', 'warning']);
  });

  it('has nothing to say when a canary guards the lower value, or when it was raised', () => {
    const canary = testProfile({
      rotation: {
        rotateEvery: 86_400,
        propagation: 60,
        clockSkew: 30,
        canary: { url: 'https://media.example.com/c' },
      },
    });
    expect(codes(snapshot(canary)).map(([code]) => code)).not.toContain('CONFIG_CHANGE_REFUSED');
    const raised = testProfile({ rotation: { rotateEvery: 86_400, propagation: 3000, clockSkew: 30 } });
    expect(codes(snapshot(raised)).map(([code]) => code)).not.toContain('CONFIG_CHANGE_REFUSED');
  });
});

describe('KEY_AGE', () => {
  const daily = testProfile({ rotation: { rotateEvery: 86_400, propagation: 120, clockSkew: 30 } });
  it('allows the rotator a few runs after a rotation falls due before asking whether it runs', () => {
    const due = 86_400 - 7500; // seconds from T0 until the active key is rotateEvery old
    expect(codes(snapshot(daily, [active]), due + 60).map(([code]) => code)).not.toContain('KEY_AGE');
    expect(codes(snapshot(daily, [active]), due + 16 * 60)).toContainEqual(['KEY_AGE', 'warning']);
  });
});
