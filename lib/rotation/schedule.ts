import type { Profile } from '../config/schema.ts';
import type { KeyRingStore } from '../keys/store.ts';
import type { Log } from '../telemetry/ports.ts';
import type { KmsKeyPort } from './kms-keys.ts';
import type { KeyGroupRegistry } from './registry.ts';
import { type RotationResult, runRotation } from './rotator.ts';
import { isTornDown } from './teardown.ts';
import type { RotationMetrics } from './telemetry.ts';

/** One profile's ports: its ring's store and the account's key group registry. */
export interface ProfilePorts {
  readonly store: KeyRingStore;
  readonly registry: KeyGroupRegistry;
  /** KMS, for `signer: kms` profiles (lib/rotation/kms-keys.ts). */
  readonly kms?: KmsKeyPort | undefined;
}

/** What the scheduled rotator and the bootstrap need, built once per process (see lib/wiring/rotator.ts). */
export interface RotatorDependencies {
  readonly profiles: Readonly<Record<string, Profile>>;
  /** The ports of one profile (the adapters over the AWS SDK clients in Lambda). */
  readonly portsFor: (profileName: string, profile: Profile) => ProfilePorts;
  readonly now: () => Date;
  readonly log: Log;
  readonly metrics: RotationMetrics;
}

/** What a scheduled run returns (and logs): one summary per profile. */
export interface ScheduledRunSummary {
  readonly profiles: readonly {
    readonly profile: string;
    readonly ok: boolean;
    readonly action?: string;
    readonly transitioned?: boolean;
    readonly activeKeyId?: string | undefined;
    readonly error?: string;
  }[];
}

/** A scheduled run had at least one profile fail: thrown after every profile ran, so the invocation errors and alarms. */
export class RotationRunError extends Error {
  readonly code = 'ERR_ROTATION_RUN_FAILED';
  readonly summary: ScheduledRunSummary;
  constructor(summary: ScheduledRunSummary) {
    const failed = summary.profiles.filter((p) => !p.ok).map((p) => p.profile);
    super(`Rotation failed for ${failed.join(', ')}; see the log lines before this one.`);
    this.name = 'RotationRunError';
    this.summary = summary;
  }
}

/** The configured profile of that name, or an error that lists the configured ones. */
export function profileOf(deps: Pick<RotatorDependencies, 'profiles'>, profileName: string): Profile {
  const profile = deps.profiles[profileName];
  if (profile === undefined) {
    throw new Error(
      `Expected a profile of the config (${Object.keys(deps.profiles).join(', ')}); got ${profileName}.`,
    );
  }
  return profile;
}

/** One rotator run for one profile (`adoptKeyGroupId`: the bootstrap's, else the profile's `keyGroupId`). */
export function rotateProfile(
  deps: RotatorDependencies,
  profileName: string,
  adoptKeyGroupId?: string,
): Promise<RotationResult> {
  const profile = profileOf(deps, profileName);
  const adopt = adoptKeyGroupId ?? profile.keyGroupId;
  return runRotation({
    profileName,
    profile,
    ...deps.portsFor(profileName, profile),
    now: deps.now,
    log: deps.log,
    metrics: deps.metrics,
    ...(adopt === undefined ? {} : { adoptKeyGroupId: adopt }),
  });
}

/**
 * The scheduled run: every profile advanced by at most one phase (docs/design.md, "Rotation"). One
 * failing profile does not stop the others; afterwards a {@link RotationRunError} is thrown if any
 * failed, so the invocation counts as an error. A profile whose ring a stack Delete emptied is
 * skipped: introducing a key would re-create what the Delete removed. A failed run is counted in
 * `RotationFailures` once: by `runRotation` when it threw, here when reading the ring failed first.
 */
export async function runSchedule(deps: RotatorDependencies): Promise<ScheduledRunSummary> {
  const profiles: ScheduledRunSummary['profiles'][number][] = [];
  for (const profile of Object.keys(deps.profiles)) {
    try {
      if (await tornDown(deps, profile)) {
        deps.log.info('rotation skipped: the profile was torn down by a custom resource Delete', { profile });
        profiles.push({ profile, ok: true, action: 'torn-down' });
        continue;
      }
    } catch (error) {
      deps.log.error('rotation run failed', { profile, error: describe(error) });
      deps.metrics.count('RotationFailures', 1, { profile, code: codeOf(error) });
      profiles.push({ profile, ok: false, error: describe(error) });
      continue;
    }
    try {
      const result = await rotateProfile(deps, profile);
      profiles.push({
        profile,
        ok: result.ok,
        action: result.action.kind,
        transitioned: result.transitioned,
        activeKeyId: result.activeKeyId,
      });
    } catch (error) {
      // runRotation logged and counted it already.
      profiles.push({ profile, ok: false, error: describe(error) });
    }
  }
  const summary = { profiles };
  if (profiles.some((p) => !p.ok)) throw new RotationRunError(summary);
  return summary;
}

async function tornDown(deps: RotatorDependencies, profileName: string): Promise<boolean> {
  const profile = profileOf(deps, profileName);
  const loaded = await deps.portsFor(profileName, profile).store.load();
  return loaded !== undefined && isTornDown(loaded.ring);
}

/** An error for a log line: its name and message, never a stack. */
export function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

function codeOf(error: unknown): string {
  const code = (error as { code?: unknown })?.code;
  return typeof code === 'string' ? code : error instanceof Error ? error.name : 'Unknown';
}
