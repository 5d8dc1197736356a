import {
  createRemoteJWKSet,
  decodeProtectedHeader,
  errors,
  type JWTPayload,
  type JWTVerifyGetKey,
  type JWTVerifyOptions,
  jwtVerify,
} from 'jose';
import type { AuthConfig } from '../config/schema.ts';
import { type ApiKeySource, findApiKey, principalOf } from './api-keys.ts';
import { AuthError, tokenHint } from './errors.ts';
import type { Principal } from './principal.ts';

/** What a request presented, as the HTTP layer found it. */
export interface Credentials {
  /** The `Authorization` header value. */
  authorization?: string | undefined;
  /** The `x-api-key` header value. */
  apiKey?: string | undefined;
  /** API Gateway's `requestContext.authorizer.jwt.claims`, when a JWT authorizer ran. */
  gatewayClaims?: Record<string, unknown> | undefined;
}

/** Turns a request's credentials into a {@link Principal}, or throws {@link AuthError}. */
export interface Authenticator {
  authenticate(credentials: Credentials): Promise<Principal>;
}

/** Options of {@link createAuthenticator}. */
export interface AuthenticatorOptions {
  config: AuthConfig;
  /**
   * Resolves a token's verification key. Default: jose's `createRemoteJWKSet` over
   * `config.jwt.jwksUrl`, which caches the set (10 min) and refetches it when a token names an
   * unknown `kid`, at most once per 30 s cooldown, so key rotation at the issuer needs no restart.
   */
  jwks?: JWTVerifyGetKey;
  /** Where API key hashes come from; wrap it in `CachedApiKeySource`. Required when `config.apiKeys` is set. */
  apiKeys?: ApiKeySource;
  /** Epoch seconds, for checking `exp` and `nbf`. Default: the system clock. */
  now?: () => number;
}

/**
 * Algorithms never accepted, even if a config slipped them past the schema: `none` needs no key at
 * all, and with HMAC the issuer's published verification secret would be a signing secret.
 */
const FORBIDDEN_ALGORITHM = /^(none|HS\d+)$/i;

/** RFC 6750 section 2.1: `b64token`. A JWT is stricter (checked below), but this is the header grammar. */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i;
/** A compact JWS: three base64url parts, the last empty only for `alg: none` (refused by jose). */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** How long one JWKS fetch may take: part of the API's budget inside its function timeout (docs/operators.md, "Cold starts"). */
export const JWKS_TIMEOUT_MS = 2000;

/**
 * The issuer's key set as the API fetches it: cached for `jwksMaxAge`, refetched on an unknown `kid`,
 * each fetch bounded by {@link JWKS_TIMEOUT_MS} (jose's default is 5 s).
 */
export function remoteJwks(
  jwt: Pick<NonNullable<AuthConfig['jwt']>, 'jwksUrl' | 'jwksMaxAge'>,
): JWTVerifyGetKey {
  return createRemoteJWKSet(new URL(jwt.jwksUrl), {
    cacheMaxAge: jwt.jwksMaxAge * 1000,
    timeoutDuration: JWKS_TIMEOUT_MS,
  });
}

/**
 * Builds the authenticator of docs/design.md, "The API". Precedence: claims from an API Gateway JWT
 * authorizer (when `config.trustGatewayClaims` and present), then `Authorization: Bearer <JWT>`,
 * then `x-api-key`; a request with both a bearer token and an API key is refused as ambiguous
 * rather than guessing which one the caller meant.
 */
export function createAuthenticator(options: AuthenticatorOptions): Authenticator {
  const { config, apiKeys } = options;
  const now = options.now ?? (() => Date.now() / 1000);
  if (config.apiKeys !== undefined && apiKeys === undefined) {
    // A wiring mistake: better to fail at start than to refuse every API key caller.
    throw new TypeError('Expected an `apiKeys` source: the config names an API key secret.');
  }
  const verifyBearer = config.jwt === undefined ? undefined : bearerVerifier(config.jwt, options.jwks, now);

  return {
    async authenticate(credentials: Credentials): Promise<Principal> {
      if (config.trustGatewayClaims && credentials.gatewayClaims !== undefined) {
        return gatewayPrincipal(credentials.gatewayClaims, config);
      }
      const authorization = presentValue(credentials.authorization);
      const apiKey = presentValue(credentials.apiKey);
      if (authorization !== undefined && apiKey !== undefined) {
        throw new AuthError(
          'ambiguous-credentials',
          'Expected either an Authorization header or an x-api-key header; got both.',
        );
      }
      if (authorization !== undefined) {
        if (verifyBearer === undefined) {
          throw new AuthError(
            'unsupported-credentials',
            'Expected an x-api-key header: this service has no JWT issuer configured.',
          );
        }
        return verifyBearer(authorization);
      }
      if (apiKey !== undefined) {
        if (apiKeys === undefined) {
          throw new AuthError(
            'unsupported-credentials',
            'Expected an Authorization: Bearer header: this service has no API keys configured.',
          );
        }
        return apiKeyPrincipal(apiKeys, apiKey, now());
      }
      throw new AuthError(
        'missing-credentials',
        `Expected an Authorization: Bearer header${apiKeys === undefined ? '' : ' or an x-api-key header'}; got neither.`,
      );
    },
  };
}

type JwtConfig = NonNullable<AuthConfig['jwt']>;

function bearerVerifier(
  jwt: JwtConfig,
  jwks: JWTVerifyGetKey | undefined,
  now: () => number,
): (authorization: string) => Promise<Principal> {
  const algorithms: string[] = jwt.algorithms.filter((alg) => !FORBIDDEN_ALGORITHM.test(alg));
  if (algorithms.length === 0) {
    throw new TypeError('Expected at least one asymmetric algorithm in auth.jwt.algorithms.');
  }
  // A key the issuer withdraws from its JWKS stays usable until the cached set is refetched: for at
  // most `jwksMaxAge` (see VerifiedTokenCache for what that means for tokens already verified).
  const resolveKey = jwks ?? remoteJwks(jwt);
  const audiences = typeof jwt.audience === 'string' ? [jwt.audience] : jwt.audience;
  const context: FailureContext = { jwt, algorithms, audiences };

  // Failures of the key set itself (network, HTTP status, not a JWKS) are the service's problem,
  // not the caller's: they become 'jwks-unavailable' here, before jose's own errors are mapped.
  const getKey: JWTVerifyGetKey = async (header, token) => {
    try {
      return await resolveKey(header, token);
    } catch (error) {
      if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) {
        throw error;
      }
      throw new AuthError(
        'jwks-unavailable',
        `Expected the token issuer's key set at ${jwt.jwksUrl} to answer with a JSON Web Key Set; ${describeError(error)}.`,
        { cause: error },
      );
    }
  };

  const verified = new VerifiedTokenCache(jwt.jwksMaxAge);
  return async (authorization) => {
    const token = bearerToken(authorization);
    const cached = verified.get(token, now());
    if (cached !== undefined) return cached;
    const verifyOptions: JWTVerifyOptions = {
      issuer: jwt.issuer,
      audience: audiences,
      algorithms,
      clockTolerance: jwt.clockTolerance,
      currentDate: new Date(now() * 1000),
      // A token without `exp` would be good forever; one without `sub` names no one to grant to.
      requiredClaims: ['exp', 'sub'],
    };
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, getKey, verifyOptions));
    } catch (error) {
      if (!(error instanceof errors.JWKSMultipleMatchingKeys)) throw toAuthError(error, token, context);
      payload = await verifyWithEachCandidate(token, error, verifyOptions, context);
    }
    if (typeof payload.sub !== 'string' || payload.sub.length === 0) {
      throw new AuthError('missing-subject', 'Expected a `sub` claim that is a non-empty string.');
    }
    const principal: Principal = Object.freeze({
      kind: 'jwt',
      subject: payload.sub,
      claims: freezeDeep({ ...payload }),
    });
    verified.set(token, principal, payload.exp!, now());
    return principal;
  };
}

/**
 * Tokens already verified, so a caller that sends the same token on every request pays for one
 * signature verification, not one per request (an ES256 verification costs more than signing the
 * URL with ECDSA). Keyed by the whole token, signature included, so only the exact bytes that
 * verified are let through, and only until the token's own `exp`, and at most `auth.jwt.jwksMaxAge`
 * (default 5 minutes) after it was verified.
 *
 * When the issuer withdraws a key from its JWKS (a compromised key, say), two caches decide how long
 * its tokens still pass: the fetched JWKS, refetched after `jwksMaxAge`, so NEW tokens signed by the
 * withdrawn key are accepted for at most `jwksMaxAge` after the withdrawal; and this cache, so a token
 * verified just before is accepted for at most `jwksMaxAge` more. Lower `jwksMaxAge` for a faster
 * cut-off at the cost of more JWKS fetches (one per container per period). Bounded in size: the
 * oldest entries go first.
 */
class VerifiedTokenCache {
  static readonly MAX_ENTRIES = 5000;
  readonly #entries = new Map<string, { principal: Principal; until: number }>();
  readonly #maxSeconds: number;

  constructor(maxSeconds: number) {
    this.#maxSeconds = maxSeconds;
  }

  get(token: string, now: number): Principal | undefined {
    const entry = this.#entries.get(token);
    if (entry === undefined) return undefined;
    if (now < entry.until) return entry.principal;
    this.#entries.delete(token);
    return undefined;
  }

  set(token: string, principal: Principal, exp: number, now: number): void {
    if (this.#entries.size >= VerifiedTokenCache.MAX_ENTRIES) {
      this.#entries.delete(this.#entries.keys().next().value!);
    }
    this.#entries.set(token, { principal, until: Math.min(exp, now + this.#maxSeconds) });
  }
}

/**
 * A key set with several keys that fit a token without `kid` (or with a reused one): jose hands
 * back every candidate and leaves it to the caller to try each, as its documentation shows.
 */
async function verifyWithEachCandidate(
  token: string,
  multiple: InstanceType<typeof errors.JWKSMultipleMatchingKeys>,
  options: JWTVerifyOptions,
  context: FailureContext,
): Promise<JWTPayload> {
  let failure: unknown = multiple;
  for await (const key of multiple) {
    try {
      return (await jwtVerify(token, key, options)).payload;
    } catch (error) {
      // Only a wrong key is worth trying the next one for; an expired token stays expired.
      if (!(error instanceof errors.JWSSignatureVerificationFailed)) throw toAuthError(error, token, context);
      failure = error;
    }
  }
  throw toAuthError(failure, token, context);
}

function bearerToken(authorization: string): string {
  const match = BEARER.exec(authorization);
  if (match === null) {
    const scheme = /^\S+/.exec(authorization)?.[0] ?? '';
    if (scheme.toLowerCase() !== 'bearer') {
      const shown = /^[A-Za-z0-9-]{1,20}$/.test(scheme) ? `the ${scheme} scheme` : 'an unknown scheme';
      throw new AuthError('unsupported-credentials', `Expected Authorization: Bearer <JWT>; got ${shown}.`);
    }
    throw new AuthError(
      'malformed-token',
      'Expected Authorization: Bearer followed by one space and a token of base64url characters.',
    );
  }
  const token = match[1] as string;
  if (!COMPACT_JWS.test(token)) {
    throw new AuthError(
      'malformed-token',
      `Expected a JWT (three base64url parts separated by dots); got a token starting ${tokenHint(token)}.`,
    );
  }
  return token;
}

interface FailureContext {
  readonly jwt: JwtConfig;
  readonly algorithms: readonly string[];
  readonly audiences: readonly string[];
}

/** Maps jose's errors to reasons. Anything that is not a JOSE error is a bug, not a bad token: rethrown as is. */
function toAuthError(error: unknown, token: string, context: FailureContext): unknown {
  if (error instanceof AuthError) return error;
  const { jwt } = context;
  const options = { cause: error };
  if (error instanceof errors.JOSEAlgNotAllowed) {
    return new AuthError(
      'algorithm-not-allowed',
      `Expected a token signed with one of ${context.algorithms.join(', ')}; got alg ${headerValue(token, 'alg')}.`,
      options,
    );
  }
  if (error instanceof errors.JWTExpired) {
    return new AuthError(
      'token-expired',
      `Expected a token that has not expired (clock tolerance ${jwt.clockTolerance} s); it expired at ${isoOf(error.payload.exp)}.`,
      options,
    );
  }
  if (error instanceof errors.JWTClaimValidationFailed) return claimError(error, context);
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) {
    return new AuthError(
      'unknown-signing-key',
      `Expected a token signed by a key published at ${jwt.jwksUrl}; none matches kid ${headerValue(token, 'kid')} and alg ${headerValue(token, 'alg')}.`,
      options,
    );
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return new AuthError(
      'invalid-signature',
      `Expected a valid signature by key ${headerValue(token, 'kid')}; the token's signature does not verify.`,
      options,
    );
  }
  if (error instanceof errors.JOSEError) {
    return new AuthError(
      'malformed-token',
      `Expected a JWT with a JSON header and claims set; the token starting ${tokenHint(token)} is not one (${error.code}).`,
      options,
    );
  }
  return error;
}

function claimError(
  error: InstanceType<typeof errors.JWTClaimValidationFailed>,
  context: FailureContext,
): AuthError {
  const options = { cause: error };
  const got = (claim: string) => (error.reason === 'missing' ? 'none' : shortJson(error.payload[claim]));
  switch (error.claim) {
    case 'nbf':
      if (error.reason !== 'check_failed') break;
      return new AuthError(
        'token-not-yet-valid',
        `Expected a token valid now (clock tolerance ${context.jwt.clockTolerance} s); it is valid from ${isoOf(error.payload.nbf)}.`,
        options,
      );
    case 'iss':
      return new AuthError(
        'wrong-issuer',
        `Expected a token issued by ${shortJson(context.jwt.issuer)}; got iss ${got('iss')}.`,
        options,
      );
    case 'aud':
      return new AuthError(
        'wrong-audience',
        `Expected a token for audience ${context.audiences.map((aud) => shortJson(aud)).join(' or ')}; got aud ${got('aud')}.`,
        options,
      );
    case 'sub':
      return new AuthError('missing-subject', 'Expected a `sub` claim that is a non-empty string.', options);
  }
  return new AuthError(
    'malformed-token',
    error.reason === 'missing'
      ? `Expected a \`${error.claim}\` claim in the token; it has none.`
      : `Expected the \`${error.claim}\` claim to be a NumericDate (a number of seconds); got ${shortJson(error.payload[error.claim])}.`,
    options,
  );
}

/**
 * The caller of a live API key. An expired or revoked key gets the same 401 as an unknown one, so
 * the answer tells a holder of a guessed or stolen key nothing about its state.
 */
async function apiKeyPrincipal(source: ApiKeySource, key: string, nowSeconds: number): Promise<Principal> {
  let records: Awaited<ReturnType<ApiKeySource['load']>>;
  try {
    records = await source.load();
  } catch (cause) {
    throw new AuthError(
      'api-keys-unavailable',
      'Expected to load the list of API keys; it could not be read.',
      {
        cause,
      },
    );
  }
  const record = findApiKey(records, key, nowSeconds);
  if (record === undefined) {
    // Nothing of the key itself goes in the message: unlike a JWT header, its first characters are secret.
    throw new AuthError(
      'invalid-api-key',
      'Expected an API key this service knows; the x-api-key presented matches none.',
    );
  }
  const name = principalOf(record);
  return Object.freeze({
    kind: 'api-key',
    subject: `api-key:${name}`,
    claims: Object.freeze({}),
    apiKeyId: name,
  });
}

/**
 * Claims an API Gateway JWT authorizer has already verified (signature, issuer, audience, expiry,
 * against the authorizer's own configuration), so they are trusted as they are; only `sub` is
 * still required, since grants interpolate it.
 */
function gatewayPrincipal(gatewayClaims: Record<string, unknown>, config: AuthConfig): Principal {
  const claims = normalizeGatewayClaims(gatewayClaims, config.gatewayArrayClaims);
  const sub = claims.sub;
  if (typeof sub !== 'string' || sub.length === 0) {
    throw new AuthError(
      'missing-subject',
      'Expected a `sub` claim that is a non-empty string in the API Gateway authorizer claims.',
    );
  }
  if (config.jwt !== undefined) checkGatewayIssuerAndAudience(gatewayClaims, config.jwt);
  return Object.freeze({ kind: 'gateway', subject: sub, claims: freezeDeep(claims) });
}

/**
 * API Gateway's JWT authorizer accepts a token whose `client_id` matches a configured audience even
 * when its `aud` names another API, and it knows nothing of Signet's config. When `auth.jwt` is
 * configured, the claims must also name its issuer and one of its audiences: in `aud` when the
 * token has one, else in `client_id` (access tokens of some issuers, Cognito's among them, carry no
 * `aud`).
 */
function checkGatewayIssuerAndAudience(claims: Record<string, unknown>, jwt: JwtConfig): void {
  if (claims.iss !== jwt.issuer) {
    throw new AuthError(
      'wrong-issuer',
      `Expected tokens from the issuer ${jwt.issuer}; the authorizer passed another issuer.`,
    );
  }
  const audiences = typeof jwt.audience === 'string' ? [jwt.audience] : jwt.audience;
  const aud = claims.aud;
  const presented = aud !== undefined ? (splitRendered(aud) as unknown) : claims.client_id;
  const values = Array.isArray(presented) ? presented : [presented];
  if (!values.some((value) => typeof value === 'string' && audiences.includes(value))) {
    throw new AuthError(
      'wrong-audience',
      `Expected a token for the audience ${audiences.join(' or ')}; the authorizer passed one for another.`,
    );
  }
}

/**
 * API Gateway HTTP APIs hand authorizer claims to the integration as strings, and an array claim as
 * one string of its items in brackets separated by spaces, like "[admin editors]". Only the claims
 * the operator lists in `auth.gatewayArrayClaims` become arrays again: the rendering cannot tell an
 * item holding a space from two items ("[Billing admins]"), and a user-editable string claim could
 * be written to look like a list. UNCONFIRMED: the exact rendering is not documented by AWS; it is
 * what payload 2.0 events are reported to carry.
 */
function normalizeGatewayClaims(
  claims: Record<string, unknown>,
  arrayClaims: readonly string[],
): Record<string, unknown> {
  const normalized: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(claims)) {
    normalized[name] = arrayClaims.includes(name) ? splitRendered(value) : value;
  }
  return normalized;
}

function splitRendered(value: unknown): unknown {
  if (typeof value !== 'string' || !/^\[[^[\]]*\]$/.test(value)) return value;
  return value
    .slice(1, -1)
    .split(/\s+/)
    .filter((item) => item.length > 0);
}

/** A header value that counts as absent when empty or blank (some clients send `x-api-key:` empty). */
function presentValue(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed.length === 0 ? undefined : trimmed;
}

function headerValue(token: string, name: 'alg' | 'kid'): string {
  try {
    const value = decodeProtectedHeader(token)[name];
    return value === undefined ? '(none)' : shortJson(value);
  } catch {
    return '(unreadable header)';
  }
}

/** A value from an unverified or untrusted token, quoted and cut short so it cannot flood a log line. */
function shortJson(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}

function isoOf(epochSeconds: unknown): string {
  if (typeof epochSeconds !== 'number' || !Number.isFinite(epochSeconds)) return shortJson(epochSeconds);
  const date = new Date(epochSeconds * 1000);
  return Number.isNaN(date.getTime()) ? String(epochSeconds) : date.toISOString();
}

function describeError(error: unknown): string {
  if (error instanceof errors.JWKSTimeout) return 'the request timed out';
  if (error instanceof errors.JWKSInvalid) return 'what came is not a valid key set';
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

function freezeDeep<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const item of Object.values(value)) freezeDeep(item);
  }
  return value;
}
