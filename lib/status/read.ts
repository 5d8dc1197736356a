import type { Config } from '../config/index.ts';
import { diagnose } from '../doctor/diagnose.ts';
import { type DoctorSources, readSnapshot } from '../doctor/read-snapshot.ts';
import { observe, type RunRotationOptions, stateOf } from '../rotation/rotator.ts';
import { buildStatus, type StatusDocument } from './model.ts';

/** Where the status page reads from: the same ports `signet keys` and `signet doctor` use. */
export interface StatusSources {
  readonly rotation: Pick<RunRotationOptions, 'store' | 'registry' | 'adoptKeyGroupId'>;
  readonly doctor: DoctorSources;
}

/**
 * Reads one profile as `signet keys` does (ring, key group, the account's public keys) and judges it
 * as `signet doctor` does, then builds the status document. Read-only: nothing is written anywhere.
 * Errors (an endpoint down, credentials refused) are thrown to the caller.
 */
export async function readStatus(input: {
  readonly config: Config;
  readonly profileName: string;
  readonly sources: StatusSources;
  readonly now: Date;
  readonly source: string;
  readonly pollSeconds: number;
}): Promise<StatusDocument> {
  const { config, profileName, sources, now } = input;
  const profile = config.profiles[profileName];
  if (profile === undefined) throw new Error(`Expected a configured profile; got ${profileName}.`);
  const target = { ...sources.rotation, profileName, profile };
  const observed = await observe(target);
  const state = stateOf(target, observed, now);
  const snapshot = await readSnapshot(config, [profileName], sources.doctor);
  const findings = diagnose(snapshot, now).filter(
    (finding) => finding.profile === null || finding.profile === profileName,
  );
  return buildStatus({ state, findings, source: input.source, pollSeconds: input.pollSeconds });
}
