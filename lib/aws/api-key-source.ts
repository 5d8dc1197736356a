import {
  GetSecretValueCommand,
  type GetSecretValueCommandOutput,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import {
  type ApiKeyRecord,
  type ApiKeySource,
  ApiKeysInvalidError,
  ApiKeysUnavailableError,
  parseApiKeyDocument,
} from '../auth/api-keys.ts';

/**
 * The API key hashes in one Secrets Manager secret (its AWSCURRENT value), for the API (`signet
 * api-keys` writes through `SecretsManagerApiKeyStore`, lib/aws/api-key-store.ts), a JSON document
 * `{"keys":[{"id":"mobile-app","sha256":"<64 hex>"}]}`. One GetSecretValue per {@link load}: wrap it
 * in `CachedApiKeySource` so requests do not each call Secrets Manager.
 */
export class SecretsManagerApiKeySource implements ApiKeySource {
  readonly #client: SecretsManagerClient;
  readonly #secretId: string;

  constructor(client: SecretsManagerClient, secretId: string) {
    this.#client = client;
    this.#secretId = secretId;
  }

  /**
   * Reads and validates the document. Throws {@link ApiKeysUnavailableError} when Secrets Manager
   * cannot be read and {@link ApiKeysInvalidError} when the value is not a valid document.
   */
  async load(): Promise<readonly ApiKeyRecord[]> {
    let response: GetSecretValueCommandOutput;
    try {
      response = await this.#client.send(new GetSecretValueCommand({ SecretId: this.#secretId }));
    } catch (error) {
      throw new ApiKeysUnavailableError(
        `Could not read the API key secret ${this.#secretId}: ${errorName(error)}.`,
        { cause: error },
      );
    }
    if (response.SecretString === undefined) {
      throw new ApiKeysInvalidError(
        `Expected the API key secret ${this.#secretId} to hold a JSON string; it holds ${response.SecretBinary === undefined ? 'nothing' : 'binary data'}.`,
      );
    }
    try {
      return parseApiKeyDocument(response.SecretString);
    } catch (error) {
      if (!(error instanceof ApiKeysInvalidError)) throw error;
      // Name the secret, so an operator knows which one to fix.
      throw new ApiKeysInvalidError(`In the API key secret ${this.#secretId}: ${error.message}`, {
        cause: error,
      });
    }
  }
}

function errorName(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
