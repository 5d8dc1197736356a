import { CloudFrontClient } from '@aws-sdk/client-cloudfront';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Config } from '../config/index.ts';

/** The AWS SDK clients Signet uses, built once per process. */
export interface AwsClients {
  readonly secretsManager: SecretsManagerClient;
  readonly cloudfront: CloudFrontClient;
}

/**
 * Builds the real SDK clients. Endpoints come from the config's `aws` section when set (sandbox,
 * LocalStack), else from the SDK's own resolution (AWS_ENDPOINT_URL_* variables, then AWS).
 * CloudFront's control plane is global and signs in us-east-1.
 */
export function createAwsClients(config: Config, overrides: { region?: string } = {}): AwsClients {
  const region = overrides.region ?? config.aws?.region;
  const endpoints = config.aws?.endpoints;
  const sandbox = endpoints !== undefined && isLoopback(endpoints.secretsManager ?? endpoints.cloudfront);
  // The sandbox accepts any credentials; dummy ones keep a laptop with no AWS profile working.
  const credentials = sandbox ? { accessKeyId: 'sandbox', secretAccessKey: 'sandbox' } : undefined;
  return {
    secretsManager: new SecretsManagerClient({
      ...(region === undefined ? {} : { region }),
      ...(endpoints?.secretsManager === undefined ? {} : { endpoint: endpoints.secretsManager }),
      ...(credentials === undefined ? {} : { credentials, region: region ?? 'us-east-1' }),
    }),
    cloudfront: new CloudFrontClient({
      region: 'us-east-1',
      ...(endpoints?.cloudfront === undefined ? {} : { endpoint: endpoints.cloudfront }),
      ...(credentials === undefined ? {} : { credentials }),
    }),
  };
}

function isLoopback(url: string | undefined): boolean {
  if (url === undefined) return false;
  const host = new URL(url).hostname;
  return host === 'localhost' || host === '[::1]' || host.startsWith('127.');
}
