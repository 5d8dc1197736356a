import { createHash } from 'node:crypto';
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  type GetSecretValueCommandOutput,
  InvalidParameterException,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  type SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import {
  type ApiKeyRecord,
  ApiKeysConflictError,
  ApiKeysInvalidError,
  ApiKeysUnavailableError,
  parseApiKeyDocument,
  serializeApiKeyDocument,
} from '../auth/api-keys.ts';

/** The API key list as read for a change: its records and the version a write must replace. */
export interface VersionedApiKeys {
  readonly records: readonly ApiKeyRecord[];
  /**
   * The AWSCURRENT version id; `undefined` when the secret has no value yet, or does not exist
   * (then `exists` is false and the first write creates it).
   */
  readonly version: string | undefined;
  readonly exists: boolean;
}

/**
 * The API key secret as `signet api-keys` reads and writes it (docs/operators.md, "API keys"). Every
 * write is a compare-and-swap, as for the key ring (`SecretsManagerKeyRingStore`): the new document
 * goes in as AWSPENDING under a ClientRequestToken derived from the prior version and the new
 * document (a retried write is a no-op), then AWSCURRENT moves to it with RemoveFromVersionId = the
 * version the change was computed from, which Secrets Manager refuses if another writer moved
 * AWSCURRENT first: {@link ApiKeysConflictError}, and nothing of the other write is lost.
 */
export class SecretsManagerApiKeyStore {
  readonly #client: SecretsManagerClient;
  readonly #secretId: string;

  constructor(client: SecretsManagerClient, secretId: string) {
    this.#client = client;
    this.#secretId = secretId;
  }

  get secretId(): string {
    return this.#secretId;
  }

  /** Reads the current list. Throws {@link ApiKeysUnavailableError} or {@link ApiKeysInvalidError}. */
  async load(): Promise<VersionedApiKeys> {
    let response: GetSecretValueCommandOutput;
    try {
      response = await this.#client.send(
        new GetSecretValueCommand({ SecretId: this.#secretId, VersionStage: 'AWSCURRENT' }),
      );
    } catch (error) {
      if (error instanceof ResourceNotFoundException) {
        // A secret declared with no value says so with a message about its version or staging label.
        const declared = /staging label|version/i.test(error.message);
        return { records: [], version: undefined, exists: declared };
      }
      throw new ApiKeysUnavailableError(
        `Could not read the API key secret ${this.#secretId}: ${errorName(error)}.`,
        { cause: error },
      );
    }
    if (response.SecretString === undefined || response.VersionId === undefined) {
      throw new ApiKeysInvalidError(
        `Expected the API key secret ${this.#secretId} to hold a JSON string; it holds ${response.SecretBinary === undefined ? 'nothing' : 'binary data'}.`,
      );
    }
    try {
      return {
        records: parseApiKeyDocument(response.SecretString),
        version: response.VersionId,
        exists: true,
      };
    } catch (error) {
      if (!(error instanceof ApiKeysInvalidError)) throw error;
      throw new ApiKeysInvalidError(`In the API key secret ${this.#secretId}: ${error.message}`, {
        cause: error,
      });
    }
  }

  /**
   * Writes `records` in place of the list read as `previous`. Returns the new version id. Throws
   * {@link ApiKeysConflictError} when another writer got there first, {@link ApiKeysUnavailableError}
   * when Secrets Manager refuses or cannot be reached.
   */
  async save(records: readonly ApiKeyRecord[], previous: VersionedApiKeys): Promise<string> {
    const text = serializeApiKeyDocument(records);
    const token = createHash('sha256')
      .update(`${previous.version ?? 'first'}\n${text}`)
      .digest('hex')
      .slice(0, 64);
    if (!previous.exists) return this.#create(text, token);
    try {
      await this.#client.send(
        new PutSecretValueCommand({
          SecretId: this.#secretId,
          SecretString: text,
          ClientRequestToken: token,
          VersionStages: ['AWSPENDING'],
        }),
      );
    } catch (error) {
      if (error instanceof ResourceNotFoundException) {
        throw new ApiKeysConflictError(
          `The API key secret ${this.#secretId} was deleted while this change was being made; run it again.`,
          { cause: error },
        );
      }
      throw new ApiKeysUnavailableError(
        `Could not write the API key secret ${this.#secretId}: ${errorName(error)}.`,
        { cause: error },
      );
    }
    try {
      await this.#client.send(
        new UpdateSecretVersionStageCommand({
          SecretId: this.#secretId,
          VersionStage: 'AWSCURRENT',
          MoveToVersionId: token,
          ...(previous.version === undefined ? {} : { RemoveFromVersionId: previous.version }),
        }),
      );
    } catch (error) {
      if (error instanceof InvalidParameterException) {
        // A retry of a write that already went through: AWSCURRENT sits on our version already.
        if (await this.#isCurrent(token)) return token;
        throw new ApiKeysConflictError(
          `Another writer changed the API key secret ${this.#secretId} after version ${previous.version ?? '(none)'}; reload and apply the change again.`,
          { cause: error },
        );
      }
      throw new ApiKeysUnavailableError(
        `Could not make the new API key list current in ${this.#secretId}: ${errorName(error)}.`,
        { cause: error },
      );
    }
    return token;
  }

  async #create(text: string, token: string): Promise<string> {
    if (this.#secretId.startsWith('arn:')) {
      throw new ApiKeysUnavailableError(
        `The API key secret ${this.#secretId} does not exist; create it first (docs/operators.md, "API keys"), or name it by its name rather than an ARN so signet can create it.`,
      );
    }
    try {
      const created = await this.#client.send(
        new CreateSecretCommand({
          Name: this.#secretId,
          Description: 'Signet API keys: SHA-256 hashes only (written by signet api-keys)',
          SecretString: text,
          ClientRequestToken: token,
        }),
      );
      return created.VersionId ?? token;
    } catch (error) {
      if (error instanceof ResourceExistsException) {
        throw new ApiKeysConflictError(
          `Another writer created the API key secret ${this.#secretId} first; reload and apply the change again.`,
          { cause: error },
        );
      }
      throw new ApiKeysUnavailableError(
        `Could not create the API key secret ${this.#secretId}: ${errorName(error)}.`,
        { cause: error },
      );
    }
  }

  async #isCurrent(versionId: string): Promise<boolean> {
    const described = await this.#client.send(new DescribeSecretCommand({ SecretId: this.#secretId }));
    return described.VersionIdsToStages?.[versionId]?.includes('AWSCURRENT') ?? false;
  }
}

function errorName(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
