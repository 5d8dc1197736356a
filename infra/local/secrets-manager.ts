import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { BodyTooLargeError, close, listen, readBody } from './http.ts';
import { SecretsManagerError } from './secrets-manager/errors.ts';
import type { Input } from './secrets-manager/input.ts';
import {
  parseDocument,
  type SecretsDocument,
  STATE_SCHEMA,
  type StoredSecret,
} from './secrets-manager/model.ts';
import {
  type Change,
  isOperationName,
  OPERATIONS,
  type OperationContext,
  type OperationName,
  type OperationResult,
  purgeExpired,
} from './secrets-manager/operations.ts';
import { MemoryStateStore, type StateStore } from './state.ts';

export { SecretsManagerError, type SecretsManagerErrorType } from './secrets-manager/errors.ts';
export type { OperationName as SecretsManagerOperation } from './secrets-manager/operations.ts';

const TARGET_PREFIX = 'secretsmanager.';
const CONTENT_TYPE = 'application/x-amz-json-1.1';
/** The JSON content types AWS's JSON front ends accept (curl users often send the plain one). */
const ACCEPTED_CONTENT_TYPES = new Set([CONTENT_TYPE, 'application/x-amz-json-1.0', 'application/json']);

/** Options for {@link createSecretsManagerStandIn}. */
export interface SecretsManagerStandInOptions {
  /** Where secrets live between restarts; memory only when omitted. */
  store?: StateStore;
  /** The clock for CreatedDate, DeletionDate and recovery windows; the system clock when omitted. */
  now?: () => Date;
}

/**
 * A local stand-in for AWS Secrets Manager that the real `@aws-sdk/client-secrets-manager` talks
 * to over HTTP (awsJson1_1). It serves the operations Signet uses, moves staging labels as AWS
 * does, treats ClientRequestToken as the idempotent VersionId and answers with AWS error bodies.
 * State is saved to its store after every change and loaded from it on construction.
 */
export class SecretsManagerStandIn {
  readonly #store: StateStore;
  readonly #now: () => Date;
  #secrets: StoredSecret[];
  /** The last document the store accepted, to roll back to if a later save fails. */
  #saved: string;
  readonly #calls = new Map<string, number>();

  constructor(options: SecretsManagerStandInOptions = {}) {
    this.#store = options.store ?? new MemoryStateStore();
    this.#now = options.now ?? (() => new Date());
    this.#secrets = parseDocument(this.#store.load());
    this.#saved = JSON.stringify(this.#document());
  }

  /**
   * A node:http request listener serving the awsJson1_1 protocol. It never throws and always
   * answers: every failure becomes an AWS-style JSON error.
   */
  readonly handle = (request: IncomingMessage, response: ServerResponse): void => {
    this.#serve(request, response).catch(() => {
      // Reached only if writing the answer itself failed: the connection is unusable, so end it.
      response.destroy();
    });
  };

  /** How many requests each operation has received (failed ones included), by operation name. */
  get calls(): Readonly<Record<string, number>> {
    return Object.fromEntries(this.#calls);
  }

  /** How many requests `operation` has received, failed ones included. */
  countCalls(operation: OperationName): number {
    return this.#calls.get(operation) ?? 0;
  }

  /** Sets every call counter back to zero, for tests that count calls of one phase only. */
  resetCalls(): void {
    this.#calls.clear();
  }

  async #serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    try {
      const operation = readOperation(request);
      this.#calls.set(operation, (this.#calls.get(operation) ?? 0) + 1);
      checkContentType(request);
      const input = parseInput(await readBody(request));
      sendJson(response, 200, this.#run(operation, input));
    } catch (error) {
      sendError(response, toServiceError(error));
    }
  }

  /**
   * Runs one operation against the state and saves what it changed. Operations are synchronous,
   * so concurrent requests each see and leave a consistent state without any locking.
   */
  #run(operation: OperationName, input: Input): Record<string, unknown> {
    const context: OperationContext = { secrets: this.#secrets, now: this.#now().getTime() };
    const purged = purgeExpired(context);
    let result: OperationResult;
    try {
      result = OPERATIONS[operation](input, context);
    } catch (error) {
      if (purged) this.#persist('bookkeeping');
      throw error;
    }
    if (result.change !== 'none') this.#persist(result.change);
    else if (purged) this.#persist('bookkeeping');
    return result.output;
  }

  #persist(change: Exclude<Change, 'none'>): void {
    const document = this.#document();
    try {
      this.#store.save(document);
      this.#saved = JSON.stringify(document);
    } catch (cause) {
      // Bookkeeping stays in memory and rides along with the next save that works.
      if (change === 'bookkeeping') return;
      // A write the store did not keep must not be visible either, or a restart would undo it.
      this.#secrets = (JSON.parse(this.#saved) as SecretsDocument).secrets;
      throw new SecretsManagerError('InternalServiceError', 'The sandbox could not save its state.', {
        cause,
      });
    }
  }

  #document(): SecretsDocument {
    return { schema: STATE_SCHEMA, secrets: this.#secrets };
  }
}

/** Builds a {@link SecretsManagerStandIn}; see there. */
export function createSecretsManagerStandIn(
  options: SecretsManagerStandInOptions = {},
): SecretsManagerStandIn {
  return new SecretsManagerStandIn(options);
}

/** Options for {@link startSecretsManager}. */
export interface StartSecretsManagerOptions extends SecretsManagerStandInOptions {
  /** Loopback port to listen on; 0 (the default) picks a free one. */
  port?: number;
}

/** A running stand-in: point an SDK client's `endpoint` at `url`. */
export interface RunningSecretsManager {
  url: string;
  standIn: SecretsManagerStandIn;
  close(): Promise<void>;
}

/** Starts a Secrets Manager stand-in on 127.0.0.1 and resolves once it accepts connections. */
export async function startSecretsManager(
  options: StartSecretsManagerOptions = {},
): Promise<RunningSecretsManager> {
  const { port = 0, ...standInOptions } = options;
  const standIn = createSecretsManagerStandIn(standInOptions);
  const server = createServer(standIn.handle);
  // A client that stalls mid-request must not hold a connection open forever.
  server.requestTimeout = 30_000;
  const url = await listen(server, port, 'Secrets Manager stand-in');
  return { url, standIn, close: () => close(server) };
}

function readOperation(request: IncomingMessage): OperationName {
  const target = request.headers['x-amz-target'];
  if (request.method !== 'POST' || typeof target !== 'string' || !target.startsWith(TARGET_PREFIX)) {
    throw new SecretsManagerError(
      'UnknownOperationException',
      `Expected POST / with X-Amz-Target: ${TARGET_PREFIX}<Operation>, ` +
        `got ${request.method} ${request.url} with X-Amz-Target ${typeof target === 'string' ? target : '(none)'}.`,
    );
  }
  const name = target.slice(TARGET_PREFIX.length);
  if (!isOperationName(name)) {
    throw new SecretsManagerError(
      'UnknownOperationException',
      `Expected one of ${Object.keys(OPERATIONS).join(', ')}; got ${name || '(empty)'}, which the sandbox does not serve.`,
    );
  }
  return name;
}

function checkContentType(request: IncomingMessage): void {
  const contentType = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (!ACCEPTED_CONTENT_TYPES.has(contentType)) {
    // UNCONFIRMED: the error type AWS's front end picks for a wrong Content-Type.
    throw new SecretsManagerError(
      'SerializationException',
      `Expected Content-Type ${CONTENT_TYPE}, got ${contentType || '(none)'}.`,
    );
  }
}

function parseInput(body: Buffer): Input {
  // AWS accepts an empty body as an empty request; required members are then reported as missing.
  if (body.length === 0) return {};
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch (cause) {
    throw new SecretsManagerError(
      'SerializationException',
      'Expected the request body to be JSON; it is not.',
      {
        cause,
      },
    );
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new SecretsManagerError(
      'SerializationException',
      `Expected the request body to be a JSON object, got ${Array.isArray(value) ? 'an array' : String(value)}.`,
    );
  }
  return value as Input;
}

function toServiceError(error: unknown): SecretsManagerError {
  if (error instanceof SecretsManagerError) return error;
  if (error instanceof BodyTooLargeError) {
    return new SecretsManagerError('RequestEntityTooLargeException', error.message, { cause: error });
  }
  return internalError(error);
}

function internalError(cause: unknown): SecretsManagerError {
  // The details stay out of the answer: a stand-in bug should read as AWS's 500, not leak a stack.
  return new SecretsManagerError('InternalServiceError', 'The sandbox failed to handle the request.', {
    cause,
  });
}

function sendError(response: ServerResponse, error: SecretsManagerError): void {
  // The SDK reads the type from this header first and from `__type` in the body otherwise.
  response.setHeader('x-amzn-ErrorType', error.code);
  sendJson(response, error.status, error.toBody());
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'Content-Type': CONTENT_TYPE,
    'Content-Length': Buffer.byteLength(text),
    'x-amzn-RequestId': randomUUID(),
  });
  response.end(text);
}
