import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { type AwsJsonService, readInput, readOperation, sendFailure, sendResult } from './aws-json.ts';
import { close, listen } from './http.ts';
import { KmsError, type KmsErrorType } from './kms/errors.ts';
import {
  type Input,
  OPERATIONS,
  type OperationContext,
  type OperationName,
  purgeDeleted,
  type StoredKey,
} from './kms/operations.ts';
import { MemoryStateStore, type StateStore } from './state.ts';

export { INJECTABLE_ERRORS, KmsError, type KmsErrorType } from './kms/errors.ts';
export { MAX_RAW_MESSAGE_BYTES, type OperationName as KmsOperation } from './kms/operations.ts';

const STATE_SCHEMA = 'signet.sandbox.kms/1';
/** The account id the sandbox's key ARNs carry. */
export const SANDBOX_ACCOUNT = '000000000000';

/** Options of {@link KmsStandIn}. */
export interface KmsStandInOptions {
  /** Where keys live between restarts (private keys included: they never leave the stand-in); memory when omitted. */
  store?: StateStore;
  /** The clock for CreationDate and deletion waiting periods; the system clock when omitted. */
  now?: () => Date;
  /** The region key ARNs name when the request's signature names none. Default us-east-1. */
  region?: string;
  /** A fixed delay before each Sign answer (milliseconds), to measure what a KMS round trip adds. */
  signDelayMs?: number;
}

/** An error the next calls of an operation answer with, for tests of how Signet maps KMS errors. */
export interface InjectedFault {
  operation: OperationName;
  error: KmsErrorType;
  /** How many calls fail; default every call until {@link KmsStandIn.clearFaults}. */
  times?: number;
}

/**
 * A local stand-in for AWS KMS that the real `@aws-sdk/client-kms` talks to over HTTP (awsJson1_1,
 * `X-Amz-Target: TrentService.<Operation>`). It serves the asymmetric signing key operations Signet
 * uses: it creates RSA_2048 and ECC_NIST_P256 SIGN_VERIFY keys, signs RAW messages (at most 4,096
 * bytes) and SHA-256 digests exactly as KMS does (RSASSA-PKCS1-v1_5, DER ECDSA), gives DER SPKI public
 * keys, keeps key states (Enabled, Disabled, PendingDeletion with a 7 to 30 day wait) and tags, and
 * answers with KMS's error types. Private keys never leave it: no operation returns one.
 */
export class KmsStandIn {
  readonly #store: StateStore;
  readonly #now: () => Date;
  readonly #region: string;
  #signDelayMs: number;
  #keys: StoredKey[];
  readonly #calls = new Map<string, number>();
  #faults: InjectedFault[] = [];

  constructor(options: KmsStandInOptions = {}) {
    this.#store = options.store ?? new MemoryStateStore();
    this.#now = options.now ?? (() => new Date());
    this.#region = options.region ?? 'us-east-1';
    this.#signDelayMs = options.signDelayMs ?? 0;
    this.#keys = parseDocument(this.#store.load());
  }

  /** A node:http request listener. It never throws and always answers. */
  readonly handle = (request: IncomingMessage, response: ServerResponse): void => {
    this.#serve(request, response).catch(() => response.destroy());
  };

  /** How many requests `operation` has received, failed ones included. */
  countCalls(operation: OperationName): number {
    return this.#calls.get(operation) ?? 0;
  }

  /** Every operation's call count. */
  get calls(): Readonly<Record<string, number>> {
    return Object.fromEntries(this.#calls);
  }

  resetCalls(): void {
    this.#calls.clear();
  }

  /** Makes the next calls of an operation fail with `error` (throttling, access denied, …). */
  inject(fault: InjectedFault): void {
    this.#faults.push({ ...fault });
  }

  clearFaults(): void {
    this.#faults = [];
  }

  /** Sets the fixed delay before each Sign answer. */
  setSignDelay(milliseconds: number): void {
    this.#signDelayMs = milliseconds;
  }

  /** The keys' ARNs, states and tags (never their private halves), for tests and `signet sandbox`. */
  listKeys(): { arn: string; spec: string; state: string; tags: Record<string, string> }[] {
    return this.#keys.map((key) => ({
      arn: key.arn,
      spec: key.spec,
      state: key.state,
      tags: Object.fromEntries(key.tags.map((tag) => [tag.TagKey, tag.TagValue])),
    }));
  }

  async #serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    try {
      const operation = readOperation(request, SERVICE);
      this.#calls.set(operation, (this.#calls.get(operation) ?? 0) + 1);
      const input = await readInput(request, SERVICE);
      if (operation === 'Sign' && this.#signDelayMs > 0) await sleep(this.#signDelayMs);
      this.#fault(operation);
      sendResult(response, this.#run(operation, input, regionOf(request) ?? this.#region));
    } catch (error) {
      sendFailure(response, error, SERVICE);
    }
  }

  #fault(operation: OperationName): void {
    const index = this.#faults.findIndex((fault) => fault.operation === operation);
    if (index === -1) return;
    const fault = this.#faults[index]!;
    if (fault.times !== undefined && --fault.times <= 0) this.#faults.splice(index, 1);
    const messages: Partial<Record<KmsErrorType, string>> = {
      ThrottlingException: 'Rate exceeded',
      AccessDeniedException: `User: arn:aws:sts::${SANDBOX_ACCOUNT}:assumed-role/sandbox is not authorized to perform: kms:${operation} because no identity-based policy allows the kms:${operation} action`,
      KMSInternalException: 'An internal error occurred.',
      DisabledException: 'The key is disabled.',
    };
    throw new KmsError(fault.error, messages[fault.error] ?? `Injected ${fault.error}.`);
  }

  /** Runs one operation and saves what it changed; a save that fails undoes the change. */
  #run(operation: OperationName, input: Input, region: string): Record<string, unknown> {
    const before = JSON.stringify(this.#keys);
    const context: OperationContext = {
      keys: this.#keys,
      region,
      account: SANDBOX_ACCOUNT,
      now: this.#now().getTime(),
    };
    const purged = purgeDeleted(context);
    const result = OPERATIONS[operation](input, context);
    if (result.changed || purged) {
      try {
        this.#store.save({ schema: STATE_SCHEMA, keys: this.#keys });
      } catch (cause) {
        this.#keys = JSON.parse(before) as StoredKey[];
        throw new KmsError('KMSInternalException', 'The sandbox could not save its state.', { cause });
      }
    }
    return result.output;
  }
}

/** Options of {@link startKms}. */
export interface StartKmsOptions extends KmsStandInOptions {
  /** Loopback port; 0 (the default) picks a free one. */
  port?: number;
}

/** A running stand-in: point `AWS_ENDPOINT_URL_KMS` (or a client's `endpoint`) at `url`. */
export interface RunningKms {
  url: string;
  standIn: KmsStandIn;
  close(): Promise<void>;
}

/** Starts a KMS stand-in on 127.0.0.1. */
export async function startKms(options: StartKmsOptions = {}): Promise<RunningKms> {
  const { port = 0, ...standInOptions } = options;
  const standIn = new KmsStandIn(standInOptions);
  const server = createServer(standIn.handle);
  server.requestTimeout = 30_000;
  const url = await listen(server, port, 'KMS stand-in');
  return { url, standIn, close: () => close(server) };
}

function parseDocument(document: unknown): StoredKey[] {
  if (document === undefined) return [];
  const keys = (document as { schema?: unknown; keys?: unknown }).keys;
  if ((document as { schema?: unknown }).schema !== STATE_SCHEMA || !Array.isArray(keys)) {
    throw new Error(
      `Expected the KMS sandbox state to be a ${STATE_SCHEMA} document (delete it to start over).`,
    );
  }
  return keys as StoredKey[];
}

/** The region of the request's SigV4 credential scope (`Credential=AKID/date/region/kms/aws4_request`). */
function regionOf(request: IncomingMessage): string | undefined {
  const header = request.headers.authorization;
  return typeof header === 'string'
    ? /Credential=[^/]+\/\d{8}\/([a-z0-9-]+)\/kms\//.exec(header)?.[1]
    : undefined;
}

/** KMS's side of the AWS JSON protocol (infra/local/aws-json.ts). */
const SERVICE: AwsJsonService<OperationName, KmsError> = {
  targetPrefix: 'TrentService.',
  operations: OPERATIONS,
  protocolError: (type, message, options) => new KmsError(type, message, options),
  // A stand-in bug reads as KMS's 500, never a stack trace.
  internalError: (cause) =>
    new KmsError('KMSInternalException', 'The sandbox failed to handle the request.', { cause }),
  isServiceError: (error): error is KmsError => error instanceof KmsError,
};
