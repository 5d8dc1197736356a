import { AccessError } from '../access/errors.ts';
import { AuthError } from '../auth/errors.ts';
import { KeysUnavailableError } from '../keys/cache.ts';
import { SigningError } from '../signing/index.ts';
import { RemoteSigningError } from '../signing/remote.ts';

/** The problem types the API answers with (docs/design.md, "Contracts"): `type` is `/problems/<name>`. */
export const PROBLEM_TYPES = {
  'invalid-request': { status: 400, title: 'The request is not valid' },
  unauthenticated: { status: 401, title: 'Authentication is required' },
  'resource-not-granted': { status: 403, title: 'The caller may not sign this resource' },
  'origin-not-allowed': { status: 403, title: 'This origin may not call this profile' },
  'unknown-profile': { status: 404, title: 'There is no such signing profile' },
  'not-found': { status: 404, title: 'There is no such endpoint' },
  'method-not-allowed': { status: 405, title: 'This endpoint does not take that method' },
  'payload-too-large': { status: 413, title: 'The request body is too large' },
  'unsupported-media-type': { status: 415, title: 'The request body must be JSON' },
  'ttl-exceeded': { status: 422, title: 'The expiry is longer than allowed' },
  internal: { status: 500, title: 'Internal error' },
  'keys-unavailable': { status: 503, title: 'Signing keys are unavailable' },
} as const;

/**
 * Text safe to echo back: control characters and lone surrogates (what bytes from a caller's body
 * may have become) shown as `\xNN` / `\uNNNN`, so a detail never carries binary bytes.
 */
export function printable(text: string): string {
  return text.replace(
    // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
    /[\u0000-\u001f\u007f-\u009f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g,
    (char) => {
      const code = char.charCodeAt(0);
      return code <= 0xff
        ? `\\x${code.toString(16).padStart(2, '0')}`
        : `\\u${code.toString(16).padStart(4, '0')}`;
    },
  );
}

/** A problem type name. */
export type ProblemType = keyof typeof PROBLEM_TYPES;

/** An RFC 9457 problem the API answers with. `detail` is for the caller: never internals on a 5xx. */
export class HttpProblem extends Error {
  readonly type: ProblemType;
  readonly status: number;
  readonly detail: string;
  readonly extra: Readonly<Record<string, unknown>>;
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    type: ProblemType,
    detail: string,
    options: { extra?: Record<string, unknown>; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(detail, { cause: options.cause });
    this.name = 'HttpProblem';
    this.type = type;
    this.status = PROBLEM_TYPES[type].status;
    this.detail = printable(detail);
    this.extra = options.extra ?? {};
    this.headers = options.headers ?? {};
  }

  /** The problem+json body. */
  body(): Record<string, unknown> {
    return {
      type: `/problems/${this.type}`,
      title: PROBLEM_TYPES[this.type].title,
      status: this.status,
      detail: this.detail,
      ...this.extra,
    };
  }
}

/**
 * Maps any error to the problem the caller sees: domain errors by their code (one table, here), and
 * anything unexpected to a 500 whose detail says nothing about internals.
 */
export function problemOf(error: unknown): HttpProblem {
  if (error instanceof HttpProblem) return error;
  if (error instanceof SigningError) {
    return new HttpProblem('invalid-request', error.message, { extra: { code: error.code }, cause: error });
  }
  if (error instanceof AuthError) {
    if (error.status === 503) {
      const what =
        error.reason === 'api-keys-unavailable'
          ? 'The API key list could not be loaded'
          : 'The token issuer keys (JWKS) could not be fetched';
      return new HttpProblem('keys-unavailable', `${what}; try again shortly.`, {
        headers: { 'Retry-After': '5' },
        cause: error,
      });
    }
    return new HttpProblem('unauthenticated', error.message, {
      extra: { code: error.code },
      headers: { 'WWW-Authenticate': error.wwwAuthenticate },
      cause: error,
    });
  }
  if (error instanceof AccessError) {
    const type =
      error.code === 'ERR_TTL_EXCEEDED'
        ? 'ttl-exceeded'
        : error.code === 'ERR_RESOURCE_NOT_GRANTED'
          ? 'resource-not-granted'
          : 'invalid-request';
    const errors = error.refused.map((item) => ({
      ...(item.kind === 'url' ? { index: item.index } : { path: 'resource' }),
      code: error.code,
      message: item.reason,
    }));
    return new HttpProblem(type, error.message, {
      extra: { code: error.code, ...(errors.length === 0 ? {} : { errors }) },
      cause: error,
    });
  }
  if (error instanceof RemoteSigningError) {
    // KMS refused or failed: a clear 503, never a signature that fails at the edge, never KMS's words.
    const details: Record<RemoteSigningError['failure'], string> = {
      throttled: 'The signing key service is busy; try again shortly.',
      disabled:
        "This profile's signing key is disabled or scheduled for deletion; the operator has been alerted.",
      denied: 'This service may not use its signing key right now; the operator has been alerted.',
      unavailable: 'The signing key service is unavailable; try again shortly.',
      mismatch: "This profile's signing key does not match its key ring; the operator has been alerted.",
    };
    return new HttpProblem('keys-unavailable', details[error.failure], {
      extra: { code: error.code, reason: error.failure },
      headers: { 'Retry-After': String(error.retryAfterSeconds) },
      cause: error,
    });
  }
  if (error instanceof KeysUnavailableError) {
    const starts = error.signingStartsAt;
    return new HttpProblem(
      'keys-unavailable',
      starts === undefined
        ? 'Signing keys are temporarily unavailable; try again shortly.'
        : `This profile's first signing key is still reaching CloudFront's edges: signing starts at about ${starts}.`,
      {
        extra: { code: error.code, ...(starts === undefined ? {} : { signingStartsAt: starts }) },
        headers: { 'Retry-After': String(error.retryAfterSeconds) },
        cause: error,
      },
    );
  }
  return new HttpProblem(
    'internal',
    'Something went wrong on our side. The request id identifies it in our logs.',
    {
      cause: error,
    },
  );
}
