import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cannedPolicy,
  decodeCloudFrontBase64,
  type HashAlgorithm,
  type SignedUrl,
  signCookies,
  signUrl,
  stripSigningParameters,
} from '../../lib/signing/index.ts';
import {
  EXPIRES,
  generateEcKey,
  generateRsaKey,
  KEY_ID,
  NOW,
  queryValue,
  type TestKey,
} from '../support/signing.ts';

// An independent verifier: the openssl CLI (on the Debian base image, docs/design.md, "Contracts") checks our signatures
// over the exact policy bytes CloudFront would check them against.

let dir: string;
let rsa: TestKey;
let ec: TestKey;
let counter = 0;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'signet-openssl-'));
  rsa = generateRsaKey();
  ec = generateEcKey();
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Runs `openssl dgst -verify` and returns what it printed, whether it accepted or not. */
function opensslVerify(hash: HashAlgorithm, publicPem: string, signature: Buffer, policy: Buffer): string {
  const n = counter++;
  const pub = join(dir, `pub-${n}.pem`);
  const sig = join(dir, `sig-${n}.bin`);
  const data = join(dir, `policy-${n}.json`);
  writeFileSync(pub, publicPem);
  writeFileSync(sig, signature);
  writeFileSync(data, policy);
  try {
    return execFileSync('openssl', ['dgst', `-${hash}`, '-verify', pub, '-signature', sig, data], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (error) {
    // openssl exits 1 on a bad signature; its verdict is still on stdout.
    const failed = error as { status?: number; stdout?: string };
    return `exit ${failed.status}: ${failed.stdout ?? ''}`;
  }
}

/** The policy bytes as the edge rebuilds or decodes them from the signed URL itself. */
function policyFromUrl(signed: SignedUrl): Buffer {
  const encoded = queryValue(signed.url, 'Policy');
  if (encoded !== undefined) return decodeCloudFrontBase64(encoded)!;
  const expires = Number(queryValue(signed.url, 'Expires'));
  return Buffer.from(cannedPolicy(stripSigningParameters(signed.url), expires));
}

function signatureFromUrl(signed: SignedUrl): Buffer {
  return decodeCloudFrontBase64(queryValue(signed.url, 'Signature')!)!;
}

const CASES: { name: string; key: () => TestKey; hash: HashAlgorithm }[] = [
  { name: 'RSA-2048 SHA-1', key: () => rsa, hash: 'sha1' },
  { name: 'RSA-2048 SHA-256', key: () => rsa, hash: 'sha256' },
  { name: 'ECDSA P-256 SHA-256', key: () => ec, hash: 'sha256' },
];

describe('openssl dgst -verify accepts our signatures', () => {
  it.each(CASES)('canned URL, $name', ({ key, hash }) => {
    const signed = signUrl({
      url: "https://media.example.com/it's/ünï code.mp4?q=a+b&s=it's",
      keyPairId: KEY_ID,
      key: key().signing,
      expires: EXPIRES,
      hash,
      now: NOW,
    });
    const policy = policyFromUrl(signed);
    expect(policy.toString('utf8')).toBe(signed.policy);
    expect(opensslVerify(hash, key().publicPem, signatureFromUrl(signed), policy)).toBe('Verified OK\n');
  });

  it.each(CASES)('custom URL with wildcard, notBefore and IP, $name', ({ key, hash }) => {
    const signed = signUrl({
      url: 'https://media.example.com/videos/intro.mp4',
      resource: 'https://media.example.com/videos/*',
      notBefore: NOW,
      ipAddress: '203.0.113.0/24',
      keyPairId: KEY_ID,
      key: key().signing,
      expires: EXPIRES,
      hash,
      now: NOW,
    });
    const policy = policyFromUrl(signed);
    expect(policy.toString('utf8')).toBe(signed.policy);
    expect(opensslVerify(hash, key().publicPem, signatureFromUrl(signed), policy)).toBe('Verified OK\n');
  });

  it.each(CASES)('custom cookies, $name', ({ key, hash }) => {
    const signed = signCookies({
      resource: '*://media.example.com/*',
      keyPairId: KEY_ID,
      key: key().signing,
      expires: EXPIRES,
      hash,
      now: NOW,
    });
    const cookie = (name: string) => signed.cookies.find((c) => c.name === name)!.value;
    const policy = decodeCloudFrontBase64(cookie('CloudFront-Policy'))!;
    expect(policy.toString('utf8')).toBe(signed.policy);
    const signature = decodeCloudFrontBase64(cookie('CloudFront-Signature'))!;
    expect(opensslVerify(hash, key().publicPem, signature, policy)).toBe('Verified OK\n');
  });
});

describe('openssl dgst -verify rejects what it should', () => {
  it.each(CASES)('a policy tampered after signing, $name', ({ key, hash }) => {
    const signed = signUrl({
      url: 'https://media.example.com/videos/intro.mp4',
      keyPairId: KEY_ID,
      key: key().signing,
      expires: EXPIRES,
      hash,
      now: NOW,
    });
    const tampered = Buffer.from(signed.policy.replace(String(EXPIRES), String(EXPIRES + 86_400)));
    expect(tampered.toString()).not.toBe(signed.policy);
    expect(opensslVerify(hash, key().publicPem, signatureFromUrl(signed), tampered)).toBe(
      'exit 1: Verification failure\n',
    );
  });

  it('an RSA SHA-1 signature checked as SHA-256', () => {
    const signed = signUrl({
      url: 'https://media.example.com/videos/intro.mp4',
      keyPairId: KEY_ID,
      key: rsa.signing,
      expires: EXPIRES,
      now: NOW,
    });
    expect(opensslVerify('sha256', rsa.publicPem, signatureFromUrl(signed), Buffer.from(signed.policy))).toBe(
      'exit 1: Verification failure\n',
    );
  });
});
