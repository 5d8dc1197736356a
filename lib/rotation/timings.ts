import { MAX_KEYS_PER_GROUP } from './quotas.ts';

/**
 * The timings of a profile that rotation depends on: a structural part of the config's `Profile`,
 * so that config validation can call into rotation without rotation importing the config.
 */
export interface ProfileTimings {
  readonly ttl: { readonly max: number };
  readonly cache: { readonly ttl: number; readonly maxStale: number };
  readonly rotation: {
    readonly rotateEvery: number;
    readonly propagation: number;
    readonly clockSkew: number;
    readonly removeAfter?: number | undefined;
  };
}

/**
 * Seconds a retired key must stay in the key group: a signer may keep serving a ring that still
 * names it active for up to `cache.maxStale`, a URL it signed then lives up to `ttl.max`, and clocks
 * disagree by up to `clockSkew`; `removeAfter` adds an operator's margin (docs/design.md, "Recorded bounds").
 */
export function removalDelaySeconds(profile: ProfileTimings): number {
  return (
    profile.cache.maxStale +
    profile.ttl.max +
    profile.rotation.clockSkew +
    (profile.rotation.removeAfter ?? 0)
  );
}

/** Options of {@link validateRotationTimings}. */
export interface RotationTimingOptions {
  /**
   * Allow `rotation.propagation` of 0. Only for stand-ins whose edge applies changes at once (the
   * sandbox with no propagation delay): CloudFront needs minutes to reach its edges (UNCONFIRMED how
   * many; docs/design.md, "CloudFront facts Signet relies on"), and a key used before then answers 403 InvalidKey.
   */
  readonly allowZeroPropagation?: boolean;
}

/**
 * Checks a profile's rotation timings against the rotation invariants (docs/design.md, "Invariants"). Returns one message per
 * problem (empty when the timings are sound); config load turns them into one error listing all.
 */
export function validateRotationTimings(
  profile: ProfileTimings,
  options: RotationTimingOptions = {},
): string[] {
  const problems: string[] = [];
  const { rotateEvery, propagation } = profile.rotation;
  const { ttl: cacheTtl, maxStale } = profile.cache;
  const removal = removalDelaySeconds(profile);
  if (propagation === 0 && options.allowZeroPropagation !== true) {
    problems.push(
      'Expected rotation.propagation above 0s: a key activated before its key group change reaches ' +
        'the edges is refused with 403 InvalidKey.',
    );
  }
  if (rotateEvery === 0) problems.push('Expected rotation.rotateEvery above 0s.');
  // The removal window counts from the moment a ring stops naming a key active; a signer can only
  // keep using an older ring for maxStale if its cache never serves a ring longer than that.
  if (cacheTtl > maxStale) {
    problems.push(
      `Expected cache.ttl (${cacheTtl}s) at most cache.maxStale (${maxStale}s): the removal delay ` +
        'assumes no signer uses a ring older than maxStale.',
    );
  }
  // Keys in the group peak when a key is introduced: active + pending + every retired key younger
  // than the removal delay. Retirements are one cycle (rotateEvery + propagation) apart, and the
  // newest is rotateEvery old at that moment; so a third, older retiring key is still there exactly
  // when 2 * rotateEvery + propagation < removal delay. Beyond 3 keys, an early `signet rotate
  // --start` or a revoke is a step from CloudFront's 5-key quota.
  if (2 * rotateEvery + propagation < removal) {
    problems.push(
      `Expected 2 * rotation.rotateEvery + rotation.propagation (2 * ${rotateEvery}s + ${propagation}s) at ` +
        `least the removal delay (${removal}s = cache.maxStale + ttl.max + rotation.clockSkew + ` +
        `rotation.removeAfter): otherwise more than 3 keys coexist in the key group, two short of CloudFront's ${MAX_KEYS_PER_GROUP}.`,
    );
  }
  return problems;
}
