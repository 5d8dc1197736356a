import type { CloudFrontClient } from '@aws-sdk/client-cloudfront';
import type { KMSClient } from '@aws-sdk/client-kms';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CloudFrontKeyGroupRegistry } from '../aws/cloudfront-key-group-registry.ts';
import { createKmsClient, SdkKmsKeyPort } from '../aws/kms-key-port.ts';
import { SecretsManagerKeyRingStore } from '../aws/secrets-manager-key-ring-store.ts';
import {
  type CustomResourceEvent,
  isCustomResourceEvent,
  sendCustomResourceAnswer,
} from '../cloudformation/custom-resource.ts';
import type { Config } from '../config/index.ts';
import { answerBootstrap, type BootstrapProperties } from '../rotation/bootstrap.ts';
import { runSchedule, type ScheduledRunSummary } from '../rotation/schedule.ts';
import type { RotationMetrics } from '../rotation/telemetry.ts';
import type { Log } from '../telemetry/ports.ts';

/** An EventBridge scheduled event (only the fields the rotator reads). */
export interface ScheduledEvent {
  readonly source?: string;
  readonly 'detail-type'?: string;
}

/** What the rotator Lambda is invoked with: the schedule, or its bootstrap custom resource. */
export type RotatorEvent = ScheduledEvent | CustomResourceEvent<BootstrapProperties>;

/** Everything the rotator handler needs, built once per cold start by functions/rotator.ts. */
export interface RotatorHandlerOptions {
  readonly config: Config;
  readonly secretsManager: SecretsManagerClient;
  readonly cloudfront: CloudFrontClient;
  /** For `signer: kms` profiles; default: built from the config when a profile needs it. */
  readonly kms?: KMSClient;
  readonly log: Log;
  readonly metrics: RotationMetrics;
  readonly now?: () => Date;
  /** Sends the custom resource answer; default: global fetch (a PUT to the pre-signed S3 URL). */
  readonly fetch?: typeof fetch;
}

/**
 * The rotator Lambda's handler: wires the AWS adapters into the schedule (lib/rotation/schedule.ts)
 * and the bootstrap custom resource (lib/rotation/bootstrap.ts, answered through
 * lib/cloudformation/custom-resource.ts).
 */
export function createRotatorHandler(options: RotatorHandlerOptions) {
  const registry = new CloudFrontKeyGroupRegistry(options.cloudfront);
  // Every profile gets it (the client connects only when used): a profile switched back from
  // signer: kms still holds KMS keys, whose removal schedules their deletion.
  const kms = new SdkKmsKeyPort(options.kms ?? createKmsClient(options.config));
  const deps = {
    profiles: options.config.profiles,
    portsFor: (_name: string, profile: { keyRing: { secretId: string } }) => ({
      store: new SecretsManagerKeyRingStore(options.secretsManager, profile.keyRing.secretId),
      registry,
      kms,
    }),
    now: options.now ?? (() => new Date()),
    log: options.log,
    metrics: options.metrics,
    // ListDistributions: proves that an Update moving a ring to another key group breaks no link.
    distributions: registry,
  };
  return async (event: RotatorEvent): Promise<ScheduledRunSummary | undefined> => {
    if (isCustomResourceEvent(event)) {
      const request = event as CustomResourceEvent<BootstrapProperties>;
      await sendCustomResourceAnswer(request, await answerBootstrap(request, deps), options.fetch);
      return undefined;
    }
    return runSchedule(deps);
  };
}
