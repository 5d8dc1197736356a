import { sign } from 'node:crypto';
import { encodeCloudFrontBase64 } from './encoding.ts';
import { SigningError } from './errors.ts';
import { defaultHashFor, type HashAlgorithm, type KeyAlgorithm, type SigningKey } from './keys.ts';
import { cannedPolicy, customPolicy, type PolicyConditions, validateConditions } from './policy.ts';
import {
  assertNoWildcard,
  assertNoWildcardInCustomResource,
  canonicalResource,
  canonicalUrl,
  MAX_URL_BYTES,
  resourceMatches,
} from './url.ts';

/**
 * A key whose private half is elsewhere (AWS KMS): `sign` returns the raw signature of the policy
 * bytes, which it must already hold (lib/signing/remote.ts signs every policy first, asynchronously).
 */
export interface ExternalKey {
  readonly algorithm: KeyAlgorithm;
  readonly sign: (policy: Buffer, hash: HashAlgorithm) => Buffer;
}

/** What every signature needs besides the resource. Times are epoch seconds. */
export interface SignatureOptions {
  /** The CloudFront public key id (`K…`) whose private key is `key`. */
  readonly keyPairId: string;
  readonly key: SigningKey | ExternalKey;
  readonly expires: number;
  readonly notBefore?: number | undefined;
  /** An IPv4 address or CIDR the request must come from. */
  readonly ipAddress?: string | undefined;
  /** Defaults to SHA-256 for ECDSA keys and SHA-1 for RSA keys. */
  readonly hash?: HashAlgorithm | undefined;
  /** The current time in epoch seconds: a signature that would already be expired is refused. */
  readonly now: number;
}

/** Options for {@link signUrl}. */
export interface SignUrlOptions extends SignatureOptions {
  readonly url: string;
  /** A wildcard pattern the URL falls under; makes the policy custom and reusable for other URLs under it. */
  readonly resource?: string | undefined;
}

/** A signed URL and exactly what was signed. */
export interface SignedUrl {
  readonly url: string;
  /** The canonical URL before the signing parameters were added. */
  readonly resource: string;
  readonly kind: 'canned' | 'custom';
  /** The exact policy JSON whose bytes were signed. */
  readonly policy: string;
  readonly expires: number;
  readonly keyPairId: string;
  readonly hash: HashAlgorithm;
}

/** Options for {@link signCookies}: name what they cover with `resource` (may be a wildcard) or `url`. */
export interface SignCookiesOptions extends SignatureOptions {
  readonly resource?: string | undefined;
  readonly url?: string | undefined;
}

/** The CloudFront cookies for one policy, before any Set-Cookie attributes. */
export interface SignedCookies {
  readonly cookies: readonly { readonly name: string; readonly value: string }[];
  readonly resource: string;
  readonly kind: 'canned' | 'custom';
  readonly policy: string;
  readonly expires: number;
  readonly keyPairId: string;
  readonly hash: HashAlgorithm;
}

/** A policy signed once, ready to be attached to any URL it covers. */
interface SignedPolicy {
  readonly kind: 'canned' | 'custom';
  readonly policy: string;
  /** The query text that carries the policy: `Expires=…` or `Policy=…`. */
  readonly head: string;
  readonly signature: string;
  readonly conditions: PolicyConditions;
  readonly hash: HashAlgorithm;
}

/**
 * Signs one URL. A canned policy when the request is one exact URL with only an expiry; a custom
 * policy when it has a wildcard `resource`, `notBefore` or `ipAddress`. The URL returned is the
 * canonical (WHATWG) form of the input, followed by Expires|Policy, Signature, Key-Pair-Id and, for
 * SHA-256, Hash-Algorithm.
 */
export function signUrl(options: SignUrlOptions): SignedUrl {
  if (options.resource !== undefined || options.notBefore !== undefined || options.ipAddress !== undefined) {
    const [signed] = signUrls([options.url], options);
    return signed!;
  }
  // One exact URL with only an expiry, the API's common case: the same checks in the same order as
  // signUrls, without its batch arrays (a few microseconds of an ECDSA signature's thirty).
  const hash = hashFor(options);
  const conditions = validateConditions(options, options.now);
  assertKeyPairId(options.keyPairId);
  const href = canonicalUrl(options.url);
  assertNoWildcard(href);
  const signed = signPolicy('canned', cannedPolicy(href, conditions.expires), conditions, hash, options.key);
  return signedUrlOf(href, signed, options.keyPairId);
}

/**
 * Signs several URLs with the same options. With a `resource`, or conditions that make the policy
 * custom, the URLs share one policy and so one signature: the batch costs one private-key operation.
 */
export function signUrls(urls: readonly string[], options: Omit<SignUrlOptions, 'url'>): SignedUrl[] {
  return signBatch(urls, options, canonicalUrl);
}

/**
 * {@link signUrls} for URLs that are already {@link canonicalUrl}'s results: the API canonicalizes
 * each URL of a request once, where it checks the batch, and signs those. Anything else given here
 * would be signed as written.
 */
export function signCanonicalUrls(
  hrefs: readonly string[],
  options: Omit<SignUrlOptions, 'url'>,
): SignedUrl[] {
  return signBatch(hrefs, options, (href) => href);
}

function signBatch(
  urls: readonly string[],
  options: Omit<SignUrlOptions, 'url'>,
  canonical: (url: string) => string,
): SignedUrl[] {
  const hash = hashFor(options);
  const conditions = validateConditions(options, options.now);
  assertKeyPairId(options.keyPairId);
  const resource = options.resource === undefined ? undefined : canonicalResource(options.resource);
  const custom =
    resource !== undefined || conditions.notBefore !== undefined || conditions.ipAddress !== undefined;
  const resources = urls.map((input) => {
    const href = canonical(input);
    if (resource === undefined) assertNoWildcard(href);
    if (resource === undefined && custom) assertNoWildcardInCustomResource(href);
    if (resource !== undefined && !resourceMatches(resource, href)) {
      throw new SigningError(
        'ERR_URL_OUTSIDE_RESOURCE',
        `Expected the URL to fall under the resource ${resource}; got ${href}, which CloudFront would refuse.`,
      );
    }
    return href;
  });
  let shared: SignedPolicy | undefined;
  return resources.map((href) => {
    let signed: SignedPolicy;
    if (resource !== undefined) {
      shared ??= signPolicy('custom', customPolicy(resource, conditions), conditions, hash, options.key);
      signed = shared;
    } else if (custom) {
      signed = signPolicy('custom', customPolicy(href, conditions), conditions, hash, options.key);
    } else {
      signed = signPolicy('canned', cannedPolicy(href, conditions.expires), conditions, hash, options.key);
    }
    return signedUrlOf(href, signed, options.keyPairId);
  });
}

/** The URL `href` with the signing parameters of `signed` appended, refused over CloudFront's limit. */
function signedUrlOf(href: string, signed: SignedPolicy, keyPairId: string): SignedUrl {
  const url = `${href}${href.includes('?') ? '&' : '?'}${signingQuery(signed, keyPairId)}`;
  // ASCII throughout (a canonical href, base64 and a key id of letters and digits): length is bytes.
  if (url.length > MAX_URL_BYTES) {
    throw new SigningError(
      'ERR_URL_TOO_LONG',
      `Expected the signed URL to fit CloudFront's ${MAX_URL_BYTES}-byte limit; with its signature it is ` +
        `${url.length} bytes. Shorten the URL or sign a wildcard resource and use cookies.`,
    );
  }
  return {
    url,
    resource: href,
    kind: signed.kind,
    policy: signed.policy,
    expires: signed.conditions.expires,
    keyPairId,
    hash: signed.hash,
  };
}

/**
 * Signs the CloudFront cookies for a resource: canned cookies (CloudFront-Expires) for one exact
 * `url` with only an expiry, custom cookies (CloudFront-Policy) otherwise.
 */
export function signCookies(options: SignCookiesOptions): SignedCookies {
  const hash = hashFor(options);
  const conditions = validateConditions(options, options.now);
  assertKeyPairId(options.keyPairId);
  let resource: string;
  let kind: 'canned' | 'custom';
  if (options.resource !== undefined) {
    resource = canonicalResource(options.resource);
    kind = 'custom';
    if (options.url !== undefined && !resourceMatches(resource, canonicalUrl(options.url))) {
      throw new SigningError(
        'ERR_URL_OUTSIDE_RESOURCE',
        `Expected the URL to fall under the resource ${resource}; got ${canonicalUrl(options.url)}.`,
      );
    }
  } else if (options.url !== undefined) {
    resource = canonicalUrl(options.url);
    assertNoWildcard(resource);
    kind = conditions.notBefore !== undefined || conditions.ipAddress !== undefined ? 'custom' : 'canned';
    if (kind === 'custom') assertNoWildcardInCustomResource(resource);
  } else {
    throw new SigningError(
      'ERR_INVALID_RESOURCE',
      'Expected `resource` (for example https://media.example.com/videos/*) or `url` to say what the cookies cover.',
    );
  }
  const policy =
    kind === 'canned' ? cannedPolicy(resource, conditions.expires) : customPolicy(resource, conditions);
  const signed = signPolicy(kind, policy, conditions, hash, options.key);
  const cookies = [
    kind === 'canned'
      ? { name: 'CloudFront-Expires', value: String(conditions.expires) }
      : { name: 'CloudFront-Policy', value: signed.head.slice('Policy='.length) },
    { name: 'CloudFront-Signature', value: signed.signature },
    { name: 'CloudFront-Key-Pair-Id', value: options.keyPairId },
  ];
  if (hash === 'sha256') cookies.push({ name: 'CloudFront-Hash-Algorithm', value: 'SHA256' });
  return { cookies, resource, kind, policy, expires: conditions.expires, keyPairId: options.keyPairId, hash };
}

function signPolicy(
  kind: 'canned' | 'custom',
  policy: string,
  conditions: PolicyConditions,
  hash: HashAlgorithm,
  key: SigningKey | ExternalKey,
): SignedPolicy {
  const bytes = Buffer.from(policy);
  const raw = 'privateKey' in key ? sign(hash, bytes, key.privateKey) : key.sign(bytes, hash);
  const signature = encodeCloudFrontBase64(raw);
  const head =
    kind === 'canned' ? `Expires=${conditions.expires}` : `Policy=${encodeCloudFrontBase64(bytes)}`;
  return { kind, policy, head, signature, conditions, hash };
}

function signingQuery(signed: SignedPolicy, keyPairId: string): string {
  const tail = signed.hash === 'sha256' ? '&Hash-Algorithm=SHA256' : '';
  return `${signed.head}&Signature=${signed.signature}&Key-Pair-Id=${keyPairId}${tail}`;
}

function hashFor(options: SignatureOptions): HashAlgorithm {
  const hash = options.hash ?? defaultHashFor(options.key.algorithm);
  if (hash !== 'sha1' && hash !== 'sha256') {
    throw new SigningError(
      'ERR_UNSUPPORTED_HASH',
      `Expected hash sha1 or sha256; got ${JSON.stringify(hash)}.`,
    );
  }
  // The AWS CLI always pairs ECDSA with SHA-256; whether the edge accepts ECDSA-SHA1 is UNCONFIRMED,
  // and @aws-sdk/cloudfront-signer silently produces it. Refuse rather than hand out a link that may 403.
  if (hash === 'sha1' && options.key.algorithm === 'ecdsa-p256') {
    throw new SigningError(
      'ERR_UNSUPPORTED_HASH',
      'Expected sha256 with an ECDSA P-256 key; got sha1. CloudFront pairs ECDSA keys with SHA-256.',
    );
  }
  return hash;
}

/**
 * CloudFront public key ids are uppercase letters and digits (`K2JCJMDEHXQW5F`; legacy key pairs
 * `APKA…`). A UUID here is almost always the key group id, the classic cause of "Unknown Key".
 */
/** The last key id {@link assertKeyPairId} accepted: a service signs with one key at a time. */
let acceptedKeyPairId: string | undefined;

function assertKeyPairId(keyPairId: string): void {
  if (keyPairId === acceptedKeyPairId) return;
  if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(keyPairId)) {
    throw new SigningError(
      'ERR_INVALID_KEY_PAIR_ID',
      `Expected a CloudFront public key id like K2JCJMDEHXQW5F; got ${keyPairId}, which looks like a key group id. ` +
        'Use the id of the public key inside the group.',
    );
  }
  if (!/^[A-Z0-9]{8,128}$/.test(keyPairId)) {
    throw new SigningError(
      'ERR_INVALID_KEY_PAIR_ID',
      `Expected a CloudFront public key id of uppercase letters and digits, like K2JCJMDEHXQW5F; got ${JSON.stringify(keyPairId)}.`,
    );
  }
  acceptedKeyPairId = keyPairId;
}
