import { createPublicKey, type KeyObject } from 'node:crypto';
import { CloudFrontApiError } from './errors.ts';

/** The key types CloudFront accepts for signed URLs and cookies. */
export type PublicKeyAlgorithm = 'RSA-2048' | 'ECDSA-P256';

const EXPECTED =
  'Expected EncodedKey to be an SPKI PEM public key (-----BEGIN PUBLIC KEY-----), RSA 2048 or ECDSA P-256';
const PEM_LABEL = /-----BEGIN ([A-Z0-9 ]+)-----/g;

function invalid(found: string, cause?: unknown): CloudFrontApiError {
  return new CloudFrontApiError(
    'InvalidArgument',
    `${EXPECTED}; found ${found}.`,
    cause === undefined ? {} : { cause },
  );
}

/**
 * Checks an uploaded public key the way CloudFront's key format rules read: exactly one SPKI PEM
 * block holding an RSA 2048 or ECDSA P-256 key. The error names what was found instead, so a
 * PKCS#1 key, a private key or a PEM whose newlines were lost is told apart from a wrong curve.
 */
export function checkPublicKeyPem(pem: string): PublicKeyAlgorithm {
  const labels = [...pem.matchAll(PEM_LABEL)].map((match) => match[1] ?? '');
  if (labels.length === 0) throw invalid('no PEM block');
  if (labels.length > 1) throw invalid(`${labels.length} PEM blocks (${labels.join(', ')})`);
  const label = labels[0] ?? '';
  if (label === 'RSA PUBLIC KEY') throw invalid('a PKCS#1 RSA public key (-----BEGIN RSA PUBLIC KEY-----)');
  if (label.includes('PRIVATE KEY'))
    throw invalid(`a private key (-----BEGIN ${label}-----); upload only the public key`);
  if (label !== 'PUBLIC KEY') throw invalid(`a PEM block labelled "${label}"`);
  const trimmed = pem.trim();
  if (!trimmed.startsWith('-----BEGIN PUBLIC KEY-----') || !trimmed.endsWith('-----END PUBLIC KEY-----')) {
    throw invalid('text before or after the PEM block');
  }
  let key: KeyObject;
  try {
    key = createPublicKey({ key: trimmed, format: 'pem' });
  } catch (cause) {
    throw invalid('a PUBLIC KEY block that does not parse (are its line breaks intact?)', cause);
  }
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'rsa') {
    if (details.modulusLength === 2048) return 'RSA-2048';
    throw invalid(`an RSA-${details.modulusLength ?? '?'} key`);
  }
  if (key.asymmetricKeyType === 'ec') {
    if (details.namedCurve === 'prime256v1') return 'ECDSA-P256';
    throw invalid(`an EC key on curve ${details.namedCurve ?? 'unknown'}`);
  }
  throw invalid(`an ${key.asymmetricKeyType ?? 'unknown'} key`);
}
