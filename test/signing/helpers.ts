import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { expect } from 'vitest';
import { parseSigningKey, type SigningKey } from '../../lib/signing/index.ts';

/** A fixed clock for every test: 2025-06-15T15:06:40Z. */
export const NOW = 1_750_000_000;
/** One hour after {@link NOW}. */
export const EXPIRES = NOW + 3600;
/** A CloudFront public key id of the usual shape. */
export const KEY_ID = 'K2JCJMDEHXQW5F';

/** A key pair generated for this run, in the forms the tests need. No key material is committed. */
export interface TestKey {
  readonly signing: SigningKey;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** PKCS#8 PEM of the private key. */
  readonly privatePem: string;
  /** SPKI PEM of the public key (what CloudFront holds). */
  readonly publicPem: string;
}

function toTestKey(pair: { privateKey: KeyObject; publicKey: KeyObject }): TestKey {
  const privatePem = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  return {
    signing: parseSigningKey(privatePem),
    privateKey: pair.privateKey,
    publicKey: pair.publicKey,
    privatePem,
    publicPem: pair.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/** A fresh RSA-2048 key. */
export function generateRsaKey(): TestKey {
  return toTestKey(generateKeyPairSync('rsa', { modulusLength: 2048 }));
}

/** A fresh ECDSA P-256 key. */
export function generateEcKey(): TestKey {
  return toTestKey(generateKeyPairSync('ec', { namedCurve: 'P-256' }));
}

/**
 * CloudFront's base64, written here independently of `encodeCloudFrontBase64` so that tests do not
 * check the encoder against itself: standard base64, then `+` → `-`, `=` → `_`, `/` → `~`.
 */
export function cloudFrontBase64(bytes: Buffer | string): string {
  return Buffer.from(bytes).toString('base64').replaceAll('+', '-').replaceAll('=', '_').replaceAll('/', '~');
}

/** Reverses {@link cloudFrontBase64} for well-formed input (test side only). */
export function fromCloudFrontBase64(text: string): Buffer {
  return Buffer.from(text.replaceAll('-', '+').replaceAll('_', '=').replaceAll('~', '/'), 'base64');
}

/** Signs policy bytes with node:crypto and encodes the result as CloudFront does. */
export function signPolicyText(policy: string, key: KeyObject, hash: 'sha1' | 'sha256'): string {
  return cloudFrontBase64(sign(hash, Buffer.from(policy), key));
}

/** The raw (undecoded) query parameters of a URL, in order, as `[name, value]`. */
export function queryPairs(url: string): [string, string][] {
  const queryAt = url.indexOf('?');
  if (queryAt === -1) return [];
  return url
    .slice(queryAt + 1)
    .split('&')
    .map((pair) => {
      const equals = pair.indexOf('=');
      return equals === -1 ? [pair, ''] : [pair.slice(0, equals), pair.slice(equals + 1)];
    });
}

/** The value of the first query parameter with this exact name. */
export function queryValue(url: string, name: string): string | undefined {
  return queryPairs(url).find(([key]) => key === name)?.[1];
}

/** Asserts that `run` throws a SigningError with `code` whose message contains every fragment. */
export function expectRefusal(run: () => unknown, code: string, ...fragments: (string | RegExp)[]): void {
  let thrown: unknown;
  try {
    run();
  } catch (error) {
    thrown = error;
  }
  expect(thrown, `expected ${code} to be thrown`).toEqual(
    expect.objectContaining({ name: 'SigningError', code }),
  );
  const message = (thrown as Error).message;
  for (const fragment of fragments) {
    if (typeof fragment === 'string') expect(message).toContain(fragment);
    else expect(message).toMatch(fragment);
  }
}
