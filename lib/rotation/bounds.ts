import type { Profile } from '../config/schema.ts';
import type { HistoryEntry, KeyRing, RingKey, SigningBounds } from '../keys/ring.ts';

// Recorded bounds (docs/design.md, "Recorded bounds"). A URL or cookie a key signed stays valid
// until the key stopped signing, plus the longest `cache.maxStale` a signer could serve a ring that
// still named it active, plus the longest `ttl.max` it could sign for, plus `clockSkew`. "Longest"
// means under every config in force while the key could sign, not today's: so the ring records the
// high-water mark of each, and removal waits for the later of the recorded and the current bound.

/** The bounds the current config alone gives (no `propagation`: that is recorded at activation). */
export function boundsOfProfile(profile: Profile): SigningBounds {
  return {
    ttlMax: profile.ttl.max,
    maxStale: profile.cache.maxStale,
    clockSkew: profile.rotation.clockSkew,
  };
}

/**
 * The larger of each recorded bound and the current config's (a longer config counts at once,
 * before a run records it). Keys written before bounds were recorded count as recorded under the
 * current config (all that is known of them).
 */
export function effectiveBounds(key: Pick<RingKey, 'bounds'>, profile: Profile): SigningBounds {
  const current = boundsOfProfile(profile);
  const recorded = key.bounds;
  if (recorded === undefined) return current;
  return {
    ...recorded,
    ttlMax: Math.max(recorded.ttlMax, current.ttlMax),
    maxStale: Math.max(recorded.maxStale, current.maxStale),
    clockSkew: Math.max(recorded.clockSkew, current.clockSkew),
  };
}

/** Seconds a URL can outlive the moment its key stopped signing: maxStale + ttlMax + clockSkew. */
export function validitySeconds(bounds: SigningBounds): number {
  return bounds.maxStale + bounds.ttlMax + bounds.clockSkew;
}

/**
 * Whether a signer may still sign with the key at `now`: pending (about to be), active, or retiring
 * for less than `maxStale` (a signer's cached ring may still name it active). While it can, a
 * rotator run records the config's bounds into it when they are longer.
 */
export function canStillSign(key: RingKey, profile: Profile, now: Date): boolean {
  if (key.state !== 'retiring' || key.retiredAt === undefined) return true;
  return now.getTime() < Date.parse(key.retiredAt) + effectiveBounds(key, profile).maxStale * 1000;
}

/**
 * The bounds to record for a key that can still sign when the current config lengthens any of them
 * (or none are recorded yet); `undefined` when the recorded ones already cover the config, so the
 * ring is written only when a config change makes it necessary.
 */
export function raisedBounds(key: RingKey, profile: Profile, now: Date): SigningBounds | undefined {
  if (!canStillSign(key, profile, now)) return undefined;
  const recorded = key.bounds;
  const next = effectiveBounds(key, profile);
  if (
    recorded !== undefined &&
    next.ttlMax === recorded.ttlMax &&
    next.maxStale === recorded.maxStale &&
    next.clockSkew === recorded.clockSkew
  ) {
    return undefined;
  }
  return next;
}

/**
 * The last instant a URL or cookie signed by a key that stopped signing at `stoppedAt` can be valid:
 * `stoppedAt` + maxStale + ttlMax + clockSkew of its effective bounds.
 */
export function validUntilOf(key: Pick<RingKey, 'bounds'>, profile: Profile, stoppedAt: Date): Date {
  return new Date(stoppedAt.getTime() + validitySeconds(effectiveBounds(key, profile)) * 1000);
}

/**
 * When the rotator takes a retiring key out of the key group: `retiredAt` + the later of the
 * recorded and the current bounds (a longer config always counts, even one no run saw while the
 * key signed) + the current `rotation.removeAfter` (an operator's margin, not part of any URL's
 * life). `undefined` for a key that is not retiring. For when anything it signed can still be
 * valid, see {@link validUntilOf}, which can be earlier.
 */
export function removableAt(key: RingKey, profile: Profile): Date | undefined {
  if (key.state !== 'retiring' || key.retiredAt === undefined) return undefined;
  const validUntil = validUntilOf(key, profile, new Date(key.retiredAt));
  return new Date(validUntil.getTime() + (profile.rotation.removeAfter ?? 0) * 1000);
}

/**
 * When a retiring key that already left the key group (or CloudFront) stopped mattering: `retiredAt`
 * + its recorded bounds (the current config's for a ring written before bounds were recorded). A
 * key CloudFront no longer trusts signs nothing valid whatever config comes later, so a longer
 * config that arrived after it left does not count: a removal a killed run left half-done is
 * finished from then on, and its absence from the group is no violation.
 */
export function leftKeyValidUntil(key: RingKey, profile: Profile): Date | undefined {
  if (key.state !== 'retiring' || key.retiredAt === undefined) return undefined;
  return new Date(Date.parse(key.retiredAt) + validitySeconds(key.bounds ?? boundsOfProfile(profile)) * 1000);
}

/** The propagation wait a key's activation is judged by: the one recorded then, else the current one. */
export function propagationOf(key: RingKey, profile: Profile): number {
  return key.bounds?.propagation ?? profile.rotation.propagation;
}

/**
 * The recorded last instant anything a key that left the ring signed can be valid; `undefined` for
 * entries written before bounds were recorded (they are not judged: nothing says what was in force).
 */
export function recordedValidUntil(entry: HistoryEntry): Date | undefined {
  return entry.validUntil === undefined ? undefined : new Date(entry.validUntil);
}

/**
 * The longest propagation wait an activation of this ring honoured (recorded per key at activation),
 * or `undefined` when none is recorded.
 */
export function propagationFloor(ring: Pick<KeyRing, 'keys'>): number | undefined {
  const recorded = ring.keys.flatMap((key) =>
    key.bounds?.propagation === undefined ? [] : [key.bounds.propagation],
  );
  return recorded.length === 0 ? undefined : Math.max(...recorded);
}

/**
 * How long a pending key waits in the key group before activation. A lowered `rotation.propagation`
 * is the one timing change no record can make safe: if it is shorter than CloudFront really takes,
 * the new key's URLs meet 403 InvalidKey at edges that lack it. So without a canary (which proves
 * the edge accepts the pending key) the rotator keeps the longest wait it honoured before and
 * reports the change as refused (see {@link refusedConfigChanges}); with `rotation.canary` the
 * configured value applies.
 */
export function activationWaitSeconds(ring: Pick<KeyRing, 'keys'>, profile: Profile): number {
  const { propagation, canary } = profile.rotation;
  if (canary !== undefined) return propagation;
  return Math.max(propagation, propagationFloor(ring) ?? 0);
}

/** A config change the rotator will not carry out, naming the field and what it does instead. */
export interface RefusedChange {
  readonly field: string;
  readonly message: string;
}

/** The timing changes the rotator refuses for this ring (docs/operators.md, "Changing timings in a deploy"). */
export function refusedConfigChanges(ring: Pick<KeyRing, 'keys'>, profile: Profile): RefusedChange[] {
  const floor = propagationFloor(ring);
  const { propagation, canary } = profile.rotation;
  if (floor === undefined || canary !== undefined || propagation >= floor) return [];
  return [
    {
      field: 'rotation.propagation',
      message:
        `rotation.propagation was lowered to ${propagation}s, below the ${floor}s earlier activations waited: ` +
        'Signet cannot tell whether CloudFront reaches its edges that fast, and a key used too early is refused ' +
        `(403 InvalidKey). Activations keep waiting ${floor}s. To lower it, set rotation.canary (activation then ` +
        'also waits until the edge accepts the new key), or set rotation.propagation back.',
    },
  ];
}
