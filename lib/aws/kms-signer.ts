import { KMSClient, SignCommand } from '@aws-sdk/client-kms';
import type { Config } from '../config/index.ts';
import type { KeyAlgorithm } from '../signing/keys.ts';
import { type DigestSigner, RemoteSigningError } from '../signing/remote.ts';
import { clientSettings, SIGNING_PATH_CLIENT } from './endpoints.ts';

/**
 * This module is imported only for `signer: kms` profiles (lib/keys/kms.ts loads it on first use),
 * so an API serving Secrets Manager profiles only never loads the KMS client.
 */

/** The KMS signing algorithm that yields exactly the signature CloudFront verifies, per key type. */
export const KMS_SIGNING_ALGORITHM: Readonly<
  Record<KeyAlgorithm, 'RSASSA_PKCS1_V1_5_SHA_256' | 'ECDSA_SHA_256'>
> = {
  'rsa-2048': 'RSASSA_PKCS1_V1_5_SHA_256',
  'ecdsa-p256': 'ECDSA_SHA_256',
};

/**
 * The KMS client for signing. Two attempts at most: a throttled KMS should see fewer calls, not
 * three times as many, and the caller is told to retry (503, Retry-After). Each attempt is bounded
 * ({@link SIGNING_PATH_CLIENT}), so a hung connection cannot outlast the function's timeout.
 */
export function createKmsSigningClient(config: Config): KMSClient {
  return new KMSClient({ ...clientSettings(config, 'kms'), ...SIGNING_PATH_CLIENT });
}

/**
 * Signs SHA-256 digests with one KMS key (`Sign`, `MessageType: DIGEST`: a RAW message is limited
 * to 4,096 bytes, which a custom policy for a long URL exceeds; the signature is the same). KMS
 * errors become {@link RemoteSigningError}s whose message is for logs, never for callers.
 */
export function kmsDigestSigner(client: KMSClient, keyArn: string, algorithm: KeyAlgorithm): DigestSigner {
  const signingAlgorithm = KMS_SIGNING_ALGORITHM[algorithm];
  return async (digest) => {
    let signature: Uint8Array | undefined;
    try {
      ({ Signature: signature } = await client.send(
        new SignCommand({
          KeyId: keyArn,
          Message: digest,
          MessageType: 'DIGEST',
          SigningAlgorithm: signingAlgorithm,
        }),
      ));
    } catch (error) {
      throw kmsFailure(error, keyArn);
    }
    if (signature === undefined || signature.length === 0) {
      throw new RemoteSigningError('unavailable', `KMS Sign for ${keyArn} answered without a signature.`);
    }
    return Buffer.from(signature);
  };
}

/** Maps a KMS error to what the API can say about it (docs/operators.md, "KMS signing"). */
export function kmsFailure(error: unknown, keyArn: string): RemoteSigningError {
  const name = (error as { name?: unknown }).name;
  const detail = `${String(name)}: ${error instanceof Error ? error.message : String(error)}`;
  switch (name) {
    case 'ThrottlingException':
    case 'LimitExceededException':
      return new RemoteSigningError('throttled', `KMS throttled Sign for ${keyArn} (${detail}).`, {
        cause: error,
        retryAfterSeconds: 1,
      });
    case 'DisabledException':
    case 'KMSInvalidStateException':
    case 'NotFoundException':
    case 'KeyUnavailableException':
      return new RemoteSigningError('disabled', `The KMS key ${keyArn} cannot sign (${detail}).`, {
        cause: error,
        retryAfterSeconds: 60,
      });
    case 'AccessDeniedException':
    case 'InvalidKeyUsageException':
      return new RemoteSigningError('denied', `Signet may not sign with the KMS key ${keyArn} (${detail}).`, {
        cause: error,
        retryAfterSeconds: 60,
      });
    default:
      return new RemoteSigningError('unavailable', `KMS Sign for ${keyArn} failed (${detail}).`, {
        cause: error,
        retryAfterSeconds: 5,
      });
  }
}
