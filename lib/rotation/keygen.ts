import { generateKeyPairSync } from 'node:crypto';
import type { KeyAlgorithm } from '../signing/index.ts';

/** A freshly generated key pair, as PEM: PKCS#8 private key, SPKI public key. */
export interface GeneratedKeyPair {
  readonly privateKeyPem: string;
  readonly publicKeyPem: string;
}

/** Makes a key pair of a CloudFront-accepted algorithm; injectable so tests can count or fail it. */
export type GenerateKeyPair = (algorithm: KeyAlgorithm) => GeneratedKeyPair;

/** Generates an ECDSA P-256 or RSA-2048 key pair with node:crypto. */
export const generateKeyPair: GenerateKeyPair = (algorithm) => {
  const pair =
    algorithm === 'ecdsa-p256'
      ? generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
      : generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    privateKeyPem: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: pair.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
};
