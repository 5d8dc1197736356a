import { createHash, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { SigningError } from './errors.ts';

/** The key types CloudFront accepts in a key group. */
export type KeyAlgorithm = 'rsa-2048' | 'ecdsa-p256';

/** The digest the signature is computed over. `sha256` adds `Hash-Algorithm=SHA256` to the URL. */
export type HashAlgorithm = 'sha1' | 'sha256';

/** A private key parsed once (parsing costs more than signing), ready to sign with. */
export interface SigningKey {
  readonly algorithm: KeyAlgorithm;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** `sha256:` + base64url SHA-256 of the public key's DER SPKI (docs/design.md, "Contracts"). */
  readonly fingerprint: string;
}

/** A public key CloudFront would hold in a key group. */
export interface VerifyingKey {
  readonly algorithm: KeyAlgorithm;
  readonly publicKey: KeyObject;
  readonly fingerprint: string;
}

/**
 * Parses a private key PEM (PKCS#8 or PKCS#1/SEC1) into a {@link SigningKey}. Refuses encrypted
 * PEMs, public keys, and key types CloudFront would not accept, naming what was found.
 *
 * PEMs pasted into JSON often arrive with their newlines as the two characters `\n`; those are
 * restored first, since no valid PEM contains a backslash.
 */
export function parseSigningKey(pem: string | Buffer): SigningKey {
  const text = normalisePem(pem);
  if (/-----BEGIN (RSA |EC )?PUBLIC KEY-----/.test(text) || /-----BEGIN CERTIFICATE-----/.test(text)) {
    throw new SigningError(
      'ERR_PUBLIC_KEY_NOT_PRIVATE',
      'Expected a private key PEM (-----BEGIN PRIVATE KEY-----); got a public key or certificate. ' +
        'The private key stays with the signer; the public key goes to CloudFront.',
    );
  }
  if (/-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(text)) {
    throw new SigningError(
      'ERR_ENCRYPTED_KEY',
      'Expected an unencrypted private key PEM; got an encrypted one. Decrypt it first, for example with ' +
        '`openssl pkey -in key.pem -out plain.pem`.',
    );
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key: text, format: 'pem' });
  } catch (cause) {
    throw new SigningError(
      'ERR_INVALID_KEY',
      'Expected a PEM private key (PKCS#8 "BEGIN PRIVATE KEY" or PKCS#1 "BEGIN RSA PRIVATE KEY"); ' +
        `got ${describePem(text)} that could not be parsed.`,
      { cause },
    );
  }
  const algorithm = keyAlgorithmOf(privateKey);
  const publicKey = createPublicKey(privateKey);
  return Object.freeze({ algorithm, privateKey, publicKey, fingerprint: fingerprintOf(publicKey) });
}

/** Parses an SPKI public key PEM (as CloudFront stores it) into a {@link VerifyingKey}. */
export function parseVerifyingKey(pem: string | Buffer): VerifyingKey {
  const text = normalisePem(pem);
  // Checked on the text: createPublicKey would quietly derive the public half of a private key.
  if (/-----BEGIN (RSA |EC |ENCRYPTED )?PRIVATE KEY-----/.test(text)) {
    throw new SigningError(
      'ERR_INVALID_KEY',
      'Expected a public key PEM; got a private key. Share only the public key.',
    );
  }
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey({ key: text, format: 'pem' });
  } catch (cause) {
    throw new SigningError(
      'ERR_INVALID_KEY',
      `Expected an SPKI public key PEM ("-----BEGIN PUBLIC KEY-----"); got ${describePem(text)} that could not be parsed.`,
      { cause },
    );
  }
  return Object.freeze({
    algorithm: keyAlgorithmOf(publicKey),
    publicKey,
    fingerprint: fingerprintOf(publicKey),
  });
}

/** `sha256:` + base64url (no padding) of SHA-256 over the key's DER SPKI. */
export function fingerprintOf(publicKey: KeyObject): string {
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return `sha256:${createHash('sha256').update(der).digest('base64url')}`;
}

/** The SPKI PEM of a key, the form CloudFront's CreatePublicKey takes. */
export function publicKeyPem(publicKey: KeyObject): string {
  return publicKey.export({ type: 'spki', format: 'pem' }).toString();
}

/** The hash a key signs with when none is asked for: SHA-256 for ECDSA, SHA-1 (classic) for RSA. */
export function defaultHashFor(algorithm: KeyAlgorithm): HashAlgorithm {
  return algorithm === 'ecdsa-p256' ? 'sha256' : 'sha1';
}

function keyAlgorithmOf(key: KeyObject): KeyAlgorithm {
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'rsa') {
    if (details.modulusLength === 2048) return 'rsa-2048';
    throw new SigningError(
      'ERR_UNSUPPORTED_KEY',
      `Expected an RSA-2048 or ECDSA P-256 key; got RSA-${details.modulusLength}. CloudFront accepts only 2048-bit RSA keys.`,
    );
  }
  if (key.asymmetricKeyType === 'ec') {
    if (details.namedCurve === 'prime256v1') return 'ecdsa-p256';
    throw new SigningError(
      'ERR_UNSUPPORTED_KEY',
      `Expected an RSA-2048 or ECDSA P-256 key; got an EC key on curve ${details.namedCurve}. CloudFront accepts only P-256 (prime256v1).`,
    );
  }
  throw new SigningError(
    'ERR_UNSUPPORTED_KEY',
    `Expected an RSA-2048 or ECDSA P-256 key; got a ${key.asymmetricKeyType} key.`,
  );
}

/** Names what a PEM claims to be (its first BEGIN label), never its content: messages must not leak keys. */
function describePem(text: string): string {
  const label = /-----BEGIN ([A-Z0-9 ]{1,40})-----/.exec(text)?.[1];
  return label === undefined ? `${text.length} characters without a PEM header` : `a "${label}" PEM`;
}

function normalisePem(pem: string | Buffer): string {
  const text = typeof pem === 'string' ? pem : pem.toString('utf8');
  return text.includes('\\n') ? text.replace(/\\n/g, '\n') : text;
}
