/** What {@link roundExpiry} needs. Epoch seconds, except `grid` and `ceiling` (durations in seconds). */
export interface ExpiryRounding {
  /** The requested expiry. */
  readonly expires: number;
  readonly now: number;
  /** The grid to round to (`expiryRounding`), for example 60. */
  readonly grid: number;
  /**
   * The longest lifetime allowed from `now`: the grant's `maxTtl` capped by `ttl.max`. An expiry is
   * never rounded past `now + ceiling`, so the recorded bounds (ttl.max) already cover it.
   */
  readonly ceiling: number;
  /** A policy's start: an expiry is never rounded down to or before it. */
  readonly notBefore?: number | undefined;
}

/**
 * Rounds an expiry to the grid so that identical requests within one window make identical policies,
 * which share one cached KMS signature (docs/operators.md, "KMS signing"): up to the next grid line
 * when that stays within the ceiling, else down to the previous one when that is still in the future
 * (and after `notBefore`), else unchanged.
 */
export function roundExpiry(input: ExpiryRounding): number {
  const { expires, now, grid, ceiling } = input;
  if (!(grid >= 1) || expires % grid === 0) return expires;
  const up = Math.ceil(expires / grid) * grid;
  if (up - now <= ceiling) return up;
  const down = Math.floor(expires / grid) * grid;
  const floor = Math.max(now, input.notBefore ?? now);
  return down > floor ? down : expires;
}
