import { describe, expect, it } from 'vitest';
import { configSchema } from '../../lib/config/schema.ts';
import { removalDelaySeconds, validateRotationTimings } from '../../lib/rotation/timings.ts';
import { testProfile } from '../support/rotation-sandbox.ts';

const rotation = (values: Record<string, unknown>) => ({
  rotation: { rotateEvery: 3600, propagation: 120, clockSkew: 30, ...values },
});

describe('validateRotationTimings', () => {
  it('accepts the defaults and the test timings', () => {
    expect(validateRotationTimings(testProfile({ ttl: {}, cache: {}, rotation: {} }))).toEqual([]);
    expect(validateRotationTimings(testProfile())).toEqual([]);
  });

  it('computes the removal delay as maxStale + ttl.max + clockSkew + removeAfter', () => {
    expect(removalDelaySeconds(testProfile())).toBe(60 + 300 + 30);
    expect(removalDelaySeconds(testProfile(rotation({ removeAfter: 600 })))).toBe(60 + 300 + 30 + 600);
  });

  it('refuses propagation 0 unless the edge is a stand-in that applies changes at once', () => {
    const profile = testProfile(rotation({ propagation: 0 }));
    expect(validateRotationTimings(profile)).toEqual([
      expect.stringContaining('rotation.propagation above 0s'),
    ]);
    expect(validateRotationTimings(profile, { allowZeroPropagation: true })).toEqual([]);
  });

  it('refuses a cache that may serve a ring longer than maxStale', () => {
    expect(validateRotationTimings(testProfile({ cache: { ttl: 120, maxStale: 60 } }))).toEqual([
      expect.stringContaining('cache.ttl (120s) at most cache.maxStale (60s)'),
    ]);
  });

  it('refuses a rotateEvery so short that more than 3 keys would coexist', () => {
    // Removal delay 390s: 2 * 100 + 120 = 320 < 390.
    expect(validateRotationTimings(testProfile(rotation({ rotateEvery: 100 })))).toEqual([
      expect.stringContaining('more than 3 keys coexist'),
    ]);
    // 2 * 135 + 120 = 390: exactly enough.
    expect(validateRotationTimings(testProfile(rotation({ rotateEvery: 135 })))).toEqual([]);
  });

  it('makes config load fail, naming the profile and field', () => {
    const result = configSchema.safeParse({
      profiles: {
        media: {
          domains: ['media.example.com'],
          keyRing: { secretId: 'signet/media' },
          ttl: { max: 86_400 },
          rotation: { rotateEvery: '1h', propagation: 0 },
        },
      },
    });
    expect(result.success).toBe(false);
    const issues = result.error!.issues.filter((issue) => issue.path.join('.') === 'profiles.media.rotation');
    expect(issues.map((issue) => issue.message)).toEqual([
      expect.stringContaining('propagation above 0s'),
      expect.stringContaining('more than 3 keys coexist'),
    ]);
  });
});
