import { verify } from 'node:crypto';
import { type CloudfrontSignerAlgorithm, getSignedCookies, getSignedUrl } from '@aws-sdk/cloudfront-signer';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  canonicalUrl,
  type HashAlgorithm,
  parseVerifyingKey,
  signCookies,
  signUrl,
  signUrls,
  verifyRequest,
} from '../../lib/signing/index.ts';
import {
  EXPIRES,
  fromCloudFrontBase64,
  generateEcKey,
  generateRsaKey,
  KEY_ID,
  NOW,
  queryPairs,
  type TestKey,
} from '../support/signing.ts';

// The oracle is @aws-sdk/cloudfront-signer 3.1166.0 (pinned in package.json). It takes `privateKey:
// string | Buffer` in its types, but hands the value to crypto's `sign({ key, passphrase })`, which takes a
// KeyObject as well; the cast says so. It takes `algorithm: 'SHA1' | 'SHA256'` (default SHA1), and with
// SHA256 adds Hash-Algorithm=SHA256 / CloudFront-Hash-Algorithm, so both hashes are compared. Its
// `passphrase` option is for encrypted keys, which Signet refuses, so it is not exercised here.

let rsa: TestKey;
let ec: TestKey;

beforeAll(() => {
  rsa = generateRsaKey();
  ec = generateEcKey();
});

/** Inputs already in canonical (WHATWG) form, which the SDK's own re-encoding leaves as they are. */
const CANONICAL_URLS = [
  'https://d111111abcdef8.cloudfront.net/videos/intro.mp4',
  'https://media.example.com/videos/intro.mp4?quality=720p&lang=en',
  'https://media.example.com/a%20b/c%20d.mp4?x=a%20b',
  'https://media.example.com/%C3%BCn%C3%AF/%C3%A7%C3%B8d%C3%A9.mp4',
  "https://media.example.com/~user/it's/file_(1)!.mp4",
  'https://media.example.com/q.mp4?name=it%27s&t=~',
  'https://media.example.com/f.pdf?response-content-disposition=attachment%3B%20filename%2A%3DUTF-8%27%27na%C3%AFve.pdf',
  'https://media.example.com:8443/videos/intro.mp4',
  'http://media.example.com/plain.txt',
];

const HASHES: [HashAlgorithm, CloudfrontSignerAlgorithm][] = [
  ['sha1', 'SHA1'],
  ['sha256', 'SHA256'],
];

const SIGNING_PARAMETERS = new Set(['Expires', 'Policy', 'Signature', 'Key-Pair-Id', 'Hash-Algorithm']);

/** A signed URL split into its base and its signing parameters by name (order is not part of the contract). */
function split(url: string): { base: string; params: Record<string, string> } {
  const pairs = queryPairs(url);
  const params: Record<string, string> = {};
  for (const [name, value] of pairs) if (SIGNING_PARAMETERS.has(name)) params[name] = value;
  const firstSigning = pairs.findIndex(([name]) => SIGNING_PARAMETERS.has(name));
  const kept = pairs.slice(0, firstSigning).map(([name, value]) => `${name}=${value}`);
  const queryAt = url.indexOf('?');
  const base = kept.length === 0 ? url.slice(0, queryAt) : `${url.slice(0, queryAt)}?${kept.join('&')}`;
  return { base, params };
}

function sdkKey(key: TestKey): string {
  return key.privateKey as unknown as string;
}

describe('byte equality with @aws-sdk/cloudfront-signer, RSA', () => {
  it('the corpus is in canonical form (else the comparison below would not be meaningful)', () => {
    for (const url of CANONICAL_URLS) expect(canonicalUrl(url)).toBe(url);
  });

  for (const [hash, algorithm] of HASHES) {
    it.each(CANONICAL_URLS)(`canned URL, ${hash}: %s`, (url) => {
      const ours = signUrl({ url, keyPairId: KEY_ID, key: rsa.signing, expires: EXPIRES, hash, now: NOW });
      const theirs = getSignedUrl({
        url,
        keyPairId: KEY_ID,
        privateKey: sdkKey(rsa),
        dateLessThan: new Date(EXPIRES * 1000),
        algorithm,
      });
      const a = split(ours.url);
      const b = split(theirs);
      expect(a.base).toBe(url);
      expect(b.base).toBe(url);
      expect(a.params).toEqual(b.params);
      expect(Object.keys(a.params).sort()).toEqual(
        hash === 'sha256'
          ? ['Expires', 'Hash-Algorithm', 'Key-Pair-Id', 'Signature']
          : ['Expires', 'Key-Pair-Id', 'Signature'],
      );
      // The SDK orders Key-Pair-Id before Signature; Signet follows the docs (docs/design.md, "Contracts").
      expect(ours.url).toBe(
        `${url}${url.includes('?') ? '&' : '?'}Expires=${a.params.Expires}&Signature=${a.params.Signature}` +
          `&Key-Pair-Id=${KEY_ID}${hash === 'sha256' ? '&Hash-Algorithm=SHA256' : ''}`,
      );
    });

    it(`custom URL policy (notBefore and IP), ${hash}`, () => {
      for (const url of CANONICAL_URLS) {
        const ours = signUrl({
          url,
          keyPairId: KEY_ID,
          key: rsa.signing,
          expires: EXPIRES,
          notBefore: NOW - 60,
          ipAddress: '203.0.113.0/24',
          hash,
          now: NOW,
        });
        const theirs = getSignedUrl({
          url,
          keyPairId: KEY_ID,
          privateKey: sdkKey(rsa),
          dateLessThan: new Date(EXPIRES * 1000),
          dateGreaterThan: new Date((NOW - 60) * 1000),
          ipAddress: '203.0.113.0/24',
          algorithm,
        });
        const a = split(ours.url);
        const b = split(theirs);
        expect(b.base).toBe(a.base);
        expect(a.params).toEqual(b.params);
        expect(a.params.Policy).toBeDefined();
      }
    });

    it(`custom policy with a bare IP address (the SDK and Signet both add /32), ${hash}`, () => {
      const url = CANONICAL_URLS[0]!;
      const ours = signUrl({
        url,
        keyPairId: KEY_ID,
        key: rsa.signing,
        expires: EXPIRES,
        ipAddress: '198.51.100.7',
        hash,
        now: NOW,
      });
      const theirs = getSignedUrl({
        url,
        keyPairId: KEY_ID,
        privateKey: sdkKey(rsa),
        dateLessThan: new Date(EXPIRES * 1000),
        ipAddress: '198.51.100.7',
        algorithm,
      });
      expect(split(ours.url).params).toEqual(split(theirs).params);
    });

    it(`wildcard resource: the SDK given Signet's policy produces the same Policy and Signature, ${hash}`, () => {
      const resource = 'https://media.example.com/*';
      const urls = CANONICAL_URLS.filter((u) => u.startsWith('https://media.example.com/'));
      const ours = signUrls(urls, {
        resource,
        keyPairId: KEY_ID,
        key: rsa.signing,
        expires: EXPIRES,
        hash,
        now: NOW,
      });
      for (const [i, url] of urls.entries()) {
        const theirs = getSignedUrl({
          url,
          policy: ours[i]!.policy,
          keyPairId: KEY_ID,
          privateKey: sdkKey(rsa),
          algorithm,
        });
        const a = split(ours[i]!.url);
        const b = split(theirs);
        expect(b.base).toBe(a.base);
        expect(a.params).toEqual(b.params);
      }
    });

    it(`canned cookies, ${hash}`, () => {
      const url = CANONICAL_URLS[1]!;
      const ours = signCookies({
        url,
        keyPairId: KEY_ID,
        key: rsa.signing,
        expires: EXPIRES,
        hash,
        now: NOW,
      });
      const theirs = getSignedCookies({
        url,
        keyPairId: KEY_ID,
        privateKey: sdkKey(rsa),
        dateLessThan: new Date(EXPIRES * 1000),
        algorithm,
      });
      const expected: Record<string, string> = {
        'CloudFront-Expires': String(theirs['CloudFront-Expires']),
        'CloudFront-Signature': theirs['CloudFront-Signature'],
        'CloudFront-Key-Pair-Id': theirs['CloudFront-Key-Pair-Id'],
      };
      if (hash === 'sha256') expected['CloudFront-Hash-Algorithm'] = theirs['CloudFront-Hash-Algorithm']!;
      expect(Object.fromEntries(ours.cookies.map((c) => [c.name, c.value]))).toEqual(expected);
    });

    it(`custom cookies for a wildcard resource, ${hash}`, () => {
      const ours = signCookies({
        resource: 'https://media.example.com/videos/*',
        notBefore: NOW,
        keyPairId: KEY_ID,
        key: rsa.signing,
        expires: EXPIRES,
        hash,
        now: NOW,
      });
      const theirs = getSignedCookies({
        policy: ours.policy,
        keyPairId: KEY_ID,
        privateKey: sdkKey(rsa),
        algorithm,
      });
      const expected: Record<string, string> = {
        'CloudFront-Policy': theirs['CloudFront-Policy']!,
        'CloudFront-Signature': theirs['CloudFront-Signature'],
        'CloudFront-Key-Pair-Id': theirs['CloudFront-Key-Pair-Id'],
      };
      if (hash === 'sha256') expected['CloudFront-Hash-Algorithm'] = 'SHA256';
      expect(Object.fromEntries(ours.cookies.map((c) => [c.name, c.value]))).toEqual(expected);
    });
  }
});

describe('agreement with @aws-sdk/cloudfront-signer, ECDSA (randomized signatures: compared by verification)', () => {
  it.each(CANONICAL_URLS)('canned URL, SHA-256: %s', (url) => {
    const ours = signUrl({ url, keyPairId: KEY_ID, key: ec.signing, expires: EXPIRES, now: NOW });
    const theirs = getSignedUrl({
      url,
      keyPairId: KEY_ID,
      privateKey: sdkKey(ec),
      dateLessThan: new Date(EXPIRES * 1000),
      algorithm: 'SHA256',
    });
    const a = split(ours.url);
    const b = split(theirs);
    expect(a.base).toBe(b.base);
    expect(a.params.Expires).toBe(b.params.Expires);
    expect(a.params['Key-Pair-Id']).toBe(b.params['Key-Pair-Id']);
    expect(a.params['Hash-Algorithm']).toBe('SHA256');
    expect(b.params['Hash-Algorithm']).toBe('SHA256');
    const policy = Buffer.from(ours.policy);
    expect(verify('sha256', policy, ec.publicKey, fromCloudFrontBase64(a.params.Signature!))).toBe(true);
    expect(verify('sha256', policy, ec.publicKey, fromCloudFrontBase64(b.params.Signature!))).toBe(true);
    // And our verifier accepts the SDK's URL, as CloudFront would.
    const trustedKeys = new Map([[KEY_ID, parseVerifyingKey(ec.publicPem)]]);
    expect(verifyRequest({ url: theirs, now: NOW, trustedKeys })).toMatchObject({ allowed: true });
  });

  it('custom policy, SHA-256: the same Policy, both signatures verify', () => {
    const url = CANONICAL_URLS[1]!;
    const ours = signUrl({
      url,
      keyPairId: KEY_ID,
      key: ec.signing,
      expires: EXPIRES,
      notBefore: NOW,
      now: NOW,
    });
    const theirs = getSignedUrl({
      url,
      keyPairId: KEY_ID,
      privateKey: sdkKey(ec),
      dateLessThan: new Date(EXPIRES * 1000),
      dateGreaterThan: new Date(NOW * 1000),
      algorithm: 'SHA256',
    });
    const a = split(ours.url);
    const b = split(theirs);
    expect(a.params.Policy).toBe(b.params.Policy);
    const policy = Buffer.from(ours.policy);
    expect(verify('sha256', policy, ec.publicKey, fromCloudFrontBase64(a.params.Signature!))).toBe(true);
    expect(verify('sha256', policy, ec.publicKey, fromCloudFrontBase64(b.params.Signature!))).toBe(true);
  });

  it('the SDK given an EC key and no algorithm signs ECDSA with SHA-1 (which Signet refuses to emit)', () => {
    const url = CANONICAL_URLS[0]!;
    const theirs = getSignedUrl({
      url,
      keyPairId: KEY_ID,
      privateKey: sdkKey(ec),
      dateLessThan: new Date(EXPIRES * 1000),
    });
    const b = split(theirs);
    expect(b.params['Hash-Algorithm']).toBeUndefined();
    const policy = Buffer.from(
      `{"Statement":[{"Resource":"${url}","Condition":{"DateLessThan":{"AWS:EpochTime":${EXPIRES}}}}]}`,
    );
    expect(verify('sha1', policy, ec.publicKey, fromCloudFrontBase64(b.params.Signature!))).toBe(true);
  });
});
