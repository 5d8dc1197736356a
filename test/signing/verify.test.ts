import { beforeAll, describe, expect, it } from 'vitest';
import {
  DENIAL_MESSAGES,
  type DenialCode,
  decodePolicy,
  parseVerifyingKey,
  signCookies,
  signUrl,
  type Verdict,
  type VerifyingKey,
  verifyRequest,
} from '../../lib/signing/index.ts';
import {
  cloudFrontBase64,
  EXPIRES,
  fromCloudFrontBase64,
  generateEcKey,
  generateRsaKey,
  KEY_ID,
  NOW,
  queryValue,
  signPolicyText,
  type TestKey,
} from '../support/signing.ts';

let rsa: TestKey;
let ec: TestKey;
let stranger: TestKey;
let trustedKeys: Map<string, VerifyingKey>;

const RSA_ID = 'K3RSAKEY00000A';

beforeAll(() => {
  rsa = generateRsaKey();
  ec = generateEcKey();
  stranger = generateEcKey();
  trustedKeys = new Map([
    [KEY_ID, parseVerifyingKey(ec.publicPem)],
    [RSA_ID, parseVerifyingKey(rsa.publicPem)],
  ]);
});

const URL_PLAIN = 'https://media.example.com/videos/intro.mp4';

function check(url: string, more: { cookie?: string; clientIp?: string; now?: number } = {}): Verdict {
  return verifyRequest({ url, now: NOW, trustedKeys, ...more });
}

function expectDenied(verdict: Verdict, code: DenialCode, reason: string | RegExp): void {
  expect(verdict.allowed).toBe(false);
  if (verdict.allowed) return;
  expect(verdict.code).toBe(code);
  expect(verdict.message).toBe(DENIAL_MESSAGES[code]);
  if (typeof reason === 'string') expect(verdict.reason).toBe(reason);
  else expect(verdict.reason).toMatch(reason);
}

function canned(url = URL_PLAIN): string {
  return signUrl({ url, keyPairId: KEY_ID, key: ec.signing, expires: EXPIRES, now: NOW }).url;
}

/** A URL carrying any policy text, signed with node:crypto directly (so malformed policies can be signed). */
function withPolicy(
  url: string,
  policy: string,
  { key = ec, keyId = KEY_ID, hash = 'sha256' as 'sha1' | 'sha256' } = {},
): string {
  const separator = url.includes('?') ? '&' : '?';
  const tail = hash === 'sha256' ? '&Hash-Algorithm=SHA256' : '';
  return `${url}${separator}Policy=${cloudFrontBase64(policy)}&Signature=${signPolicyText(policy, key.privateKey, hash)}&Key-Pair-Id=${keyId}${tail}`;
}

function policyFor(
  resource: string,
  condition: string = `"DateLessThan":{"AWS:EpochTime":${EXPIRES}}`,
): string {
  return `{"Statement":[{"Resource":"${resource}","Condition":{${condition}}}]}`;
}

describe('verifyRequest: allowed', () => {
  it('allows a canned URL signed with a trusted key, explaining how long it has left', () => {
    const url = canned();
    const verdict = check(url);
    expect(verdict).toEqual({
      allowed: true,
      via: 'url',
      keyPairId: KEY_ID,
      resource: URL_PLAIN,
      policy: `{"Statement":[{"Resource":"${URL_PLAIN}","Condition":{"DateLessThan":{"AWS:EpochTime":${EXPIRES}}}}]}`,
      kind: 'canned',
      hash: 'sha256',
      expires: EXPIRES,
      reason: `signed by key ${KEY_ID} via the URL; expires in 60 minutes (at 2025-06-15T16:06:40Z)`,
    });
  });

  it('allows RSA SHA-1 (no Hash-Algorithm) and RSA SHA-256', () => {
    for (const hash of ['sha1', 'sha256'] as const) {
      const { url } = signUrl({
        url: URL_PLAIN,
        keyPairId: RSA_ID,
        key: rsa.signing,
        expires: EXPIRES,
        hash,
        now: NOW,
      });
      expect(check(url)).toMatchObject({ allowed: true, hash, keyPairId: RSA_ID });
    }
  });

  it('takes trusted keys as KeyObjects too', () => {
    const verdict = verifyRequest({
      url: canned(),
      now: NOW,
      trustedKeys: new Map([[KEY_ID, ec.publicKey]]),
    });
    expect(verdict.allowed).toBe(true);
  });

  it('accepts Statement as an object (the signed-URL docs since 2023) as well as an array', () => {
    const policy = `{"Statement":{"Resource":"${URL_PLAIN}","Condition":{"DateLessThan":{"AWS:EpochTime":${EXPIRES}}}}}`;
    expect(check(withPolicy(URL_PLAIN, policy))).toMatchObject({ allowed: true, kind: 'custom', policy });
  });

  it('allows a policy without Resource for any URL (CloudFront reads it as every object; Signet never emits it)', () => {
    const policy = `{"Statement":[{"Condition":{"DateLessThan":{"AWS:EpochTime":${EXPIRES}}}}]}`;
    expect(check(withPolicy('https://other.example.net/x', policy)).allowed).toBe(true);
  });

  it('ignores a fragment on the request URL', () => {
    expect(check(`${canned()}#t=10`).allowed).toBe(true);
  });

  it('decodes a Policy parameter for display', () => {
    const { url, policy } = signUrl({
      url: URL_PLAIN,
      notBefore: NOW,
      keyPairId: KEY_ID,
      key: ec.signing,
      expires: EXPIRES,
      now: NOW,
    });
    expect(decodePolicy(queryValue(url, 'Policy')!)).toBe(policy);
    expect(decodePolicy('not base64!')).toBeUndefined();
  });
});

describe('verifyRequest: MissingKey', () => {
  it('when the request carries no signature at all', () => {
    expectDenied(
      check(URL_PLAIN),
      'MissingKey',
      'the request carries neither signed URL parameters nor CloudFront cookies',
    );
    expect(check(URL_PLAIN, { cookie: 'session=abc; theme=dark' })).toMatchObject({
      via: 'none',
      allowed: false,
    });
  });

  it('when Key-Pair-Id is empty', () => {
    const url = canned().replace(`Key-Pair-Id=${KEY_ID}`, 'Key-Pair-Id=');
    expectDenied(check(url), 'MissingKey', 'the Key-Pair-Id query parameter is missing or empty');
  });

  it('when Key-Pair-Id is absent', () => {
    const url = canned().replace(`&Key-Pair-Id=${KEY_ID}`, '');
    expectDenied(check(url), 'MissingKey', 'the Key-Pair-Id query parameter is missing or empty');
  });

  it('when the CloudFront-Key-Pair-Id cookie is absent', () => {
    const { cookies } = signCookies({
      url: URL_PLAIN,
      keyPairId: KEY_ID,
      key: ec.signing,
      expires: EXPIRES,
      now: NOW,
    });
    const header = cookies
      .filter((c) => c.name !== 'CloudFront-Key-Pair-Id')
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
    expectDenied(
      check(URL_PLAIN, { cookie: header }),
      'MissingKey',
      'the CloudFront-Key-Pair-Id cookie is missing or empty',
    );
  });
});

describe('verifyRequest: InvalidKey', () => {
  it('when the key id is not trusted', () => {
    const url = canned().replace(`Key-Pair-Id=${KEY_ID}`, 'Key-Pair-Id=KUNKNOWNKEY123');
    expectDenied(
      check(url),
      'InvalidKey',
      'key KUNKNOWNKEY123 is not in any key group this distribution trusts',
    );
  });

  it('when a key group id was used as the key pair id', () => {
    const keyGroupId = '3f1c2b7e-9a4d-4c1e-8b2a-5d6e7f8a9b0c';
    const url = canned().replace(`Key-Pair-Id=${KEY_ID}`, `Key-Pair-Id=${keyGroupId}`);
    expectDenied(
      check(url),
      'InvalidKey',
      `key ${keyGroupId} is not in any key group this distribution trusts`,
    );
  });
});

describe('verifyRequest: MalformedSignature', () => {
  it('when the Signature is not CloudFront base64', () => {
    const url = canned().replace(/Signature=[^&]+/, 'Signature=not*base64!');
    expectDenied(check(url), 'MalformedSignature', 'the Signature is not CloudFront base64');
  });

  it('when the Signature has an impossible base64 length', () => {
    const url = canned().replace(/Signature=[^&]+/, 'Signature=AAAAA');
    expectDenied(check(url), 'MalformedSignature', 'the Signature is not CloudFront base64');
  });

  it('when the Signature is empty or absent', () => {
    expectDenied(
      check(canned().replace(/Signature=[^&]+/, 'Signature=')),
      'MalformedSignature',
      'the Signature is not CloudFront base64',
    );
    expectDenied(
      check(canned().replace(/&Signature=[^&]+/, '')),
      'MalformedSignature',
      'there is no Signature',
    );
  });
});

describe('verifyRequest: MalformedPolicy', () => {
  it('when the Policy is not CloudFront base64', () => {
    const url = withPolicy(URL_PLAIN, policyFor(URL_PLAIN)).replace(/Policy=[^&]+/, 'Policy=%7B%22');
    expectDenied(check(url), 'MalformedPolicy', 'the Policy is not CloudFront base64');
  });

  it('when the Policy is not JSON (even if the signature over it is good)', () => {
    expectDenied(check(withPolicy(URL_PLAIN, 'Statement: []')), 'MalformedPolicy', 'the policy is not JSON');
  });

  it('when the Policy is JSON but not an object', () => {
    expectDenied(check(withPolicy(URL_PLAIN, '[1,2]')), 'MalformedPolicy', 'the policy is not a JSON object');
  });

  it('when the Condition has no DateLessThan', () => {
    const policy = policyFor(URL_PLAIN, `"DateGreaterThan":{"AWS:EpochTime":${NOW - 60}}`);
    expectDenied(
      check(withPolicy(URL_PLAIN, policy)),
      'MalformedPolicy',
      'the Condition needs DateLessThan {"AWS:EpochTime": <whole epoch seconds>}',
    );
  });

  it('when DateLessThan is a string or a fraction', () => {
    for (const value of [`"${EXPIRES}"`, `${EXPIRES}.5`]) {
      const policy = policyFor(URL_PLAIN, `"DateLessThan":{"AWS:EpochTime":${value}}`);
      expectDenied(check(withPolicy(URL_PLAIN, policy)), 'MalformedPolicy', /DateLessThan/);
    }
  });

  it('when the policy has two statements, or none', () => {
    const statement = `{"Resource":"${URL_PLAIN}","Condition":{"DateLessThan":{"AWS:EpochTime":${EXPIRES}}}}`;
    expectDenied(
      check(withPolicy(URL_PLAIN, `{"Statement":[${statement},${statement}]}`)),
      'MalformedPolicy',
      'the policy must have exactly one Statement',
    );
    expectDenied(
      check(withPolicy(URL_PLAIN, '{"Statement":[]}')),
      'MalformedPolicy',
      'the policy must have exactly one Statement',
    );
    expectDenied(
      check(withPolicy(URL_PLAIN, '{"Version":"2012"}')),
      'MalformedPolicy',
      'the policy must have exactly one Statement',
    );
  });

  it('when there is no Condition, or a malformed DateGreaterThan or IpAddress', () => {
    expectDenied(
      check(withPolicy(URL_PLAIN, `{"Statement":[{"Resource":"${URL_PLAIN}"}]}`)),
      'MalformedPolicy',
      'the Statement has no Condition',
    );
    const base = `"DateLessThan":{"AWS:EpochTime":${EXPIRES}}`;
    expectDenied(
      check(
        withPolicy(URL_PLAIN, policyFor(URL_PLAIN, `${base},"DateGreaterThan":{"AWS:EpochTime":"soon"}`)),
      ),
      'MalformedPolicy',
      'DateGreaterThan must be {"AWS:EpochTime": <whole epoch seconds>}',
    );
    expectDenied(
      check(withPolicy(URL_PLAIN, policyFor(URL_PLAIN, `${base},"IpAddress":"203.0.113.0/24"`))),
      'MalformedPolicy',
      'IpAddress must be {"AWS:SourceIp": "<IPv4 CIDR>"}',
    );
    expectDenied(
      check(withPolicy(URL_PLAIN, `{"Statement":[{"Resource":42,"Condition":{${base}}}]}`)),
      'MalformedPolicy',
      'the Statement Resource must be a string',
    );
  });

  it('when Expires is not whole epoch seconds', () => {
    const url = canned().replace(`Expires=${EXPIRES}`, 'Expires=1e10');
    expectDenied(check(url), 'MalformedPolicy', 'Expires must be whole epoch seconds; got "1e10"');
  });

  it('when there is neither an Expires nor a Policy', () => {
    const url = canned().replace(`Expires=${EXPIRES}&`, '');
    expectDenied(check(url), 'MalformedPolicy', 'there is neither an Expires nor a Policy');
  });
});

describe('verifyRequest: AccessDenied', () => {
  it('when expired, saying how long ago', () => {
    const verdict = check(canned(), { now: EXPIRES + 12 * 60 });
    expectDenied(verdict, 'AccessDenied', 'expired 12 minutes ago (at 2025-06-15T16:06:40Z)');
    expect(verdict).toMatchObject({ expires: EXPIRES, kind: 'canned', hash: 'sha256' });
  });

  it('at the very second of expiry (DateLessThan is strict; the edge boundary is UNCONFIRMED)', () => {
    expectDenied(
      check(canned(), { now: EXPIRES }),
      'AccessDenied',
      'expired 0 seconds ago (at 2025-06-15T16:06:40Z)',
    );
    expect(check(canned(), { now: EXPIRES - 1 }).allowed).toBe(true);
  });

  it('when not yet valid, saying for how long', () => {
    const { url } = signUrl({
      url: URL_PLAIN,
      notBefore: NOW + 1800,
      keyPairId: KEY_ID,
      key: ec.signing,
      expires: EXPIRES,
      now: NOW,
    });
    expectDenied(check(url), 'AccessDenied', 'not valid until 2025-06-15T15:36:40Z (in 30 minutes)');
    expectDenied(check(url, { now: NOW + 1800 }), 'AccessDenied', /^not valid until/);
    expect(check(url, { now: NOW + 1801 }).allowed).toBe(true);
  });

  it('when the IP is not in the range', () => {
    const { url } = signUrl({
      url: URL_PLAIN,
      ipAddress: '203.0.113.0/24',
      keyPairId: KEY_ID,
      key: ec.signing,
      expires: EXPIRES,
      now: NOW,
    });
    expectDenied(
      check(url, { clientIp: '198.51.100.7' }),
      'AccessDenied',
      'IP 198.51.100.7 not in 203.0.113.0/24',
    );
    expectDenied(
      check(url),
      'AccessDenied',
      'the policy requires an IP in 203.0.113.0/24 and no client IP was given',
    );
    expect(check(url, { clientIp: '203.0.113.200' }).allowed).toBe(true);
  });

  it('when the resource does not match', () => {
    const { url } = signUrl({
      url: 'https://media.example.com/x/a.mp4',
      resource: 'https://media.example.com/x/*',
      keyPairId: KEY_ID,
      key: ec.signing,
      expires: EXPIRES,
      now: NOW,
    });
    const moved = url.replace('/x/a.mp4', '/y/a.mp4');
    expectDenied(
      check(moved),
      'AccessDenied',
      'resource https://media.example.com/y/a.mp4 does not match https://media.example.com/x/*',
    );
  });

  it('when a canned URL was changed after signing', () => {
    const url = canned().replace('intro', 'outro');
    expectDenied(
      check(url),
      'AccessDenied',
      `the signature does not match the policy with key ${KEY_ID}: the URL (path, query or Expires) was changed after signing, or it was signed by another private key`,
    );
  });

  it('when the Expires was pushed back', () => {
    const url = canned().replace(`Expires=${EXPIRES}`, `Expires=${EXPIRES + 86_400}`);
    expectDenied(check(url), 'AccessDenied', /^the signature does not match the policy/);
  });

  it('when the signature was tampered with', () => {
    const url = canned();
    const signature = fromCloudFrontBase64(queryValue(url, 'Signature')!);
    signature[signature.length - 1]! ^= 1;
    const tampered = url.replace(/Signature=[^&]+/, `Signature=${cloudFrontBase64(signature)}`);
    expectDenied(
      check(tampered),
      'AccessDenied',
      /^the signature does not match the policy with key K2JCJMDEHXQW5F/,
    );
  });

  it('when a custom policy was tampered with', () => {
    const url = withPolicy(URL_PLAIN, policyFor(URL_PLAIN));
    const longer = url.replace(
      /Policy=[^&]+/,
      `Policy=${cloudFrontBase64(policyFor(URL_PLAIN, `"DateLessThan":{"AWS:EpochTime":${EXPIRES + 1}}`))}`,
    );
    expectDenied(
      check(longer),
      'AccessDenied',
      `the signature does not match the policy with key ${KEY_ID}: the policy was changed after signing, or it was signed by another private key`,
    );
  });

  it('when signed by another private key under a trusted id', () => {
    const { url } = signUrl({
      url: URL_PLAIN,
      keyPairId: KEY_ID,
      key: stranger.signing,
      expires: EXPIRES,
      now: NOW,
    });
    expectDenied(check(url), 'AccessDenied', /signed by another private key$/);
  });

  it('when an RSA signature is presented under an EC key id (no throw)', () => {
    const { url } = signUrl({
      url: URL_PLAIN,
      keyPairId: KEY_ID,
      key: rsa.signing,
      expires: EXPIRES,
      now: NOW,
    });
    expectDenied(check(url), 'AccessDenied', /^the signature does not match/);
  });

  it('when the hash algorithm is wrong', () => {
    // ECDSA-SHA256 without Hash-Algorithm: the edge checks SHA-1.
    const withoutHash = canned().replace('&Hash-Algorithm=SHA256', '');
    expectDenied(check(withoutHash), 'AccessDenied', /^the signature does not match/);
    // RSA SHA-1 presented as SHA-256.
    const { url } = signUrl({
      url: URL_PLAIN,
      keyPairId: RSA_ID,
      key: rsa.signing,
      expires: EXPIRES,
      now: NOW,
    });
    expectDenied(check(`${url}&Hash-Algorithm=SHA256`), 'AccessDenied', /^the signature does not match/);
    // A value the edge does not know.
    expectDenied(
      check(canned().replace('Hash-Algorithm=SHA256', 'Hash-Algorithm=SHA512')),
      'AccessDenied',
      'Hash-Algorithm "SHA512" is not SHA256 (or absent for SHA-1)',
    );
  });
});

describe('verifyRequest: cookies', () => {
  function cookieHeader(cookies: readonly { name: string; value: string }[]): string {
    return cookies.map((c) => `${c.name}=${c.value}`).join('; ');
  }

  it('allows canned cookies for their exact URL', () => {
    const signed = signCookies({
      url: URL_PLAIN,
      keyPairId: RSA_ID,
      key: rsa.signing,
      expires: EXPIRES,
      now: NOW,
    });
    const verdict = check(URL_PLAIN, { cookie: `session=abc; ${cookieHeader(signed.cookies)}` });
    expect(verdict).toMatchObject({ allowed: true, via: 'cookie', kind: 'canned', hash: 'sha1' });
    expect(verdict.reason).toBe(
      `signed by key ${RSA_ID} via cookies; expires in 60 minutes (at 2025-06-15T16:06:40Z)`,
    );
    expectDenied(
      check('https://media.example.com/videos/other.mp4', { cookie: cookieHeader(signed.cookies) }),
      'AccessDenied',
      /^the signature does not match/,
    );
  });

  it('allows custom cookies for every URL under their wildcard, and no other', () => {
    const signed = signCookies({
      resource: 'https://media.example.com/videos/*',
      keyPairId: KEY_ID,
      key: ec.signing,
      expires: EXPIRES,
      now: NOW,
    });
    const cookie = cookieHeader(signed.cookies);
    for (const url of [URL_PLAIN, 'https://media.example.com/videos/hls/seg-001.ts?v=2']) {
      expect(check(url, { cookie })).toMatchObject({
        allowed: true,
        via: 'cookie',
        kind: 'custom',
        hash: 'sha256',
      });
    }
    expectDenied(
      check('https://media.example.com/private/a.mp4', { cookie }),
      'AccessDenied',
      'resource https://media.example.com/private/a.mp4 does not match https://media.example.com/videos/*',
    );
  });

  it('denies expired cookies', () => {
    const signed = signCookies({
      url: URL_PLAIN,
      keyPairId: KEY_ID,
      key: ec.signing,
      expires: EXPIRES,
      now: NOW,
    });
    expectDenied(
      check(URL_PLAIN, { cookie: cookieHeader(signed.cookies), now: EXPIRES + 3 * 86_400 }),
      'AccessDenied',
      'expired 3 days ago (at 2025-06-15T16:06:40Z)',
    );
  });

  it('a signed URL takes precedence over cookies', () => {
    const good = cookieHeader(
      signCookies({ url: URL_PLAIN, keyPairId: KEY_ID, key: ec.signing, expires: EXPIRES, now: NOW }).cookies,
    );
    const bad = good.replace(/CloudFront-Signature=[^;]+/, 'CloudFront-Signature=AAAA');
    // A good URL wins over bad cookies.
    expect(check(canned(), { cookie: bad })).toMatchObject({ allowed: true, via: 'url' });
    // A bad URL is not rescued by good cookies.
    const badUrl = canned().replace('intro', 'outro');
    expectDenied(
      check(badUrl, { cookie: good.replace(URL_PLAIN, badUrl) }),
      'AccessDenied',
      /^the signature does not match/,
    );
    expect(check(badUrl, { cookie: good })).toMatchObject({ via: 'url' });
    // Even a URL with only a Key-Pair-Id counts as signed.
    expectDenied(
      check(`${URL_PLAIN}?Key-Pair-Id=${KEY_ID}`, { cookie: good }),
      'MalformedSignature',
      'there is no Signature',
    );
  });
});

describe('verifyRequest: wildcard semantics', () => {
  function allowed(resource: string, url: string): boolean {
    return check(withPolicy(url, policyFor(resource))).allowed;
  }

  it('"*" alone matches every URL', () => {
    expect(allowed('*', 'https://anything.example.org/any/path?q=1')).toBe(true);
  });

  it('a trailing * on the path covers any query string', () => {
    expect(
      allowed('https://media.example.com/videos/*', 'https://media.example.com/videos/a.mp4?quality=720'),
    ).toBe(true);
    expect(allowed('https://media.example.com/videos/*', 'https://media.example.com/videos/')).toBe(true);
    expect(allowed('https://media.example.com/videos/*', 'https://media.example.com/videos')).toBe(false);
  });

  it('a * in the middle of the path matches across /', () => {
    expect(allowed('https://media.example.com/*.mp4', 'https://media.example.com/a/b/c.mp4')).toBe(true);
    expect(allowed('https://media.example.com/*.mp4', 'https://media.example.com/a/b/c.mp3')).toBe(false);
  });

  it('? matches exactly one character (in the query: in a path the first ? starts the query)', () => {
    const resource = 'https://media.example.com/v.mp4?q=?';
    expect(allowed(resource, 'https://media.example.com/v.mp4?q=1')).toBe(true);
    expect(allowed(resource, 'https://media.example.com/v.mp4?q=10')).toBe(false);
    expect(allowed(resource, 'https://media.example.com/v.mp4?q=')).toBe(false);
    expect(allowed('https://media.example.com/v?.mp4', 'https://media.example.com/v1.mp4')).toBe(false);
  });

  it('matches section by section: a * in the path never reaches across the ? into the query', () => {
    // The review's exploits: each URL names an object outside the resource.
    expect(
      allowed('https://media.example.com/public/*.mp4', 'https://media.example.com/public/secret.txt?.mp4'),
    ).toBe(false);
    expect(
      allowed(
        'https://media.example.com/*/public/*',
        'https://media.example.com/admin/payroll.csv?x=/public/',
      ),
    ).toBe(false);
    expect(allowed('https://media.example.com/*/public/*', 'https://media.example.com/a/public/b?x=1')).toBe(
      true,
    );
  });

  it('a path not ending in * matches only URLs without a query, unless the resource has a query part', () => {
    expect(allowed('https://media.example.com/a/*.mp4', 'https://media.example.com/a/b.mp4')).toBe(true);
    expect(allowed('https://media.example.com/a/*.mp4', 'https://media.example.com/a/b.mp4?x')).toBe(false);
    expect(allowed('https://media.example.com/a/*.mp4?*', 'https://media.example.com/a/b.mp4?x')).toBe(true);
    expect(allowed('https://media.example.com/search?q=*', 'https://media.example.com/search?q=a')).toBe(
      true,
    );
    expect(allowed('https://media.example.com/search?q=*', 'https://media.example.com/search?p=a')).toBe(
      false,
    );
  });

  it('a * in the host matches within the host and does not reach into the path', () => {
    expect(allowed('https://*.example.com/*', 'https://media.example.com/a.mp4')).toBe(true);
    expect(allowed('https://*.example.com/*', 'https://a.b.example.com/a.mp4')).toBe(true);
    expect(allowed('https://*.example.com/*', 'https://example.org/x.example.com/a.mp4')).toBe(false);
    expect(allowed('https://*.mp4', 'https://media.example.com/a.mp4')).toBe(false);
    expect(allowed('https://media*/a.mp4', 'https://media.example.com/a.mp4')).toBe(true);
    expect(allowed('https://media*/a.mp4', 'https://media.example.com/b/a.mp4')).toBe(false);
  });

  it('*:// matches http and https; a named scheme matches only itself', () => {
    expect(allowed('*://media.example.com/*', 'http://media.example.com/a.mp4')).toBe(true);
    expect(allowed('*://media.example.com/*', 'https://media.example.com/a.mp4')).toBe(true);
    expect(allowed('http://media.example.com/*', 'https://media.example.com/a.mp4')).toBe(false);
    expect(allowed('https://media.example.com/*', 'http://media.example.com/a.mp4')).toBe(false);
  });

  it('compares the host case-insensitively and the path case-sensitively (UNCONFIRMED at the edge)', () => {
    expect(allowed('https://MEDIA.example.com/videos/*', 'https://media.example.com/videos/a.mp4')).toBe(
      true,
    );
    expect(allowed('https://media.example.com/Videos/*', 'https://media.example.com/videos/a.mp4')).toBe(
      false,
    );
  });

  it('an exact custom resource matches only its URL', () => {
    expect(allowed(URL_PLAIN, URL_PLAIN)).toBe(true);
    expect(allowed(URL_PLAIN, `${URL_PLAIN}?x=1`)).toBe(false);
  });
});
