import { createPublicKey } from 'node:crypto';
import {
  CreateKeyCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  GetPublicKeyCommand,
  type KeyMetadata,
  KMSClient,
  ListKeysCommand,
  ListResourceTagsCommand,
  ScheduleKeyDeletionCommand,
  type Tag,
} from '@aws-sdk/client-kms';
import type { Config } from '../config/index.ts';
import type { KmsKeyInfo, KmsKeyPort } from '../rotation/kms-keys.ts';
import type { KeyAlgorithm } from '../signing/index.ts';
import { clientSettings } from './endpoints.ts';
import { kmsDigestSigner } from './kms-signer.ts';

const KEY_SPEC: Readonly<Record<KeyAlgorithm, 'RSA_2048' | 'ECC_NIST_P256'>> = {
  'rsa-2048': 'RSA_2048',
  'ecdsa-p256': 'ECC_NIST_P256',
};

/** The KMS client of the rotator and the CLI, pointed where the config says (AWS by default). */
export function createKmsClient(config: Config): KMSClient {
  return new KMSClient(clientSettings(config, 'kms'));
}

/** The rotator's KMS key lifecycle (lib/rotation/kms-keys.ts) over the real SDK client. */
export class SdkKmsKeyPort implements KmsKeyPort {
  readonly #client: KMSClient;

  constructor(client: KMSClient) {
    this.#client = client;
  }

  async createSigningKey(input: {
    algorithm: KeyAlgorithm;
    description: string;
    tags: Readonly<Record<string, string>>;
  }): Promise<{ arn: string; publicKeyPem: string }> {
    const { KeyMetadata: metadata } = await this.#client.send(
      new CreateKeyCommand({
        KeySpec: KEY_SPEC[input.algorithm],
        KeyUsage: 'SIGN_VERIFY',
        Description: input.description,
        Tags: Object.entries(input.tags).map(([TagKey, TagValue]) => ({ TagKey, TagValue })),
      }),
    );
    const arn = metadata?.Arn;
    if (arn === undefined) throw new Error('Expected CreateKey to answer with the key ARN; it did not.');
    return { arn, publicKeyPem: await this.publicKey(arn) };
  }

  async publicKey(arn: string): Promise<string> {
    const { PublicKey: der } = await this.#client.send(new GetPublicKeyCommand({ KeyId: arn }));
    if (der === undefined) throw new Error(`Expected GetPublicKey to answer with the public key of ${arn}.`);
    return createPublicKey({ key: Buffer.from(der), format: 'der', type: 'spki' })
      .export({ type: 'spki', format: 'pem' })
      .toString();
  }

  async describe(arn: string): Promise<KmsKeyInfo | undefined> {
    try {
      const { KeyMetadata: metadata } = await this.#client.send(new DescribeKeyCommand({ KeyId: arn }));
      return metadata === undefined ? undefined : infoOf(metadata);
    } catch (error) {
      if ((error as { name?: unknown }).name === 'NotFoundException') return undefined;
      throw error;
    }
  }

  /**
   * Lists the account's keys and reads each one's tags (KMS has no tag filter on ListKeys). An
   * account with many KMS keys pays one ListResourceTags per key per rotator run.
   */
  async listTagged(key: string, value: string): Promise<KmsKeyInfo[]> {
    const found: KmsKeyInfo[] = [];
    let marker: string | undefined;
    do {
      const page = await this.#client.send(
        new ListKeysCommand({ Limit: 1000, ...(marker === undefined ? {} : { Marker: marker }) }),
      );
      for (const entry of page.Keys ?? []) {
        if (entry.KeyArn === undefined) continue;
        let tags: Tag[] | undefined;
        try {
          ({ Tags: tags } = await this.#client.send(new ListResourceTagsCommand({ KeyId: entry.KeyArn })));
        } catch (error) {
          // Keys of other teams the rotator may not read: not Signet's.
          const name = (error as { name?: unknown }).name;
          if (name === 'AccessDeniedException' || name === 'NotFoundException') continue;
          throw error;
        }
        if (!(tags ?? []).some((tag) => tag.TagKey === key && tag.TagValue === value)) continue;
        const info = await this.describe(entry.KeyArn);
        if (info !== undefined) found.push(info);
      }
      marker = page.Truncated ? page.NextMarker : undefined;
    } while (marker !== undefined);
    return found;
  }

  async scheduleDeletion(arn: string, days: number): Promise<void> {
    try {
      await this.#client.send(new ScheduleKeyDeletionCommand({ KeyId: arn, PendingWindowInDays: days }));
    } catch (error) {
      const name = (error as { name?: unknown }).name;
      if (name === 'NotFoundException') return;
      if (name === 'KMSInvalidStateException' && (await this.describe(arn))?.state === 'PendingDeletion')
        return;
      throw error;
    }
  }

  signDigest(arn: string, algorithm: KeyAlgorithm, digest: Buffer): Promise<Buffer> {
    return kmsDigestSigner(this.#client, arn, algorithm)(digest);
  }

  async disable(arn: string): Promise<void> {
    await this.#client.send(new DisableKeyCommand({ KeyId: arn }));
  }
}

function infoOf(metadata: KeyMetadata): KmsKeyInfo {
  return {
    arn: metadata.Arn ?? '',
    state: metadata.KeyState ?? 'Unavailable',
    createdAt: metadata.CreationDate ?? new Date(0),
    deletionDate: metadata.DeletionDate,
  };
}
