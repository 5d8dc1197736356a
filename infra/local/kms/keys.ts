import {
  createECDH,
  createHash,
  createPrivateKey,
  createPublicKey,
  constants as cryptoConstants,
  generateKeyPairSync,
  privateEncrypt,
  randomBytes,
} from 'node:crypto';

/** The key specs the stand-in creates: the two CloudFront accepts in a key group. */
export type KeySpec = 'RSA_2048' | 'ECC_NIST_P256';

/** The signing algorithms KMS offers for those specs. */
export const SIGNING_ALGORITHMS: Readonly<Record<KeySpec, readonly string[]>> = {
  RSA_2048: [
    'RSASSA_PKCS1_V1_5_SHA_256',
    'RSASSA_PKCS1_V1_5_SHA_384',
    'RSASSA_PKCS1_V1_5_SHA_512',
    'RSASSA_PSS_SHA_256',
    'RSASSA_PSS_SHA_384',
    'RSASSA_PSS_SHA_512',
  ],
  ECC_NIST_P256: ['ECDSA_SHA_256'],
};

/** The algorithms this stand-in actually signs with (the ones CloudFront verifies). */
export const SUPPORTED_SIGNING: Readonly<Record<KeySpec, string>> = {
  RSA_2048: 'RSASSA_PKCS1_V1_5_SHA_256',
  ECC_NIST_P256: 'ECDSA_SHA_256',
};

/** A fresh key pair for `spec`: the private half as PKCS#8 PEM, the public half as DER SPKI (base64). */
export function generateKey(spec: KeySpec): { privateKeyPem: string; publicKeyDer: string } {
  const pair =
    spec === 'RSA_2048'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return {
    privateKeyPem: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyDer: pair.publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
  };
}

/** The DER SPKI of a stored private key's public half. */
export function publicKeyDerOf(privateKeyPem: string): Buffer {
  return createPublicKey(createPrivateKey(privateKeyPem)).export({ type: 'spki', format: 'der' });
}

/** DigestInfo prefix for SHA-256 (RFC 8017, section 9.2, note 1). */
const SHA256_DIGEST_INFO = Buffer.from('3031300d060960864801650304020105000420', 'hex');

/** P-256's group order. */
const P256_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

/**
 * Signs a SHA-256 digest as KMS does for `algorithm` (the message was hashed already, by the
 * caller for `DIGEST` or by {@link signMessage} for `RAW`): RSASSA-PKCS1-v1_5 or DER ECDSA.
 */
export function signDigest(spec: KeySpec, privateKeyPem: string, digest: Buffer): Buffer {
  if (spec === 'RSA_2048') {
    // PKCS#1 v1.5 type-1 padding over DigestInfo is exactly the RSASSA-PKCS1-v1_5 signature.
    return privateEncrypt(
      { key: privateKeyPem, padding: cryptoConstants.RSA_PKCS1_PADDING },
      Buffer.concat([SHA256_DIGEST_INFO, digest]),
    );
  }
  return ecdsaSignDigest(privateKeyPem, digest);
}

/** Signs a whole message (KMS `RAW`): SHA-256 first, then as {@link signDigest}. */
export function signMessage(spec: KeySpec, privateKeyPem: string, message: Buffer): Buffer {
  return signDigest(spec, privateKeyPem, createHash('sha256').update(message).digest());
}

/**
 * ECDSA over a given digest (Node signs only messages it hashes itself): r = x(kG) mod n,
 * s = k⁻¹(z + r·d) mod n with a fresh random k, DER-encoded as KMS returns it.
 */
function ecdsaSignDigest(privateKeyPem: string, digest: Buffer): Buffer {
  const jwk = createPrivateKey(privateKeyPem).export({ format: 'jwk' });
  const d = toBigInt(Buffer.from(jwk.d!, 'base64url'));
  const z = toBigInt(digest.subarray(0, 32));
  for (;;) {
    const k = toBigInt(randomBytes(32));
    if (k === 0n || k >= P256_N) continue;
    const ecdh = createECDH('prime256v1');
    ecdh.setPrivateKey(toBuffer(k));
    const point = ecdh.getPublicKey(undefined, 'uncompressed');
    const r = toBigInt(point.subarray(1, 33)) % P256_N;
    if (r === 0n) continue;
    const s = (modInverse(k, P256_N) * ((z + r * d) % P256_N)) % P256_N;
    if (s === 0n) continue;
    return derSequence([derInteger(r), derInteger(s)]);
  }
}

function toBigInt(bytes: Buffer): bigint {
  return bytes.length === 0 ? 0n : BigInt(`0x${bytes.toString('hex')}`);
}

function toBuffer(value: bigint): Buffer {
  return Buffer.from(value.toString(16).padStart(64, '0'), 'hex');
}

function modInverse(value: bigint, modulus: bigint): bigint {
  let [a, b, x0, x1] = [value % modulus, modulus, 1n, 0n];
  while (b !== 0n) {
    const q = a / b;
    [a, b] = [b, a - q * b];
    [x0, x1] = [x1, x0 - q * x1];
  }
  return ((x0 % modulus) + modulus) % modulus;
}

function derInteger(value: bigint): Buffer {
  let hex = value.toString(16);
  if (hex.length % 2 === 1) hex = `0${hex}`;
  let bytes = Buffer.from(hex, 'hex');
  if (bytes[0]! & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return Buffer.concat([Buffer.from([0x02, bytes.length]), bytes]);
}

function derSequence(parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  return Buffer.concat([Buffer.from([0x30, body.length]), body]);
}
