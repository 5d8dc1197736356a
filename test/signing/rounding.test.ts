import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { roundExpiry } from '../../lib/signing/rounding.ts';

const NOW = 1_800_000_017;

describe('roundExpiry (expiryRounding of kms profiles)', () => {
  it('rounds up to the grid within the ceiling, down when up would pass it, and leaves it when neither fits', () => {
    expect(roundExpiry({ expires: NOW + 580, now: NOW, grid: 60, ceiling: 3600 })).toBe(1_800_000_600);
    // Up would be 1_800_003_600, 3,583 s from now: past a 3,580 s ceiling, so down.
    expect(roundExpiry({ expires: NOW + 3580, now: NOW, grid: 60, ceiling: 3580 })).toBe(1_800_003_540);
    // Down would be in the past (or at notBefore): unchanged.
    expect(roundExpiry({ expires: NOW + 30, now: NOW, grid: 60, ceiling: 30 })).toBe(NOW + 30);
    expect(roundExpiry({ expires: NOW + 100, now: NOW, grid: 60, ceiling: 100, notBefore: NOW + 50 })).toBe(
      NOW + 100,
    );
  });

  it('never passes the ceiling, never ends before now or notBefore, and moves by less than one grid step', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3600 }),
        fc.integer({ min: 1, max: 86_400 }),
        fc.integer({ min: 1, max: 86_400 }),
        fc.option(fc.integer({ min: 0, max: 86_400 }), { nil: undefined }),
        (grid, ttl, slack, start) => {
          const ceiling = ttl + slack;
          const expires = NOW + ttl;
          const notBefore = start === undefined || NOW + start >= expires ? undefined : NOW + start;
          const result = roundExpiry({ expires, now: NOW, grid, ceiling, notBefore });
          expect(result - NOW).toBeLessThanOrEqual(ceiling);
          expect(result).toBeGreaterThan(notBefore ?? NOW);
          expect(Math.abs(result - expires)).toBeLessThan(grid);
          if (result !== expires) expect(result % grid).toBe(0);
        },
      ),
    );
  });
});
