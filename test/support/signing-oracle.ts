import type { KeyRing } from '../../lib/keys/ring.ts';

/**
 * The test side's own model of what each Signet key may have signed, for the rotation property
 * tests. It reads only the ring's timestamps (when a key became active, when it retired) and the
 * configs the test deployed; it never calls lib/rotation/bounds.ts, so it can catch that code being
 * wrong instead of agreeing with it.
 *
 * The model (docs/design.md, "Recorded bounds"): the API signs with the key the ring names active. A signer may keep serving
 * a ring it loaded for up to the `cache.maxStale` of the config in force (lib/keys/cache.ts), so a
 * key that retired at `r` may still sign at `t` if `s < r + maxStale` held at every instant `s` from
 * `r` to `t` under the config in force at `s`. This is conservative (a deploy's fresh signers hold no
 * older ring at all), but once the window has lapsed it stays lapsed: a signer has dropped that ring,
 * and a later, longer maxStale cannot bring it back. A URL or cookie signed at `t` is valid until
 * `t + ttl.max + clockSkew` of the config in force at `t`. A key's obligation is the latest instant
 * anything it signed can still be presented.
 *
 * Only configs a rotator run has seen count: a deploy takes effect at once, but the rotator records
 * it only when it next completes a run (the schedule). Signing between a deploy and that run is
 * outside what the rotator can know, and outside the acceptance ("under any config seen"), so it
 * adds no obligation. Pass `countUnseen` to count it anyway (to show that gap, not to assert on it).
 */

/** The parts of a config that decide how long a signature lives (seconds). */
export interface SigningLimits {
  readonly ttlMax: number;
  readonly maxStale: number;
  readonly clockSkew: number;
}

/** What the oracle knows of one key (times in epoch milliseconds). */
interface TrackedKey {
  readonly fingerprint: string;
  id: string | undefined;
  activatedAt: number | undefined;
  retiredAt: number | undefined;
  /** Retired, and its stale window closed at some instant since: no signer holds it any more. */
  lapsed: boolean;
  /** The latest instant anything this key signed can be valid (0: it never signed). */
  obligation: number;
}

export class SigningOracle {
  readonly #keys = new Map<string, TrackedKey>();
  readonly #countUnseen: boolean;
  #limits: SigningLimits;
  #seen = false;

  constructor(initial: SigningLimits, options: { countUnseen?: boolean } = {}) {
    this.#limits = initial;
    this.#countUnseen = options.countUnseen === true;
  }

  /** A deploy: signers use `limits` from now on; the rotator has not seen them yet. */
  deploy(limits: SigningLimits): void {
    this.#limits = limits;
    this.#seen = false;
  }

  /** A rotator run completed under the config in force: from now on its signing counts. */
  runCompleted(): void {
    this.#seen = true;
  }

  /**
   * Time passes from `from` to `to` (ms) with no ring change and no deploy: every key the ring named
   * active, or that a signer may still hold as active, signs up to `to` under the config in force.
   */
  elapse(from: number, to: number): void {
    if (to <= from) return;
    const limits = this.#limits;
    // Windows lapse under the config in force whether or not the rotator has seen it.
    const counted = this.#seen || this.#countUnseen;
    for (const key of this.#keys.values()) {
      if (key.activatedAt === undefined || key.lapsed) continue;
      let until = to;
      if (key.retiredAt !== undefined) {
        const windowEnd = key.retiredAt + limits.maxStale * 1000;
        until = Math.min(to, windowEnd);
        if (windowEnd < to) key.lapsed = true;
      }
      // Signed at any instant before `until` (not at it: the window is open on the right, as the
      // rotator's own "can still sign" test is), so valid up to `until` plus the life of a URL.
      if (counted && until > Math.max(from, key.activatedAt))
        key.obligation = Math.max(key.obligation, until + (limits.ttlMax + limits.clockSkew) * 1000);
    }
  }

  /**
   * Takes in the ring as stored at `now` (ms). Runs are instantaneous on the hand clock, so a key's
   * activatedAt or retiredAt, once written, must be exactly the time of the step that wrote it and
   * never change afterwards; anything else would make the timeline this model reads untrustworthy,
   * so it is reported as a problem.
   */
  observe(ring: KeyRing | undefined, now: number): string[] {
    if (ring === undefined) return [];
    const problems: string[] = [];
    const take = (
      fingerprint: string,
      id: string | undefined,
      activatedAt: string | undefined,
      retiredAt: string | undefined,
    ) => {
      let key = this.#keys.get(fingerprint);
      if (key === undefined) {
        key = {
          fingerprint,
          id: undefined,
          activatedAt: undefined,
          retiredAt: undefined,
          lapsed: false,
          obligation: 0,
        };
        this.#keys.set(fingerprint, key);
      }
      if (id !== undefined) {
        if (key.id !== undefined && key.id !== id)
          problems.push(`key ${fingerprint} changed its CloudFront id from ${key.id} to ${id}`);
        key.id = id;
      }
      for (const field of ['activatedAt', 'retiredAt'] as const) {
        const text = field === 'activatedAt' ? activatedAt : retiredAt;
        if (text === undefined) continue;
        const at = Date.parse(text);
        if (key[field] === undefined && at !== now)
          problems.push(`key ${fingerprint} got ${field} ${text}, not the time of the run that wrote it`);
        else if (key[field] !== undefined && key[field] !== at)
          problems.push(`key ${fingerprint} changed ${field} to ${text}`);
        key[field] = at;
      }
    };
    for (const key of ring.keys) {
      take(key.fingerprint, key.id, key.activatedAt, key.retiredAt);
      const shouldBe =
        key.activatedAt === undefined ? 'pending' : key.retiredAt === undefined ? 'active' : 'retiring';
      if (key.state !== shouldBe)
        problems.push(`key ${key.fingerprint} is ${key.state} but its timestamps say ${shouldBe}`);
    }
    for (const entry of ring.history) take(entry.fingerprint, entry.id, entry.activatedAt, entry.retiredAt);
    return problems;
  }

  /** Keys that left the group (`groupItems`) while something they signed can still be valid at `now`. */
  leftEarly(now: number, groupItems: ReadonlySet<string>): string[] {
    const problems: string[] = [];
    for (const key of this.#keys.values()) {
      if (key.obligation <= now) continue;
      if (key.id !== undefined && groupItems.has(key.id)) continue;
      problems.push(
        `key ${key.id ?? key.fingerprint} is not in the key group at ${iso(now)}, but URLs and cookies it ` +
          `signed can be valid until ${iso(key.obligation)}`,
      );
    }
    return problems;
  }

  /** History entries whose recorded `validUntil` is earlier than what the key may have signed. */
  understatedHistory(ring: KeyRing | undefined): string[] {
    const problems: string[] = [];
    for (const entry of ring?.history ?? []) {
      const key = this.#keys.get(entry.fingerprint);
      if (entry.validUntil === undefined || key === undefined) continue;
      if (Date.parse(entry.validUntil) < key.obligation) {
        problems.push(
          `history says key ${entry.id ?? entry.fingerprint} signed nothing valid after ${entry.validUntil}, ` +
            `but it may have signed URLs valid until ${iso(key.obligation)}`,
        );
      }
    }
    return problems;
  }
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
