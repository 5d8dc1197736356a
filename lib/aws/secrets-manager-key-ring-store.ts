import { createHash } from 'node:crypto';
import {
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
import { type KeyRing, parseKeyRing, serializeKeyRing } from '../keys/ring.ts';
import {
  KeyRingConflictError,
  type KeyRingStore,
  KeyRingUnavailableError,
  type VersionedKeyRing,
} from '../keys/store.ts';

/**
 * A profile's key ring in one Secrets Manager secret (AWSCURRENT). Writes are compare-and-swap, since
 * PutSecretValue alone is not one: the new ring goes in as AWSPENDING under a ClientRequestToken
 * derived from the prior version and the transition (so a retried write is a no-op), then AWSCURRENT
 * moves to it with RemoveFromVersionId = the version the change was computed from, which Secrets
 * Manager refuses if another writer moved AWSCURRENT first. AWSPREVIOUS keeps the prior ring.
 */
export class SecretsManagerKeyRingStore implements KeyRingStore {
  readonly #client: SecretsManagerClient;
  readonly #secretId: string;

  constructor(client: SecretsManagerClient, secretId: string) {
    this.#client = client;
    this.#secretId = secretId;
  }

  async load(): Promise<VersionedKeyRing | undefined> {
    let response: GetSecretValueCommandOutput;
    try {
      response = await this.#client.send(
        new GetSecretValueCommand({ SecretId: this.#secretId, VersionStage: 'AWSCURRENT' }),
      );
    } catch (error) {
      // A secret declared with no value answers ResourceNotFound for AWSCURRENT: not bootstrapped yet.
      if (error instanceof ResourceNotFoundException && /staging label|version/i.test(error.message))
        return undefined;
      throw new KeyRingUnavailableError(
        `Could not read the key ring secret ${this.#secretId}: ${errorName(error)}.`,
        {
          cause: error,
        },
      );
    }
    if (response.SecretString === undefined || response.VersionId === undefined) {
      throw new KeyRingUnavailableError(
        `Expected the key ring secret ${this.#secretId} to hold a string value.`,
      );
    }
    return { ring: parseKeyRing(response.SecretString), version: response.VersionId };
  }

  async save(ring: KeyRing, previousVersion: string | undefined, transition: string): Promise<string> {
    const token = createHash('sha256')
      .update(`${previousVersion ?? 'bootstrap'}\n${transition}`)
      .digest('hex')
      .slice(0, 64);
    try {
      await this.#client.send(
        new PutSecretValueCommand({
          SecretId: this.#secretId,
          SecretString: serializeKeyRing(ring),
          ClientRequestToken: token,
          VersionStages: ['AWSPENDING'],
        }),
      );
    } catch (error) {
      if (error instanceof ResourceExistsException) {
        throw new KeyRingConflictError(
          `The transition ${transition} from version ${previousVersion} was already written with other content; reload and recompute.`,
          { cause: error },
        );
      }
      throw new KeyRingUnavailableError(
        `Could not write the key ring secret ${this.#secretId}: ${errorName(error)}.`,
        {
          cause: error,
        },
      );
    }
    try {
      await this.#client.send(
        new UpdateSecretVersionStageCommand({
          SecretId: this.#secretId,
          VersionStage: 'AWSCURRENT',
          MoveToVersionId: token,
          ...(previousVersion === undefined ? {} : { RemoveFromVersionId: previousVersion }),
        }),
      );
    } catch (error) {
      if (error instanceof InvalidParameterException) {
        // A retry of a save that already went through: AWSCURRENT sits on our version, not the prior one.
        if (await this.#isCurrent(token)) return token;
        throw new KeyRingConflictError(
          `Another writer changed the key ring ${this.#secretId} after version ${previousVersion}; reload and recompute.`,
          { cause: error },
        );
      }
      throw new KeyRingUnavailableError(`Could not promote the new key ring version: ${errorName(error)}.`, {
        cause: error,
      });
    }
    return token;
  }

  async #isCurrent(versionId: string): Promise<boolean> {
    const described = await this.#client.send(new DescribeSecretCommand({ SecretId: this.#secretId }));
    return described.VersionIdsToStages?.[versionId]?.includes('AWSCURRENT') ?? false;
  }
}

function errorName(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
