import type { CustomResourceAnswer, CustomResourceEvent } from '../cloudformation/custom-resource.ts';
import type { Profile } from '../config/schema.ts';
import type { KeyRingStore } from '../keys/store.ts';
import { moveKeyGroup } from './move-key-group.ts';
import type { BlockedReason } from './plan.ts';
import type { DistributionTrustReader } from './registry.ts';
import { describe, profileOf, type RotatorDependencies, rotateProfile } from './schedule.ts';
import { type TeardownResult, tearDownProfile } from './teardown.ts';

/** The properties of Signet's bootstrap custom resource (CloudFormation passes each as a string). */
export interface BootstrapProperties {
  /** The profile to bootstrap. */
  readonly Profile: string;
  /** Adopt this existing key group instead of creating `signet-<stage>-<profile>` (docs/design.md, "Contracts"). */
  readonly AdoptKeyGroupId?: string;
  /**
   * `'true'`: Delete removes the key group (when Signet created it) and Signet's public keys, and
   * empties the ring into its history. Anything else, absent included, retains them all.
   */
  readonly DeleteKeysOnDelete?: string;
  /**
   * The stage's metrics namespace. Not read: it is there so that a new namespace sends an Update, whose
   * run reports the active key's age there before ActiveKeyTooOldAlarm reads it (infra/aws/profiles.cjs).
   */
  readonly MetricsNamespace?: string;
  /**
   * The profile's signing mode as packaged: `secrets-manager`, `kms`, or `kms-retiring`. A change
   * sends an Update, whose {@link assertKmsKeysKept} refuses a deploy (`secrets-manager`) that would
   * drop the KMS permissions while the ring still signs with KMS keys. Read from the event rather than
   * the config so that a rollback, which sends the old value, is never refused.
   */
  readonly Signer?: string;
}

/** What the bootstrap needs besides the rotator's dependencies. */
export interface BootstrapDependencies extends RotatorDependencies {
  /**
   * Lists the distributions and the key groups they trust: what proves that an Update moving the
   * ring to another key group breaks no link. Absent: such an Update answers FAILED.
   */
  readonly distributions?: DistributionTrustReader;
}

/** Blocked reasons that mean the key group answered would not be the one the properties ask for. */
const KEY_GROUP_BLOCKS: ReadonlySet<BlockedReason> = new Set([
  'key-group-missing',
  'key-group-mismatch',
  'key-group-not-ours',
]);

/**
 * What a bootstrap request means (docs/design.md, "Revocation" describes the bootstrap; docs/operators.md,
 * "Changing the key group"):
 * - Create and Update: when the ring already records a key group and the request names another
 *   (`AdoptKeyGroupId`, else the profile's `keyGroupId`), the ring moves to it first
 *   (`moveKeyGroup`: only when no link can break, else FAILED with the reason and the steps); then
 *   one rotator run. The answer is SUCCESS with `KeyGroupId` only when that is the group the ring
 *   now records and the request asked for; a run blocked on its key group (missing, mismatched, not
 *   ours) answers FAILED with the planner's reason. Never SUCCESS with a stale `KeyGroupId`.
 * - Delete leaves keys, group and ring in place (retained, so a stack update can never refuse
 *   outstanding URLs) unless `DeleteKeysOnDelete` is `'true'`: then the profile is torn down
 *   (`tearDownProfile`; the ring secret itself stays, CloudFormation retains it).
 * Never throws: a failure is a FAILED answer.
 */
export async function answerBootstrap(
  event: CustomResourceEvent<BootstrapProperties>,
  deps: BootstrapDependencies,
): Promise<CustomResourceAnswer> {
  const profile = event.ResourceProperties.Profile;
  const renamed =
    event.RequestType === 'Update' &&
    event.OldResourceProperties !== undefined &&
    event.OldResourceProperties.Profile !== profile;
  // A new profile is a new resource: CloudFormation then deletes the old one with its old properties.
  const physicalResourceId =
    event.PhysicalResourceId !== undefined && !renamed
      ? event.PhysicalResourceId
      : `signet-bootstrap-${profile}`;
  const fallbackReason = `See the rotator's logs (request ${event.RequestId}).`;
  const adopt = nonEmpty(event.ResourceProperties.AdoptKeyGroupId);
  try {
    if (event.RequestType === 'Delete' && event.ResourceProperties.DeleteKeysOnDelete === 'true') {
      const result = await tearDown(deps, profile, adopt);
      deps.log.info('custom resource delete: profile torn down', { profile, ...result });
      return {
        status: 'SUCCESS',
        physicalResourceId,
        reason: result === undefined ? fallbackReason : describeTeardown(result),
        data: result?.keyGroupId === undefined ? {} : { KeyGroupId: result.keyGroupId },
      };
    }
    if (event.RequestType === 'Delete') {
      deps.log.info('custom resource delete: keys, key group and ring are retained', { profile });
      const ringGroup = deps.profiles[profile]?.keyGroupId;
      return {
        status: 'SUCCESS',
        physicalResourceId,
        reason: fallbackReason,
        data: ringGroup === undefined ? {} : { KeyGroupId: ringGroup },
      };
    }
    const settings = profileOf(deps, profile);
    if (adopt !== undefined && settings.keyGroupId !== undefined && adopt !== settings.keyGroupId) {
      throw new Error(
        `Expected the AdoptKeyGroupId property (${adopt}) and profiles.${profile}.keyGroupId (${settings.keyGroupId}) ` +
          'to name the same key group: the rotator would refuse to run with the ring on one and the config on the other.',
      );
    }
    // Read at most once for both uses below (an unread ring costs no call).
    let ringRead: ReturnType<KeyRingStore['load']> | undefined;
    const readRing = () => {
      ringRead ??= deps.portsFor(profile, settings).store.load();
      return ringRead;
    };
    await assertKmsKeysKept(profile, settings, event.ResourceProperties.Signer, readRing);
    const target = adopt ?? settings.keyGroupId;
    // An Update that keeps the key group the ring records (a property such as MetricsNamespace,
    // Signer or DeleteKeysOnDelete changed, as on the first deploy of a version that adds one) needs
    // no rotation step to be right: its step is best effort, so that a conflict or a throttled call
    // does not roll the deploy back.
    if (event.RequestType === 'Update' && !renamed) {
      const recorded = (await readRing())?.ring.keyGroupId;
      if (recorded !== undefined && (target === undefined || target === recorded)) {
        return { ...(await routineUpdate(deps, profile, recorded)), physicalResourceId };
      }
    }
    const moved =
      target === undefined
        ? ({ moved: false } as const)
        : await moveKeyGroup({
            profileName: profile,
            profile: settings,
            ...deps.portsFor(profile, settings),
            distributions: deps.distributions,
            to: target,
            now: deps.now,
            log: deps.log,
          });
    const result = await rotateProfile(deps, profile, target);
    if (result.action.kind === 'blocked' && KEY_GROUP_BLOCKS.has(result.action.reason))
      throw new Error(`${result.action.message} (${result.action.reason})`);
    if (result.keyGroupId === undefined)
      throw new Error(`The rotator did not create or adopt a key group for ${profile}.`);
    if (target !== undefined && result.keyGroupId !== target) {
      throw new Error(
        `Expected the ring to use key group ${target}, as the request asks; it uses ${result.keyGroupId}.`,
      );
    }
    const blocked =
      result.action.kind === 'blocked' ? ` The rotation is blocked: ${result.action.message}` : '';
    return {
      status: 'SUCCESS',
      physicalResourceId,
      reason: moved.moved
        ? `Signet moved profile ${profile} from key group ${moved.from} to ${moved.to}: ${moved.to} now holds the ring's keys` +
          ` (added ${moved.addedKeyIds.join(', ') || 'none'}), and ${moved.from} keeps ${moved.keptInOld.join(', ') || 'none'} ` +
          `until the rotator removes each.${blocked}`
        : `${fallbackReason}${blocked}`,
      data: { KeyGroupId: result.keyGroupId },
    };
  } catch (error) {
    deps.log.error('custom resource failed', {
      profile,
      requestType: event.RequestType,
      error: describe(error),
    });
    // CloudFormation shows this to the operator: the error's message, never a stack or key material.
    const what = event.RequestType === 'Delete' ? 'teardown' : 'bootstrap';
    const message = error instanceof Error ? error.message : String(error);
    return {
      status: 'FAILED',
      physicalResourceId,
      reason: `Signet ${what} of ${profile} failed: ${message}`,
      data: {},
    };
  }
}

/**
 * Refuses a deploy that switches a profile away from `signer: kms` without `kms: retiring` while its
 * ring still holds KMS keys: packaging would drop the KMS permissions and the KMS client while those
 * keys sign, and the API would answer 503 for the profile (docs/operators.md, "KMS signing"). The
 * FAILED answer rolls the deploy back, permissions included.
 */
async function assertKmsKeysKept(
  profileName: string,
  settings: Profile,
  signerProperty: string | undefined,
  readRing: () => ReturnType<KeyRingStore['load']>,
): Promise<void> {
  // The property, when the template has it: it is what this deploy (or a rollback) installs, whatever
  // version of the rotator answers; the config otherwise.
  const signer = nonEmpty(signerProperty) ?? (settings.kms === 'retiring' ? 'kms-retiring' : settings.signer);
  if (signer !== 'secrets-manager') return;
  const ring = (await readRing())?.ring;
  const inKms = (ring?.keys ?? []).filter((key) => key.kmsKeyArn !== undefined);
  if (inKms.length === 0) return;
  throw new Error(
    `Expected profiles.${profileName} to keep kms: retiring while its key ring holds KMS keys ` +
      `(${inKms.map((key) => key.id ?? key.fingerprint).join(', ')}): this deploy would remove the KMS permissions ` +
      'while they sign, and the API would answer 503. Add kms: retiring to the profile and deploy; remove it once ' +
      'the rotator logs "KMS retired" (docs/operators.md, "KMS signing").',
  );
}

/**
 * An Update that keeps the key group the ring records: one rotator run, best effort. A run that
 * throws (a conflict with another writer, a throttled call) is logged and the answer is SUCCESS with
 * that key group: the schedule retries the step within minutes. A run blocked on its key group
 * (missing, not ours) still fails, as on every other path: never SUCCESS with a stale `KeyGroupId`.
 */
async function routineUpdate(
  deps: BootstrapDependencies,
  profileName: string,
  recorded: string,
): Promise<Omit<CustomResourceAnswer, 'physicalResourceId'>> {
  let result: Awaited<ReturnType<typeof rotateProfile>>;
  try {
    result = await rotateProfile(deps, profileName, recorded);
  } catch (error) {
    deps.log.warn('custom resource update: rotation step failed, left to the schedule', {
      profile: profileName,
      error: describe(error),
    });
    return {
      status: 'SUCCESS',
      reason:
        `Signet kept profile ${profileName} on key group ${recorded}; this update's rotation step failed ` +
        `(${error instanceof Error ? error.message : String(error)}) and the schedule retries it.`,
      data: { KeyGroupId: recorded },
    };
  }
  if (result.action.kind === 'blocked' && KEY_GROUP_BLOCKS.has(result.action.reason))
    throw new Error(`${result.action.message} (${result.action.reason})`);
  if (result.keyGroupId !== recorded)
    throw new Error(
      `Expected the ring to keep key group ${recorded}; it uses ${result.keyGroupId ?? 'none'}.`,
    );
  const blocked =
    result.action.kind === 'blocked' ? ` The rotation is blocked: ${result.action.message}` : '';
  return {
    status: 'SUCCESS',
    reason: `Signet kept profile ${profileName} on key group ${recorded}.${blocked}`,
    data: { KeyGroupId: recorded },
  };
}

/** A CloudFormation property that may arrive as an empty string: absent then. */
function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

/**
 * A Delete with `DeleteKeysOnDelete`. A profile the config no longer has answers success with
 * nothing deleted: Signet cannot know its ring, and a FAILED Delete would wedge the stack (a rollback
 * after a failed Create sends one, for example).
 */
async function tearDown(
  deps: RotatorDependencies,
  profileName: string,
  adoptKeyGroupId: string | undefined,
): Promise<TeardownResult | undefined> {
  const profile = deps.profiles[profileName];
  if (profile === undefined) {
    deps.log.warn('custom resource delete: profile not in the config, nothing deleted', {
      profile: profileName,
    });
    return undefined;
  }
  return tearDownProfile({
    profileName,
    profile,
    ...deps.portsFor(profileName, profile),
    now: deps.now,
    log: deps.log,
    ...(adoptKeyGroupId === undefined ? {} : { adoptKeyGroupId }),
  });
}

/** A success Reason for a teardown: what went and what stayed. */
function describeTeardown(result: TeardownResult): string {
  const group =
    result.keyGroup === 'deleted'
      ? `deleted key group ${result.keyGroupId}`
      : result.keyGroup === 'already-gone'
        ? `key group ${result.keyGroupId} was already gone`
        : result.keyGroup === 'adopted-retained'
          ? `left adopted key group ${result.keyGroupId} in place without Signet's keys`
          : 'no key group to delete';
  return (
    `Signet teardown of ${result.profile}: ${group}; deleted ${result.deletedKeyIds.length} public key(s); ` +
    'the key ring secret is retained, with every key in its history.'
  );
}
