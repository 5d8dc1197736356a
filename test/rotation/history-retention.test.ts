import { describe, expect, it } from 'vitest';
import { serializeKeyRing } from '../../lib/keys/ring.ts';
import { HISTORY_RETENTION_SECONDS } from '../../lib/rotation/history.ts';
import { rotate } from '../support/rotation-cycle.ts';
import { HandClock, startRotationSandbox, testProfile } from '../support/rotation-sandbox.ts';

// Years of rotations must keep the ring far under Secrets Manager's 64 KB limit: the history drops
// a key once its retention has passed after the last URL it signed expired.

const WEEK = 7 * 86_400;

describe('the key ring after ten years of weekly rotations', () => {
  it('keeps its history to the retention window and its size far under 64 KB', async () => {
    const clock = new HandClock();
    const sandbox = await startRotationSandbox({ clock });
    try {
      const profile = testProfile({
        ttl: { default: 3600, max: 86_400 },
        cache: { ttl: 300, maxStale: 3600 },
        rotation: { rotateEvery: WEEK, propagation: 3600, clockSkew: 300 },
      });
      const context = {
        profileName: 'decade',
        profile,
        store: await sandbox.newStore('signet/decade'),
        registry: sandbox.registry,
        clock,
      };
      const start = clock.millis();
      let removals = 0;
      let largest = 0;
      while (clock.millis() - start < 10 * 365 * 86_400_000) {
        const result = await rotate(context);
        expect(result.ok).toBe(true);
        if (result.commits.some((commit) => commit.step === 'remove')) {
          removals++;
          // The ring is largest right after a removal adds to the history: measured once a year.
          if (removals % 52 === 0) {
            const ring = (await context.store.load())!.ring;
            largest = Math.max(largest, Buffer.byteLength(serializeKeyRing(ring)));
          }
        }
        // Straight to the next phase: one run per phase, as a schedule would do, minus the idle runs.
        if (result.nextAt !== undefined)
          clock.advance(Math.max(1, (result.nextAt.getTime() - clock.millis()) / 1000));
      }
      const ring = (await context.store.load())!.ring;
      expect(removals).toBeGreaterThan(500);
      // Only the keys whose retention has not passed stay: about 400 days of weekly keys.
      expect(ring.history.length).toBeLessThanOrEqual(Math.ceil(HISTORY_RETENTION_SECONDS / WEEK) + 1);
      expect(ring.history.length).toBeGreaterThan(50);
      expect(largest).toBeLessThan(24 * 1024);
      expect(sandbox.maxGroupSize()).toBeLessThanOrEqual(3);
    } finally {
      await sandbox.close();
    }
  }, 600_000);
});
