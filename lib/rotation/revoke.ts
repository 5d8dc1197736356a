import { randomUUID } from 'node:crypto';
import type { HistoryEntry, KeyRing, RingKey } from '../keys/ring.ts';
import { noMetrics, silentLog } from '../telemetry/ports.ts';
import {
  type ApplyContext,
  applyAction,
  type Commit,
  createApplyContext,
  newKey,
  save,
  withdraw,
} from './apply.ts';
import { effectiveBounds, validitySeconds } from './bounds.ts';
import { RotationError } from './errors.ts';
import { appendHistory } from './history.ts';
import { checkInvariants, type Violation } from './invariants.ts';
import { KMS_DELETION_WINDOW_DAYS } from './kms-keys.ts';
import { planRotation, type RotationAction } from './plan.ts';
import { type ConflictAttempt, retryOnConflict } from './retry.ts';
import { observe, type RunRotationOptions, stateOf } from './rotator.ts';
import type { RotationState } from './state.ts';

/**
 * Which outstanding URLs and cookies a revocation breaks: those signed by the key from `signedFrom`
 * to `signedUntil` fail with 403 until they expire, at the latest at `failingUntil`. All three are
 * absent when the key never signed (it was pending) or when everything it signed has expired.
 */
export interface RevokeExposure {
  readonly signedFrom?: Date;
  /**
   * When signing with the key stops: its retirement (or now), plus `cache.maxStale` for signers
   * holding a cached ring (the largest recorded while it could sign, or the current one if larger).
   */
  readonly signedUntil?: Date;
  /**
   * `signedUntil` + `ttl.max` + `rotation.clockSkew` (recorded bounds, as for `signedUntil`): after
   * this no URL it signed would still be valid.
   */
  readonly failingUntil?: Date;
}

/** What revoking one key will do, computed by {@link planRevoke} from one observed state. */
export interface RevokePlan {
  readonly keyId: string;
  readonly fingerprint: string;
  /** What the key was: a ring state, or `revoked`/`removed` when it already left the ring. */
  readonly previousState: RingKey['state'] | 'revoked' | 'removed';
  /** The ring to write (the key moved into `history` with `revokedAt`); `undefined` when already written. */
  readonly nextRing: KeyRing | undefined;
  /** The key that becomes active in its place, when the revoked key was active and one is trusted. */
  readonly activate: { readonly keyId: string; readonly wasState: 'pending' | 'retiring' } | undefined;
  /** The key group still holds the key: it is taken out. */
  readonly inGroup: boolean;
  /** Its CloudFront public key still exists: it is deleted. */
  readonly registered: boolean;
  /**
   * After the revocation no key is active or pending: a new one is introduced. `revokeKey` puts it
   * into `nextRing` (pending, no id yet) in the same write, so a crash never leaves a ring with
   * nothing to sign with and nothing on the way.
   */
  readonly introduce: boolean;
  /** No key can sign (the API answers 503) until a pending key has propagated, at the earliest `resumesAt`. */
  readonly signing: { readonly stops: boolean; readonly resumesAt?: Date; readonly waitingForKeyId?: string };
  readonly exposure: RevokeExposure;
}

/**
 * Plans the revocation of `keyId` (docs/design.md, "Revocation"). Pure: `state.now` is the clock. When the
 * key is active, the newest pending key that has been in the group for `propagation` takes over;
 * failing that, the newest retiring key (still trusted by every edge, and due for rotation at once
 * since its `activatedAt` is kept); failing both, signing stops until a pending key has propagated.
 * Throws {@link RotationError} `ERR_REVOKE_NO_RING` or `ERR_REVOKE_UNKNOWN_KEY`.
 */
export function planRevoke(state: RotationState, keyId: string): RevokePlan {
  const { ring, group, publicKeys, now, profile, profileName } = state;
  if (ring === undefined) {
    throw new RotationError(
      'ERR_REVOKE_NO_RING',
      `Expected a key ring for profile ${profileName}; its secret holds none (not bootstrapped yet).`,
    );
  }
  const inGroup = group?.items.includes(keyId) ?? false;
  const registered = publicKeys.some((key) => key.id === keyId);
  const propagated = (key: RingKey) =>
    key.id !== undefined &&
    key.id !== keyId &&
    (group?.items.includes(key.id) ?? false) &&
    key.trustedAt !== undefined &&
    Date.parse(key.trustedAt) + profile.rotation.propagation * 1000 <= now.getTime();
  const newest = (keys: RingKey[]) => keys.sort((a, b) => b.createdAt.localeCompare(a.createdAt))[0];

  const key = ring.keys.find((candidate) => candidate.id === keyId);
  if (key === undefined) {
    const entry = ring.history.find((candidate) => candidate.id === keyId);
    if (entry === undefined) {
      throw new RotationError(
        'ERR_REVOKE_UNKNOWN_KEY',
        `Expected ${keyId} to be a key of profile ${profileName}'s ring or history; it is neither. ` +
          'Run `signet keys` to list them; Signet does not remove keys it did not create.',
      );
    }
    // A rerun after a crash (or a second revoke): the ring already says so; finish the withdrawal.
    return {
      keyId,
      fingerprint: entry.fingerprint,
      previousState: entry.revokedAt === undefined ? 'removed' : 'revoked',
      nextRing: undefined,
      activate: undefined,
      inGroup,
      registered,
      ...afterRevocation(state, ring),
      exposure: historyExposure(state, entry),
    };
  }

  const iso = now.toISOString();
  let replacement: RingKey | undefined;
  if (key.state === 'active') {
    replacement =
      newest(ring.keys.filter((candidate) => candidate.state === 'pending' && propagated(candidate))) ??
      newest(ring.keys.filter((candidate) => candidate.state === 'retiring' && propagated(candidate)));
  }
  const exposure = exposureOf(state, key.activatedAt, key.state === 'active' ? iso : key.retiredAt, key);
  const entry: HistoryEntry = {
    id: keyId,
    fingerprint: key.fingerprint,
    ...(key.kmsKeyArn === undefined ? {} : { kmsKeyArn: key.kmsKeyArn }),
    ...(key.activatedAt === undefined ? {} : { activatedAt: key.activatedAt }),
    ...(key.state === 'active'
      ? { retiredAt: iso }
      : key.retiredAt === undefined
        ? {}
        : { retiredAt: key.retiredAt }),
    revokedAt: iso,
    // What it signed could have lived this long: later runs and doctor judge the revocation by it.
    ...(exposure.failingUntil === undefined ? {} : { validUntil: exposure.failingUntil.toISOString() }),
  };
  const nextRing: KeyRing = {
    ...ring,
    keys: ring.keys
      .filter((candidate) => candidate !== key)
      .map((candidate): RingKey => {
        if (candidate !== replacement) return candidate;
        if (candidate.state === 'pending') return { ...candidate, state: 'active', activatedAt: iso };
        // A retiring key goes back to active with its old activatedAt, so the rotator replaces it at once.
        const { retiredAt: _retired, ...rest } = candidate;
        return { ...rest, state: 'active' };
      }),
    history: appendHistory(ring.history, entry, now),
  };
  return {
    keyId,
    fingerprint: key.fingerprint,
    previousState: key.state,
    nextRing,
    activate:
      replacement?.id === undefined
        ? undefined
        : { keyId: replacement.id, wasState: replacement.state === 'pending' ? 'pending' : 'retiring' },
    inGroup,
    registered,
    ...afterRevocation(state, nextRing),
    exposure,
  };
}

/** Whether signing stops after the revocation, and whether a key must be introduced to resume it. */
function afterRevocation(state: RotationState, ring: KeyRing): Pick<RevokePlan, 'introduce' | 'signing'> {
  if (ring.keys.some((key) => key.state === 'active')) return { introduce: false, signing: { stops: false } };
  const { propagation } = state.profile.rotation;
  const pending = ring.keys
    .filter((key) => key.state === 'pending')
    .sort((a, b) => a.createdAt.localeCompare(b.createdAt))[0];
  if (pending === undefined) {
    return {
      introduce: true,
      signing: { stops: true, resumesAt: new Date(state.now.getTime() + propagation * 1000) },
    };
  }
  // Trusted: it activates once it has been in the group for `propagation`. Not yet: from now on.
  const from = pending.trustedAt === undefined ? state.now.getTime() : Date.parse(pending.trustedAt);
  return {
    introduce: false,
    signing: {
      stops: true,
      resumesAt: new Date(Math.max(from + propagation * 1000, state.now.getTime())),
      ...(pending.id === undefined ? {} : { waitingForKeyId: pending.id }),
    },
  };
}

/**
 * What revoking a key breaks, from its recorded bounds: a ring key's (raised to the current config's,
 * as removal does). The bounds never shorten with the config, so "fails until" is never too early.
 */
function exposureOf(
  state: RotationState,
  activatedAt: string | undefined,
  stoppedAt: string | undefined,
  key: Pick<RingKey, 'bounds'>,
): RevokeExposure {
  if (activatedAt === undefined) return {};
  const { profile, now } = state;
  const bounds = effectiveBounds(key, profile);
  const stopped = stoppedAt === undefined ? now.getTime() : Date.parse(stoppedAt);
  const signedUntil = stopped + bounds.maxStale * 1000;
  const failingUntil = stopped + validitySeconds(bounds) * 1000;
  if (failingUntil <= now.getTime()) return {};
  return {
    signedFrom: new Date(activatedAt),
    signedUntil: new Date(signedUntil),
    failingUntil: new Date(failingUntil),
  };
}

/**
 * The exposure of a key already in the history (a rerun of a revocation): the bound recorded when it
 * left, else (an entry written before bounds were recorded) the current config's.
 */
function historyExposure(state: RotationState, entry: HistoryEntry): RevokeExposure {
  const stoppedAt = entry.retiredAt ?? entry.revokedAt ?? entry.removedAt;
  if (entry.validUntil === undefined || entry.activatedAt === undefined || stoppedAt === undefined)
    return exposureOf(state, entry.activatedAt, stoppedAt, {});
  const failingUntil = Date.parse(entry.validUntil);
  if (failingUntil <= state.now.getTime()) return {};
  return {
    signedFrom: new Date(entry.activatedAt),
    signedUntil: new Date(
      Math.min(failingUntil, Date.parse(stoppedAt) + state.profile.cache.maxStale * 1000),
    ),
    failingUntil: new Date(failingUntil),
  };
}

/** Options of {@link revokeKey}: the ports and settings of `runRotation`, and the key. */
export type RevokeKeyOptions = Pick<
  RunRotationOptions,
  | 'profileName'
  | 'profile'
  | 'store'
  | 'registry'
  | 'now'
  | 'generateKeyPair'
  | 'log'
  | 'metrics'
  | 'runId'
  | 'maxAttempts'
  | 'kms'
> & { readonly keyId: string };

/** What {@link revokeKey} did. */
export interface RevokeResult {
  readonly profile: string;
  /** The plan as first computed (what the key was, who took over, what breaks). */
  readonly plan: RevokePlan;
  /** The key that signs now; `undefined` while signing is stopped. */
  readonly activeKeyId: string | undefined;
  /** The pending key that will take over, when signing stopped. */
  readonly pendingKeyId: string | undefined;
  readonly commits: readonly Commit[];
  readonly attempts: number;
  /** The rotation invariants (docs/design.md, "Invariants") on what the services hold after the revocation. */
  readonly violations: readonly Violation[];
}

/**
 * Revokes a key now (`signet revoke`): out of the ring into `history` with `revokedAt` (activating
 * the newest trusted key if it was active), out of the key group, its public key deleted, and, when
 * no key is left to sign, a new pending key introduced.
 *
 * Order, chosen so a crash at any point leaves a state the next run (of this or of the rotator)
 * finishes, and never a ring whose active key the edges do not trust:
 * 1. ring first (compare-and-swap): if the key group were updated first and the run died, the ring
 *    would still name a key active that the edges no longer trust, and every URL signed from it
 *    would 403. Written first, the worst case is the revoked key lingering in the group while the
 *    ring's history says it left: an orphan the rotator deletes on its next run (`findOrphans`
 *    makes it deletable at once), and which this function finishes when rerun;
 *    When no key is left to sign, the same write adds a new pending key (no id yet): Secrets
 *    Manager first, so its private key is never lost, and a crash leaves the rotator a pending key
 *    to register (its first priority) rather than nothing to sign with;
 * 2. UpdateKeyGroup without it (If-Match), then DeletePublicKey: the edges stop accepting it. The
 *    replacement is registered and added after that, when the revoked key's slot and quota free
 *    room; but before it when the revoked key is the group's last, since CloudFront refuses an
 *    empty key group.
 * A `KeyRingConflictError` or `RegistryConflictError` re-reads and re-plans (bounded by `maxAttempts`).
 */
export async function revokeKey(options: RevokeKeyOptions): Promise<RevokeResult> {
  const log = options.log ?? silentLog;
  const metrics = options.metrics ?? noMetrics;
  const dimensions = { profile: options.profileName };
  const runId = options.runId ?? randomUUID();
  const commits: Commit[] = [];
  let first: RevokePlan | undefined;
  let attempts = 0;
  let revokedKmsKeyArn: string | undefined;
  const onCommit = (commit: Commit) => {
    commits.push(commit);
    log.info('rotation transition', { ...dimensions, runId, action: 'revoke', ...commit });
    metrics.count('RotationTransitions', 1, { ...dimensions, action: commit.step });
  };

  const attempt = async ({ number }: ConflictAttempt): Promise<void> => {
    attempts = number;
    const now = options.now();
    const observed = await observe(options);
    const plan = planRevoke(stateOf(options, observed, now), options.keyId);
    first ??= plan;
    revokedKmsKeyArn ??= [
      ...(observed.versioned?.ring.keys ?? []),
      ...(observed.versioned?.ring.history ?? []),
    ].find((key) => key.id === options.keyId && typeof key.kmsKeyArn === 'string')?.kmsKeyArn as
      | string
      | undefined;
    const context = createApplyContext(options, now, runId, onCommit);
    // A rerun finds the revocation written already; it may still lack the replacement key.
    const base = plan.nextRing ?? (plan.introduce ? observed.versioned?.ring : undefined);
    if (base !== undefined) {
      // Secrets Manager first: the replacement's private key is in the ring before its public key exists.
      const nextRing: KeyRing = plan.introduce
        ? { ...base, keys: [...base.keys, await newKey(context)] }
        : base;
      await save(context, nextRing, observed.versioned?.version, 'revoke', plan.fingerprint, plan.keyId);
    }
    if (plan.nextRing !== undefined) {
      log.warn('key revoked', {
        ...dimensions,
        runId,
        keyId: plan.keyId,
        previousState: plan.previousState,
        activatedKeyId: plan.activate?.keyId,
        signingStops: plan.signing.stops,
        failingUntil: plan.exposure.failingUntil?.toISOString(),
      });
      metrics.count('RotationRevocations', 1, { ...dimensions, state: plan.previousState });
    }
    // CloudFront refuses an empty key group: when the revoked key is the group's last, its
    // replacement goes in first. Otherwise the revoked key goes first, freeing its slot and its
    // place in the account's quota for the replacement.
    const last = observed.group?.items.length === 1 && plan.inGroup;
    if (last && plan.signing.stops) await resumeSigning(options, context);
    if (plan.inGroup || plan.registered) {
      const group = plan.inGroup ? await options.registry.getKeyGroup(observed.group!.id) : undefined;
      await withdraw(context, group, plan.keyId, { revoking: true });
      commits.push({
        transition: `withdraw:${plan.keyId}:${now.toISOString()}`,
        step: 'revoke',
        keyId: plan.keyId,
      });
    }
    if (!last && plan.signing.stops) await resumeSigning(options, context);
  };
  await retryOnConflict(
    {
      maxAttempts: options.maxAttempts,
      onConflict: (conflict) =>
        log.warn('revoke conflict: re-reading and re-planning', { ...dimensions, code: conflict.code }),
      exhausted: (maxAttempts, cause) =>
        new RotationError(
          'ERR_ROTATION_RETRIES_EXHAUSTED',
          `Expected to revoke ${options.keyId} of profile ${options.profileName} within ${maxAttempts} attempts; ` +
            'other writers kept changing the key ring or key group.',
          { cause },
        ),
    },
    attempt,
  );
  // A KMS key (signer: kms) is disabled at once, so nothing can sign with it any more, and scheduled
  // for deletion with the longest wait (a mistaken revocation can be undone: CancelKeyDeletion, EnableKey).
  // A kill before this leaves a tagged KMS key no ring key names: the rotator's sweep schedules it.
  if (revokedKmsKeyArn !== undefined && options.kms !== undefined) {
    const described = await options.kms.describe(revokedKmsKeyArn);
    if (described !== undefined && described.state !== 'PendingDeletion') {
      if (described.state === 'Enabled') await options.kms.disable(revokedKmsKeyArn);
      await options.kms.scheduleDeletion(revokedKmsKeyArn, KMS_DELETION_WINDOW_DAYS);
      commits.push({ transition: `kms-disable:${revokedKmsKeyArn}`, step: 'revoke', keyId: options.keyId });
    }
  }

  const final = await observe(options);
  const state = stateOf(options, final, options.now());
  const violations = checkInvariants(state);
  const ring = final.versioned?.ring;
  return {
    profile: options.profileName,
    // The first attempt always plans (a conflict comes later, from a write).
    plan: first!,
    activeKeyId: ring?.keys.find((key) => key.state === 'active')?.id,
    pendingKeyId: ring?.keys.find((key) => key.state === 'pending')?.id,
    commits,
    attempts,
    violations,
  };
}

/** The actions that get the ring's pending key into the group: the rest wait for the rotator's next run. */
const RESUMING_KINDS: ReadonlySet<RotationAction['kind']> = new Set([
  'register-pending',
  'adopt-orphan',
  'trust-pending',
]);

/**
 * Gets the ring's pending key into the group so signing can resume once it has propagated: creates
 * its public key (or adopts the one a crashed run made), adds it, records `trustedAt`, through the
 * rotator's own planner and applier (same quotas, same crash-safe ordering). The planner puts this
 * work before any other, so it is never stuck behind an orphan. Bounded.
 */
async function resumeSigning(options: RevokeKeyOptions, context: ApplyContext): Promise<void> {
  for (let step = 0; step < 3; step++) {
    const observed = await observe(options);
    const trusted = observed.versioned?.ring.keys.some(
      (key) =>
        key.state === 'pending' &&
        key.id !== undefined &&
        key.trustedAt !== undefined &&
        (observed.group?.items.includes(key.id) ?? false),
    );
    if (trusted) return;
    const action = planRotation(stateOf(options, observed, context.now), { forceIntroduce: true });
    if (!RESUMING_KINDS.has(action.kind)) {
      if (action.kind === 'blocked') {
        (options.log ?? silentLog).warn('revoke: replacement key left to the rotator', {
          profile: options.profileName,
          reason: action.reason,
          message: action.message,
        });
      }
      return;
    }
    await applyAction(action, observed, context);
  }
}
