import {
  type CacheBehavior,
  type CloudFrontClient,
  type DefaultCacheBehavior,
  GetDistributionConfigCommand,
  NoSuchDistribution,
} from '@aws-sdk/client-cloudfront';
import type { DistributionBehavior, DistributionReader, DistributionView } from '../doctor/distribution.ts';

/** {@link DistributionReader} over the real CloudFront SDK client (AWS, LocalStack or the sandbox). */
export class CloudFrontDistributionReader implements DistributionReader {
  readonly #client: CloudFrontClient;

  constructor(client: CloudFrontClient) {
    this.#client = client;
  }

  async getDistribution(id: string): Promise<DistributionView | undefined> {
    try {
      const response = await this.#client.send(new GetDistributionConfigCommand({ Id: id }));
      const config = response.DistributionConfig;
      const behaviors: DistributionBehavior[] = (config?.CacheBehaviors?.Items ?? []).map((behavior) =>
        behaviorOf(behavior, false),
      );
      if (config?.DefaultCacheBehavior !== undefined)
        behaviors.push(behaviorOf(config.DefaultCacheBehavior, true));
      return {
        id,
        aliases: (config?.Aliases?.Items ?? []).map((alias) => alias.toLowerCase()),
        behaviors,
        ipv6Enabled: config?.IsIPV6Enabled === true,
      };
    } catch (error) {
      if (error instanceof NoSuchDistribution) return undefined;
      throw error;
    }
  }
}

function behaviorOf(
  behavior: CacheBehavior | DefaultCacheBehavior,
  isDefault: boolean,
): DistributionBehavior {
  const trusted = behavior.TrustedKeyGroups;
  return {
    pathPattern: isDefault ? '*' : ((behavior as CacheBehavior).PathPattern ?? ''),
    isDefault,
    // A disabled TrustedKeyGroups keeps its list but trusts nothing: the behaviour serves unsigned requests.
    trustedKeyGroups: trusted?.Enabled === true ? [...(trusted.Items ?? [])] : [],
    ...(behavior.TargetOriginId === undefined ? {} : { targetOriginId: behavior.TargetOriginId }),
  };
}
