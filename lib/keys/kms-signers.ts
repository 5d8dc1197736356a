import { createPublicKey } from 'node:crypto';
import type { Config } from '../config/index.ts';
import { type DigestSigner, RemoteSigner, RemoteSigningError, SignatureCache } from '../signing/remote.ts';
import { installKmsSigners, type KmsRingKey, type RemoteSignerFactory } from './kms.ts';

// Importing this module enables KMS signing in the process (the API's wiring finds the factory
// through installedKmsSigners): functions/api-kms.ts, the local service and tests import it;
// functions/api.ts, the entry of Secrets Manager-only configs, does not, so its bundle holds no KMS
// client (docs/operators.md, "KMS signing").

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

installKmsSigners((config, options) => kmsSignerFactory(config, options));
