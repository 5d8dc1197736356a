import type { KeyObject } from 'node:crypto';
import type { Config } from '../config/index.ts';
import { parseSigningKey, parseVerifyingKey, type SigningKey } from '../signing/keys.ts';
import type { RemoteSigner } from '../signing/remote.ts';
import type { RingKey } from './ring.ts';

/** A ring key signed by KMS: its ARN and the public key the ring recorded. */
export type KmsRingKey = RingKey & { readonly kmsKeyArn: string; readonly publicKey: string };

/** Builds the signer of one KMS ring key (lib/keys/cache.ts calls it once per active key). */
export type RemoteSignerFactory = (key: KmsRingKey) => RemoteSigner;

/**
 * The factory of KMS signers a process installed (lib/keys/kms-signers.ts installs it when imported):
 * the API's wiring takes it from here, so a Lambda bundle built for a Secrets Manager-only config,
 * which never imports that module, carries no KMS client (docs/operators.md, "KMS signing").
 */
export type KmsSignersInstaller = (
  config: Config,
  options: { readonly now: () => number },
) => RemoteSignerFactory;

let installed: KmsSignersInstaller | undefined;

/** Installs the KMS signer factory (called once by lib/keys/kms-signers.ts). */
export function installKmsSigners(factory: KmsSignersInstaller): void {
  installed = factory;
}

/** The installed KMS signer factory, if any. */
export function installedKmsSigners(): KmsSignersInstaller | undefined {
  return installed;
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
