import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BodyTooLargeError, readBody } from './http.ts';

// The AWS JSON protocol (awsJson1_1) as the sandbox's Secrets Manager and KMS stand-ins speak it to
// the real SDK clients: `POST /` with `X-Amz-Target: <prefix><Operation>`, a JSON object in and out,
// errors as `__type` plus the `x-amzn-ErrorType` header. Each service keeps its own error types and
// operations; this is the plumbing they share.

const CONTENT_TYPE = 'application/x-amz-json-1.1';
// UNCONFIRMED which content types AWS's front end accepts besides 1.1; the SDKs send 1.1.
const ACCEPTED_CONTENT_TYPES = new Set([CONTENT_TYPE, 'application/x-amz-json-1.0', 'application/json']);

/** A service error: its AWS type, HTTP status and the body AWS sends. */
export interface AwsJsonError extends Error {
  readonly code: string;
  readonly status: number;
  /** `__type` and the message (KMS spells it `message`, Secrets Manager `Message`). */
  toBody(): { readonly __type: string };
}

/** The error types of the protocol itself, which every JSON service answers with. */
export type ProtocolErrorType =
  | 'UnknownOperationException'
  | 'SerializationException'
  | 'RequestEntityTooLargeException';

/** One service's side of the protocol. */
export interface AwsJsonService<Name extends string, E extends AwsJsonError> {
  /** The `X-Amz-Target` prefix: `secretsmanager.`, `TrentService.` (KMS). */
  readonly targetPrefix: string;
  /** The operations served, by name. */
  readonly operations: Readonly<Record<Name, unknown>>;
  /** The service's own error of a protocol type. */
  readonly protocolError: (type: ProtocolErrorType, message: string, options?: { cause?: unknown }) => E;
  /** The service's 500 (a stand-in bug); the answer never carries the cause. */
  readonly internalError: (cause: unknown) => E;
  /** Whether `error` is already one of the service's errors, answered as it is. */
  readonly isServiceError: (error: unknown) => error is E;
}

/** The operation a request names, or the service's UnknownOperationException. */
export function readOperation<Name extends string, E extends AwsJsonError>(
  request: IncomingMessage,
  service: AwsJsonService<Name, E>,
): Name {
  const target = request.headers['x-amz-target'];
  const prefix = service.targetPrefix;
  if (request.method !== 'POST' || typeof target !== 'string' || !target.startsWith(prefix)) {
    throw service.protocolError(
      'UnknownOperationException',
      `Expected POST / with X-Amz-Target: ${prefix}<Operation>, got ${request.method} ${request.url} ` +
        `with X-Amz-Target ${typeof target === 'string' ? target : '(none)'}.`,
    );
  }
  const name = target.slice(prefix.length);
  if (!Object.hasOwn(service.operations, name)) {
    throw service.protocolError(
      'UnknownOperationException',
      `Expected one of ${Object.keys(service.operations).join(', ')}; got ${name || '(empty)'}, which the sandbox does not serve.`,
    );
  }
  return name as Name;
}

/**
 * The request's JSON object, after its content type is checked. An empty body is an empty request,
 * as AWS takes it: required members are then reported missing by the operation.
 */
export async function readInput<E extends AwsJsonError>(
  request: IncomingMessage,
  service: Pick<AwsJsonService<string, E>, 'protocolError'>,
): Promise<Readonly<Record<string, unknown>>> {
  const contentType = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (!ACCEPTED_CONTENT_TYPES.has(contentType)) {
    // UNCONFIRMED: the error type AWS's front end picks for a wrong Content-Type.
    throw service.protocolError(
      'SerializationException',
      `Expected Content-Type ${CONTENT_TYPE}, got ${contentType || '(none)'}.`,
    );
  }
  const body = await readBody(request);
  if (body.length === 0) return {};
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch (cause) {
    throw service.protocolError(
      'SerializationException',
      'Expected the request body to be JSON; it is not.',
      {
        cause,
      },
    );
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw service.protocolError(
      'SerializationException',
      `Expected the request body to be a JSON object, got ${Array.isArray(value) ? 'an array' : String(value)}.`,
    );
  }
  return value as Record<string, unknown>;
}

/** Answers 200 with a JSON body. */
export function sendResult(response: ServerResponse, body: unknown): void {
  send(response, 200, body);
}

/** Answers with the service's error for whatever was thrown: its own, a body too large, else a 500. */
export function sendFailure<E extends AwsJsonError>(
  response: ServerResponse,
  thrown: unknown,
  service: AwsJsonService<string, E>,
): void {
  const error = service.isServiceError(thrown)
    ? thrown
    : thrown instanceof BodyTooLargeError
      ? service.protocolError('RequestEntityTooLargeException', thrown.message, { cause: thrown })
      : service.internalError(thrown);
  // The SDK reads the type from this header first and from `__type` in the body otherwise.
  response.setHeader('x-amzn-ErrorType', error.code);
  send(response, error.status, error.toBody());
}

function send(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'Content-Type': CONTENT_TYPE,
    'Content-Length': Buffer.byteLength(text),
    'x-amzn-RequestId': randomUUID(),
  });
  response.end(text);
}
