import {
  type CloudFrontClient,
  CreateKeyGroupCommand,
  CreatePublicKeyCommand,
  DeleteKeyGroupCommand,
  DeletePublicKeyCommand,
  GetKeyGroupCommand,
  GetPublicKeyCommand,
  type KeyGroup,
  KeyGroupAlreadyExists,
  ListDistributionsCommand,
  ListKeyGroupsCommand,
  ListPublicKeysCommand,
  NoSuchPublicKey,
  NoSuchResource,
  PreconditionFailed,
  PublicKeyAlreadyExists,
  PublicKeyInUse,
  ResourceInUse,
  TooManyKeyGroups,
  TooManyPublicKeys,
  TooManyPublicKeysInKeyGroup,
  UpdateKeyGroupCommand,
} from '@aws-sdk/client-cloudfront';
import {
  type DistributionTrust,
  type DistributionTrustReader,
  type KeyGroupRegistry,
  type ListedKeyGroup,
  type RegisteredKeyGroup,
  type RegisteredPublicKey,
  RegistryConflictError,
  RegistryInUseError,
  RegistryNotFoundError,
  RegistryQuotaError,
} from '../rotation/registry.ts';

/**
 * {@link KeyGroupRegistry} and {@link DistributionTrustReader} over the real CloudFront SDK client
 * (AWS, LocalStack or the sandbox).
 */
export class CloudFrontKeyGroupRegistry implements KeyGroupRegistry, DistributionTrustReader {
  readonly #client: CloudFrontClient;

  constructor(client: CloudFrontClient) {
    this.#client = client;
  }

  async getKeyGroup(id: string): Promise<RegisteredKeyGroup> {
    try {
      const response = await this.#client.send(new GetKeyGroupCommand({ Id: id }));
      return groupOf(response.KeyGroup, response.ETag);
    } catch (error) {
      if (error instanceof NoSuchResource)
        throw new RegistryNotFoundError(`Expected key group ${id} to exist; it does not.`, { cause: error });
      throw error;
    }
  }

  async findKeyGroupByName(name: string): Promise<RegisteredKeyGroup | undefined> {
    let marker: string | undefined;
    do {
      const response = await this.#client.send(
        new ListKeyGroupsCommand({ ...(marker === undefined ? {} : { Marker: marker }), MaxItems: 100 }),
      );
      const found = response.KeyGroupList?.Items?.find(
        (item) => item.KeyGroup?.KeyGroupConfig?.Name === name,
      );
      // The list carries no ETag; a Get gives the one an update needs.
      if (found?.KeyGroup?.Id !== undefined) return this.getKeyGroup(found.KeyGroup.Id);
      marker = response.KeyGroupList?.NextMarker || undefined;
    } while (marker !== undefined);
    return undefined;
  }

  async listKeyGroups(): Promise<readonly ListedKeyGroup[]> {
    const groups: ListedKeyGroup[] = [];
    let marker: string | undefined;
    do {
      const response = await this.#client.send(
        new ListKeyGroupsCommand({ ...(marker === undefined ? {} : { Marker: marker }), MaxItems: 100 }),
      );
      for (const item of response.KeyGroupList?.Items ?? []) {
        const group = item.KeyGroup;
        if (group?.Id === undefined) continue;
        groups.push({
          id: group.Id,
          name: group.KeyGroupConfig?.Name ?? '',
          items: group.KeyGroupConfig?.Items ?? [],
        });
      }
      marker = response.KeyGroupList?.NextMarker || undefined;
    } while (marker !== undefined);
    return groups;
  }

  async createKeyGroup(name: string, items: readonly string[]): Promise<RegisteredKeyGroup> {
    try {
      const response = await this.#client.send(
        new CreateKeyGroupCommand({ KeyGroupConfig: { Name: name, Items: [...items] } }),
      );
      return groupOf(response.KeyGroup, response.ETag);
    } catch (error) {
      if (error instanceof KeyGroupAlreadyExists)
        throw new RegistryConflictError(`A key group named ${name} already exists.`, { cause: error });
      if (error instanceof TooManyPublicKeysInKeyGroup || error instanceof TooManyKeyGroups) {
        throw new RegistryQuotaError(`CloudFront refused key group ${name} for a quota: ${error.name}.`, {
          cause: error,
        });
      }
      throw error;
    }
  }

  async updateKeyGroup(group: RegisteredKeyGroup, items: readonly string[]): Promise<RegisteredKeyGroup> {
    try {
      const response = await this.#client.send(
        new UpdateKeyGroupCommand({
          Id: group.id,
          IfMatch: group.etag,
          KeyGroupConfig: { Name: group.name, Items: [...items] },
        }),
      );
      return groupOf(response.KeyGroup, response.ETag);
    } catch (error) {
      if (error instanceof PreconditionFailed) {
        throw new RegistryConflictError(`The key group ${group.id} changed since it was read.`, {
          cause: error,
        });
      }
      if (error instanceof NoSuchResource)
        throw new RegistryNotFoundError(`Expected key group ${group.id} to exist; it does not.`, {
          cause: error,
        });
      if (error instanceof TooManyPublicKeysInKeyGroup) {
        throw new RegistryQuotaError(
          `The key group ${group.id} cannot hold ${items.length} keys (CloudFront allows 5).`,
          {
            cause: error,
          },
        );
      }
      throw error;
    }
  }

  async deleteKeyGroup(group: RegisteredKeyGroup): Promise<void> {
    try {
      await this.#client.send(new DeleteKeyGroupCommand({ Id: group.id, IfMatch: group.etag }));
    } catch (error) {
      // Already gone: a retried teardown (or someone else) deleted it first.
      if (error instanceof NoSuchResource) return;
      if (error instanceof PreconditionFailed) {
        throw new RegistryConflictError(`The key group ${group.id} changed since it was read.`, {
          cause: error,
        });
      }
      if (error instanceof ResourceInUse) {
        // CloudFront's own message is kept: it is what says which distribution still trusts the group.
        throw new RegistryInUseError(
          `CloudFront refuses to delete key group ${group.id} while a distribution trusts it: "${error.message}"`,
          { cause: error },
        );
      }
      throw error;
    }
  }

  async listPublicKeys(): Promise<readonly RegisteredPublicKey[]> {
    const keys: RegisteredPublicKey[] = [];
    let marker: string | undefined;
    do {
      const response = await this.#client.send(
        new ListPublicKeysCommand({ ...(marker === undefined ? {} : { Marker: marker }), MaxItems: 100 }),
      );
      for (const item of response.PublicKeyList?.Items ?? []) {
        keys.push({
          id: item.Id!,
          name: item.Name!,
          encodedKey: item.EncodedKey!,
          createdTime: item.CreatedTime?.toISOString() ?? '',
          ...(item.Comment === undefined ? {} : { comment: item.Comment }),
        });
      }
      marker = response.PublicKeyList?.NextMarker || undefined;
    } while (marker !== undefined);
    return keys;
  }

  async getPublicKey(id: string): Promise<RegisteredPublicKey | undefined> {
    try {
      const response = await this.#client.send(new GetPublicKeyCommand({ Id: id }));
      const key = response.PublicKey!;
      return {
        id: key.Id!,
        name: key.PublicKeyConfig!.Name!,
        encodedKey: key.PublicKeyConfig!.EncodedKey!,
        createdTime: key.CreatedTime?.toISOString() ?? '',
        ...(key.PublicKeyConfig?.Comment === undefined ? {} : { comment: key.PublicKeyConfig.Comment }),
      };
    } catch (error) {
      if (error instanceof NoSuchPublicKey) return undefined;
      throw error;
    }
  }

  async createPublicKey(input: {
    name: string;
    callerReference: string;
    encodedKey: string;
    comment: string;
  }): Promise<RegisteredPublicKey> {
    try {
      const response = await this.#client.send(
        new CreatePublicKeyCommand({
          PublicKeyConfig: {
            Name: input.name,
            CallerReference: input.callerReference,
            EncodedKey: input.encodedKey,
            Comment: input.comment,
          },
        }),
      );
      const key = response.PublicKey!;
      return {
        id: key.Id!,
        name: input.name,
        encodedKey: input.encodedKey,
        createdTime: key.CreatedTime?.toISOString() ?? '',
        comment: input.comment,
      };
    } catch (error) {
      if (error instanceof PublicKeyAlreadyExists) {
        // A retry after a crash: the name is derived from the fingerprint, so the existing key is ours
        // when its PEM is the same key.
        const existing = (await this.listPublicKeys()).find((key) => key.name === input.name);
        if (existing !== undefined && samePem(existing.encodedKey, input.encodedKey)) return existing;
      }
      if (error instanceof TooManyPublicKeys) {
        throw new RegistryQuotaError(
          'The account holds the most public keys CloudFront allows (10 by default).',
          { cause: error },
        );
      }
      throw error;
    }
  }

  async deletePublicKey(id: string): Promise<void> {
    try {
      const current = await this.#client.send(new GetPublicKeyCommand({ Id: id }));
      await this.#client.send(new DeletePublicKeyCommand({ Id: id, IfMatch: current.ETag }));
    } catch (error) {
      if (error instanceof NoSuchPublicKey) return;
      if (error instanceof PublicKeyInUse) {
        throw new RegistryInUseError(`Public key ${id} is still in a key group; take it out first.`, {
          cause: error,
        });
      }
      // A public key's config never changes after creation, so a stale ETag means it was replaced.
      if (error instanceof PreconditionFailed)
        throw new RegistryConflictError(`Public key ${id} changed since it was read.`, { cause: error });
      throw error;
    }
  }

  async listDistributionTrust(): Promise<readonly DistributionTrust[]> {
    const distributions: DistributionTrust[] = [];
    let marker: string | undefined;
    do {
      const response = await this.#client.send(
        new ListDistributionsCommand({ ...(marker === undefined ? {} : { Marker: marker }), MaxItems: 100 }),
      );
      for (const summary of response.DistributionList?.Items ?? []) {
        if (summary.Id === undefined) continue;
        const behaviors = (summary.CacheBehaviors?.Items ?? []).map((behavior) => ({
          pathPattern: behavior.PathPattern ?? '',
          trustedKeyGroups: behavior.TrustedKeyGroups?.Items ?? [],
        }));
        behaviors.push({
          pathPattern: '*',
          trustedKeyGroups: summary.DefaultCacheBehavior?.TrustedKeyGroups?.Items ?? [],
        });
        distributions.push({ id: summary.Id, status: summary.Status ?? '', behaviors });
      }
      marker = response.DistributionList?.NextMarker || undefined;
    } while (marker !== undefined);
    return distributions;
  }
}

function groupOf(group: KeyGroup | undefined, etag: string | undefined): RegisteredKeyGroup {
  if (group?.Id === undefined || etag === undefined)
    throw new Error('CloudFront answered a key group request without the group or its ETag.');
  return {
    id: group.Id,
    name: group.KeyGroupConfig?.Name ?? '',
    items: group.KeyGroupConfig?.Items ?? [],
    etag,
  };
}

function samePem(a: string, b: string): boolean {
  const body = (pem: string) => pem.replace(/-----[A-Z ]+-----|\s/g, '');
  return body(a) === body(b);
}
