import { describe, expect, it } from 'vitest';
import { checkConfigChangeRefused } from '../../../lib/doctor/checks/config-change.ts';
import { testProfile } from '../../support/profiles.ts';
import { activeKey, iso, judge, snapshotOf } from './snapshots.ts';

// A lowered rotation.propagation without a canary is refused by the rotator
// (docs/design.md, "Recorded bounds"); testProfile() configures 120 s.

/** An active key whose activation waited 1500 s of propagation, recorded as its bound. */
const waited1500 = activeKey({
  createdAt: iso(-3600),
  trustedAt: iso(-3600),
  activatedAt: iso(-2000),
  bounds: { ttlMax: 300, maxStale: 60, clockSkew: 30, propagation: 1500 },
});
const rotation = { rotateEvery: 3600, clockSkew: 30 };

describe('CONFIG_CHANGE_REFUSED', () => {
  it('says nothing of a ring that could not be read', () => {
    const snapshot = snapshotOf({ ring: { status: 'missing', message: 'no value yet' } });
    expect(checkConfigChangeRefused({ snapshot: snapshot.profiles[0]! })).toEqual([]);
  });

  it('rotation.propagation lowered below what an earlier activation waited, with no canary', () => {
    const found = judge(
      checkConfigChangeRefused,
      snapshotOf({ keys: [waited1500] }),
      'CONFIG_CHANGE_REFUSED',
    );
    expect(found).toEqual([
      expect.objectContaining({
        severity: 'warning',
        profile: 'media',
        keyId: null,
        remedy: 'Set rotation.propagation of profile media back, or configure rotation.canary for it.',
      }),
    ]);
    expect(found[0]!.message).toMatch(
      /^rotation\.propagation was lowered to 120s, below the 1500s earlier activations waited: .* Activations keep waiting 1500s\. .* Until then every rotator run fails \(RotationConfigRefused\)\.$/,
    );
  });

  it('is not reported once rotation.propagation is set back', () => {
    const profile = testProfile({ rotation: { ...rotation, propagation: 1500 } });
    expect(
      judge(checkConfigChangeRefused, snapshotOf({ profile, keys: [waited1500] }), 'CONFIG_CHANGE_REFUSED'),
    ).toEqual([]);
  });

  it('is not reported when a canary guards the lower value', () => {
    const profile = testProfile({
      rotation: { ...rotation, propagation: 120, canary: { url: 'https://media.example.com/canary' } },
    });
    expect(
      judge(checkConfigChangeRefused, snapshotOf({ profile, keys: [waited1500] }), 'CONFIG_CHANGE_REFUSED'),
    ).toEqual([]);
  });
});
