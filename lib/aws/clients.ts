import type { CloudFrontClient } from '@aws-sdk/client-cloudfront';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Config } from '../config/index.ts';
import { createCloudFrontClient } from './cloudfront-client.ts';
import { createSecretsManagerClient } from './secrets-manager-client.ts';

/** The AWS SDK clients Signet uses, built once per process. */
export interface AwsClients {
  readonly secretsManager: SecretsManagerClient;
  readonly cloudfront: CloudFrontClient;
}

/**
 * Both clients, for the CLI, the rotator and the local service. The API Lambda builds only the
 * Secrets Manager client (createSecretsManagerClient), keeping the CloudFront client out of its bundle.
 */
export function createAwsClients(config: Config): AwsClients {
  return { secretsManager: createSecretsManagerClient(config), cloudfront: createCloudFrontClient(config) };
}
