import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { type AwsJsonService, readInput, readOperation, sendFailure, sendResult } from './aws-json.ts';
import { close, listen } from './http.ts';
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
  OPERATIONS,
  type OperationContext,
  type OperationName,
  type OperationResult,
  purgeExpired,
} from './secrets-manager/operations.ts';
import { MemoryStateStore, type StateStore } from './state.ts';

export { SecretsManagerError, type SecretsManagerErrorType } from './secrets-manager/errors.ts';
export type { OperationName as SecretsManagerOperation } from './secrets-manager/operations.ts';

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
      const operation = readOperation(request, SERVICE);
      this.#calls.set(operation, (this.#calls.get(operation) ?? 0) + 1);
      const input = await readInput(request, SERVICE);
      sendResult(response, this.#run(operation, input));
    } catch (error) {
      sendFailure(response, error, SERVICE);
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

/** Secrets Manager's side of the AWS JSON protocol (infra/local/aws-json.ts). */
const SERVICE: AwsJsonService<OperationName, SecretsManagerError> = {
  targetPrefix: 'secretsmanager.',
  operations: OPERATIONS,
  protocolError: (type, message, options) => new SecretsManagerError(type, message, options),
  // The details stay out of the answer: a stand-in bug should read as AWS's 500, not leak a stack.
  internalError: (cause) =>
    new SecretsManagerError('InternalServiceError', 'The sandbox failed to handle the request.', { cause }),
  isServiceError: (error): error is SecretsManagerError => error instanceof SecretsManagerError,
};
