import { type KeyObject, sign } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseVerifyingKey, signCookies, signUrl, verifyRequest } from '../../lib/signing/index.ts';
import { generateRsaKey, type TestKey } from '../support/signing.ts';

// Test vectors for awkward URLs (docs/design.md, "CloudFront facts Signet relies on"): each pins the canonical resource
// and the exact policy as literal strings. The key is generated per run, so the signature cannot be a
// literal; RSA PKCS#1 v1.5 is deterministic, so it is computed here with node:crypto and a base64
// mapping written in this file (not Signet's encoder), and the whole signed URL is asserted byte for byte.

const NOW = 1_750_000_000; // 2025-06-15T15:06:40Z
const EXPIRES = 1_750_003_600;
const KEY_ID = 'K2JCJMDEHXQW5F';

let rsa: TestKey;

beforeAll(() => {
  rsa = generateRsaKey();
});

function expectedSignature(policy: string, key: KeyObject, hash: 'sha1' | 'sha256'): string {
  const standard = sign(hash, Buffer.from(policy, 'utf8'), key).toString('base64');
  return [...standard].map((c) => (c === '+' ? '-' : c === '=' ? '_' : c === '/' ? '~' : c)).join('');
}

interface CannedVector {
  readonly name: string;
  readonly input: string;
  readonly resource: string;
  readonly policy: string;
}

const CANNED: CannedVector[] = [
  {
    name: 'spaces in path and query become %20',
    input: 'https://media.example.com/my videos/a b.mp4?title=a b',
    resource: 'https://media.example.com/my%20videos/a%20b.mp4?title=a%20b',
    policy:
      '{"Statement":[{"Resource":"https://media.example.com/my%20videos/a%20b.mp4?title=a%20b","Condition":{"DateLessThan":{"AWS:EpochTime":1750003600}}}]}',
  },
  {
    name: 'a unicode path is percent-encoded UTF-8',
    input: 'https://media.example.com/ünï/çødé.mp4',
    resource: 'https://media.example.com/%C3%BCn%C3%AF/%C3%A7%C3%B8d%C3%A9.mp4',
    policy:
      '{"Statement":[{"Resource":"https://media.example.com/%C3%BCn%C3%AF/%C3%A7%C3%B8d%C3%A9.mp4","Condition":{"DateLessThan":{"AWS:EpochTime":1750003600}}}]}',
  },
  {
    name: '+ in path and query stays +, %2B stays %2B',
    input: 'https://media.example.com/a+b/c+d.mp4?q=a+b&r=c%2Bd',
    resource: 'https://media.example.com/a+b/c+d.mp4?q=a+b&r=c%2Bd',
    policy:
      '{"Statement":[{"Resource":"https://media.example.com/a+b/c+d.mp4?q=a+b&r=c%2Bd","Condition":{"DateLessThan":{"AWS:EpochTime":1750003600}}}]}',
  },
  {
    name: '~ is never encoded',
    input: 'https://media.example.com/~user/x~y.mp4?t=~',
    resource: 'https://media.example.com/~user/x~y.mp4?t=~',
    policy:
      '{"Statement":[{"Resource":"https://media.example.com/~user/x~y.mp4?t=~","Condition":{"DateLessThan":{"AWS:EpochTime":1750003600}}}]}',
  },
  {
    name: "' stays in the path but is %27 in the query of an http(s) URL",
    input: "https://media.example.com/it's/o'k.mp4?name=it's",
    resource: "https://media.example.com/it's/o'k.mp4?name=it%27s",
    policy:
      '{"Statement":[{"Resource":"https://media.example.com/it\'s/o\'k.mp4?name=it%27s","Condition":{"DateLessThan":{"AWS:EpochTime":1750003600}}}]}',
  },
  {
    name: 'a literal * in the path written as %2A',
    input: 'https://media.example.com/a%2Ab.mp4',
    resource: 'https://media.example.com/a%2Ab.mp4',
    policy:
      '{"Statement":[{"Resource":"https://media.example.com/a%2Ab.mp4","Condition":{"DateLessThan":{"AWS:EpochTime":1750003600}}}]}',
  },
  {
    name: '* in the query is an ordinary character',
    input: 'https://media.example.com/search?q=*',
    resource: 'https://media.example.com/search?q=*',
    policy:
      '{"Statement":[{"Resource":"https://media.example.com/search?q=*","Condition":{"DateLessThan":{"AWS:EpochTime":1750003600}}}]}',
  },
  {
    name: '%2F is not decoded into a path separator',
    input: 'https://media.example.com/a%2Fb/c.mp4',
    resource: 'https://media.example.com/a%2Fb/c.mp4',
    policy:
      '{"Statement":[{"Resource":"https://media.example.com/a%2Fb/c.mp4","Condition":{"DateLessThan":{"AWS:EpochTime":1750003600}}}]}',
  },
  {
    name: 'an existing query string keeps its order and repeats',
    input: 'https://media.example.com/v.mp4?b=2&a=1&b=3',
    resource: 'https://media.example.com/v.mp4?b=2&a=1&b=3',
    policy:
      '{"Statement":[{"Resource":"https://media.example.com/v.mp4?b=2&a=1&b=3","Condition":{"DateLessThan":{"AWS:EpochTime":1750003600}}}]}',
  },
  {
    name: "filename*=UTF-8'' in response-content-disposition, as typed",
    input:
      "https://media.example.com/f.pdf?response-content-disposition=attachment; filename*=UTF-8''na%C3%AFve.pdf",
    resource:
      'https://media.example.com/f.pdf?response-content-disposition=attachment;%20filename*=UTF-8%27%27na%C3%AFve.pdf',
    policy:
      '{"Statement":[{"Resource":"https://media.example.com/f.pdf?response-content-disposition=attachment;%20filename*=UTF-8%27%27na%C3%AFve.pdf","Condition":{"DateLessThan":{"AWS:EpochTime":1750003600}}}]}',
  },
  {
    name: "filename*=UTF-8'' in response-content-disposition, fully encoded, is signed unchanged",
    input:
      'https://media.example.com/f.pdf?response-content-disposition=attachment%3B%20filename%2A%3DUTF-8%27%27na%C3%AFve.pdf',
    resource:
      'https://media.example.com/f.pdf?response-content-disposition=attachment%3B%20filename%2A%3DUTF-8%27%27na%C3%AFve.pdf',
    policy:
      '{"Statement":[{"Resource":"https://media.example.com/f.pdf?response-content-disposition=attachment%3B%20filename%2A%3DUTF-8%27%27na%C3%AFve.pdf","Condition":{"DateLessThan":{"AWS:EpochTime":1750003600}}}]}',
  },
  {
    name: 'an IDN host becomes punycode',
    input: 'https://bücher.example/katalog/ü.pdf',
    resource: 'https://xn--bcher-kva.example/katalog/%C3%BC.pdf',
    policy:
      '{"Statement":[{"Resource":"https://xn--bcher-kva.example/katalog/%C3%BC.pdf","Condition":{"DateLessThan":{"AWS:EpochTime":1750003600}}}]}',
  },
  {
    name: 'an uppercase scheme and host are lowercased, the path is not',
    input: 'HTTPS://MEDIA.Example.COM/Path/File.MP4',
    resource: 'https://media.example.com/Path/File.MP4',
    policy:
      '{"Statement":[{"Resource":"https://media.example.com/Path/File.MP4","Condition":{"DateLessThan":{"AWS:EpochTime":1750003600}}}]}',
  },
  {
    name: 'the default https port is removed',
    input: 'https://media.example.com:443/a.mp4',
    resource: 'https://media.example.com/a.mp4',
    policy:
      '{"Statement":[{"Resource":"https://media.example.com/a.mp4","Condition":{"DateLessThan":{"AWS:EpochTime":1750003600}}}]}',
  },
  {
    name: 'the default http port is removed',
    input: 'http://media.example.com:80/a.mp4',
    resource: 'http://media.example.com/a.mp4',
    policy:
      '{"Statement":[{"Resource":"http://media.example.com/a.mp4","Condition":{"DateLessThan":{"AWS:EpochTime":1750003600}}}]}',
  },
  {
    name: 'another port is kept',
    input: 'https://media.example.com:8443/a.mp4',
    resource: 'https://media.example.com:8443/a.mp4',
    policy:
      '{"Statement":[{"Resource":"https://media.example.com:8443/a.mp4","Condition":{"DateLessThan":{"AWS:EpochTime":1750003600}}}]}',
  },
  {
    name: 'a fragment is dropped (never sent)',
    input: 'https://media.example.com/a.mp4#t=10',
    resource: 'https://media.example.com/a.mp4',
    policy:
      '{"Statement":[{"Resource":"https://media.example.com/a.mp4","Condition":{"DateLessThan":{"AWS:EpochTime":1750003600}}}]}',
  },
  {
    name: 'an empty ? is dropped',
    input: 'https://media.example.com/a.mp4?',
    resource: 'https://media.example.com/a.mp4',
    policy:
      '{"Statement":[{"Resource":"https://media.example.com/a.mp4","Condition":{"DateLessThan":{"AWS:EpochTime":1750003600}}}]}',
  },
  {
    name: 'an empty ? followed by a fragment is dropped',
    input: 'https://media.example.com/a.mp4?#x',
    resource: 'https://media.example.com/a.mp4',
    policy:
      '{"Statement":[{"Resource":"https://media.example.com/a.mp4","Condition":{"DateLessThan":{"AWS:EpochTime":1750003600}}}]}',
  },
  {
    name: 'a bare host gets the root path',
    input: 'https://media.example.com',
    resource: 'https://media.example.com/',
    policy:
      '{"Statement":[{"Resource":"https://media.example.com/","Condition":{"DateLessThan":{"AWS:EpochTime":1750003600}}}]}',
  },
  {
    name: 'dot segments are resolved',
    input: 'https://media.example.com/x/../y/./z.mp4',
    resource: 'https://media.example.com/y/z.mp4',
    policy:
      '{"Statement":[{"Resource":"https://media.example.com/y/z.mp4","Condition":{"DateLessThan":{"AWS:EpochTime":1750003600}}}]}',
  },
  {
    name: '" < > are percent-encoded, ` { } | ^ stay in the query',
    input: 'https://media.example.com/a"b<c>?d="<>`{}|^',
    resource: 'https://media.example.com/a%22b%3Cc%3E?d=%22%3C%3E`{}|^',
    policy:
      '{"Statement":[{"Resource":"https://media.example.com/a%22b%3Cc%3E?d=%22%3C%3E`{}|^","Condition":{"DateLessThan":{"AWS:EpochTime":1750003600}}}]}',
  },
  {
    // JSON escapes the backslash, as JSON.stringify in @aws-sdk/cloudfront-signer does too. Whether the
    // edge rebuilds the canned policy with the same escape is UNCONFIRMED; the bytes are pinned here.
    name: 'a backslash: / in an http(s) path, kept in the query and JSON-escaped in the policy',
    input: 'https://media.example.com/a\\b?c=\\',
    resource: 'https://media.example.com/a/b?c=\\',
    policy:
      '{"Statement":[{"Resource":"https://media.example.com/a/b?c=\\\\","Condition":{"DateLessThan":{"AWS:EpochTime":1750003600}}}]}',
  },
];

describe('test vectors: canned policies', () => {
  it.each(CANNED)('$name (RSA SHA-1)', ({ input, resource, policy }) => {
    const signed = signUrl({ url: input, keyPairId: KEY_ID, key: rsa.signing, expires: EXPIRES, now: NOW });
    expect(signed.resource).toBe(resource);
    expect(signed.policy).toBe(policy);
    const separator = resource.includes('?') ? '&' : '?';
    const signature = expectedSignature(policy, rsa.privateKey, 'sha1');
    expect(signed.url).toBe(
      `${resource}${separator}Expires=1750003600&Signature=${signature}&Key-Pair-Id=${KEY_ID}`,
    );
  });

  it.each(CANNED)('$name (RSA SHA-256)', ({ input, resource, policy }) => {
    const signed = signUrl({
      url: input,
      keyPairId: KEY_ID,
      key: rsa.signing,
      expires: EXPIRES,
      hash: 'sha256',
      now: NOW,
    });
    const separator = resource.includes('?') ? '&' : '?';
    const signature = expectedSignature(policy, rsa.privateKey, 'sha256');
    expect(signed.url).toBe(
      `${resource}${separator}Expires=1750003600&Signature=${signature}&Key-Pair-Id=${KEY_ID}&Hash-Algorithm=SHA256`,
    );
  });

  it.each(CANNED)('$name: the signed URL is itself canonical and verifies', ({ input }) => {
    const signed = signUrl({ url: input, keyPairId: KEY_ID, key: rsa.signing, expires: EXPIRES, now: NOW });
    // A browser or fetch sends these exact bytes: serializing the signed URL again changes nothing.
    expect(new URL(signed.url).href).toBe(signed.url);
    const trustedKeys = new Map([[KEY_ID, parseVerifyingKey(rsa.publicPem)]]);
    expect(verifyRequest({ url: signed.url, now: NOW, trustedKeys })).toMatchObject({
      allowed: true,
      policy: signed.policy,
      kind: 'canned',
    });
  });

  it.each(CANNED)('$name: canned cookies carry the same policy', ({ input, policy }) => {
    const signed = signCookies({
      url: input,
      keyPairId: KEY_ID,
      key: rsa.signing,
      expires: EXPIRES,
      now: NOW,
    });
    expect(signed.policy).toBe(policy);
    expect(signed.cookies).toEqual([
      { name: 'CloudFront-Expires', value: '1750003600' },
      { name: 'CloudFront-Signature', value: expectedSignature(policy, rsa.privateKey, 'sha1') },
      { name: 'CloudFront-Key-Pair-Id', value: KEY_ID },
    ]);
  });
});

describe('test vectors: custom policies', () => {
  it('a * in the path as a wildcard, passed as resource', () => {
    const policy =
      '{"Statement":[{"Resource":"https://media.example.com/reports/*","Condition":{"DateLessThan":{"AWS:EpochTime":1750003600}}}]}';
    const encoded =
      'eyJTdGF0ZW1lbnQiOlt7IlJlc291cmNlIjoiaHR0cHM6Ly9tZWRpYS5leGFtcGxlLmNvbS9yZXBvcnRzLyoiLCJDb25kaXRpb24iOnsiRGF0ZUxlc3NUaGFuIjp7IkFXUzpFcG9jaFRpbWUiOjE3NTAwMDM2MDB9fX1dfQ__';
    const signed = signUrl({
      url: 'https://media.example.com/reports/2026/q1 final.pdf',
      resource: 'https://media.example.com/reports/*',
      keyPairId: KEY_ID,
      key: rsa.signing,
      expires: EXPIRES,
      now: NOW,
    });
    expect(signed.resource).toBe('https://media.example.com/reports/2026/q1%20final.pdf');
    expect(signed.policy).toBe(policy);
    expect(signed.url).toBe(
      `https://media.example.com/reports/2026/q1%20final.pdf?Policy=${encoded}` +
        `&Signature=${expectedSignature(policy, rsa.privateKey, 'sha1')}&Key-Pair-Id=${KEY_ID}`,
    );
  });

  it('an IDN host in a wildcard resource with an IP range', () => {
    const policy =
      '{"Statement":[{"Resource":"https://xn--bcher-kva.example/*","Condition":{"DateLessThan":{"AWS:EpochTime":1750003600},"IpAddress":{"AWS:SourceIp":"203.0.113.0/24"}}}]}';
    const encoded =
      'eyJTdGF0ZW1lbnQiOlt7IlJlc291cmNlIjoiaHR0cHM6Ly94bi0tYmNoZXIta3ZhLmV4YW1wbGUvKiIsIkNvbmRpdGlvbiI6eyJEYXRlTGVzc1RoYW4iOnsiQVdTOkVwb2NoVGltZSI6MTc1MDAwMzYwMH0sIklwQWRkcmVzcyI6eyJBV1M6U291cmNlSXAiOiIyMDMuMC4xMTMuMC8yNCJ9fX1dfQ__';
    const signed = signUrl({
      url: 'https://bücher.example/katalog/ü.pdf?seite=2',
      resource: 'https://Bücher.example/*',
      ipAddress: '203.0.113.0/24',
      keyPairId: KEY_ID,
      key: rsa.signing,
      expires: EXPIRES,
      hash: 'sha256',
      now: NOW,
    });
    expect(signed.policy).toBe(policy);
    expect(signed.url).toBe(
      `https://xn--bcher-kva.example/katalog/%C3%BC.pdf?seite=2&Policy=${encoded}` +
        `&Signature=${expectedSignature(policy, rsa.privateKey, 'sha256')}&Key-Pair-Id=${KEY_ID}&Hash-Algorithm=SHA256`,
    );
  });

  it.each([
    ['https://media.example.com/a b/*', 'https://media.example.com/a%20b/*'],
    ['*://Media.Example.com/videos/*', '*://media.example.com/videos/*'],
    ['HTTP://media.example.com/*', 'http://media.example.com/*'],
    ['https://*.example.com/ünï/*', 'https://*.example.com/%C3%BCn%C3%AF/*'],
    ['https://media.example.com/v?.mp4', 'https://media.example.com/v?.mp4'],
  ])('the resource %s is serialized as %s', (resource, expected) => {
    const signed = signCookies({ resource, keyPairId: KEY_ID, key: rsa.signing, expires: EXPIRES, now: NOW });
    expect(signed.resource).toBe(expected);
    expect(signed.policy).toBe(
      `{"Statement":[{"Resource":"${expected}","Condition":{"DateLessThan":{"AWS:EpochTime":1750003600}}}]}`,
    );
  });
});
