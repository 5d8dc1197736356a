import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type DenialCode,
  decodeCloudFrontBase64,
  parseVerifyingKey,
  type SigningKey,
  signCookies,
  signUrl,
  type Verdict,
  type VerifyingKey,
  verifyRequest,
} from '../../lib/signing/index.ts';
import {
  cloudFrontBase64,
  generateEcKey,
  generateRsaKey,
  KEY_ID,
  NOW,
  queryPairs,
  queryValue,
  type TestKey,
} from '../support/signing.ts';

// Properties of the signing core against its own verifier (the CloudFront-equivalent one): everything
// signed verifies, and a single changed character of the URL, the policy or the signature is denied
// with the code CloudFront would give, which an independent model below computes. Keys: one ECDSA and
// one RSA key per run; RSA signing costs about a millisecond, so the runs are bounded.

let ec: TestKey;
let rsa: TestKey;
let trustedKeys: Map<string, VerifyingKey>;

const RSA_ID = 'K3RSAKEY00000A';

beforeAll(() => {
  ec = generateEcKey();
  rsa = generateRsaKey();
  trustedKeys = new Map([
    [KEY_ID, parseVerifyingKey(ec.publicPem)],
    [RSA_ID, parseVerifyingKey(rsa.publicPem)],
  ]);
});

function keyOf(useRsa: boolean): { key: SigningKey; keyPairId: string } {
  return useRsa ? { key: rsa.signing, keyPairId: RSA_ID } : { key: ec.signing, keyPairId: KEY_ID };
}

function trusted(): Map<string, VerifyingKey> {
  return trustedKeys;
}

// ---- generators --------------------------------------------------------------------------------------

const PATH_CHARS = [
  ...'abcxyzABCXYZ0129',
  ..."-._~!$&'()+,;=:@",
  ' ',
  '%',
  '"',
  '<',
  '|',
  '^',
  'é',
  'ü',
  '日',
  '😀',
];
/** Query values: never `&` or `#` (they would end the value), and here no `*` or `?` (see below). */
const VALUE_CHARS = [...'abcXYZ019', ..."-._~!$'()+,;=:@/", ' ', '%', '"', 'é', '日'];

const segmentArb = fc
  .string({ unit: fc.constantFrom(...PATH_CHARS), minLength: 1, maxLength: 8 })
  .filter((s) => !/^(?:\.|%2e)+$/i.test(s));
const queryArb = fc.array(
  fc.tuple(
    fc.string({ unit: fc.constantFrom(...'abcz09'), maxLength: 4 }).map((s) => `q${s}`),
    fc.string({ unit: fc.constantFrom(...VALUE_CHARS), maxLength: 8 }),
  ),
  { maxLength: 3 },
);
const hostArb = fc.constantFrom(
  'media.example.com',
  'd111111abcdef8.cloudfront.net',
  'bücher.example',
  'MEDIA.Example.com',
);

const urlArb = fc
  .record({
    scheme: fc.constantFrom('https', 'http'),
    host: hostArb,
    segments: fc.array(segmentArb, { minLength: 1, maxLength: 4 }),
    query: fc.option(queryArb, { nil: undefined }),
  })
  .map(({ scheme, host, segments, query }) => ({
    url: `${scheme}://${host}/${segments.join('/')}${query === undefined ? '' : `?${query.map(([n, v]) => `${n}=${v}`).join('&')}`}`,
  }));

/** CIDRs with an address inside each. */
const IP_RANGES: [string, string][] = [
  ['203.0.113.0/24', '203.0.113.77'],
  ['198.51.100.7', '198.51.100.7'],
  ['10.0.0.0/8', '10.20.30.40'],
  ['0.0.0.0/0', '192.0.2.1'],
];

const requestArb = fc.record({
  target: urlArb,
  useRsa: fc.boolean(),
  sha256: fc.boolean(),
  ttl: fc.integer({ min: 2, max: 14 * 86_400 }),
  notBefore: fc.option(fc.integer({ min: -86_400, max: 86_400 }), { nil: undefined }),
  ip: fc.option(fc.constantFrom(...IP_RANGES), { nil: undefined }),
  wildcard: fc.constantFrom('none', 'prefix', 'any-scheme'),
  at: fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
});

type Request = typeof requestArb extends fc.Arbitrary<infer T> ? T : never;

function signOptions(r: Request) {
  const { key, keyPairId } = keyOf(r.useRsa);
  const expires = NOW + r.ttl;
  const notBefore = r.notBefore === undefined ? undefined : NOW + Math.min(r.notBefore, r.ttl - 2);
  // The first path segment as WHATWG serializes it (a trailing space of the whole input is trimmed, so
  // the raw segment would not always be a prefix).
  const parsed = new URL(r.target.url);
  const first = parsed.pathname.split('/')[1]!;
  const resource =
    r.wildcard === 'prefix'
      ? `${parsed.protocol}//${parsed.host}/${first}*`
      : r.wildcard === 'any-scheme'
        ? `*://${parsed.host}/*`
        : undefined;
  return {
    key,
    keyPairId,
    expires,
    notBefore,
    ipAddress: r.ip?.[0],
    resource,
    hash: r.useRsa && !r.sha256 ? ('sha1' as const) : ('sha256' as const),
    now: NOW,
  };
}

/** A moment at which the signature must be valid: after notBefore (strict) and before expires. */
function validMoment(r: Request, expires: number, notBefore: number | undefined): number {
  const from = Math.max(NOW, notBefore === undefined ? NOW : notBefore + 1);
  return from + Math.floor(r.at * (expires - from));
}

// ---- the model: what CloudFront answers for a request (docs/design.md, "CloudFront facts Signet relies on") ----------------------

interface Original {
  readonly keyPairId: string;
  readonly policy: string;
  readonly signature: Buffer;
  readonly hash: 'sha1' | 'sha256';
  readonly kind: 'canned' | 'custom';
  /** The Resource of a custom policy, free of wildcards in these properties. */
  readonly resource: string;
}

type Expected = { allowed: true } | { allowed: false; code: DenialCode };

const SIGNING = ['Expires', 'Policy', 'Signature', 'Key-Pair-Id', 'Hash-Algorithm'];

/** The URL without the signing parameters (raw names: one changed character cannot spell an encoded name). */
function strip(url: string): string {
  const queryAt = url.indexOf('?');
  if (queryAt === -1) return url;
  const kept = url
    .slice(queryAt + 1)
    .split('&')
    .filter((pair) => !SIGNING.includes(pair.split('=')[0]!));
  return kept.length === 0 ? url.slice(0, queryAt) : `${url.slice(0, queryAt)}?${kept.join('&')}`;
}

function isEpoch(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const epoch = (value as Record<string, unknown>)['AWS:EpochTime'];
  return typeof epoch === 'number' && Number.isSafeInteger(epoch);
}

/** Whether a policy has the one shape CloudFront accepts (one statement, DateLessThan, well-formed extras). */
function wellFormed(text: string): boolean {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return false;
  }
  const object = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!object(json)) return false;
  const statements = Array.isArray(json.Statement) ? json.Statement : [json.Statement];
  const statement = statements[0];
  if (statements.length !== 1 || !object(statement)) return false;
  if (statement.Resource !== undefined && typeof statement.Resource !== 'string') return false;
  const condition = statement.Condition;
  if (!object(condition) || !isEpoch(condition.DateLessThan)) return false;
  if (condition.DateGreaterThan !== undefined && !isEpoch(condition.DateGreaterThan)) return false;
  if (condition.IpAddress !== undefined) {
    if (!object(condition.IpAddress) || typeof condition.IpAddress['AWS:SourceIp'] !== 'string') return false;
  }
  return true;
}

/** Scheme and host compare case-insensitively, the rest exactly (no wildcards in these resources). */
function sameResource(a: string, b: string): boolean {
  const split = (u: string) => /^([^:/]+:\/\/[^/]*)(.*)$/.exec(u);
  const x = split(a);
  const y = split(b);
  return x !== null && y !== null && x[1]!.toLowerCase() === y[1]!.toLowerCase() && x[2] === y[2];
}

function model(url: string, original: Original): Expected {
  const deny = (code: DenialCode): Expected => ({ allowed: false, code });
  const hashAt = url.indexOf('#');
  const sent = hashAt === -1 ? url : url.slice(0, hashAt);
  const pairs = queryPairs(sent);
  const first = (name: string) => pairs.find(([n]) => n === name)?.[1];
  if (['Expires', 'Policy', 'Signature', 'Key-Pair-Id'].every((name) => first(name) === undefined)) {
    return deny('MissingKey');
  }
  const keyPairId = first('Key-Pair-Id');
  if (!keyPairId) return deny('MissingKey');
  if (keyPairId !== original.keyPairId) return deny('InvalidKey');
  const signatureText = first('Signature');
  // Decoding uses Signet's decoder: which spellings CloudFront's own decoder accepts is not documented.
  const signature = signatureText === undefined ? undefined : decodeCloudFrontBase64(signatureText);
  if (signature === undefined || signature.length === 0) return deny('MalformedSignature');
  let policy: string;
  const encodedPolicy = first('Policy');
  const expires = first('Expires');
  if (encodedPolicy !== undefined) {
    const bytes = decodeCloudFrontBase64(encodedPolicy);
    if (bytes === undefined) return deny('MalformedPolicy');
    policy = bytes.toString('utf8');
  } else if (expires !== undefined) {
    if (!/^\d{1,10}$/.test(expires)) return deny('MalformedPolicy');
    policy = `{"Statement":[{"Resource":${JSON.stringify(strip(sent))},"Condition":{"DateLessThan":{"AWS:EpochTime":${Number(expires)}}}}]}`;
  } else {
    return deny('MalformedPolicy');
  }
  if (!wellFormed(policy)) return deny('MalformedPolicy');
  const hashAlgorithm = first('Hash-Algorithm');
  if (hashAlgorithm !== undefined && hashAlgorithm !== 'SHA256') return deny('AccessDenied');
  const hash = hashAlgorithm === undefined ? 'sha1' : 'sha256';
  if (hash !== original.hash || policy !== original.policy || !signature.equals(original.signature)) {
    return deny('AccessDenied');
  }
  if (original.kind === 'custom' && !sameResource(original.resource, strip(sent)))
    return deny('AccessDenied');
  return { allowed: true };
}

function outcome(verdict: Verdict): Expected {
  return verdict.allowed ? { allowed: true } : { allowed: false, code: verdict.code };
}

/** The characters a mutation writes: URL syntax, both base64 alphabets, letters of both cases, digits. */
const REPLACEMENTS = [...'aAzZkK059-_~+=/&?#%.:*@ "{}[],\\'];

// ---- properties ---------------------------------------------------------------------------------------

describe('property: everything signed verifies', () => {
  it('signed URLs (canned and custom, ECDSA and RSA, SHA-1 and SHA-256) verify before expiry', () => {
    fc.assert(
      fc.property(requestArb, (r) => {
        const options = signOptions(r);
        const signed = signUrl({ url: r.target.url, ...options });
        expect(signed.kind).toBe(
          options.resource === undefined && options.notBefore === undefined && options.ipAddress === undefined
            ? 'canned'
            : 'custom',
        );
        const now = validMoment(r, options.expires, options.notBefore);
        const verdict = verifyRequest({ url: signed.url, clientIp: r.ip?.[1], now, trustedKeys: trusted() });
        expect(verdict).toMatchObject({
          allowed: true,
          via: 'url',
          policy: signed.policy,
          hash: options.hash,
        });
        // What was signed is exactly what a browser sends: the signed URL is already canonical.
        expect(new URL(signed.url).href).toBe(signed.url);
      }),
      { numRuns: 100 },
    );
  });

  it('signed cookies (canned for the URL, custom for a wildcard covering it) verify before expiry', () => {
    fc.assert(
      fc.property(requestArb, (r) => {
        const options = signOptions(r);
        const { resource, ...rest } = options;
        const signed = signCookies(
          resource === undefined ? { url: r.target.url, ...rest } : { resource, ...rest },
        );
        const cookie = signed.cookies.map((c) => `${c.name}=${c.value}`).join('; ');
        const now = validMoment(r, options.expires, options.notBefore);
        const url = new URL(r.target.url);
        url.hash = '';
        const verdict = verifyRequest({
          url: url.href.endsWith('?') ? url.href.slice(0, -1) : url.href,
          cookie: `other=1; ${cookie}`,
          clientIp: r.ip?.[1],
          now,
          trustedKeys: trusted(),
        });
        expect(verdict).toMatchObject({ allowed: true, via: 'cookie', policy: signed.policy });
      }),
      { numRuns: 75 },
    );
  });
});

describe('property: moving the clock to or past expiry is denied', () => {
  it('AccessDenied with an "expired … ago" reason, for URLs and cookies', () => {
    fc.assert(
      fc.property(
        requestArb,
        fc.integer({ min: 0, max: 10 * 365 * 86_400 }),
        fc.boolean(),
        (r, late, viaCookie) => {
          const options = signOptions(r);
          const now = options.expires + late;
          let verdict: Verdict;
          if (viaCookie) {
            const { resource, ...rest } = options;
            const signed = signCookies(
              resource === undefined ? { url: r.target.url, ...rest } : { resource, ...rest },
            );
            const cookie = signed.cookies.map((c) => `${c.name}=${c.value}`).join('; ');
            const target = signUrl({ url: r.target.url, ...options }).resource;
            verdict = verifyRequest({
              url: target,
              cookie,
              clientIp: r.ip?.[1],
              now,
              trustedKeys: trusted(),
            });
          } else {
            const signed = signUrl({ url: r.target.url, ...options });
            verdict = verifyRequest({ url: signed.url, clientIp: r.ip?.[1], now, trustedKeys: trusted() });
          }
          expect(outcome(verdict)).toEqual({ allowed: false, code: 'AccessDenied' });
          expect(verdict.reason).toMatch(
            /^expired \d+ (second|minute|hour|day)s? ago \(at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\)$/,
          );
        },
      ),
      { numRuns: 75 },
    );
  });
});

/** Requests whose custom policies hold no wildcard, for the mutation properties. */
const exactRequestArb = fc.record({
  target: urlArb,
  useRsa: fc.boolean(),
  custom: fc.constantFrom('canned', 'notBefore', 'ip'),
});

function signExact(r: typeof exactRequestArb extends fc.Arbitrary<infer T> ? T : never) {
  const { key, keyPairId } = keyOf(r.useRsa);
  const signed = signUrl({
    url: r.target.url,
    key,
    keyPairId,
    expires: NOW + 3600,
    notBefore: r.custom === 'notBefore' ? NOW - 60 : undefined,
    ipAddress: r.custom === 'ip' ? '203.0.113.0/24' : undefined,
    now: NOW,
  });
  const original: Original = {
    keyPairId,
    policy: signed.policy,
    signature: decodeCloudFrontBase64(queryValue(signed.url, 'Signature')!)!,
    hash: signed.hash,
    kind: signed.kind,
    resource: signed.resource,
  };
  return { signed, original };
}

function verifyAt(url: string): Verdict {
  return verifyRequest({ url, clientIp: '203.0.113.9', now: NOW, trustedKeys: trusted() });
}

describe('property: changing one character is denied with the right code', () => {
  it('of the signed URL, anywhere', () => {
    fc.assert(
      fc.property(exactRequestArb, fc.nat(), fc.constantFrom(...REPLACEMENTS), (r, position, replacement) => {
        const { signed, original } = signExact(r);
        const i = position % signed.url.length;
        fc.pre(signed.url[i] !== replacement);
        const mutated = signed.url.slice(0, i) + replacement + signed.url.slice(i + 1);
        const expected = model(mutated, original);
        expect(outcome(verifyAt(mutated))).toEqual(expected);
        if (expected.allowed) {
          // The only change that may still verify: the case of a custom policy's scheme or host (a
          // custom Resource matches the host case-insensitively). The decoder accepts one spelling only.
          const hostCase =
            original.kind === 'custom' &&
            i < signed.url.indexOf('/', 'https://'.length) &&
            mutated.toLowerCase() === signed.url.toLowerCase();
          expect(hostCase).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('of the signing parameters only (where the codes differ most)', () => {
    fc.assert(
      fc.property(exactRequestArb, fc.nat(), fc.constantFrom(...REPLACEMENTS), (r, position, replacement) => {
        const { signed, original } = signExact(r);
        const start = signed.resource.length + 1;
        const i = start + (position % (signed.url.length - start));
        fc.pre(signed.url[i] !== replacement);
        const mutated = signed.url.slice(0, i) + replacement + signed.url.slice(i + 1);
        expect(outcome(verifyAt(mutated))).toEqual(model(mutated, original));
      }),
      { numRuns: 300 },
    );
  });

  it('of the policy JSON: MalformedPolicy when it no longer parses into a policy, else AccessDenied', () => {
    fc.assert(
      fc.property(
        exactRequestArb.filter((r) => r.custom !== 'canned'),
        fc.nat(),
        fc.constantFrom(...REPLACEMENTS),
        (r, position, replacement) => {
          const { signed } = signExact(r);
          const i = position % signed.policy.length;
          fc.pre(signed.policy[i] !== replacement);
          const policy = signed.policy.slice(0, i) + replacement + signed.policy.slice(i + 1);
          const url = signed.url.replace(/Policy=[^&]+/, `Policy=${cloudFrontBase64(policy)}`);
          const verdict = verifyAt(url);
          expect(outcome(verdict)).toEqual({
            allowed: false,
            code: wellFormed(policy) ? 'AccessDenied' : 'MalformedPolicy',
          });
        },
      ),
      { numRuns: 200 },
    );
  });

  it('of the signature bytes: AccessDenied', () => {
    fc.assert(
      fc.property(exactRequestArb, fc.nat(), fc.integer({ min: 1, max: 255 }), (r, position, flip) => {
        const { signed, original } = signExact(r);
        const bytes = Buffer.from(original.signature);
        bytes[position % bytes.length]! ^= flip;
        const url = signed.url.replace(/Signature=[^&]+/, `Signature=${cloudFrontBase64(bytes)}`);
        expect(outcome(verifyAt(url))).toEqual({ allowed: false, code: 'AccessDenied' });
      }),
      { numRuns: 150 },
    );
  });
});

describe('re-spellings of the same signature bytes', () => {
  // Signet's decoder accepts exactly one spelling of each byte string: the standard base64 alphabet,
  // unused low bits in the last character, and characters after the padding are all refused, so no
  // changed character of a Signature can verify. (CloudFront's own leniency is undocumented.)
  it('refuses the standard-alphabet spelling of the CloudFront alphabet', () => {
    const { url } = signUrl({
      url: 'https://media.example.com/a.mp4',
      key: rsa.signing,
      keyPairId: RSA_ID,
      expires: NOW + 60,
      now: NOW,
    });
    const signature = queryValue(url, 'Signature')!;
    const standard = signature.replaceAll('-', '+').replaceAll('_', '=').replaceAll('~', '/');
    expect(standard).not.toBe(signature);
    expect(outcome(verifyAt(url.replace(signature, standard)))).toEqual({
      allowed: false,
      code: 'MalformedSignature',
    });
  });

  it('refuses unused low bits in the last character, and characters after the padding', () => {
    // A 256-byte RSA signature encodes as 344 characters ending in two padding characters; the last
    // data character carries 2 bits of the signature and 4 unused bits.
    const { url } = signUrl({
      url: 'https://media.example.com/a.mp4',
      key: rsa.signing,
      keyPairId: RSA_ID,
      expires: NOW + 60,
      now: NOW,
    });
    const signature = queryValue(url, 'Signature')!;
    expect(signature).toMatch(/^[A-Za-z0-9~-]{342}__$/);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-~';
    const last = alphabet.indexOf(signature[341]!);
    const sameTopBits = alphabet[last ^ 0b1111]!;
    const lowBits = `${signature.slice(0, 341)}${sameTopBits}__`;
    expect(outcome(verifyAt(url.replace(signature, lowBits)))).toEqual({
      allowed: false,
      code: 'MalformedSignature',
    });
    const afterPadding = `${signature.slice(0, 343)}A`;
    expect(outcome(verifyAt(url.replace(signature, afterPadding)))).toEqual({
      allowed: false,
      code: 'MalformedSignature',
    });
  });
});
