import { type KeyObject, verify } from 'node:crypto';
import { ipInCidr } from './cidr.ts';
import { parseCookieHeader } from './cookies.ts';
import { decodeCloudFrontBase64 } from './encoding.ts';
import type { HashAlgorithm, VerifyingKey } from './keys.ts';
import { cannedPolicy, describeDuration, isoOf } from './policy.ts';
import { resourceMatches, stripSigningParameters } from './url.ts';

/** CloudFront's error codes for a refused signed request. */
export type DenialCode =
  | 'MissingKey'
  | 'InvalidKey'
  | 'MalformedSignature'
  | 'MalformedPolicy'
  | 'AccessDenied';

/** The `<Message>` CloudFront puts in its 403 body for each code. */
export const DENIAL_MESSAGES: Readonly<Record<DenialCode, string>> = {
  MissingKey: 'Missing Key-Pair-Id query parameter or cookie value',
  InvalidKey: 'Unknown Key',
  MalformedSignature: 'Could not unencode Signature',
  MalformedPolicy: 'Malformed Policy',
  AccessDenied: 'Access denied',
};

/** A request as it reaches the edge. */
export interface VerifyRequest {
  /** The full request URL, as sent on the wire. */
  readonly url: string;
  /** The `Cookie` header, if any. A signed URL takes precedence over cookies. */
  readonly cookie?: string | undefined;
  /** The viewer's IPv4 address, checked against an `AWS:SourceIp` condition. */
  readonly clientIp?: string | undefined;
  /** The time the request arrives, epoch seconds. */
  readonly now: number;
  /** Public keys the distribution trusts, by public key id. */
  readonly trustedKeys: ReadonlyMap<string, VerifyingKey | KeyObject>;
}

/** What was presented, decoded as far as it would go: for explaining a verdict. */
export interface Presented {
  readonly via: 'url' | 'cookie' | 'none';
  readonly keyPairId?: string | undefined;
  /** The policy JSON the signature is checked against (rebuilt from Expires for a canned policy). */
  readonly policy?: string | undefined;
  readonly kind?: 'canned' | 'custom' | undefined;
  readonly hash?: HashAlgorithm | undefined;
  /** The resource the request asks for: its URL without the signing parameters. */
  readonly resource: string;
  readonly expires?: number | undefined;
}

/** What CloudFront would answer: allowed, or a denial with its code and a reason a person can act on. */
export type Verdict =
  | (Presented & { readonly allowed: true; readonly reason: string })
  | (Presented & {
      readonly allowed: false;
      readonly code: DenialCode;
      /** CloudFront's own message for the code. */
      readonly message: string;
      readonly reason: string;
    });

interface ParsedPolicy {
  resource: string | undefined;
  expires: number;
  notBefore: number | undefined;
  sourceIp: string | undefined;
}

/**
 * Decides a request the way a CloudFront edge does: find the signature (URL first, then cookies),
 * check the key is trusted, decode signature and policy, verify the signature over the policy bytes,
 * then the policy's time, IP and resource conditions. Time boundaries are UNCONFIRMED by AWS: Signet
 * treats `DateLessThan` as "now < expires" and `DateGreaterThan` as "now > notBefore", as the names say.
 */
export function verifyRequest(request: VerifyRequest): Verdict {
  const resource = stripSigningParameters(withoutFragment(request.url));
  const fields = signingFields(request);
  const presented: Presented = { via: fields.via, resource, keyPairId: fields.keyPairId || undefined };
  const deny = (code: DenialCode, reason: string, more: Partial<Presented> = {}): Verdict => ({
    ...presented,
    ...more,
    allowed: false,
    code,
    message: DENIAL_MESSAGES[code],
    reason,
  });

  if (fields.via === 'none') {
    return deny('MissingKey', 'the request carries neither signed URL parameters nor CloudFront cookies');
  }
  if (!fields.keyPairId) {
    return deny(
      'MissingKey',
      `the ${fields.via === 'url' ? 'Key-Pair-Id query parameter' : 'CloudFront-Key-Pair-Id cookie'} is missing or empty`,
    );
  }
  const trusted = request.trustedKeys.get(fields.keyPairId);
  if (trusted === undefined) {
    return deny('InvalidKey', `key ${fields.keyPairId} is not in any key group this distribution trusts`);
  }
  const signature = fields.signature === undefined ? undefined : decodeCloudFrontBase64(fields.signature);
  if (signature === undefined || signature.length === 0) {
    return deny(
      'MalformedSignature',
      fields.signature === undefined ? 'there is no Signature' : 'the Signature is not CloudFront base64',
    );
  }

  let policy: string;
  let kind: 'canned' | 'custom';
  if (fields.policy !== undefined) {
    const bytes = decodeCloudFrontBase64(fields.policy);
    if (bytes === undefined) return deny('MalformedPolicy', 'the Policy is not CloudFront base64');
    policy = bytes.toString('utf8');
    kind = 'custom';
  } else if (fields.expires !== undefined) {
    if (!/^\d{1,10}$/.test(fields.expires)) {
      return deny(
        'MalformedPolicy',
        `Expires must be whole epoch seconds; got ${JSON.stringify(fields.expires)}`,
      );
    }
    policy = cannedPolicy(resource, Number(fields.expires));
    kind = 'canned';
  } else {
    return deny('MalformedPolicy', 'there is neither an Expires nor a Policy');
  }
  const parsed = parsePolicy(policy);
  const decoded = { policy, kind, expires: typeof parsed === 'string' ? undefined : parsed.expires };
  if (typeof parsed === 'string') return deny('MalformedPolicy', parsed, decoded);

  const hash = hashOf(fields.hashAlgorithm);
  if (hash === undefined) {
    return deny(
      'AccessDenied',
      `Hash-Algorithm ${JSON.stringify(fields.hashAlgorithm)} is not SHA256 (or absent for SHA-1)`,
      decoded,
    );
  }
  const withHash = { ...decoded, hash };
  const publicKey = 'publicKey' in trusted ? trusted.publicKey : trusted;
  if (!verifySignature(hash, policy, publicKey, signature)) {
    const why =
      kind === 'canned'
        ? 'the URL (path, query or Expires) was changed after signing, or it was signed by another private key'
        : 'the policy was changed after signing, or it was signed by another private key';
    return deny(
      'AccessDenied',
      `the signature does not match the policy with key ${fields.keyPairId}: ${why}`,
      withHash,
    );
  }
  if (request.now >= parsed.expires) {
    return deny(
      'AccessDenied',
      `expired ${describeDuration(request.now - parsed.expires)} ago (at ${isoOf(parsed.expires)})`,
      withHash,
    );
  }
  if (parsed.notBefore !== undefined && request.now <= parsed.notBefore) {
    return deny(
      'AccessDenied',
      `not valid until ${isoOf(parsed.notBefore)} (in ${describeDuration(parsed.notBefore - request.now)})`,
      withHash,
    );
  }
  if (parsed.sourceIp !== undefined) {
    if (request.clientIp === undefined) {
      return deny(
        'AccessDenied',
        `the policy requires an IP in ${parsed.sourceIp} and no client IP was given`,
        withHash,
      );
    }
    if (!ipInCidr(request.clientIp, parsed.sourceIp)) {
      return deny('AccessDenied', `IP ${request.clientIp} not in ${parsed.sourceIp}`, withHash);
    }
  }
  if (parsed.resource !== undefined && !resourceMatches(parsed.resource, resource)) {
    return deny('AccessDenied', `resource ${resource} does not match ${parsed.resource}`, withHash);
  }
  const left = describeDuration(parsed.expires - request.now);
  return {
    ...presented,
    ...withHash,
    allowed: true,
    reason: `signed by key ${fields.keyPairId} via ${fields.via === 'url' ? 'the URL' : 'cookies'}; expires in ${left} (at ${isoOf(parsed.expires)})`,
  };
}

/** Decodes a policy, for display: the JSON text of a URL's `Policy` parameter or a policy cookie. */
export function decodePolicy(encoded: string): string | undefined {
  return decodeCloudFrontBase64(encoded)?.toString('utf8');
}

interface SigningFields {
  via: 'url' | 'cookie' | 'none';
  keyPairId?: string | undefined;
  signature?: string | undefined;
  policy?: string | undefined;
  expires?: string | undefined;
  hashAlgorithm?: string | undefined;
}

function signingFields(request: VerifyRequest): SigningFields {
  const query = queryValues(request.url);
  if (['Expires', 'Policy', 'Signature', 'Key-Pair-Id'].some((name) => query.has(name))) {
    return {
      via: 'url',
      keyPairId: query.get('Key-Pair-Id'),
      signature: query.get('Signature'),
      policy: query.get('Policy'),
      expires: query.get('Expires'),
      hashAlgorithm: query.get('Hash-Algorithm'),
    };
  }
  const cookies = parseCookieHeader(request.cookie ?? '');
  if (
    ['CloudFront-Expires', 'CloudFront-Policy', 'CloudFront-Signature', 'CloudFront-Key-Pair-Id'].some((n) =>
      cookies.has(n),
    )
  ) {
    return {
      via: 'cookie',
      keyPairId: cookies.get('CloudFront-Key-Pair-Id'),
      signature: cookies.get('CloudFront-Signature'),
      policy: cookies.get('CloudFront-Policy'),
      expires: cookies.get('CloudFront-Expires'),
      hashAlgorithm: cookies.get('CloudFront-Hash-Algorithm'),
    };
  }
  return { via: 'none' };
}

/** Raw (undecoded: CloudFront base64 needs none) query values by name, first occurrence wins. */
function queryValues(href: string): Map<string, string> {
  const values = new Map<string, string>();
  const queryAt = href.indexOf('?');
  if (queryAt === -1) return values;
  for (const pair of withoutFragment(href)
    .slice(queryAt + 1)
    .split('&')) {
    const equals = pair.indexOf('=');
    const name = equals === -1 ? pair : pair.slice(0, equals);
    if (!values.has(name)) values.set(name, equals === -1 ? '' : pair.slice(equals + 1));
  }
  return values;
}

/** Parses and checks a policy's shape; a string return says why it is malformed. */
function parsePolicy(text: string): ParsedPolicy | string {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return 'the policy is not JSON';
  }
  if (!isObject(json)) return 'the policy is not a JSON object';
  // The signed-URL docs show Statement as an object since 2023; cookies and SDKs use an array of one.
  const statements = Array.isArray(json.Statement) ? json.Statement : [json.Statement];
  if (statements.length !== 1 || !isObject(statements[0]))
    return 'the policy must have exactly one Statement';
  const statement = statements[0];
  if (statement.Resource !== undefined && typeof statement.Resource !== 'string') {
    return 'the Statement Resource must be a string';
  }
  const condition = statement.Condition;
  if (!isObject(condition)) return 'the Statement has no Condition';
  const expires = epochOf(condition.DateLessThan);
  if (expires === undefined)
    return 'the Condition needs DateLessThan {"AWS:EpochTime": <whole epoch seconds>}';
  const notBefore = condition.DateGreaterThan === undefined ? undefined : epochOf(condition.DateGreaterThan);
  if (condition.DateGreaterThan !== undefined && notBefore === undefined) {
    return 'DateGreaterThan must be {"AWS:EpochTime": <whole epoch seconds>}';
  }
  let sourceIp: string | undefined;
  if (condition.IpAddress !== undefined) {
    const ip = isObject(condition.IpAddress) ? condition.IpAddress['AWS:SourceIp'] : undefined;
    if (typeof ip !== 'string') return 'IpAddress must be {"AWS:SourceIp": "<IPv4 CIDR>"}';
    sourceIp = ip;
  }
  return { resource: statement.Resource, expires, notBefore, sourceIp };
}

function epochOf(value: unknown): number | undefined {
  const epoch = isObject(value) ? value['AWS:EpochTime'] : undefined;
  return typeof epoch === 'number' && Number.isSafeInteger(epoch) ? epoch : undefined;
}

function hashOf(value: string | undefined): HashAlgorithm | undefined {
  if (value === undefined) return 'sha1';
  return value === 'SHA256' ? 'sha256' : undefined;
}

function verifySignature(hash: HashAlgorithm, policy: string, key: KeyObject, signature: Buffer): boolean {
  try {
    return verify(hash, Buffer.from(policy), key, signature);
  } catch {
    // A signature of the wrong shape for the key (an RSA signature on an EC key) throws rather than fails.
    return false;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function withoutFragment(href: string): string {
  const hashAt = href.indexOf('#');
  return hashAt === -1 ? href : href.slice(0, hashAt);
}
