import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Config } from '../config/index.ts';
import { clientSettings, SIGNING_PATH_CLIENT } from './endpoints.ts';

/**
 * The real Secrets Manager client, pointed where the config says (AWS by default). `signingPath`
 * bounds each call for the API, which must answer within its function timeout
 * ({@link SIGNING_PATH_CLIENT}); the rotator and the CLI keep the SDK's defaults.
 */
export function createSecretsManagerClient(
  config: Config,
  options: { readonly signingPath?: boolean } = {},
): SecretsManagerClient {
  return new SecretsManagerClient({
    ...clientSettings(config, 'secretsManager'),
    ...(options.signingPath === true ? SIGNING_PATH_CLIENT : {}),
  });
}
