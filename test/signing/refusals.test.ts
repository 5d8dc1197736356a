import { generateKeyPairSync } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  parseSigningKey,
  parseVerifyingKey,
  SigningError,
  type SignUrlOptions,
  signCookies,
  signUrl,
} from '../../lib/signing/index.ts';
import {
  EXPIRES,
  expectRefusal,
  generateEcKey,
  generateRsaKey,
  KEY_ID,
  NOW,
  type TestKey,
} from '../support/signing.ts';

let rsa: TestKey;
let ec: TestKey;

beforeAll(() => {
  rsa = generateRsaKey();
  ec = generateEcKey();
});

const URL_PLAIN = 'https://media.example.com/videos/intro.mp4';

function options(overrides: Partial<SignUrlOptions> = {}): SignUrlOptions {
  return { url: URL_PLAIN, keyPairId: KEY_ID, key: ec.signing, expires: EXPIRES, now: NOW, ...overrides };
}

describe('refusals: wildcards with a canned policy', () => {
  it('refuses a * in the path of an exact URL, pointing at resource and %2A', () => {
    expectRefusal(
      () => signUrl(options({ url: 'https://media.example.com/videos/*' })),
      'ERR_AMBIGUOUS_WILDCARD',
      'https://media.example.com/videos/*',
      '`resource`',
      '%2A',
    );
  });

  it('refuses a * in the host of an exact URL', () => {
    expectRefusal(
      () => signUrl(options({ url: 'https://*.example.com/videos/intro.mp4' })),
      'ERR_AMBIGUOUS_WILDCARD',
      'https://*.example.com/videos/intro.mp4',
    );
  });

  it('refuses a * in the path of the URL that names what cookies cover', () => {
    expectRefusal(
      () =>
        signCookies({
          url: 'https://media.example.com/a*',
          keyPairId: KEY_ID,
          key: ec.signing,
          expires: EXPIRES,
          now: NOW,
        }),
      'ERR_AMBIGUOUS_WILDCARD',
      'https://media.example.com/a*',
    );
  });

  it('refuses a * in the path even when notBefore would make the policy custom', () => {
    expectRefusal(
      () => signUrl(options({ url: 'https://media.example.com/videos/*', notBefore: NOW })),
      'ERR_AMBIGUOUS_WILDCARD',
    );
  });

  it('signs a * in the query string as an ordinary character', () => {
    const signed = signUrl(options({ url: 'https://media.example.com/search?q=*' }));
    expect(signed.kind).toBe('canned');
    expect(signed.resource).toBe('https://media.example.com/search?q=*');
  });

  it('refuses a * in the query when an IP range or notBefore makes the URL a custom Resource (it would be a wildcard there)', () => {
    expectRefusal(
      () => signUrl(options({ url: 'https://media.example.com/search?q=*', ipAddress: '203.0.113.0/24' })),
      'ERR_AMBIGUOUS_WILDCARD',
      'https://media.example.com/search?q=*',
      '%2A',
    );
    expectRefusal(
      () =>
        signCookies({
          url: 'https://media.example.com/search?q=*',
          notBefore: NOW,
          keyPairId: KEY_ID,
          key: ec.signing,
          expires: EXPIRES,
          now: NOW,
        }),
      'ERR_AMBIGUOUS_WILDCARD',
    );
    const signed = signUrl(
      options({ url: 'https://media.example.com/search?q=%2A', ipAddress: '203.0.113.0/24' }),
    );
    expect(signed.kind).toBe('custom');
  });

  it('signs a literal asterisk written as %2A', () => {
    const signed = signUrl(options({ url: 'https://media.example.com/a%2Ab.mp4' }));
    expect(signed.resource).toBe('https://media.example.com/a%2Ab.mp4');
  });
});

describe('refusals: times', () => {
  it('refuses an expiry in the past, saying how long ago', () => {
    expectRefusal(
      () => signUrl(options({ expires: NOW - 720 })),
      'ERR_EXPIRY_IN_PAST',
      `got ${NOW - 720} (2025-06-15T14:54:40Z), 12 minutes ago`,
    );
  });

  it('refuses an expiry equal to now', () => {
    expectRefusal(() => signUrl(options({ expires: NOW })), 'ERR_EXPIRY_IN_PAST', `got ${NOW}`);
  });

  it('hints that a small expiry looks like a duration', () => {
    expectRefusal(() => signUrl(options({ expires: 3600 })), 'ERR_EXPIRY_IN_PAST', 'got 3600', 'expiresIn');
  });

  it('refuses an expiry beyond 2147483647', () => {
    expectRefusal(
      () => signUrl(options({ expires: 2_147_483_648 })),
      'ERR_EXPIRY_TOO_LATE',
      'at most 2147483647',
      'got 2147483648',
    );
  });

  it('accepts an expiry of exactly 2147483647', () => {
    expect(signUrl(options({ expires: 2_147_483_647 })).expires).toBe(2_147_483_647);
  });

  it('refuses an expiry that looks like milliseconds', () => {
    expectRefusal(
      () => signUrl(options({ expires: EXPIRES * 1000 })),
      'ERR_EXPIRY_IN_MILLISECONDS',
      `got ${EXPIRES * 1000}`,
      'milliseconds',
      '2025-06-15T16:06:40Z',
    );
  });

  it('refuses a notBefore that looks like milliseconds', () => {
    expectRefusal(
      () => signUrl(options({ notBefore: NOW * 1000 })),
      'ERR_EXPIRY_IN_MILLISECONDS',
      '`notBefore`',
    );
  });

  it('refuses an expiry that is not a whole number of seconds', () => {
    expectRefusal(
      () => signUrl(options({ expires: EXPIRES + 0.5 })),
      'ERR_INVALID_EXPIRY',
      `got ${EXPIRES + 0.5}`,
    );
    expectRefusal(() => signUrl(options({ expires: Number.NaN })), 'ERR_INVALID_EXPIRY', 'got NaN.');
  });

  it('refuses notBefore after (or equal to) the expiry, naming both', () => {
    expectRefusal(
      () => signUrl(options({ notBefore: EXPIRES + 60 })),
      'ERR_NOT_BEFORE_AFTER_EXPIRY',
      '2025-06-15T16:07:40Z',
      '2025-06-15T16:06:40Z',
    );
    expectRefusal(() => signUrl(options({ notBefore: EXPIRES })), 'ERR_NOT_BEFORE_AFTER_EXPIRY');
  });
});

describe('refusals: IP ranges', () => {
  it('refuses an IPv6 range', () => {
    expectRefusal(
      () => signUrl(options({ ipAddress: '2001:db8::/32' })),
      'ERR_IPV6_UNSUPPORTED',
      '"2001:db8::/32"',
      'IPv4',
    );
  });

  it.each([
    '203.0.113.0/33',
    '203.0.113/24',
    '203.0.113.256',
    '203.0.113.0/',
    '203.0.113.0/24/8',
    '203.0.113.01',
    'localhost',
    '',
  ])('refuses the malformed CIDR %j', (cidr) => {
    expectRefusal(() => signUrl(options({ ipAddress: cidr })), 'ERR_INVALID_CIDR', JSON.stringify(cidr));
  });

  it('refuses a CIDR with host bits set, suggesting the network', () => {
    expectRefusal(
      () => signUrl(options({ ipAddress: '203.0.113.7/24' })),
      'ERR_INVALID_CIDR',
      'like 203.0.113.0/24',
      'got 203.0.113.7/24',
    );
  });
});

describe('refusals: URLs', () => {
  it.each(['Expires', 'Policy', 'Signature', 'Key-Pair-Id', 'Hash-Algorithm'])(
    'refuses a caller query parameter named %s',
    (name) => {
      expectRefusal(
        () => signUrl(options({ url: `https://media.example.com/a.mp4?x=1&${name}=2` })),
        'ERR_RESERVED_QUERY_PARAMETER',
        `got ${name} in https://media.example.com/a.mp4?x=1&${name}=2`,
      );
    },
  );

  it('refuses a reserved name even when it is percent-encoded', () => {
    expectRefusal(
      () => signUrl(options({ url: 'https://media.example.com/a.mp4?%53ignature=2' })),
      'ERR_RESERVED_QUERY_PARAMETER',
      'got Signature',
    );
  });

  it('signs parameters that only resemble the reserved names', () => {
    const url = 'https://media.example.com/a.mp4?expires=1&MyPolicy=2&Signature2=3';
    expect(signUrl(options({ url })).resource).toBe(url);
  });

  it.each([
    ['ftp://media.example.com/a.mp4', 'ftp'],
    ['file:///etc/passwd', 'file'],
    ['data:text/plain,hello', 'data'],
    ['ws://media.example.com/a', 'ws'],
  ])('refuses the scheme of %s', (url, scheme) => {
    expectRefusal(
      () => signUrl(options({ url })),
      'ERR_UNSUPPORTED_SCHEME',
      'http or https',
      `got ${scheme}.`,
    );
  });

  it('refuses input that is not an absolute URL', () => {
    expectRefusal(
      () => signUrl(options({ url: '/videos/intro.mp4' })),
      'ERR_INVALID_URL',
      '"/videos/intro.mp4"',
    );
  });

  it('refuses a URL over 8,192 bytes, counting bytes rather than characters', () => {
    const base = 'https://media.example.com/';
    expectRefusal(
      () => signUrl(options({ url: `${base}${'a'.repeat(8192 - base.length + 1)}` })),
      'ERR_URL_TOO_LONG',
      'at most 8192 bytes',
      'got 8193 bytes',
    );
    // One character, six bytes once percent-encoded (%C3%A9): 26 + 1400 × 6 = 8426 bytes.
    expectRefusal(
      () => signUrl(options({ url: `${base}${'é'.repeat(1400)}` })),
      'ERR_URL_TOO_LONG',
      '8426 bytes',
    );
  });

  it('refuses a URL that fits alone but not with its signature', () => {
    const base = 'https://media.example.com/';
    const url = `${base}${'a'.repeat(8192 - base.length)}`;
    expectRefusal(() => signUrl(options({ url })), 'ERR_URL_TOO_LONG', 'with its signature');
  });

  it('refuses a malformed resource pattern', () => {
    expectRefusal(
      () => signUrl(options({ resource: 'media.example.com/videos/*' })),
      'ERR_INVALID_RESOURCE',
      '"media.example.com/videos/*"',
    );
    expectRefusal(
      () => signUrl(options({ resource: 'https://media.example.com/videos/*#x' })),
      'ERR_INVALID_RESOURCE',
      'fragment',
    );
  });

  it('refuses a URL outside the resource it claims to fall under', () => {
    expectRefusal(
      () => signUrl(options({ resource: 'https://media.example.com/private/*' })),
      'ERR_URL_OUTSIDE_RESOURCE',
      'https://media.example.com/private/*',
      URL_PLAIN,
    );
  });

  it('refuses cookies that name neither a resource nor a URL', () => {
    expectRefusal(
      () => signCookies({ keyPairId: KEY_ID, key: ec.signing, expires: EXPIRES, now: NOW }),
      'ERR_INVALID_RESOURCE',
    );
  });
});

describe('refusals: keys', () => {
  it('refuses RSA-1024, naming the size found', () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    expectRefusal(
      () => parseSigningKey(privateKey.export({ type: 'pkcs8', format: 'pem' })),
      'ERR_UNSUPPORTED_KEY',
      'got RSA-1024',
    );
  });

  it('refuses RSA-4096, naming the size found', () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 4096 });
    expectRefusal(
      () => parseSigningKey(privateKey.export({ type: 'pkcs1', format: 'pem' })),
      'ERR_UNSUPPORTED_KEY',
      'got RSA-4096',
    );
  });

  it('refuses an EC key on secp384r1, naming the curve', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'secp384r1' });
    expectRefusal(
      () => parseSigningKey(privateKey.export({ type: 'pkcs8', format: 'pem' })),
      'ERR_UNSUPPORTED_KEY',
      'curve secp384r1',
    );
    expectRefusal(
      () => parseVerifyingKey(publicKey.export({ type: 'spki', format: 'pem' })),
      'ERR_UNSUPPORTED_KEY',
      'curve secp384r1',
    );
  });

  it('refuses an ed25519 key, naming the type', () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    expectRefusal(
      () => parseSigningKey(privateKey.export({ type: 'pkcs8', format: 'pem' })),
      'ERR_UNSUPPORTED_KEY',
      'ed25519',
    );
  });

  it('refuses encrypted PEMs, PKCS#8 and PKCS#1 alike', () => {
    const encrypted8 = rsa.privateKey.export({
      type: 'pkcs8',
      format: 'pem',
      cipher: 'aes-256-cbc',
      passphrase: 'correct horse',
    });
    expect(String(encrypted8)).toContain('-----BEGIN ENCRYPTED PRIVATE KEY-----');
    expectRefusal(() => parseSigningKey(encrypted8), 'ERR_ENCRYPTED_KEY', 'got an encrypted one');
    const encrypted1 = rsa.privateKey.export({
      type: 'pkcs1',
      format: 'pem',
      cipher: 'aes-128-cbc',
      passphrase: 'correct horse',
    });
    expect(String(encrypted1)).toContain('Proc-Type: 4,ENCRYPTED');
    expectRefusal(() => parseSigningKey(encrypted1), 'ERR_ENCRYPTED_KEY', 'got an encrypted one');
    const encryptedEc = ec.privateKey.export({
      type: 'sec1',
      format: 'pem',
      cipher: 'aes-128-cbc',
      passphrase: 'correct horse',
    });
    expectRefusal(() => parseSigningKey(encryptedEc), 'ERR_ENCRYPTED_KEY');
  });

  it('refuses an unparsable PEM', () => {
    expectRefusal(
      () => parseSigningKey('not a key'),
      'ERR_INVALID_KEY',
      'got 9 characters without a PEM header that could not be parsed',
    );
    const truncated = rsa.privatePem.slice(0, 200);
    expectRefusal(
      () => parseSigningKey(truncated),
      'ERR_INVALID_KEY',
      'got a "PRIVATE KEY" PEM that could not be parsed',
    );
    // The message names the PEM's label, never its content.
    try {
      parseSigningKey(truncated);
    } catch (error) {
      expect((error as Error).message).not.toContain(truncated.split('\n')[1]!.slice(0, 16));
    }
    expectRefusal(
      () => parseVerifyingKey('-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n'),
      'ERR_INVALID_KEY',
    );
  });

  it('chains the parser error as the cause', () => {
    try {
      parseSigningKey('not a key');
      expect.unreachable('parseSigningKey accepted "not a key"');
    } catch (error) {
      expect(error).toBeInstanceOf(SigningError);
      expect((error as SigningError).cause).toBeInstanceOf(Error);
    }
  });

  it('refuses a public key where a private key belongs, SPKI and PKCS#1 alike', () => {
    expectRefusal(() => parseSigningKey(rsa.publicPem), 'ERR_PUBLIC_KEY_NOT_PRIVATE', 'got a public key');
    const pkcs1Public = rsa.publicKey.export({ type: 'pkcs1', format: 'pem' }).toString();
    expect(pkcs1Public).toContain('-----BEGIN RSA PUBLIC KEY-----');
    expectRefusal(() => parseSigningKey(pkcs1Public), 'ERR_PUBLIC_KEY_NOT_PRIVATE');
    expectRefusal(
      () => parseSigningKey(JSON.stringify(ec.publicPem).slice(1, -1)),
      'ERR_PUBLIC_KEY_NOT_PRIVATE',
    );
  });

  it('refuses a private key where a public key belongs', () => {
    expectRefusal(() => parseVerifyingKey(ec.privatePem), 'ERR_INVALID_KEY', 'got a private key');
    const pkcs1 = rsa.privateKey.export({ type: 'pkcs1', format: 'pem' });
    expectRefusal(() => parseVerifyingKey(pkcs1), 'ERR_INVALID_KEY', 'got a private key');
    const sec1 = ec.privateKey.export({ type: 'sec1', format: 'pem' });
    expectRefusal(() => parseVerifyingKey(sec1), 'ERR_INVALID_KEY', 'got a private key');
  });

  it('refuses a key group id (a UUID) as the key pair id, saying what it looks like', () => {
    const keyGroupId = '3f1c2b7e-9a4d-4c1e-8b2a-5d6e7f8a9b0c';
    expectRefusal(
      () => signUrl(options({ keyPairId: keyGroupId })),
      'ERR_INVALID_KEY_PAIR_ID',
      `got ${keyGroupId}, which looks like a key group id`,
    );
    expectRefusal(
      () =>
        signCookies({ url: URL_PLAIN, keyPairId: keyGroupId, key: ec.signing, expires: EXPIRES, now: NOW }),
      'ERR_INVALID_KEY_PAIR_ID',
    );
  });

  it('refuses a key pair id that is not uppercase letters and digits', () => {
    expectRefusal(
      () => signUrl(options({ keyPairId: 'k2jc jmde' })),
      'ERR_INVALID_KEY_PAIR_ID',
      '"k2jc jmde"',
    );
    expectRefusal(() => signUrl(options({ keyPairId: '' })), 'ERR_INVALID_KEY_PAIR_ID', 'got ""');
  });

  it('refuses ECDSA with SHA-1', () => {
    expectRefusal(() => signUrl(options({ hash: 'sha1' })), 'ERR_UNSUPPORTED_HASH', 'got sha1');
    expectRefusal(
      () =>
        signCookies({
          url: URL_PLAIN,
          hash: 'sha1',
          keyPairId: KEY_ID,
          key: ec.signing,
          expires: EXPIRES,
          now: NOW,
        }),
      'ERR_UNSUPPORTED_HASH',
    );
  });

  it('refuses a hash other than sha1 or sha256', () => {
    const hash = 'sha512' as unknown as 'sha256';
    expectRefusal(() => signUrl(options({ key: rsa.signing, hash })), 'ERR_UNSUPPORTED_HASH', 'got "sha512"');
  });

  it('throws with toThrow-friendly objects: the code is a property of the error', () => {
    expect(() => signUrl(options({ hash: 'sha1' }))).toThrow(
      expect.objectContaining({ code: 'ERR_UNSUPPORTED_HASH', name: 'SigningError' }),
    );
  });
});
