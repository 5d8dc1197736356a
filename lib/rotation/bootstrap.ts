import type { CustomResourceAnswer, CustomResourceEvent } from '../cloudformation/custom-resource.ts';
import { describe, type RotatorDependencies, rotateProfile } from './schedule.ts';
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
}

/**
 * What a bootstrap request means (docs/design.md, "Revocation" describes the bootstrap): Create
 * bootstraps (or adopts) the profile's key group and ring and answers `KeyGroupId` for the
 * distribution to trust; Update runs the rotator for the profile; Delete leaves keys, group and ring
 * in place (retained, so a stack update can never refuse outstanding URLs) unless
 * `DeleteKeysOnDelete` is `'true'`: then the profile is torn down (`tearDownProfile`; the ring
 * secret itself stays, CloudFormation retains it). Never throws: a failure is a FAILED answer.
 */
export async function answerBootstrap(
  event: CustomResourceEvent<BootstrapProperties>,
  deps: RotatorDependencies,
): Promise<CustomResourceAnswer> {
  const profile = event.ResourceProperties.Profile;
  const physicalResourceId = event.PhysicalResourceId ?? `signet-bootstrap-${profile}`;
  const fallbackReason = `See the rotator's logs (request ${event.RequestId}).`;
  try {
    if (event.RequestType === 'Delete' && event.ResourceProperties.DeleteKeysOnDelete === 'true') {
      const result = await tearDown(deps, profile, event.ResourceProperties.AdoptKeyGroupId);
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
    const result = await rotateProfile(deps, profile, event.ResourceProperties.AdoptKeyGroupId);
    if (result.keyGroupId === undefined)
      throw new Error(`The rotator did not create or adopt a key group for ${profile}.`);
    return {
      status: 'SUCCESS',
      physicalResourceId,
      reason: fallbackReason,
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
