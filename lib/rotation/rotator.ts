import { randomUUID } from 'node:crypto';
import type { Profile } from '../config/schema.ts';
import type { Incident, KeyRing } from '../keys/ring.ts';
import { KeyRingConflictError, type KeyRingStore } from '../keys/store.ts';
import type { KeyAlgorithm } from '../signing/index.ts';
import { type Log, noMetrics, silentLog } from '../telemetry/ports.ts';
import { applyAction, type Commit, createApplyContext, type ObservedState, save } from './apply.ts';
import { type RefusedChange, refusedConfigChanges } from './bounds.ts';
import { type CanaryProbe, checkCanary, fetchCanaryProbe } from './canary.ts';
import { RotationError, RotationInvariantError } from './errors.ts';
import { checkInvariants, type Violation } from './invariants.ts';
import type { GeneratedKeyPair } from './keygen.ts';
import { type KmsKeyPort, kmsSweepDue, sweepKmsKeys } from './kms-keys.ts';
import { keyGroupNameFor, legacyKeyGroupNameFor } from './names.ts';
import { holdsOwnKey } from './ownership.ts';
import { accountKeysSummary, PHASE_KINDS, planRotation, type RotationAction } from './plan.ts';
import { publicKeyQuotaOf } from './quotas.ts';
import { type KeyGroupRegistry, type RegisteredPublicKey, RegistryQuotaError } from './registry.ts';
import { type ConflictAttempt, findKeyGroup, retryOnConflict } from './retry.ts';
import type { RotationState } from './state.ts';
import type { RotationMetrics } from './telemetry.ts';

/** Options of {@link runRotation}. */
export interface RunRotationOptions {
  readonly profileName: string;
  readonly profile: Profile;
  readonly store: KeyRingStore;
  readonly registry: KeyGroupRegistry;
  /** The clock; read once per planning attempt (and once more for the final invariant check). */
  readonly now: () => Date;
  /** Default: node:crypto (ECDSA P-256 or RSA-2048, as `profile.algorithm` says). */
  readonly generateKeyPair?: (algorithm: KeyAlgorithm) => GeneratedKeyPair;
  readonly log?: Log;
  readonly metrics?: RotationMetrics;
  /** Bootstrap into this existing key group instead of creating `signet-<stage>-<profile>`. */
  readonly adoptKeyGroupId?: string;
  /** Names this run in ring transitions and log lines. Default: a random id. */
  readonly runId?: string;
  /** Plan-and-apply attempts when another writer got there first. Default 4. */
  readonly maxAttempts?: number;
  /**
   * Throw {@link RotationInvariantError} when an invariant fails for the first time (one the ring's
   * `incidents` does not list yet), instead of answering `ok: false`.
   */
  readonly throwOnViolation?: boolean;
  /**
   * Begin a rotation early (`signet rotate --start`): introduce a pending key even though the active
   * key is younger than `rotateEvery`. See {@link PlanOptions.forceIntroduce} for what still wins.
   */
  readonly forceIntroduce?: boolean;
  /** Fetches the profile's canary (`rotation.canary`) before an activation. Default: global fetch. */
  readonly canary?: CanaryProbe;
  /** KMS, for `signer: kms` profiles: key creation, scheduled deletion and the orphan sweep. */
  readonly kms?: KmsKeyPort | undefined;
  /** Settings that exist only so tests can show what they guard against. Never set them in a deployment. */
  readonly testOnly?: { readonly activateWithoutPropagation?: boolean };
}

/** What one run did and where it left the profile. */
export interface RotationResult {
  readonly profile: string;
  /**
   * No new error-severity invariant violation, and the run was not blocked. A violation already
   * reported by an earlier run (listed in the ring's `incidents`) is in `violations` and logged, but
   * fails only the run that first saw it: one incident, one failed run, one alarm.
   */
  readonly ok: boolean;
  /** The last action planned (and applied, unless `none` or `blocked`). */
  readonly action: RotationAction;
  /** This run committed a phase change: bootstrap, introduce, activate or remove. */
  readonly transitioned: boolean;
  /** Every change this run made durable, phases and repairs, in order. */
  readonly commits: readonly Commit[];
  /** A phase this run left to the next run because another writer changed the ring meanwhile. */
  readonly deferred?: RotationAction;
  readonly keyGroupId: string | undefined;
  readonly activeKeyId: string | undefined;
  /** The pending key's CloudFront id, when there is one and it is registered. */
  readonly pendingKeyId: string | undefined;
  readonly activeKeyAgeSeconds: number | undefined;
  readonly ringVersion: string | undefined;
  /** When the next phase falls due after this run, if one is scheduled (absent when one is due now). */
  readonly nextAt?: Date;
  /** Plan-and-apply attempts made (1 without conflicts). */
  readonly attempts: number;
  readonly violations: readonly Violation[];
  /** The error-severity violations this run saw first (counted in `RotationInvariantErrors`). */
  readonly newViolations: readonly Violation[];
  /**
   * Config changes the rotator will not carry out (it keeps the safe value instead); each fails the
   * run, so the failed-run alarm fires until the config is set right.
   */
  readonly refused: readonly RefusedChange[];
}

/**
 * One scheduled run for one profile (docs/design.md, "Rotation"): read the ring, the key group and the account's
 * public keys; plan; apply at most one phase; re-read and re-plan when another writer changed the
 * ring or the group first (bounded); then check the invariants on what is there now.
 *
 * Two concurrent runs make at most one phase change: after a ring compare-and-swap conflict a run
 * still finishes interrupted work (registering a pending key, cleaning an orphan) but never starts a
 * new phase; that waits for the next run. A run that throws (an AWS error, a crash) leaves a state
 * the next run finishes: see `applyAction` for the ordering that guarantees it.
 */
export async function runRotation(options: RunRotationOptions): Promise<RotationResult> {
  const log = options.log ?? silentLog;
  const metrics = options.metrics ?? noMetrics;
  const dimensions = { profile: options.profileName };
  const runId = options.runId ?? randomUUID();
  const activateWithoutPropagation = options.testOnly?.activateWithoutPropagation === true;
  const commits: Commit[] = [];
  // Assigned by the attempts below: typed wide so the checks after them are not narrowed to 'none'.
  let action = { kind: 'none' } as RotationAction;
  let deferred: RotationAction | undefined;
  let recordedBounds = false;
  let attempts = 0;

  const onCommit = (commit: Commit) => {
    commits.push(commit);
    log.info('rotation transition', { ...dimensions, runId, action: action.kind, ...commit });
    metrics.count('RotationTransitions', 1, { ...dimensions, action: commit.step });
  };

  /** One attempt: read, plan, apply. A write conflict ends it, and the runner starts another. */
  const attempt = async ({ number, ringConflicted }: ConflictAttempt): Promise<void> => {
    attempts = number;
    for (;;) {
      const now = options.now();
      const observed = await observe(options);
      const planned = planRotation(stateOf(options, observed, now), {
        activateWithoutPropagation,
        forceIntroduce: options.forceIntroduce === true,
      });
      // After another writer changed the ring, interrupted work is still finished, but a new phase
      // waits for the next run: two concurrent runs make at most one phase change.
      if (ringConflicted && PHASE_KINDS.has(planned.kind)) {
        deferred = planned;
        action = { kind: 'none' };
        log.info('rotation phase deferred: another writer changed the key ring during this run', {
          ...dimensions,
          deferred: planned.kind,
        });
        return;
      }
      action = planned;
      if (action.kind === 'none' || action.kind === 'blocked') return;
      if (action.kind === 'activate' && options.profile.rotation.canary !== undefined) {
        const held = await canaryHold(options, observed, action, now);
        if (held !== undefined) {
          action = held;
          return;
        }
      }
      try {
        await applyAction(action, observed, createApplyContext(options, now, runId, onCommit));
      } catch (error) {
        if (error instanceof RegistryQuotaError) {
          const held = accountKeysSummary(stateOf(options, observed, now));
          action = {
            kind: 'blocked',
            reason: 'quota-exceeded',
            message: `${error.message} The account holds ${held}.`,
          };
          return;
        }
        if (error instanceof RotationError && error.code === 'ERR_ROTATION_KEY_GROUP_NOT_OURS') {
          action = { kind: 'blocked', reason: 'key-group-not-ours', message: error.message };
          return;
        }
        throw error;
      }
      // Recording bounds is bookkeeping, not a phase: plan again from the ring it wrote, once.
      if (action.kind !== 'record-bounds' || recordedBounds) return;
      recordedBounds = true;
    }
  };

  try {
    await retryOnConflict(
      {
        maxAttempts: options.maxAttempts,
        onConflict: (conflict) =>
          log.warn('rotation conflict: re-reading and re-planning', {
            ...dimensions,
            action: action.kind,
            code: conflict.code,
          }),
        exhausted: (maxAttempts, cause) =>
          new RotationError(
            'ERR_ROTATION_RETRIES_EXHAUSTED',
            `Expected to apply ${action.kind} to profile ${options.profileName} within ${maxAttempts} attempts; ` +
              'other writers kept changing the key ring or key group.',
            { cause },
          ),
      },
      attempt,
    );
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    log.error('rotation run failed', {
      ...dimensions,
      action: action.kind,
      code: typeof code === 'string' ? code : (error as Error).name,
      message: (error as Error).message,
    });
    metrics.count('RotationFailures', 1, {
      ...dimensions,
      code: typeof code === 'string' ? code : 'unknown',
    });
    throw error;
  }

  if (action.kind === 'blocked') {
    log.warn('rotation blocked', { ...dimensions, reason: action.reason, message: action.message });
    metrics.count('RotationBlocked', 1, { ...dimensions, reason: action.reason });
  }

  // The invariants are checked on what the services hold now, not on what this run meant to write.
  const now = options.now();
  let final = await observe(options);
  if (options.kms !== undefined && kmsSweepDue(options.profile, final.versioned?.ring, now)) {
    // KMS keys tagged for this ring that no ring key names: scheduled for deletion, not left billing,
    // also after the profile switched back to secrets-manager (kmsSweepDue says while).
    const ring = final.versioned?.ring;
    const swept = await sweepOrSkip(options, ring, now, log);
    for (const arn of swept.scheduled) {
      log.warn('untracked KMS key scheduled for deletion', { ...dimensions, kmsKeyArn: arn });
      commits.push({ transition: `kms-sweep:${arn}`, step: 'delete-orphan' });
    }
    if (
      options.profile.kms === 'retiring' &&
      swept.waiting.length === 0 &&
      ring !== undefined &&
      !ring.keys.some((key) => key.kmsKeyArn !== undefined)
    ) {
      log.info(
        'KMS retired: no key of the ring is in KMS and every KMS key tagged for it is scheduled for deletion; remove kms: retiring from the profile',
        dimensions,
      );
    }
  }
  const violations = checkInvariants(stateOf(options, final, now), {
    activatedWithoutPropagation: activateWithoutPropagation,
  });
  const incidents = reconcileIncidents(final.versioned?.ring, violations, now);
  for (const violation of violations) {
    const fields = {
      ...dimensions,
      code: violation.code,
      keyId: violation.keyId,
      message: violation.message,
    };
    if (violation.severity === 'error') {
      const known = incidents.known.get(incidentKey(violation));
      log.error('rotation invariant violated', {
        ...fields,
        ...(known === undefined ? { firstSeen: true } : { firstSeen: false, firstSeenAt: known.firstSeenAt }),
      });
    } else log.warn('rotation invariant warning', fields);
    metrics.count('RotationInvariantViolations', 1, { ...dimensions, code: violation.code });
  }
  // One count per incident, when first seen: what the invariant alarm watches (errors only, no code).
  if (incidents.fresh.length > 0)
    metrics.count('RotationInvariantErrors', incidents.fresh.length, dimensions);
  if (incidents.changed && final.versioned !== undefined) {
    try {
      const ringVersion = await save(
        createApplyContext(options, now, runId, onCommit),
        { ...final.versioned.ring, incidents: incidents.next },
        final.versioned.version,
        'record-incidents',
        incidents.next.map(incidentKey).join(',') || 'none',
      );
      final = {
        ...final,
        versioned: { ring: { ...final.versioned.ring, incidents: incidents.next }, version: ringVersion },
      };
    } catch (error) {
      // Another writer moved the ring: the next run records them (and counts a new one again).
      if (!(error instanceof KeyRingConflictError)) throw error;
      log.warn('rotation incidents not recorded: another writer changed the key ring', { ...dimensions });
    }
  }

  const ring = final.versioned?.ring;
  const refused = ring === undefined ? [] : refusedConfigChanges(ring, options.profile);
  for (const change of refused) {
    log.error('rotation config change refused', {
      ...dimensions,
      field: change.field,
      message: change.message,
    });
    metrics.count('RotationConfigRefused', 1, dimensions);
  }
  // The active key's age; before a ring's first activation (a new stage waits out propagation), the
  // age of the key waiting to sign, so that ActiveKeyTooOldAlarm, which counts no data as breaching,
  // has data from the first deploy on and still fires if that first activation never comes
  // (docs/operators.md, "ActiveKeyTooOldAlarm").
  // Only a ring that never had an active key counts so: once one was activated, no active key (a
  // revoke with nothing to take over) is missing data, which the alarm treats as breaching.
  const active = ring?.keys.find((key) => key.state === 'active');
  const neverActivated =
    ring !== undefined &&
    !ring.keys.some((key) => key.activatedAt !== undefined) &&
    !ring.history.some((entry) => entry.activatedAt !== undefined);
  const firstPending =
    active === undefined && neverActivated ? ring.keys.find((key) => key.state === 'pending') : undefined;
  const activatedAt =
    active !== undefined
      ? Date.parse(active.activatedAt ?? active.createdAt)
      : firstPending === undefined
        ? undefined
        : Date.parse(firstPending.createdAt);
  const activeKeyAgeSeconds =
    activatedAt === undefined ? undefined : Math.max(0, Math.floor((now.getTime() - activatedAt) / 1000));
  if (activeKeyAgeSeconds !== undefined) {
    if (metrics.gauge !== undefined) metrics.gauge('ActiveKeyAgeSeconds', activeKeyAgeSeconds, dimensions);
    else metrics.count('ActiveKeyAgeSeconds', activeKeyAgeSeconds, dimensions);
  }
  // The account's public keys against the quota the planner uses, for PublicKeyQuotaAlarm
  // (docs/operators.md, "Alarms and runbooks"): account-wide, so no profile dimension.
  if (metrics.gauge !== undefined) {
    metrics.gauge('AccountPublicKeys', final.publicKeys.length, {});
    metrics.gauge('AccountPublicKeyQuota', publicKeyQuotaOf(options.profile), {});
  } else {
    metrics.count('AccountPublicKeys', final.publicKeys.length, {});
    metrics.count('AccountPublicKeyQuota', publicKeyQuotaOf(options.profile), {});
  }
  // What falls due next is read from the state this run left, so a run that acted still says it.
  const after = planRotation(stateOf(options, final, now));
  const nextAt = after.kind === 'none' ? after.nextAt : action.kind === 'none' ? action.nextAt : undefined;
  const result: RotationResult = {
    profile: options.profileName,
    ok: incidents.fresh.length === 0 && action.kind !== 'blocked' && refused.length === 0,
    action,
    transitioned: commits.some((commit) => PHASE_KINDS.has(commit.step as RotationAction['kind'])),
    commits,
    ...(deferred === undefined ? {} : { deferred }),
    keyGroupId: ring?.keyGroupId,
    activeKeyId: active?.id,
    pendingKeyId: ring?.keys.find((key) => key.state === 'pending')?.id,
    activeKeyAgeSeconds,
    ringVersion: final.versioned?.version,
    ...(nextAt === undefined ? {} : { nextAt }),
    attempts,
    violations,
    newViolations: incidents.fresh,
    refused,
  };
  if (incidents.fresh.length > 0 && options.throwOnViolation === true)
    throw new RotationInvariantError(options.profileName, incidents.fresh);
  return result;
}

/**
 * The KMS sweep. For a profile that is neither `signer: kms` nor `kms: retiring` it is best effort:
 * its stack may rightly hold no KMS permissions any more (the mark was removed after "KMS retired"
 * while a removed key is still within its deletion window), so a refusal is a warning, not a failed
 * run. For the others, whose stack has them, it fails the run as any AWS error does.
 */
async function sweepOrSkip(
  options: RunRotationOptions,
  ring: KeyRing | undefined,
  now: Date,
  log: Log,
): Promise<{ readonly scheduled: readonly string[]; readonly waiting: readonly string[] }> {
  const kms = options.kms!;
  const { profile } = options;
  if (profile.signer === 'kms' || profile.kms === 'retiring') return sweepKmsKeys(kms, ring, profile, now);
  try {
    return await sweepKmsKeys(kms, ring, profile, now);
  } catch (error) {
    if ((error as { name?: unknown }).name !== 'AccessDeniedException') throw error;
    log.warn('KMS sweep skipped: not allowed to list the KMS keys tagged for this ring', {
      profile: options.profileName,
      message: (error as Error).message,
    });
    return { scheduled: [], waiting: [] };
  }
}

/** An incident's identity: the same code on the same key is the same incident. */
function incidentKey(incident: Pick<Incident, 'code' | 'keyId'>): string {
  return `${incident.code}:${incident.keyId ?? ''}`;
}

/**
 * Splits this run's error violations into those the ring's `incidents` already lists and those
 * seen for the first time, and computes the list to keep: the errors present now (a resolved
 * incident drops out, so it alarms again if it comes back). `changed` when the list must be written.
 */
function reconcileIncidents(ring: KeyRing | undefined, violations: readonly Violation[], now: Date) {
  const recorded = ring?.incidents ?? [];
  const known = new Map(recorded.map((incident) => [incidentKey(incident), incident]));
  const errors = violations.filter((violation) => violation.severity === 'error');
  const fresh = errors.filter((violation) => !known.has(incidentKey(violation)));
  const seen = new Set<string>();
  const next: Incident[] = [];
  for (const violation of errors) {
    const key = incidentKey(violation);
    if (seen.has(key)) continue;
    seen.add(key);
    next.push(
      known.get(key) ?? {
        code: violation.code,
        ...(violation.keyId === undefined ? {} : { keyId: violation.keyId }),
        firstSeenAt: now.toISOString(),
      },
    );
  }
  const changed = next.length !== recorded.length || fresh.length > 0;
  return { known, fresh, next, changed };
}

/**
 * Fetches the canary with the pending key before an activation (docs/design.md, "Rotation"). Answers the
 * `blocked` action that holds the rotation when the edge did not answer 200, after logging an error
 * and counting `RotationCanaryFailures`; `undefined` when activation may go ahead.
 */
async function canaryHold(
  options: RunRotationOptions,
  observed: ObservedState,
  action: Extract<RotationAction, { kind: 'activate' }>,
  now: Date,
): Promise<RotationAction | undefined> {
  const key = observed.versioned?.ring.keys.find(
    (candidate) => candidate.fingerprint === action.keyFingerprint,
  );
  // The planner proposed this key from this very ring; if it is gone, the applier reports the change.
  if (key === undefined) return undefined;
  const verdict = await checkCanary({
    profile: options.profile,
    key: { ...key, id: action.keyId },
    now,
    probe: options.canary ?? fetchCanaryProbe,
    kmsSign: options.kms?.signDigest?.bind(options.kms),
  });
  const dimensions = { profile: options.profileName };
  if (verdict.ok) {
    (options.metrics ?? noMetrics).count('RotationCanaryPasses', 1, dimensions);
    return undefined;
  }
  (options.log ?? silentLog).error('rotation canary failed: activation held', {
    ...dimensions,
    keyId: action.keyId,
    canaryUrl: verdict.url,
    status: verdict.status,
    message: verdict.reason,
  });
  (options.metrics ?? noMetrics).count('RotationCanaryFailures', 1, dimensions);
  return {
    kind: 'blocked',
    reason: 'canary-failed',
    message: `${verdict.reason} The pending key stays pending; the next run tries again.`,
  };
}

/**
 * Reads what planning needs: the ring, the group it names (or the one to adopt, or the one named
 * `signet-<stage>-<profile>`, which the planner joins only when it holds one of the ring's keys), every key
 * group and every public key. With a stage and no group of the new name, a group of the name it had
 * before names carried the stage (`signet-<profile>`) is this ring's when it holds one of its keys
 * (by id, fingerprint or the ring named in a key's comment): adopted, never replaced
 * (docs/design.md, "Contracts"). Shared by {@link runRotation} and `revokeKey`, so both plan from
 * the same view.
 */
export async function observe(
  options: Pick<RunRotationOptions, 'store' | 'registry' | 'profileName' | 'profile' | 'adoptKeyGroupId'>,
): Promise<ObservedState> {
  const versioned = await options.store.load();
  const keyGroups = await options.registry.listKeyGroups();
  const { profileName, profile } = options;
  const byName = (name: string) => keyGroups.find((candidate) => candidate.name === name);
  let groupId =
    versioned?.ring.keyGroupId ??
    options.adoptKeyGroupId ??
    profile.keyGroupId ??
    byName(keyGroupNameFor(profileName, profile.stage))?.id;
  const legacy = profile.stage === undefined ? undefined : byName(legacyKeyGroupNameFor(profileName));
  let publicKeys: readonly RegisteredPublicKey[] | undefined;
  if (groupId === undefined && legacy !== undefined) {
    publicKeys = await options.registry.listPublicKeys();
    if (holdsOwnKey(legacy, { ring: versioned?.ring, publicKeys, profile })) groupId = legacy.id;
  }
  // The list carries no ETag; a Get gives the one an update needs.
  const group = groupId === undefined ? undefined : await findKeyGroup(options.registry, groupId);
  publicKeys ??= await options.registry.listPublicKeys();
  return { versioned, group, publicKeys, keyGroups };
}

/** The planner's input from what {@link observe} read. */
export function stateOf(
  options: Pick<RunRotationOptions, 'profileName' | 'profile' | 'adoptKeyGroupId'>,
  observed: ObservedState,
  now: Date,
): RotationState {
  return {
    ring: observed.versioned?.ring,
    group: observed.group,
    publicKeys: observed.publicKeys,
    now,
    profileName: options.profileName,
    profile: options.profile,
    ...(options.adoptKeyGroupId === undefined ? {} : { adoptKeyGroupId: options.adoptKeyGroupId }),
    ...(observed.keyGroups === undefined ? {} : { keyGroups: observed.keyGroups }),
  };
}
