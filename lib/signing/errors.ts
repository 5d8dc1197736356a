/** Every reason the signing core refuses a request. Stable: callers `switch` on these. */
export type SigningErrorCode =
  | 'ERR_INVALID_URL'
  | 'ERR_UNSUPPORTED_SCHEME'
  | 'ERR_URL_TOO_LONG'
  | 'ERR_AMBIGUOUS_WILDCARD'
  | 'ERR_RESERVED_QUERY_PARAMETER'
  | 'ERR_INVALID_RESOURCE'
  | 'ERR_RESOURCE_TOO_LONG'
  | 'ERR_TOO_MANY_WILDCARDS'
  | 'ERR_URL_OUTSIDE_RESOURCE'
  | 'ERR_INVALID_EXPIRY'
  | 'ERR_EXPIRY_IN_PAST'
  | 'ERR_EXPIRY_TOO_LATE'
  | 'ERR_EXPIRY_IN_MILLISECONDS'
  | 'ERR_NOT_BEFORE_AFTER_EXPIRY'
  | 'ERR_INVALID_CIDR'
  | 'ERR_IPV6_UNSUPPORTED'
  | 'ERR_UNSUPPORTED_HASH'
  | 'ERR_INVALID_KEY_PAIR_ID'
  | 'ERR_INVALID_KEY'
  | 'ERR_UNSUPPORTED_KEY'
  | 'ERR_ENCRYPTED_KEY'
  | 'ERR_PUBLIC_KEY_NOT_PRIVATE'
  | 'ERR_INVALID_COOKIE_ATTRIBUTE';

/**
 * A request the signing core will not sign. The message says what was expected and what came;
 * `code` is stable across releases.
 */
export class SigningError extends Error {
  readonly code: SigningErrorCode;

  constructor(code: SigningErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SigningError';
    this.code = code;
  }
}
