import { type Profile, profileSchema } from '../../lib/config/schema.ts';

// Profiles for tests that need no sandbox: kept apart from test/support/rotation-sandbox.ts (which
// re-exports them) so that unit tests do not load the AWS SDK clients and stand-ins it imports.

/** Test timings (seconds): removal delay = maxStale + ttl.max + clockSkew = 60 + 300 + 30 = 390. */
export const TIMINGS = {
  rotateEvery: 3600,
  propagation: 120,
  removal: 390,
} as const;

/** A profile with short, valid timings; `overrides.rotation` replaces the rotation block. */
export function testProfile(overrides: Record<string, unknown> = {}): Profile {
  return profileSchema.parse({
    domains: ['media.example.com'],
    keyRing: { secretId: 'signet/test' },
    ttl: { default: 60, max: 300 },
    cache: { ttl: 30, maxStale: 60 },
    rotation: { rotateEvery: TIMINGS.rotateEvery, propagation: TIMINGS.propagation, clockSkew: 30 },
    ...overrides,
  });
}
