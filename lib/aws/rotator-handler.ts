import type { CloudFrontClient } from '@aws-sdk/client-cloudfront';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Config } from '../config/index.ts';
import {
  type RotationLog,
  type RotationMetrics,
  type RotationResult,
  runRotation,
} from '../rotation/index.ts';
import { isTornDown, type TeardownResult, tearDownProfile } from '../rotation/teardown.ts';
import { CloudFrontKeyGroupRegistry } from './cloudfront-key-group-registry.ts';
import { SecretsManagerKeyRingStore } from './secrets-manager-key-ring-store.ts';

/** An EventBridge scheduled event (only the fields the rotator reads). */
export interface ScheduledEvent {
  readonly source?: string;
  readonly 'detail-type'?: string;
}

/** A CloudFormation custom resource request (AWS::CloudFormation::CustomResource / Custom::…). */
export interface CustomResourceEvent {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly ResponseURL: string;
  readonly StackId: string;
  readonly RequestId: string;
  readonly LogicalResourceId: string;
  readonly PhysicalResourceId?: string;
  readonly ResourceProperties: {
    readonly ServiceToken?: string;
    /** The profile to bootstrap. */
    readonly Profile: string;
    /** Adopt this existing key group instead of creating `signet-<profile>`. */
    readonly AdoptKeyGroupId?: string;
    /**
     * `'true'` (CloudFormation passes every property as a string): Delete removes the key group (when
     * Signet created it) and Signet's public keys, and empties the ring into its history. Anything
     * else, absent included, retains them all.
     */
    readonly DeleteKeysOnDelete?: string;
  };
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

/** Everything the rotator handler needs, built once per cold start. */
export interface RotatorDependencies {
  readonly config: Config;
  readonly secretsManager: SecretsManagerClient;
  readonly cloudfront: CloudFrontClient;
  readonly log: RotationLog;
  readonly metrics: RotationMetrics;
  readonly now?: () => Date;
  /** Sends the custom resource response; default: global fetch (a PUT to the pre-signed S3 URL). */
  readonly fetch?: typeof fetch;
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

/**
 * The rotator Lambda's logic: on the schedule, advance every profile by at most one phase (one
 * failing profile does not stop the others; the run then throws so the invocation counts as an error);
 * as a CloudFormation custom resource, Create bootstraps (or adopts) the profile's key group and ring
 * and returns `KeyGroupId` for the distribution to trust, Update reconciles, and Delete leaves the
 * keys, group and ring in place (they are retained so a stack update can never 403 outstanding URLs)
 * unless the resource says `DeleteKeysOnDelete: 'true'`: then Delete tears the profile down (see
 * `tearDownProfile`; the ring secret itself always stays, CloudFormation retains it).
 */
export function createRotatorHandler(deps: RotatorDependencies) {
  const now = deps.now ?? (() => new Date());
  const rotate = (profileName: string, adoptKeyGroupId?: string): Promise<RotationResult> => {
    const profile = deps.config.profiles[profileName];
    if (profile === undefined) {
      throw new Error(
        `Expected a profile of the config (${Object.keys(deps.config.profiles).join(', ')}); got ${profileName}.`,
      );
    }
    const adopt = adoptKeyGroupId ?? profile.keyGroupId;
    const adoption = adopt === undefined ? {} : { adoptKeyGroupId: adopt };
    return runRotation({
      profileName,
      profile,
      store: new SecretsManagerKeyRingStore(deps.secretsManager, profile.keyRing.secretId),
      registry: new CloudFrontKeyGroupRegistry(deps.cloudfront),
      now,
      log: deps.log,
      metrics: deps.metrics,
      ...adoption,
    });
  };

  /**
   * A Delete with `DeleteKeysOnDelete`. A profile the config no longer has answers success with
   * nothing deleted: Signet cannot know its ring, and a FAILED Delete would wedge the stack (a rollback
   * after a failed Create sends one, for example).
   */
  const tearDown = async (
    profileName: string,
    adoptKeyGroupId: string | undefined,
  ): Promise<TeardownResult | undefined> => {
    const profile = deps.config.profiles[profileName];
    if (profile === undefined) {
      deps.log.warn('custom resource delete: profile not in the config, nothing deleted', {
        profile: profileName,
      });
      return undefined;
    }
    return tearDownProfile({
      profileName,
      profile,
      store: new SecretsManagerKeyRingStore(deps.secretsManager, profile.keyRing.secretId),
      registry: new CloudFrontKeyGroupRegistry(deps.cloudfront),
      now,
      log: deps.log,
      ...(adoptKeyGroupId === undefined ? {} : { adoptKeyGroupId }),
    });
  };

  /** A ring a Delete emptied: the schedule may still fire while CloudFormation removes the stack. */
  const tornDown = async (profileName: string): Promise<boolean> => {
    const profile = deps.config.profiles[profileName];
    if (profile === undefined) return false;
    const loaded = await new SecretsManagerKeyRingStore(deps.secretsManager, profile.keyRing.secretId).load();
    return loaded !== undefined && isTornDown(loaded.ring);
  };

  async function scheduled(): Promise<ScheduledRunSummary> {
    const profiles: ScheduledRunSummary['profiles'][number][] = [];
    for (const profile of Object.keys(deps.config.profiles)) {
      try {
        if (await tornDown(profile)) {
          // Introducing a key now would re-create what the stack's Delete just removed.
          deps.log.info('rotation skipped: the profile was torn down by a custom resource Delete', {
            profile,
          });
          profiles.push({ profile, ok: true, action: 'torn-down' });
          continue;
        }
        const result = await rotate(profile);
        profiles.push({
          profile,
          ok: result.ok,
          action: result.action.kind,
          transitioned: result.transitioned,
          activeKeyId: result.activeKeyId,
        });
      } catch (error) {
        deps.log.error('rotation run failed', { profile, error: describe(error) });
        deps.metrics.count('RotationFailures', 1, { profile, code: codeOf(error) });
        profiles.push({ profile, ok: false, error: describe(error) });
      }
    }
    const summary = { profiles };
    if (profiles.some((p) => !p.ok)) throw new RotationRunError(summary);
    return summary;
  }

  async function customResource(event: CustomResourceEvent): Promise<void> {
    const profile = event.ResourceProperties.Profile;
    const physicalId = event.PhysicalResourceId ?? `signet-bootstrap-${profile}`;
    let status: 'SUCCESS' | 'FAILED' = 'SUCCESS';
    let reason: string | undefined;
    let data: Record<string, string> = {};
    try {
      if (event.RequestType === 'Delete' && event.ResourceProperties.DeleteKeysOnDelete === 'true') {
        const result = await tearDown(profile, event.ResourceProperties.AdoptKeyGroupId);
        if (result?.keyGroupId !== undefined) data = { KeyGroupId: result.keyGroupId };
        reason = result === undefined ? undefined : describeTeardown(result);
        deps.log.info('custom resource delete: profile torn down', { profile, ...result });
      } else if (event.RequestType === 'Delete') {
        deps.log.info('custom resource delete: keys, key group and ring are retained', { profile });
        const ringGroup = deps.config.profiles[profile]?.keyGroupId;
        if (ringGroup !== undefined) data = { KeyGroupId: ringGroup };
      } else {
        const result = await rotate(profile, event.ResourceProperties.AdoptKeyGroupId);
        if (result.keyGroupId === undefined)
          throw new Error(`The rotator did not create or adopt a key group for ${profile}.`);
        data = { KeyGroupId: result.keyGroupId };
      }
    } catch (error) {
      status = 'FAILED';
      // CloudFormation shows this to the operator: the error's message, never a stack or key material.
      const what = event.RequestType === 'Delete' ? 'teardown' : 'bootstrap';
      reason =
        `Signet ${what} of ${profile} failed: ${error instanceof Error ? error.message : String(error)}`.slice(
          0,
          1000,
        );
      deps.log.error('custom resource failed', {
        profile,
        requestType: event.RequestType,
        error: describe(error),
      });
    }
    const body = JSON.stringify({
      Status: status,
      Reason: reason ?? `See the rotator's logs (request ${event.RequestId}).`,
      PhysicalResourceId: physicalId,
      StackId: event.StackId,
      RequestId: event.RequestId,
      LogicalResourceId: event.LogicalResourceId,
      Data: data,
    });
    // The pre-signed S3 URL expects a PUT with an empty content type.
    const response = await (deps.fetch ?? fetch)(event.ResponseURL, {
      method: 'PUT',
      headers: { 'content-type': '', 'content-length': String(Buffer.byteLength(body)) },
      body,
    });
    if (!response.ok) throw new Error(`CloudFormation's response URL answered ${response.status}.`);
  }

  return async (event: ScheduledEvent | CustomResourceEvent): Promise<ScheduledRunSummary | undefined> => {
    if ('RequestType' in event && 'ResponseURL' in event) {
      await customResource(event);
      return undefined;
    }
    return scheduled();
  };
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

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

function codeOf(error: unknown): string {
  const code = (error as { code?: unknown })?.code;
  return typeof code === 'string' ? code : error instanceof Error ? error.name : 'Unknown';
}
