import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The largest request body any stand-in accepts, as AWS's own front ends bound theirs. */
export const MAX_BODY_BYTES = 1024 * 1024;

/** Raised by {@link readBody} when a request body is larger than the limit. */
export class BodyTooLargeError extends Error {
  readonly code = 'ERR_BODY_TOO_LARGE';
  constructor(limit: number) {
    super(`Expected a request body of at most ${limit} bytes.`);
    this.name = 'BodyTooLargeError';
  }
}

/** Reads a whole request body, refusing (without buffering the rest) once it passes `limit` bytes. */
export async function readBody(request: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) throw new BodyTooLargeError(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new BodyTooLargeError(limit);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/**
 * Starts `server` on 127.0.0.1:`port` (0 picks a free port) and resolves with its base URL once it
 * accepts connections. A port that is taken rejects with a message naming the port.
 */
export function listen(server: Server, port: number, label: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      if (error.code === 'EADDRINUSE') {
        reject(
          new Error(
            `Port ${port} for the ${label} is already in use: stop what holds it or pick another port.`,
          ),
        );
      } else {
        reject(error);
      }
    };
    const onListening = () => {
      server.off('error', onError);
      const { port: actual } = server.address() as AddressInfo;
      resolve(`http://127.0.0.1:${actual}`);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, '127.0.0.1');
  });
}

/** Stops accepting connections and closes idle keep-alive sockets so shutdown takes well under a second. */
export function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
    setTimeout(() => server.closeAllConnections(), 200).unref();
  });
}
