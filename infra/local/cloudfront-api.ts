import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { CloudFrontApiError, renderErrorBody } from './cloudfront-api/errors.ts';
import { newRequestId } from './cloudfront-api/ids.ts';
import { CloudFrontModel, type CloudFrontStandInOptions } from './cloudfront-api/model.ts';
import { OPERATIONS, type OperationName } from './cloudfront-api/operations.ts';
import type { Reply } from './cloudfront-api/replies.ts';
import { routeOf, takesBody } from './cloudfront-api/routes.ts';
import type { CloudFrontSnapshot } from './cloudfront-api/snapshot.ts';
import { BodyTooLargeError, close, listen, readBody } from './http.ts';

export type { CacheBehaviorView, OriginView } from './cloudfront-api/distribution-config.ts';
export {
  CLOUDFRONT_NAMESPACE,
  CloudFrontApiError,
  type CloudFrontErrorCode,
} from './cloudfront-api/errors.ts';
export type { CloudFrontStandInOptions } from './cloudfront-api/model.ts';
export type { CorsView, ResponseHeadersPolicyView } from './cloudfront-api/response-headers-policy-config.ts';
export type {
  CloudFrontSnapshot,
  DistributionSnapshot,
  KeyGroupSnapshot,
  PublicKeySnapshot,
} from './cloudfront-api/snapshot.ts';
export type { XmlObject, XmlValue } from './cloudfront-api/xml.ts';

/** One CloudFront operation the stand-in serves. */
export type CloudFrontOperation = OperationName;

/** The CloudFront operations the stand-in serves, in the order of its operations table. */
export const CLOUDFRONT_OPERATIONS = Object.keys(OPERATIONS) as readonly CloudFrontOperation[];

/** A local CloudFront control plane: a node:http listener plus hooks for the sandbox edge. */
export interface CloudFrontStandIn {
  /** The node:http request listener. Never rejects: every failure becomes a CloudFront error body. */
  handle(request: IncomingMessage, response: ServerResponse): Promise<void>;
  /** The current state, deeply frozen, in fresh maps. */
  snapshot(): CloudFrontSnapshot;
  /**
   * Calls `listener` with the new snapshot after every successful write (after it is saved).
   * Returns a function that unsubscribes. A listener that throws is reported, never fails the write.
   */
  onChange(listener: (snapshot: CloudFrontSnapshot) => void): () => void;
  /** Requests routed to each operation since construction, failed ones included. */
  readonly calls: Readonly<Record<CloudFrontOperation, number>>;
}

/**
 * Builds a CloudFront control-plane stand-in over `options.store`, reloading what the store holds
 * (docs/design.md, "The sandbox"). A request is routed to an operation by method and path, the
 * operation reads the model and returns its reply and, for a write, the new records, which the
 * model commits before the reply is sent.
 *
 * Each request's read-check-write runs synchronously once its body is read (the store's `save` is
 * synchronous too), so two requests never interleave between checking an ETag and writing: of N
 * concurrent updates with one ETag, exactly one wins.
 */
export function createCloudFrontStandIn(options: CloudFrontStandInOptions = {}): CloudFrontStandIn {
  const model = new CloudFrontModel(options);
  const calls = Object.fromEntries(CLOUDFRONT_OPERATIONS.map((operation) => [operation, 0])) as Record<
    CloudFrontOperation,
    number
  >;

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const requestId = newRequestId();
    try {
      const url = new URL(request.url ?? '/', 'http://stand-in');
      const { operation, id } = routeOf(request.method ?? 'GET', url.pathname);
      calls[operation] += 1;
      const body = takesBody(operation) ? await readBody(request) : Buffer.alloc(0);
      // From here to the reply nothing awaits: check and write are atomic with respect to other requests.
      const result = OPERATIONS[operation](
        {
          id,
          query: url.searchParams,
          body,
          ifMatch: request.headers['if-match'],
          baseUrl: `http://${request.headers.host ?? 'localhost'}`,
        },
        model,
      );
      if (result.records !== undefined) model.commit(result.records);
      send(response, requestId, result.reply);
    } catch (error) {
      const apiError = toApiError(error);
      send(response, requestId, {
        status: apiError.status,
        headers: apiError.headers,
        body: renderErrorBody(apiError, requestId),
      });
    }
  }

  return {
    handle,
    snapshot: () => model.snapshot(),
    onChange: (listener) => model.onChange(listener),
    get calls() {
      return Object.freeze({ ...calls });
    },
  };
}

function send(response: ServerResponse, requestId: string, reply: Reply): void {
  // A client that hung up (or a request destroyed for being too large) gets nothing; writing to a
  // destroyed socket must not throw out of the listener.
  if (response.headersSent || response.destroyed) return;
  response.statusCode = reply.status;
  response.setHeader('x-amz-request-id', requestId);
  for (const [name, value] of Object.entries(reply.headers ?? {})) response.setHeader(name, value);
  if (reply.body === undefined) {
    response.end();
    return;
  }
  response.setHeader('Content-Type', 'text/xml');
  response.setHeader('Content-Length', Buffer.byteLength(reply.body));
  response.end(reply.body);
}

function toApiError(error: unknown): CloudFrontApiError {
  if (error instanceof CloudFrontApiError) return error;
  if (error instanceof BodyTooLargeError) {
    return new CloudFrontApiError('RequestEntityTooLarge', error.message, {
      cause: error,
      // The rest of the body is never read: close the connection rather than parse it as a request.
      headers: { Connection: 'close' },
    });
  }
  console.error('CloudFront stand-in: unexpected failure', error);
  return new CloudFrontApiError('InternalError', 'The CloudFront stand-in failed; see its log.', {
    cause: error,
  });
}

/** Options of {@link startCloudFront}. */
export interface StartCloudFrontOptions extends CloudFrontStandInOptions {
  /** Loopback port; 0 (default) picks a free one. */
  readonly port?: number;
}

/** A running CloudFront stand-in. */
export interface RunningCloudFront {
  /** Base URL for `new CloudFrontClient({ endpoint: url })`. */
  readonly url: string;
  readonly standIn: CloudFrontStandIn;
  close(): Promise<void>;
}

/** Starts a CloudFront stand-in on 127.0.0.1. */
export async function startCloudFront(options: StartCloudFrontOptions = {}): Promise<RunningCloudFront> {
  const { port = 0, ...standInOptions } = options;
  const standIn = createCloudFrontStandIn(standInOptions);
  const server = createServer((request, response) => {
    void standIn.handle(request, response);
  });
  // A client that stalls mid-body must not hold a connection for Node's default 5 minutes.
  server.requestTimeout = 30_000;
  const url = await listen(server, port, 'CloudFront API stand-in');
  return { url, standIn, close: () => close(server) };
}
