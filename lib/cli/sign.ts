import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  describeCookies,
  formatSetCookie,
  type HashAlgorithm,
  parseSigningKey,
  type SigningKey,
  signCookies,
  signUrl,
} from '../signing/index.ts';
import { type CliIo, EnvironmentError, EXIT, integerOption, UsageError } from './io.ts';

const COMMON_OPTIONS = `  --key-file PEM        the private key (PKCS#8 or PKCS#1 PEM; RSA-2048 or ECDSA P-256)
  --key-pair-id ID      the CloudFront public key id of that key (K…), not the key group id
  --expires EPOCH       when it stops working, epoch seconds
  --expires-in SECONDS  or: how long from now it works
  --not-before EPOCH    not valid before this time (makes the policy custom)
  --ip CIDR             only from this IPv4 range, like 203.0.113.0/24 (makes the policy custom)
  --hash sha1|sha256    default sha256 for ECDSA keys, sha1 for RSA keys
  --json                print one JSON object`;

export const SIGN_HELP = `Usage: signet sign --key-file PEM --key-pair-id ID --url URL (--expires EPOCH | --expires-in SECONDS)
                   [--resource PATTERN] [--not-before EPOCH] [--ip CIDR] [--hash sha1|sha256] [--json]

Prints a CloudFront signed URL. The URL is signed in its canonical form (what a browser sends):
a canned policy for one exact URL with only an expiry, a custom policy otherwise.

Options:
  --url URL             the object to sign
  --resource PATTERN    a wildcard the URL falls under, like https://media.example.com/videos/*
${COMMON_OPTIONS}
    { "url", "expires", "keyPairId", "policy" } (policy: the exact JSON that was signed)

Example:
  signet sign --key-file private.pem --key-pair-id K2JCJMDEHXQW5F \\
    --url https://media.example.com/videos/intro.mp4 --expires-in 3600
`;

export const COOKIES_HELP = `Usage: signet cookies --key-file PEM --key-pair-id ID (--resource PATTERN | --url URL)
                      (--expires EPOCH | --expires-in SECONDS) [--not-before EPOCH] [--ip CIDR]
                      [--hash sha1|sha256] [--domain D] [--path P] [--same-site Strict|Lax|None]
                      [--persistent] [--json]

Prints CloudFront signed cookies, one "Set-Cookie:" line each (always Secure; HttpOnly).

Options:
  --resource PATTERN    what the cookies cover, may be a wildcard: https://media.example.com/videos/*
  --url URL             or: one exact object (a canned policy when there is only an expiry)
${COMMON_OPTIONS}
    { "cookies": [{ "name", "value", "domain", "path", "sameSite", "secure", "httpOnly" }], "expires", "keyPairId", "policy" }
  --domain D            cookie Domain, the CDN host or a parent (default: the exact host that set it)
  --path P              cookie Path (default /); "*" is literal in a cookie path, not a wildcard
  --same-site S         Strict, Lax (default) or None
  --persistent          Max-Age and Expires at the policy's expiry (default: session cookies)
`;

const SIGNATURE_OPTIONS = {
  'key-file': { type: 'string' },
  'key-pair-id': { type: 'string' },
  url: { type: 'string' },
  resource: { type: 'string' },
  expires: { type: 'string' },
  'expires-in': { type: 'string' },
  'not-before': { type: 'string' },
  ip: { type: 'string' },
  hash: { type: 'string' },
  json: { type: 'boolean', default: false },
} as const;

/** `signet sign`: prints one signed URL. */
export function sign(args: string[], io: CliIo): number {
  const { values } = parseArgs({ args, options: SIGNATURE_OPTIONS, strict: true });
  if (values.url === undefined) throw new UsageError('Expected --url URL: the object to sign.');
  const common = signatureOptions(values, io);
  const signed = signUrl({ ...common, url: values.url, resource: values.resource });
  if (values.json) {
    io.stdout(
      `${JSON.stringify({ url: signed.url, expires: signed.expires, keyPairId: signed.keyPairId, policy: signed.policy })}\n`,
    );
  } else {
    io.stdout(`${signed.url}\n`);
  }
  return EXIT.ok;
}

/** `signet cookies`: prints the Set-Cookie lines for a resource. */
export function cookies(args: string[], io: CliIo): number {
  const { values } = parseArgs({
    args,
    options: {
      ...SIGNATURE_OPTIONS,
      domain: { type: 'string' },
      path: { type: 'string' },
      'same-site': { type: 'string' },
      persistent: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.url === undefined && values.resource === undefined) {
    throw new UsageError('Expected --resource PATTERN or --url URL: what the cookies cover.');
  }
  const sameSite = values['same-site'];
  if (sameSite !== undefined && sameSite !== 'Strict' && sameSite !== 'Lax' && sameSite !== 'None') {
    throw new UsageError(`Expected --same-site Strict, Lax or None; got ${sameSite}.`);
  }
  const options = signatureOptions(values, io);
  const signed = signCookies({ ...options, url: values.url, resource: values.resource });
  const described = describeCookies(
    signed.cookies,
    { domain: values.domain, path: values.path, sameSite, persistent: values.persistent },
    { expires: signed.expires, now: options.now },
  );
  if (values.json) {
    io.stdout(
      `${JSON.stringify({ cookies: described, expires: signed.expires, keyPairId: signed.keyPairId, policy: signed.policy })}\n`,
    );
  } else {
    for (const cookie of described) io.stdout(`Set-Cookie: ${formatSetCookie(cookie)}\n`);
  }
  return EXIT.ok;
}

interface SignatureValues {
  'key-file'?: string | undefined;
  'key-pair-id'?: string | undefined;
  expires?: string | undefined;
  'expires-in'?: string | undefined;
  'not-before'?: string | undefined;
  ip?: string | undefined;
  hash?: string | undefined;
}

function signatureOptions(values: SignatureValues, io: CliIo) {
  if (values['key-file'] === undefined)
    throw new UsageError('Expected --key-file PEM: the private key to sign with.');
  if (values['key-pair-id'] === undefined) {
    throw new UsageError('Expected --key-pair-id ID: the CloudFront public key id (K…) of that key.');
  }
  const now = io.now();
  const expires = integerOption(values.expires, 'expires');
  const expiresIn = integerOption(values['expires-in'], 'expires-in');
  if ((expires === undefined) === (expiresIn === undefined)) {
    throw new UsageError('Expected exactly one of --expires EPOCH or --expires-in SECONDS.');
  }
  if (expiresIn !== undefined && expiresIn <= 0) {
    throw new UsageError(`Expected --expires-in to be a positive number of seconds; got ${expiresIn}.`);
  }
  const hash = values.hash;
  if (hash !== undefined && hash !== 'sha1' && hash !== 'sha256') {
    throw new UsageError(`Expected --hash sha1 or sha256; got ${hash}.`);
  }
  return {
    key: readSigningKey(resolve(io.cwd, values['key-file'])),
    keyPairId: values['key-pair-id'],
    expires: expires ?? now + expiresIn!,
    notBefore: integerOption(values['not-before'], 'not-before'),
    ipAddress: values.ip,
    hash: hash as HashAlgorithm | undefined,
    now,
  };
}

function readSigningKey(file: string): SigningKey {
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new EnvironmentError(`Could not read the key file ${file}: ${(cause as Error).message}`, { cause });
  }
  return parseSigningKey(pem);
}
