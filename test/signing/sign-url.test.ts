import { createHash, sign, verify } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  defaultHashFor,
  describeCookies,
  formatSetCookie,
  parseSigningKey,
  publicKeyPem,
  signCookies,
  signUrl,
  signUrls,
} from '../../lib/signing/index.ts';
import {
  cloudFrontBase64,
  EXPIRES,
  fromCloudFrontBase64,
  generateEcKey,
  generateRsaKey,
  KEY_ID,
  NOW,
  queryPairs,
  queryValue,
  signPolicyText,
  type TestKey,
} from '../support/signing.ts';

let rsa: TestKey;
let ec: TestKey;

beforeAll(() => {
  rsa = generateRsaKey();
  ec = generateEcKey();
});

const URL_PLAIN = 'https://media.example.com/videos/intro.mp4';
const CANNED_PLAIN = `{"Statement":[{"Resource":"${URL_PLAIN}","Condition":{"DateLessThan":{"AWS:EpochTime":${EXPIRES}}}}]}`;

describe('signUrl with a canned policy', () => {
  it('signs one exact URL with only an expiry as a canned policy, RSA with SHA-1 by default', () => {
    const signed = signUrl({
      url: URL_PLAIN,
      keyPairId: KEY_ID,
      key: rsa.signing,
      expires: EXPIRES,
      now: NOW,
    });
    expect(signed.kind).toBe('canned');
    expect(signed.hash).toBe('sha1');
    expect(signed.policy).toBe(CANNED_PLAIN);
    expect(signed.resource).toBe(URL_PLAIN);
    expect(signed.expires).toBe(EXPIRES);
    expect(signed.keyPairId).toBe(KEY_ID);
    // RSA PKCS#1 v1.5 is deterministic, so the whole URL is known byte for byte.
    const signature = signPolicyText(CANNED_PLAIN, rsa.privateKey, 'sha1');
    expect(signed.url).toBe(`${URL_PLAIN}?Expires=${EXPIRES}&Signature=${signature}&Key-Pair-Id=${KEY_ID}`);
    const der = fromCloudFrontBase64(queryValue(signed.url, 'Signature')!);
    expect(verify('sha1', Buffer.from(CANNED_PLAIN), rsa.publicKey, der)).toBe(true);
  });

  it('adds Hash-Algorithm=SHA256 last for RSA with SHA-256', () => {
    const signed = signUrl({
      url: URL_PLAIN,
      keyPairId: KEY_ID,
      key: rsa.signing,
      expires: EXPIRES,
      hash: 'sha256',
      now: NOW,
    });
    expect(signed.hash).toBe('sha256');
    expect(signed.policy).toBe(CANNED_PLAIN);
    const signature = signPolicyText(CANNED_PLAIN, rsa.privateKey, 'sha256');
    expect(signed.url).toBe(
      `${URL_PLAIN}?Expires=${EXPIRES}&Signature=${signature}&Key-Pair-Id=${KEY_ID}&Hash-Algorithm=SHA256`,
    );
    const der = fromCloudFrontBase64(queryValue(signed.url, 'Signature')!);
    expect(verify('sha256', Buffer.from(CANNED_PLAIN), rsa.publicKey, der)).toBe(true);
    expect(verify('sha1', Buffer.from(CANNED_PLAIN), rsa.publicKey, der)).toBe(false);
  });

  it('signs with ECDSA P-256 and SHA-256 by default, a DER signature that verifies over the policy bytes', () => {
    const signed = signUrl({
      url: URL_PLAIN,
      keyPairId: KEY_ID,
      key: ec.signing,
      expires: EXPIRES,
      now: NOW,
    });
    expect(signed.kind).toBe('canned');
    expect(signed.hash).toBe('sha256');
    expect(signed.policy).toBe(CANNED_PLAIN);
    const match =
      /^(.*)\?Expires=(\d+)&Signature=([A-Za-z0-9~_-]+)&Key-Pair-Id=([A-Z0-9]+)&Hash-Algorithm=SHA256$/.exec(
        signed.url,
      );
    expect(match).not.toBeNull();
    expect(match![1]).toBe(URL_PLAIN);
    expect(match![2]).toBe(String(EXPIRES));
    expect(match![4]).toBe(KEY_ID);
    const der = fromCloudFrontBase64(match![3]!);
    // An ASN.1 DER SEQUENCE of two INTEGERs (usually 70 to 72 bytes in all).
    expect(der[0]).toBe(0x30);
    expect(der.length).toBeGreaterThanOrEqual(64);
    expect(der.length).toBeLessThanOrEqual(72);
    expect(verify('sha256', Buffer.from(CANNED_PLAIN), ec.publicKey, der)).toBe(true);
    expect(verify('sha256', Buffer.from(CANNED_PLAIN.replace('intro', 'outro')), ec.publicKey, der)).toBe(
      false,
    );
  });

  it('appends the signing parameters with & after an existing query string, keeping it byte for byte', () => {
    const url = 'https://media.example.com/videos/intro.mp4?quality=720p&lang=en%20GB';
    const signed = signUrl({ url, keyPairId: KEY_ID, key: rsa.signing, expires: EXPIRES, now: NOW });
    const policy = `{"Statement":[{"Resource":"${url}","Condition":{"DateLessThan":{"AWS:EpochTime":${EXPIRES}}}}]}`;
    expect(signed.policy).toBe(policy);
    expect(signed.url).toBe(
      `${url}&Expires=${EXPIRES}&Signature=${signPolicyText(policy, rsa.privateKey, 'sha1')}&Key-Pair-Id=${KEY_ID}`,
    );
    expect(queryPairs(signed.url).map(([name]) => name)).toEqual([
      'quality',
      'lang',
      'Expires',
      'Signature',
      'Key-Pair-Id',
    ]);
  });

  it('signs and returns the canonical (WHATWG) form of the input, without the fragment', () => {
    const signed = signUrl({
      url: 'HTTPS://Media.Example.com:443/videos/../videos/intro.mp4#t=10',
      keyPairId: KEY_ID,
      key: rsa.signing,
      expires: EXPIRES,
      now: NOW,
    });
    expect(signed.resource).toBe(URL_PLAIN);
    expect(signed.policy).toBe(CANNED_PLAIN);
    expect(signed.url.startsWith(`${URL_PLAIN}?Expires=${EXPIRES}&Signature=`)).toBe(true);
  });
});

describe('signUrl with a custom policy', () => {
  it('uses a custom policy for notBefore, with DateGreaterThan after DateLessThan', () => {
    const signed = signUrl({
      url: URL_PLAIN,
      keyPairId: KEY_ID,
      key: rsa.signing,
      expires: EXPIRES,
      notBefore: NOW - 60,
      now: NOW,
    });
    const policy = `{"Statement":[{"Resource":"${URL_PLAIN}","Condition":{"DateLessThan":{"AWS:EpochTime":${EXPIRES}},"DateGreaterThan":{"AWS:EpochTime":${NOW - 60}}}}]}`;
    expect(signed.kind).toBe('custom');
    expect(signed.policy).toBe(policy);
    expect(signed.url).toBe(
      `${URL_PLAIN}?Policy=${cloudFrontBase64(policy)}&Signature=${signPolicyText(policy, rsa.privateKey, 'sha1')}&Key-Pair-Id=${KEY_ID}`,
    );
  });

  it('uses a custom policy for an IP range, normalizing a bare address to /32', () => {
    const signed = signUrl({
      url: URL_PLAIN,
      keyPairId: KEY_ID,
      key: ec.signing,
      expires: EXPIRES,
      ipAddress: '203.0.113.7',
      now: NOW,
    });
    const policy = `{"Statement":[{"Resource":"${URL_PLAIN}","Condition":{"DateLessThan":{"AWS:EpochTime":${EXPIRES}},"IpAddress":{"AWS:SourceIp":"203.0.113.7/32"}}}]}`;
    expect(signed.kind).toBe('custom');
    expect(signed.policy).toBe(policy);
    expect(queryPairs(signed.url).map(([name]) => name)).toEqual([
      'Policy',
      'Signature',
      'Key-Pair-Id',
      'Hash-Algorithm',
    ]);
    expect(queryValue(signed.url, 'Policy')).toBe(cloudFrontBase64(policy));
    const der = fromCloudFrontBase64(queryValue(signed.url, 'Signature')!);
    expect(verify('sha256', Buffer.from(policy), ec.publicKey, der)).toBe(true);
  });

  it('orders all three conditions DateLessThan, DateGreaterThan, IpAddress', () => {
    const signed = signUrl({
      url: URL_PLAIN,
      keyPairId: KEY_ID,
      key: rsa.signing,
      expires: EXPIRES,
      notBefore: NOW,
      ipAddress: '203.0.113.0/24',
      hash: 'sha256',
      now: NOW,
    });
    const policy = `{"Statement":[{"Resource":"${URL_PLAIN}","Condition":{"DateLessThan":{"AWS:EpochTime":${EXPIRES}},"DateGreaterThan":{"AWS:EpochTime":${NOW}},"IpAddress":{"AWS:SourceIp":"203.0.113.0/24"}}}]}`;
    expect(signed.policy).toBe(policy);
    expect(signed.url).toBe(
      `${URL_PLAIN}?Policy=${cloudFrontBase64(policy)}&Signature=${signPolicyText(policy, rsa.privateKey, 'sha256')}` +
        `&Key-Pair-Id=${KEY_ID}&Hash-Algorithm=SHA256`,
    );
  });

  it('uses a custom policy with the wildcard resource as Resource, attached to the canonical URL', () => {
    const url = 'https://media.example.com/videos/intro.mp4?quality=720p';
    const signed = signUrl({
      url,
      resource: 'https://Media.example.com/videos/*',
      keyPairId: KEY_ID,
      key: rsa.signing,
      expires: EXPIRES,
      now: NOW,
    });
    const policy = `{"Statement":[{"Resource":"https://media.example.com/videos/*","Condition":{"DateLessThan":{"AWS:EpochTime":${EXPIRES}}}}]}`;
    expect(signed.kind).toBe('custom');
    expect(signed.resource).toBe(url);
    expect(signed.policy).toBe(policy);
    expect(signed.url).toBe(
      `${url}&Policy=${cloudFrontBase64(policy)}&Signature=${signPolicyText(policy, rsa.privateKey, 'sha1')}&Key-Pair-Id=${KEY_ID}`,
    );
  });
});

describe('signUrls', () => {
  const urls = [
    'https://media.example.com/videos/a.mp4',
    'https://media.example.com/videos/b/c.mp4?x=1',
    'https://media.example.com/videos/d.m3u8',
  ];

  it('with a resource, shares one policy and one signature across the batch', () => {
    // ECDSA signatures are randomized: equal signatures prove a single private-key operation.
    const signed = signUrls(urls, {
      resource: 'https://media.example.com/videos/*',
      keyPairId: KEY_ID,
      key: ec.signing,
      expires: EXPIRES,
      now: NOW,
    });
    expect(signed.map((s) => s.resource)).toEqual(urls);
    const signatures = new Set(signed.map((s) => queryValue(s.url, 'Signature')));
    const policies = new Set(signed.map((s) => queryValue(s.url, 'Policy')));
    expect(signatures.size).toBe(1);
    expect(policies.size).toBe(1);
    const policy = `{"Statement":[{"Resource":"https://media.example.com/videos/*","Condition":{"DateLessThan":{"AWS:EpochTime":${EXPIRES}}}}]}`;
    expect([...policies][0]).toBe(cloudFrontBase64(policy));
    const der = fromCloudFrontBase64([...signatures][0]!);
    expect(verify('sha256', Buffer.from(policy), ec.publicKey, der)).toBe(true);
    expect(signed[1]!.url.startsWith(`${urls[1]}&Policy=`)).toBe(true);
    expect(signed[0]!.url.startsWith(`${urls[0]}?Policy=`)).toBe(true);
  });

  it('without a resource, signs each URL with its own canned policy', () => {
    const signed = signUrls(urls, { keyPairId: KEY_ID, key: rsa.signing, expires: EXPIRES, now: NOW });
    signed.forEach((s, i) => {
      const policy = `{"Statement":[{"Resource":"${urls[i]}","Condition":{"DateLessThan":{"AWS:EpochTime":${EXPIRES}}}}]}`;
      expect(s.kind).toBe('canned');
      expect(s.policy).toBe(policy);
      expect(queryValue(s.url, 'Signature')).toBe(signPolicyText(policy, rsa.privateKey, 'sha1'));
    });
  });

  it('refuses the whole batch when one URL falls outside the resource', () => {
    expect(() =>
      signUrls([...urls, 'https://media.example.com/private/x.mp4'], {
        resource: 'https://media.example.com/videos/*',
        keyPairId: KEY_ID,
        key: rsa.signing,
        expires: EXPIRES,
        now: NOW,
      }),
    ).toThrow(expect.objectContaining({ code: 'ERR_URL_OUTSIDE_RESOURCE' }));
  });
});

describe('signing keys', () => {
  it('defaults the hash to sha256 for ECDSA and sha1 for RSA', () => {
    expect(defaultHashFor('ecdsa-p256')).toBe('sha256');
    expect(defaultHashFor('rsa-2048')).toBe('sha1');
    expect(rsa.signing.algorithm).toBe('rsa-2048');
    expect(ec.signing.algorithm).toBe('ecdsa-p256');
  });

  it('accepts PKCS#8 and PKCS#1 RSA PEMs, and PEMs whose newlines arrived as literal \\n', () => {
    const pkcs1 = rsa.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
    expect(pkcs1).toContain('-----BEGIN RSA PRIVATE KEY-----');
    expect(rsa.privatePem).toContain('-----BEGIN PRIVATE KEY-----');
    // As pasted into a JSON string: every newline is the two characters backslash and n.
    const escaped = JSON.stringify(pkcs1).slice(1, -1);
    expect(escaped).toContain('\\n');
    expect(escaped).not.toContain('\n');
    const policy = CANNED_PLAIN;
    const expected = signPolicyText(policy, rsa.privateKey, 'sha1');
    for (const pem of [rsa.privatePem, pkcs1, escaped, Buffer.from(pkcs1)]) {
      const key = parseSigningKey(pem);
      expect(key.algorithm).toBe('rsa-2048');
      expect(key.fingerprint).toBe(rsa.signing.fingerprint);
      const signed = signUrl({ url: URL_PLAIN, keyPairId: KEY_ID, key, expires: EXPIRES, now: NOW });
      expect(queryValue(signed.url, 'Signature')).toBe(expected);
    }
  });

  it('accepts PKCS#8 and SEC1 EC PEMs', () => {
    const sec1 = ec.privateKey.export({ type: 'sec1', format: 'pem' }).toString();
    expect(sec1).toContain('-----BEGIN EC PRIVATE KEY-----');
    for (const pem of [ec.privatePem, sec1, JSON.stringify(ec.privatePem).slice(1, -1)]) {
      const key = parseSigningKey(pem);
      expect(key.algorithm).toBe('ecdsa-p256');
      expect(key.fingerprint).toBe(ec.signing.fingerprint);
      const signed = signUrl({ url: URL_PLAIN, keyPairId: KEY_ID, key, expires: EXPIRES, now: NOW });
      const der = fromCloudFrontBase64(queryValue(signed.url, 'Signature')!);
      expect(verify('sha256', Buffer.from(CANNED_PLAIN), ec.publicKey, der)).toBe(true);
    }
  });

  it('fingerprints keys as sha256: + base64url of the DER SPKI, and exports the SPKI PEM', () => {
    const der = rsa.publicKey.export({ type: 'spki', format: 'der' });
    const expected = `sha256:${createHash('sha256').update(der).digest('base64').replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '')}`;
    expect(rsa.signing.fingerprint).toBe(expected);
    expect(publicKeyPem(rsa.signing.publicKey)).toBe(rsa.publicPem);
    // The parsed key really is the private half of that public key.
    const probe = Buffer.from('probe');
    expect(verify('sha256', probe, rsa.publicKey, sign('sha256', probe, rsa.signing.privateKey))).toBe(true);
  });
});

describe('signCookies', () => {
  it('signs canned cookies for one exact URL with only an expiry', () => {
    const signed = signCookies({
      url: URL_PLAIN,
      keyPairId: KEY_ID,
      key: rsa.signing,
      expires: EXPIRES,
      now: NOW,
    });
    expect(signed.kind).toBe('canned');
    expect(signed.policy).toBe(CANNED_PLAIN);
    expect(signed.cookies).toEqual([
      { name: 'CloudFront-Expires', value: String(EXPIRES) },
      { name: 'CloudFront-Signature', value: signPolicyText(CANNED_PLAIN, rsa.privateKey, 'sha1') },
      { name: 'CloudFront-Key-Pair-Id', value: KEY_ID },
    ]);
  });

  it('signs custom cookies for a wildcard resource, with CloudFront-Hash-Algorithm for SHA-256', () => {
    const signed = signCookies({
      resource: 'https://media.example.com/videos/*',
      keyPairId: KEY_ID,
      key: ec.signing,
      expires: EXPIRES,
      now: NOW,
    });
    const policy = `{"Statement":[{"Resource":"https://media.example.com/videos/*","Condition":{"DateLessThan":{"AWS:EpochTime":${EXPIRES}}}}]}`;
    expect(signed.kind).toBe('custom');
    expect(signed.policy).toBe(policy);
    expect(signed.cookies.map((c) => c.name)).toEqual([
      'CloudFront-Policy',
      'CloudFront-Signature',
      'CloudFront-Key-Pair-Id',
      'CloudFront-Hash-Algorithm',
    ]);
    expect(signed.cookies[0]!.value).toBe(cloudFrontBase64(policy));
    expect(signed.cookies[3]!.value).toBe('SHA256');
    const der = fromCloudFrontBase64(signed.cookies[1]!.value);
    expect(verify('sha256', Buffer.from(policy), ec.publicKey, der)).toBe(true);
  });

  it('uses a custom policy for one URL with an IP range', () => {
    const signed = signCookies({
      url: URL_PLAIN,
      ipAddress: '198.51.100.0/24',
      keyPairId: KEY_ID,
      key: rsa.signing,
      expires: EXPIRES,
      now: NOW,
    });
    expect(signed.kind).toBe('custom');
    expect(signed.policy).toBe(
      `{"Statement":[{"Resource":"${URL_PLAIN}","Condition":{"DateLessThan":{"AWS:EpochTime":${EXPIRES}},"IpAddress":{"AWS:SourceIp":"198.51.100.0/24"}}}]}`,
    );
  });

  it('formats Set-Cookie headers with Secure; HttpOnly always set', () => {
    const signed = signCookies({
      url: URL_PLAIN,
      keyPairId: KEY_ID,
      key: rsa.signing,
      expires: EXPIRES,
      now: NOW,
    });
    const described = describeCookies(signed.cookies, {
      domain: 'Example.com',
      path: '/videos/',
      sameSite: 'None',
    });
    expect(described.map(formatSetCookie)).toEqual([
      `CloudFront-Expires=${EXPIRES}; Domain=example.com; Path=/videos/; Secure; HttpOnly; SameSite=None`,
      `CloudFront-Signature=${signed.cookies[1]!.value}; Domain=example.com; Path=/videos/; Secure; HttpOnly; SameSite=None`,
      `CloudFront-Key-Pair-Id=${KEY_ID}; Domain=example.com; Path=/videos/; Secure; HttpOnly; SameSite=None`,
    ]);
    expect(formatSetCookie(describeCookies(signed.cookies, {})[2]!)).toBe(
      `CloudFront-Key-Pair-Id=${KEY_ID}; Path=/; Secure; HttpOnly; SameSite=Lax`,
    );
  });
});
