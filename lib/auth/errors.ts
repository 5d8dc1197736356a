/**
 * Why a caller was not authenticated. Stable: the HTTP layer, metrics and tests `switch` on these.
 *
 * - `missing-credentials`: neither a bearer token nor an API key came.
 * - `unsupported-credentials`: credentials of a kind this service does not accept (an `Authorization`
 *   scheme other than Bearer, a bearer token with no JWT issuer configured, an API key with none configured).
 * - `ambiguous-credentials`: both a bearer token and an API key came; which one to trust is not guessed.
 * - `malformed-token`: not a compact JWS with a JSON claims set, or claims of the wrong type.
 * - `missing-subject`: a verified token (or gateway claims) without a non-empty string `sub`.
 * - `token-expired`, `token-not-yet-valid`: `exp` / `nbf` outside the clock tolerance.
 * - `wrong-issuer`, `wrong-audience`: `iss` / `aud` not the configured ones.
 * - `algorithm-not-allowed`: `alg` outside the allow-list (always so for `none` and HMAC).
 * - `unknown-signing-key`: no key in the issuer's JWKS matches the token's `kid` and `alg`, even after a refetch.
 * - `invalid-signature`: a matching key, but the signature does not verify.
 * - `invalid-api-key`: an API key that matches no stored hash.
 * - `jwks-unavailable`: the issuer's JWKS could not be fetched or parsed (not the caller's fault).
 * - `api-keys-unavailable`: the API key list could not be loaded and none is cached (not the caller's fault).
 */
export type AuthFailureReason =
  | 'missing-credentials'
  | 'unsupported-credentials'
  | 'ambiguous-credentials'
  | 'malformed-token'
  | 'missing-subject'
  | 'token-expired'
  | 'token-not-yet-valid'
  | 'wrong-issuer'
  | 'wrong-audience'
  | 'algorithm-not-allowed'
  | 'unknown-signing-key'
  | 'invalid-signature'
  | 'invalid-api-key'
  | 'jwks-unavailable'
  | 'api-keys-unavailable';

/** The realm every `WWW-Authenticate` challenge names. */
export const AUTH_REALM = 'signet';

/**
 * The `error_description` of each reason: fixed text, so the header never carries anything the
 * caller sent (RFC 6750 section 3 allows only printable ASCII without `"` and `\` there anyway).
 */
const DESCRIPTIONS: Readonly<Record<AuthFailureReason, string>> = {
  'missing-credentials': 'No credentials were presented',
  'unsupported-credentials': 'These credentials are of a kind this service does not accept',
  'ambiguous-credentials': 'Present either a bearer token or an API key, not both',
  'malformed-token': 'The token is malformed',
  'missing-subject': 'The token has no subject',
  'token-expired': 'The token has expired',
  'token-not-yet-valid': 'The token is not valid yet',
  'wrong-issuer': 'The token was issued by an issuer this service does not trust',
  'wrong-audience': 'The token was not issued for this service',
  'algorithm-not-allowed': 'The token is signed with an algorithm this service does not accept',
  'unknown-signing-key': 'The token is signed by a key the issuer does not publish',
  'invalid-signature': 'The token signature is invalid',
  'invalid-api-key': 'The API key is not valid',
  'jwks-unavailable': 'The token issuer keys could not be fetched',
  'api-keys-unavailable': 'The API keys could not be loaded',
};

/** Reasons that are the service's fault, not the caller's: answered 503, and retrying may help. */
const UNAVAILABLE: ReadonlySet<AuthFailureReason> = new Set(['jwks-unavailable', 'api-keys-unavailable']);

/**
 * RFC 6750 section 3.1: `invalid_request` for a request that is malformed as a whole (several
 * credentials, an unknown scheme); `invalid_token` for a token that is malformed, expired or invalid.
 */
const INVALID_REQUEST: ReadonlySet<AuthFailureReason> = new Set([
  'ambiguous-credentials',
  'unsupported-credentials',
]);

/**
 * The caller could not be authenticated. `code` is the same for every reason (the HTTP layer maps it
 * to 401 `unauthenticated`); `reason` says why; `status` is 503 for the reasons that are the service's
 * fault (`jwks-unavailable`, `api-keys-unavailable`), 401 otherwise; `wwwAuthenticate` is the RFC 6750
 * challenge to send with a 401. The message says what was expected, and never holds a whole token or
 * API key: at most a token's first characters.
 */
export class AuthError extends Error {
  readonly code = 'ERR_UNAUTHENTICATED';
  readonly reason: AuthFailureReason;
  readonly status: 401 | 503;
  readonly wwwAuthenticate: string;

  constructor(reason: AuthFailureReason, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AuthError';
    this.reason = reason;
    this.status = UNAVAILABLE.has(reason) ? 503 : 401;
    this.wwwAuthenticate = challengeFor(reason);
  }
}

/**
 * The RFC 6750 `WWW-Authenticate` value for `reason`. A request without credentials gets the bare
 * challenge (section 3.1: no error code when the request lacks authentication information), and so
 * do the 503 reasons, where nothing is wrong with the credentials.
 */
export function challengeFor(reason: AuthFailureReason): string {
  const bare = `Bearer realm="${AUTH_REALM}"`;
  if (reason === 'missing-credentials' || UNAVAILABLE.has(reason)) return bare;
  const error = INVALID_REQUEST.has(reason) ? 'invalid_request' : 'invalid_token';
  return `${bare}, error="${error}", error_description="${DESCRIPTIONS[reason]}"`;
}

/**
 * The first characters of a token, for messages that must show which token was meant without
 * handing the token itself to logs: a JWT's first characters are its header, never its signature.
 */
export function tokenHint(token: string): string {
  // Never more than half of it, so even a very short token is not shown whole.
  const shown = Math.min(6, Math.floor(token.length / 2));
  return `${token.slice(0, shown).replace(/[^A-Za-z0-9_-]/g, '?')}…`;
}
