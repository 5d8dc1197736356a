import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { StatusDocument } from './model.ts';
import { renderError, renderPage, renderStatus } from './page.ts';

// The status page's HTTP server (docs/operators.md, "The status page"): 127.0.0.1 only, GET only,
// three routes (`/`, `/status.json`, `/fragment`). A Host header other than the address it listens
// on is refused, so a web page whose name was made to resolve to 127.0.0.1 (DNS rebinding) cannot
// read it. It reads the live state at most once per `minIntervalMs`, however many pages poll.

/** Options of {@link startStatusServer}. */
export interface StatusServerOptions {
  /** Reads the live state once. */
  readonly read: () => Promise<StatusDocument>;
  readonly profile: string;
  /** 0 picks a free port. */
  readonly port: number;
  /** The shortest time between two reads; pages polling faster get the last one. */
  readonly minIntervalMs: number;
  /**
   * What the page says when a read fails: it must not hold anything secret. Default: a generic
   * sentence. The CLI passes its environment errors' messages (the endpoint, the root cause).
   */
  readonly describeError?: (error: unknown) => string;
}

/** A running status server. */
export interface StatusServer {
  /** `http://127.0.0.1:<port>/` */
  readonly url: string;
  close(): Promise<void>;
}

type Read =
  | { readonly ok: true; readonly document: StatusDocument }
  | { readonly ok: false; readonly error: string };

/** Starts the status server on 127.0.0.1 and resolves once it accepts connections. */
export async function startStatusServer(options: StatusServerOptions): Promise<StatusServer> {
  const describe = options.describeError ?? (() => 'the live state could not be read (see the terminal).');
  let last: { readonly read: Read; readonly at: number } | undefined;
  let lastGood: StatusDocument | undefined;
  let inflight: Promise<Read> | undefined;
  const current = (): Promise<Read> => {
    if (last !== undefined && Date.now() - last.at < options.minIntervalMs) return Promise.resolve(last.read);
    inflight ??= options
      .read()
      .then(
        (document): Read => {
          lastGood = document;
          return { ok: true, document };
        },
        (error: unknown): Read => ({ ok: false, error: describe(error) }),
      )
      .then((read) => {
        last = { read, at: Date.now() };
        inflight = undefined;
        return read;
      });
    return inflight;
  };

  let port = options.port;
  const server = createServer((request, response) => {
    handle(request, response).catch(() => {
      if (!response.headersSent) send(response, 500, 'text/plain; charset=utf-8', 'Internal error.\n');
      else response.destroy();
    });
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const host = request.headers.host ?? '';
    if (host !== `127.0.0.1:${port}` && host !== `localhost:${port}`) {
      send(
        response,
        421,
        'text/plain; charset=utf-8',
        `Expected the Host 127.0.0.1:${port} or localhost:${port}: the status page answers only on loopback.\n`,
      );
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.setHeader('Allow', 'GET, HEAD');
      send(response, 405, 'text/plain; charset=utf-8', 'Expected GET or HEAD.\n');
      return;
    }
    const path = new URL(request.url ?? '/', `http://127.0.0.1:${port}`).pathname;
    if (path === '/status.json') {
      const read = await current();
      if (read.ok) send(response, 200, 'application/json', `${JSON.stringify(read.document)}\n`);
      else
        send(
          response,
          503,
          'application/json',
          `${JSON.stringify({ error: 'unavailable', detail: read.error, lastReadAt: lastGood?.generatedAt ?? null })}\n`,
        );
      return;
    }
    if (path === '/fragment') {
      const read = await current();
      const body = read.ok
        ? renderStatus(read.document)
        : lastGood
          ? renderStatus(lastGood)
          : renderError(read.error);
      send(response, 200, 'text/html; charset=utf-8', body);
      return;
    }
    if (path === '/' || path === '/index.html') {
      const read = await current();
      const nonce = randomBytes(16).toString('base64');
      const page = renderPage(
        read.ok ? read.document : (lastGood ?? { error: read.error, profile: options.profile }),
        nonce,
      );
      response.setHeader(
        'Content-Security-Policy',
        `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; img-src data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
      );
      send(response, 200, 'text/html; charset=utf-8', page);
      return;
    }
    send(
      response,
      404,
      'text/plain; charset=utf-8',
      'Not found: the status page is at /, its data at /status.json.\n',
    );
  }

  const url = await listen(server, options.port);
  port = Number(new URL(url).port);
  return { url: `${url}/`, close: () => close(server) };
}

function send(response: ServerResponse, status: number, type: string, body: string): void {
  response.statusCode = status;
  response.setHeader('Content-Type', type);
  response.setHeader('Cache-Control', 'no-store');
  response.setHeader('X-Content-Type-Options', 'nosniff');
  response.setHeader('Referrer-Policy', 'no-referrer');
  response.setHeader('X-Frame-Options', 'DENY');
  if (!response.hasHeader('Content-Security-Policy'))
    response.setHeader('Content-Security-Policy', "default-src 'none'; frame-ancestors 'none'");
  response.end(response.req.method === 'HEAD' ? undefined : body);
}

function listen(server: Server, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      reject(
        error.code === 'EADDRINUSE'
          ? new Error(
              `Port ${port} for the status page is already in use: pick another with --port (0 picks a free one).`,
            )
          : error,
      );
    };
    server.once('error', onError);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', onError);
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    });
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
