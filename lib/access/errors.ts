/**
 * Every reason access control refuses a request. Stable: callers `switch` on these.
 * - `ERR_RESOURCE_NOT_GRANTED`: no grant that applies to the caller covers what was asked (403).
 * - `ERR_TTL_EXCEEDED`: a grant covers it, but not for that long (422).
 * - `ERR_AMBIGUOUS_PATH`: a requested path holds an encoded slash, double encoding, a dot segment or
 *   similar, which the edge and the origin may read differently; refused before any grant is looked
 *   at, whoever asks (400, an invalid request rather than a denial).
 */
export type AccessErrorCode = 'ERR_RESOURCE_NOT_GRANTED' | 'ERR_TTL_EXCEEDED' | 'ERR_AMBIGUOUS_PATH';

/** One requested item that was refused, so an API can list each index and reason. */
export type RefusedItem =
  | { readonly kind: 'url'; readonly index: number; readonly url: string; readonly reason: string }
  | { readonly kind: 'resource'; readonly url: string; readonly reason: string };

/**
 * A request access control will not allow. The message says what was asked and what is allowed;
 * it never holds a token or key, and URLs in it have any user:password removed.
 */
export class AccessError extends Error {
  readonly code: AccessErrorCode;
  /** The items refused, in request order (empty when the refusal is not about particular items). */
  readonly refused: readonly RefusedItem[];
  /** For `ERR_TTL_EXCEEDED`: the longest expiry allowed, seconds. */
  readonly maxTtl: number | undefined;

  constructor(
    code: AccessErrorCode,
    message: string,
    options: { refused?: readonly RefusedItem[]; maxTtl?: number; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AccessError';
    this.code = code;
    this.refused = options.refused ?? [];
    this.maxTtl = options.maxTtl;
  }
}
