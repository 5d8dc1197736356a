import { createPublicKey, type KeyObject } from 'node:crypto';
import type { Config } from '../config/index.ts';
import { parseSigningKey, parseVerifyingKey, type SigningKey } from '../signing/keys.ts';
import { type DigestSigner, RemoteSigner, RemoteSigningError, SignatureCache } from '../signing/remote.ts';
import type { RingKey } from './ring.ts';

/** A ring key signed by KMS: its ARN and the public key the ring recorded. */
export type KmsRingKey = RingKey & { readonly kmsKeyArn: string; readonly publicKey: string };

/** Builds the signer of one KMS ring key (lib/keys/cache.ts calls it once per active key). */
export type RemoteSignerFactory = (key: KmsRingKey) => RemoteSigner;

/** Options of {@link kmsSignerFactory}. */
export interface KmsSignerFactoryOptions {
  /** Epoch milliseconds, for the signature cache. */
  readonly now: () => number;
  /** Signatures kept per key (policies reused within an expiry-rounding window). Default 10,000. */
  readonly cacheEntries?: number;
  /** Replaces the KMS client (tests, the bench): signs a digest with the key of `keyArn`. */
  readonly signDigest?: (keyArn: string, key: KmsRingKey) => DigestSigner;
}

/**
 * The signers of a config's `signer: kms` profiles. The KMS client module is imported on the first
 * signature, never before: a process that serves only Secrets Manager profiles never loads it
 * (docs/operators.md, "KMS signing").
 */
export function kmsSignerFactory(config: Config, options: KmsSignerFactoryOptions): RemoteSignerFactory {
  let loaded: Promise<(keyArn: string, key: KmsRingKey) => DigestSigner> | undefined;
  const load = () =>
    (loaded ??= import('../aws/kms-signer.ts').then((module) => {
      const client = module.createKmsSigningClient(config);
      return (keyArn: string, key: KmsRingKey) => module.kmsDigestSigner(client, keyArn, key.algorithm);
    }));
  return (key) => {
    let signer: DigestSigner | undefined = options.signDigest?.(key.kmsKeyArn, key);
    return new RemoteSigner({
      algorithm: key.algorithm,
      publicKey: createPublicKey(key.publicKey),
      cache: new SignatureCache({ now: options.now, maxEntries: options.cacheEntries ?? 10_000 }),
      signDigest: async (digest) => {
        if (signer === undefined) {
          try {
            signer = (await load())(key.kmsKeyArn, key);
          } catch (cause) {
            loaded = undefined;
            throw new RemoteSigningError('unavailable', 'The KMS client could not be loaded.', { cause });
          }
        }
        return signer(digest);
      },
    });
  };
}

/** Whether a ring key signs through KMS. */
export function isKmsRingKey(key: RingKey): key is KmsRingKey {
  return key.kmsKeyArn !== undefined && key.publicKey !== undefined;
}

/** The public key of a ring key: the recorded PEM of a KMS key, or the private key's public half. */
export function ringKeyPublicKey(key: RingKey): KeyObject {
  if (key.publicKey !== undefined) return parseVerifyingKey(key.publicKey).publicKey;
  return localSigningKey(key).publicKey;
}

/** The private key of a `secrets-manager` ring key; a KMS key has none here, which this says plainly. */
export function localSigningKey(key: RingKey): SigningKey {
  if (key.privateKey === undefined) {
    throw new Error(
      `Expected a private key in the ring for key ${key.id ?? key.fingerprint}; it signs through KMS (${key.kmsKeyArn ?? 'no ARN recorded'}).`,
    );
  }
  return parseSigningKey(key.privateKey);
}
