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

// ---- an independent model of CloudFront's wildcard matching (docs/design.md, "CloudFront facts Signet relies on") ---------------

/**
 * The glob as a regular expression, for the test side only: `*` any run, `?` one character (not
 * `unmatchable`, when given), anything else literal. Written apart from `globMatches` so that the
 * matcher is not checked against itself.
 */
export function globRegExp(glob: string, flags = '', unmatchable?: string): RegExp {
  const one = unmatchable === undefined ? '[\\s\\S]' : `[^${unmatchable.replace(/[\]\\^-]/g, '\\$&')}]`;
  const body = [...glob]
    .map((char) =>
      char === '*' ? '[\\s\\S]*' : char === '?' ? one : char.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'),
    )
    .join('');
  return new RegExp(`^${body}$`, flags);
}

/**
 * The plain definition of a glob match, by dynamic programming over (pattern, text) positions:
 * quadratic, fine for the small inputs of property tests.
 */
export function simpleGlobMatches(pattern: string, text: string, unmatchable?: string): boolean {
  // row[j]: whether pattern[0..i) matches text[0..j).
  let row = Array.from({ length: text.length + 1 }, (_, j) => j === 0);
  for (const char of pattern) {
    const next = new Array<boolean>(text.length + 1).fill(false);
    next[0] = char === '*' && row[0]!;
    for (let j = 1; j <= text.length; j++) {
      const found = text[j - 1]!;
      if (char === '*') next[j] = row[j]! || next[j - 1]!;
      else if (char === '?') next[j] = row[j - 1]! && found !== unmatchable;
      else next[j] = row[j - 1]! && found === char;
    }
    row = next;
  }
  return row[text.length]!;
}

/**
 * Whether CloudFront lets a policy with Resource `pattern` serve `url`, as Signet reads the current
 * docs: section by section. Scheme (`*` any), host (case-insensitive glob), path (glob, up to the first
 * `?`), query (the pattern's query part as a glob against the URL's query, empty when it has none; with
 * no query part, any query after a path ending in `*`, else no query). `"*"` alone matches everything.
 */
export function cloudFrontMatches(pattern: string, url: string): boolean {
  if (pattern === '*') return true;
  const cut = (text: string) => /^([^:/]+):\/\/([^/?]*)([^?]*)(\?[\s\S]*)?$/.exec(text);
  const p = cut(pattern);
  const u = cut(url);
  if (p === null || u === null) return false;
  const [, pScheme, pHost, pPath, pQuery] = p as unknown as [string, string, string, string, string?];
  const [, uScheme, uHost, uPath, uQuery] = u as unknown as [string, string, string, string, string?];
  if (pScheme !== '*' && pScheme.toLowerCase() !== uScheme.toLowerCase()) return false;
  if (!globRegExp(pHost, 'i').test(uHost)) return false;
  if (!globRegExp(pPath).test(uPath)) return false;
  const urlQuery = uQuery === undefined ? '' : uQuery.slice(1);
  if (pQuery !== undefined) return globRegExp(pQuery.slice(1)).test(urlQuery);
  return pPath.endsWith('*') || urlQuery === '';
}
