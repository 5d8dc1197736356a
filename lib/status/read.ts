import type { Config } from '../config/index.ts';
import { diagnose } from '../doctor/diagnose.ts';
import { type DoctorSources, readSnapshot } from '../doctor/read-snapshot.ts';
import type { KeyRing } from '../keys/ring.ts';
import type { KmsKeyPort } from '../rotation/kms-keys.ts';
import { observe, type RunRotationOptions, stateOf } from '../rotation/rotator.ts';
import type { RotationState } from '../rotation/state.ts';
import { buildStatus, HISTORY_SHOWN, type StatusDocument, type StatusKms } from './model.ts';

/** Where the status page reads from: the same ports `signet keys` and `signet doctor` use. */
export interface StatusSources {
  readonly rotation: Pick<RunRotationOptions, 'store' | 'registry' | 'adoptKeyGroupId'>;
  readonly doctor: DoctorSources;
  /** KMS, read-only (DescribeKey), for the state of the KMS keys a ring names; omitted: not shown. */
  readonly kms?: Pick<KmsKeyPort, 'describe'> | undefined;
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
  // Doctor's read first: a ring that does not exist or is not valid is a finding there, not an error.
  const snapshot = await readSnapshot(config, [profileName], sources.doctor);
  const findings = diagnose(snapshot, now).filter(
    (finding) => finding.profile === null || finding.profile === profileName,
  );
  const read = snapshot.profiles[0];
  const common = { findings, source: input.source, pollSeconds: input.pollSeconds };
  if (read !== undefined && (read.ring.status === 'invalid' || read.ring.status === 'missing')) {
    // The rotator cannot plan without a ring it can read: show what CloudFront holds, and why.
    const unreadable = read.ring.status === 'invalid' || read.ring.message === 'does not exist';
    if (unreadable) {
      const state: RotationState = {
        ring: undefined,
        group: read.keyGroup.status === 'ok' ? read.keyGroup.group : undefined,
        publicKeys: snapshot.publicKeys,
        ...(snapshot.keyGroups === undefined ? {} : { keyGroups: snapshot.keyGroups }),
        now,
        profileName,
        profile,
      };
      const ringProblem = `The key ring secret ${profile.keyRing.secretId} ${
        read.ring.status === 'invalid' ? `is not a valid key ring: ${read.ring.message}` : 'does not exist'
      }. Nothing can sign or rotate until it is fixed (see doctor's findings).`;
      return buildStatus({ ...common, state, ringProblem });
    }
  }
  const target = { ...sources.rotation, profileName, profile };
  const observed = await observe(target);
  const ring = observed.versioned?.ring;
  const kmsKeys =
    sources.kms === undefined || ring === undefined ? undefined : await describeKmsKeys(sources.kms, ring);
  return buildStatus({
    ...common,
    state: stateOf(target, observed, now),
    ...(kmsKeys === undefined ? {} : { kmsKeys }),
  });
}

/**
 * DescribeKey for every KMS key the ring's keys name and those of the history entries the page shows
 * (the most recent {@link HISTORY_SHOWN}): a refused read is shown as `unreadable`, not thrown.
 */
async function describeKmsKeys(
  kms: Pick<KmsKeyPort, 'describe'>,
  ring: KeyRing,
): Promise<Map<string, Omit<StatusKms, 'arn'>>> {
  const arns = new Set(
    [...ring.keys, ...ring.history.slice(-HISTORY_SHOWN)].flatMap((key) =>
      key.kmsKeyArn === undefined ? [] : [key.kmsKeyArn],
    ),
  );
  const read = new Map<string, Omit<StatusKms, 'arn'>>();
  await Promise.all(
    [...arns].map(async (arn) => {
      try {
        const described = await kms.describe(arn);
        read.set(arn, {
          state: described === undefined ? 'missing' : described.state,
          deletionDate: described?.deletionDate?.toISOString() ?? null,
        });
      } catch {
        read.set(arn, { state: 'unreadable', deletionDate: null });
      }
    }),
  );
  return read;
}
