import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Config } from '../config/index.ts';
import { clientSettings } from './endpoints.ts';

/** The real Secrets Manager client, pointed where the config says (AWS by default). */
export function createSecretsManagerClient(config: Config): SecretsManagerClient {
  return new SecretsManagerClient(clientSettings(config, 'secretsManager'));
}
