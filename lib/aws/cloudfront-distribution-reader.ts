import {
  type CacheBehavior,
  type CloudFrontClient,
  type DefaultCacheBehavior,
  GetDistributionConfigCommand,
  GetResponseHeadersPolicyCommand,
  NoSuchDistribution,
} from '@aws-sdk/client-cloudfront';
import type {
  DistributionBehavior,
  DistributionCors,
  DistributionReader,
  DistributionView,
} from '../doctor/distribution.ts';

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
      const raw: [CacheBehavior | DefaultCacheBehavior, boolean][] = (
        config?.CacheBehaviors?.Items ?? []
      ).map((behavior) => [behavior, false]);
      if (config?.DefaultCacheBehavior !== undefined) raw.push([config.DefaultCacheBehavior, true]);
      const policies = new Map<string, DistributionCors | 'unreadable' | undefined>();
      for (const [behavior] of raw) {
        const policyId = behavior.ResponseHeadersPolicyId;
        if (policyId !== undefined && policyId !== '' && !policies.has(policyId)) {
          policies.set(policyId, await this.#corsOf(policyId));
        }
      }
      const behaviors: DistributionBehavior[] = raw.map(([behavior, isDefault]) => {
        const cors =
          behavior.ResponseHeadersPolicyId === undefined
            ? undefined
            : policies.get(behavior.ResponseHeadersPolicyId);
        return { ...behaviorOf(behavior, isDefault), ...(cors === undefined ? {} : { cors }) };
      });
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

  /**
   * The CORS part of a response headers policy (GetResponseHeadersPolicy, managed policies
   * included). A policy doctor may not read (no `cloudfront:GetResponseHeadersPolicy`) or that is
   * gone is `'unreadable'`: the CORS check then says it could not tell, rather than failing doctor.
   */
  async #corsOf(policyId: string): Promise<DistributionCors | 'unreadable' | undefined> {
    try {
      const response = await this.#client.send(new GetResponseHeadersPolicyCommand({ Id: policyId }));
      const cors = response.ResponseHeadersPolicy?.ResponseHeadersPolicyConfig?.CorsConfig;
      if (cors === undefined) return undefined;
      return {
        policyId,
        allowOrigins: [...(cors.AccessControlAllowOrigins?.Items ?? [])],
        allowCredentials: cors.AccessControlAllowCredentials === true,
      };
    } catch (error) {
      const name = (error as { name?: unknown }).name;
      if (name === 'AccessDenied' || name === 'NoSuchResponseHeadersPolicy') return 'unreadable';
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
    ...(behavior.AllowedMethods?.Items === undefined
      ? {}
      : { allowedMethods: [...behavior.AllowedMethods.Items] }),
  };
}
