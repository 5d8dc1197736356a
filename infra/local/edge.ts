import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { extname, join, resolve, sep } from 'node:path';
import { pathPatternMatches } from '../../lib/doctor/distribution.ts';
import {
  parseVerifyingKey,
  type Verdict,
  type VerifyingKey,
  verifyRequest,
} from '../../lib/signing/index.ts';
import type { CorsView } from './cloudfront-api/response-headers-policy-config.ts';
import type {
  CacheBehaviorView,
  CloudFrontSnapshot,
  DistributionSnapshot,
  OriginView,
} from './cloudfront-api.ts';
import { close, listen } from './http.ts';

/** What the edge needs of the CloudFront API stand-in: its state now, and each change as it is made. */
export interface ControlPlane {
  snapshot(): CloudFrontSnapshot;
  onChange(listener: (snapshot: CloudFrontSnapshot) => void): () => void;
}

/** Options of {@link createEdge}. */
export interface EdgeOptions {
  readonly control: ControlPlane;
  /**
   * How long a control-plane change takes to reach this edge, in milliseconds. CloudFront does not
   * document it (UNCONFIRMED: plan for minutes); the sandbox uses a few seconds so that a rotator
   * that does not wait is caught, and tests use 0.
   */
  readonly propagationDelayMs?: number;
  /** The folder that holds an origin's objects. Default: `originsDir/<origin DomainName>`. */
  readonly originFolder?: (origin: OriginView) => string;
  /** With {@link originFolder} unset: the parent folder of every origin's folder. */
  readonly originsDir?: string;
  /** The clock, epoch milliseconds; the same one the CloudFront stand-in stamps changes with. */
  readonly now?: () => number;
  /**
   * Take the viewer's address from the first `X-Forwarded-For` entry. On loopback every viewer is
   * 127.0.0.1, so tests of IP conditions need this; a real edge sees the TCP peer. Default false.
   */
  readonly trustForwardedFor?: boolean;
  /**
   * Which spelling of the path picks the cache behaviour. Whether CloudFront matches path patterns
   * against the path as received or after decoding percent-escapes is UNCONFIRMED (docs/design.md,
   * "The sandbox"). `decoded` (the default) matches the same decoded path the origin is asked for,
   * so `/%70rivate/x` is `/private/x` for both; `raw` matches the bytes as sent, so such spellings
   * fall to the default behaviour, which is why the default behaviour should require signatures.
   */
  readonly pathMatching?: 'decoded' | 'raw';
  /**
   * The scheme viewers use to reach this edge (`https` when it listens with TLS): the scheme of the
   * URL a signature is judged against, as CloudFront judges `https://…` for an HTTPS request.
   */
  readonly scheme?: 'http' | 'https';
}

/** A local CloudFront edge: serves origins and enforces signed URLs and cookies. */
export interface Edge {
  handle(request: IncomingMessage, response: ServerResponse): Promise<void>;
  /** The control-plane state this edge enforces right now (changes younger than the delay are not in it). */
  effective(): CloudFrontSnapshot;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.json': 'application/json',
  '.css': 'text/css',
  '.js': 'text/javascript',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.svg': 'image/svg+xml',
  '.mp4': 'video/mp4',
  '.m3u8': 'application/vnd.apple.mpegurl',
  '.ts': 'video/mp2t',
  '.pdf': 'application/pdf',
};

/**
 * Creates an edge. Which distribution a request reaches: the one whose DomainName or alias equals the
 * `Host` header (its port ignored), else, on loopback where no Host matches, the first enabled
 * distribution.
 *
 * The URL a signature is judged against: a distribution reached by name is judged as CloudFront
 * would see the request on its standard port, `https://media.example.com/x` for a request to
 * `media.example.com:4602` (the port is the stand-in's, real CloudFront listens on 443 and 80 only),
 * so a URL signed for the profile's domain verifies however the viewer was pointed at this edge
 * (`curl --resolve`, `--connect-to`, a browser's host-resolver rule). Reached by the loopback
 * fallback, the Host is kept whole, port included, as the demo profile signs `127.0.0.1:4602` URLs.
 */
export function createEdge(options: EdgeOptions): Edge {
  const delay = options.propagationDelayMs ?? 0;
  const now = options.now ?? Date.now;
  const originFolder =
    options.originFolder ??
    ((origin: OriginView) => join(options.originsDir ?? '.signet/origins', origin.domainName));
  let current = options.control.snapshot();
  const queue: CloudFrontSnapshot[] = [];
  options.control.onChange((snapshot) => queue.push(snapshot));
  const keyCache = new Map<string, VerifyingKey>();

  function effective(): CloudFrontSnapshot {
    const at = now();
    while (queue.length > 0 && queue[0]!.takenAt + delay <= at) current = queue.shift()!;
    return current;
  }

  function trustedKeys(snapshot: CloudFrontSnapshot, behavior: CacheBehaviorView): Map<string, VerifyingKey> {
    const keys = new Map<string, VerifyingKey>();
    for (const groupId of behavior.trustedKeyGroups) {
      for (const keyId of snapshot.keyGroups.get(groupId)?.items ?? []) {
        const publicKey = snapshot.publicKeys.get(keyId);
        if (publicKey === undefined) continue;
        // Parse each public key once: the cache key includes the PEM, so a replaced key is re-parsed.
        const cacheKey = `${keyId}\n${publicKey.encodedKey}`;
        let parsed = keyCache.get(cacheKey);
        if (parsed === undefined) {
          parsed = parseVerifyingKey(publicKey.encodedKey);
          keyCache.set(cacheKey, parsed);
        }
        keys.set(keyId, parsed);
      }
    }
    return keys;
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    try {
      await serve(request, response);
    } catch (error) {
      if (!response.headersSent) {
        sendError(
          response,
          502,
          'BadGateway',
          `The sandbox edge could not read the origin: ${(error as Error).message}`,
        );
      } else {
        response.destroy();
      }
    }
  }

  async function serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const method = request.method ?? 'GET';
    if (method !== 'GET' && method !== 'HEAD' && method !== 'OPTIONS') {
      sendError(
        response,
        403,
        'MethodNotAllowed',
        'This distribution is not configured to allow the HTTP request method that was used for this request.',
      );
      return;
    }
    const snapshot = effective();
    const host = (request.headers.host ?? '127.0.0.1').toLowerCase();
    const found = distributionFor(snapshot, host);
    const distribution = found?.distribution;
    if (found === undefined || distribution === undefined) {
      sendError(response, 403, 'BadRequest', `No distribution serves the host ${host}.`);
      return;
    }
    const rawPath = (request.url ?? '/').split('?')[0]!;
    // One interpretation of the path for the behaviour and the object: the key S3 would look up.
    const key = objectKeyOf(rawPath);
    if (key === undefined) {
      sendError(response, 400, 'InvalidURI', 'Could not parse the specified URI.');
      return;
    }
    const behavior = behaviorFor(distribution, options.pathMatching === 'raw' ? rawPath : key);
    // OPTIONS reaches the distribution only where the behaviour allows it (AllowedMethods).
    if (method === 'OPTIONS' && !behavior.allowedMethods.includes('OPTIONS')) {
      sendError(
        response,
        403,
        'MethodNotAllowed',
        'This distribution is not configured to allow the HTTP request method that was used for this request.',
      );
      return;
    }
    const policyId = behavior.responseHeadersPolicyId;
    const cors = policyId === undefined ? undefined : snapshot.responseHeadersPolicies.get(policyId)?.cors;
    if (cors !== undefined) {
      if (method === 'OPTIONS' && isPreflight(request)) {
        sendPreflight(request, response, cors);
        return;
      }
      for (const [name, value] of Object.entries(corsResponseHeaders(request, cors))) {
        response.setHeader(name, value);
      }
    }
    if (behavior.trustedKeyGroups.length > 0) {
      const verdict = verifyRequest({
        url: `${options.scheme ?? 'http'}://${found.byName ? bareHost(host) : host}${request.url ?? '/'}`,
        cookie: request.headers.cookie,
        clientIp: clientIpOf(request, options.trustForwardedFor ?? false),
        now: Math.floor(now() / 1000),
        trustedKeys: trustedKeys(snapshot, behavior),
      });
      if (!verdict.allowed) {
        sendDenial(response, verdict);
        return;
      }
    }
    const origin = distribution.origins.find((o) => o.id === behavior.targetOriginId);
    if (origin === undefined) {
      sendError(
        response,
        502,
        'BadGateway',
        `The cache behaviour's origin ${behavior.targetOriginId} does not exist.`,
      );
      return;
    }
    if (method === 'OPTIONS') {
      // What an S3 origin without a CORS configuration answers to OPTIONS.
      sendError(response, 403, 'CORSResponse', 'CORS is not enabled for this bucket.');
      return;
    }
    await sendObject(request, response, originFolder(origin), origin.originPath, key);
  }

  return { handle, effective };
}

/** Options of {@link startEdge}. */
export interface StartEdgeOptions extends Omit<EdgeOptions, 'scheme'> {
  readonly port?: number;
  /** Listen with TLS (HTTPS only) with this certificate and key, PEM. */
  readonly tls?: { readonly cert: string; readonly key: string };
}

/** Starts an edge on 127.0.0.1 (HTTPS when `tls` is given). */
export async function startEdge(
  options: StartEdgeOptions,
): Promise<{ url: string; edge: Edge; close(): Promise<void> }> {
  const edge = createEdge({ ...options, scheme: options.tls === undefined ? 'http' : 'https' });
  const handler = (request: IncomingMessage, response: ServerResponse) => {
    void edge.handle(request, response);
  };
  const server: Server =
    options.tls === undefined
      ? createServer(handler)
      : (createTlsServer({ cert: options.tls.cert, key: options.tls.key }, handler) as unknown as Server);
  const url = await listen(server, options.port ?? 0, 'CloudFront edge stand-in');
  return {
    url: options.tls === undefined ? url : url.replace(/^http:/, 'https:'),
    edge,
    close: () => close(server),
  };
}

/** The distribution for a `Host`, and whether it was found by name (not by the loopback fallback). */
function distributionFor(
  snapshot: CloudFrontSnapshot,
  host: string,
): { distribution: DistributionSnapshot | undefined; byName: boolean } | undefined {
  const enabled = [...snapshot.distributions.values()].filter((d) => d.enabled);
  const bare = bareHost(host);
  const named = enabled.find((d) => d.domainName === bare || aliasesOf(d).includes(bare));
  if (named !== undefined) return { distribution: named, byName: true };
  if (/^(127\.\d+\.\d+\.\d+|localhost|\[::1\])$/.test(bare))
    return { distribution: enabled[0], byName: false };
  return undefined;
}

/** A Host header without its port. */
function bareHost(host: string): string {
  return host.replace(/:\d+$/, '');
}

function aliasesOf(distribution: DistributionSnapshot): string[] {
  const aliases = distribution.config.Aliases as { Items?: { CNAME?: unknown } } | undefined;
  const list = typeof aliases === 'object' ? aliases?.Items?.CNAME : undefined;
  return (Array.isArray(list) ? list : [list])
    .filter((v): v is string => typeof v === 'string')
    .map((v) => v.toLowerCase());
}

/**
 * The first cache behaviour whose path pattern matches, the default last. Patterns are
 * case-sensitive, `*` any run and `?` one character, and match the whole path (a leading `/` is
 * optional in the pattern).
 */
function behaviorFor(distribution: DistributionSnapshot, path: string): CacheBehaviorView {
  for (const behavior of distribution.behaviors) {
    if (behavior.isDefault || pathPatternMatches(behavior.pathPattern, path)) return behavior;
  }
  // The config parser guarantees a default behaviour; this is never reached.
  return distribution.behaviors[distribution.behaviors.length - 1]!;
}

/** A CORS preflight: OPTIONS with `Origin` and `Access-Control-Request-Method`. */
function isPreflight(request: IncomingMessage): boolean {
  return (
    request.headers.origin !== undefined && request.headers['access-control-request-method'] !== undefined
  );
}

/**
 * The CORS headers a response headers policy adds to the answer to a CORS request (one with an
 * `Origin` header), as the CloudFront Developer Guide's "Understand response headers policies"
 * describes: `Access-Control-Allow-Origin` only for an origin in the policy's list (an origin not
 * in it gets no CORS headers at all, so the browser blocks the read), `Access-Control-Allow-Credentials`
 * when the policy says so, `Access-Control-Expose-Headers` when it lists any.
 *
 * UNCONFIRMED for CloudFront, and chosen here: `Vary: Origin` accompanies an origin echoed back (as
 * the CORS protocol asks of a server whose answer depends on `Origin`); the headers are added to
 * every answer of the behaviour, CloudFront's own 403s for a missing or refused signature included,
 * so a page's `fetch()` can read the 403 rather than see an opaque network error; the policy's
 * `OriginOverride` makes no difference here, as the stand-in's origins never send CORS headers.
 */
export function corsResponseHeaders(request: IncomingMessage, cors: CorsView): Record<string, string> {
  const origin = request.headers.origin;
  if (origin === undefined) return {};
  const any = cors.allowOrigins.includes('*') && !cors.allowCredentials;
  if (!any && !cors.allowOrigins.includes(origin)) return {};
  return {
    'Access-Control-Allow-Origin': any ? '*' : origin,
    ...(any ? {} : { Vary: 'Origin' }),
    ...(cors.allowCredentials ? { 'Access-Control-Allow-Credentials': 'true' } : {}),
    ...(cors.exposeHeaders.length === 0
      ? {}
      : { 'Access-Control-Expose-Headers': cors.exposeHeaders.join(', ') }),
  };
}

const ALL_METHODS = ['GET', 'POST', 'OPTIONS', 'PUT', 'DELETE', 'PATCH', 'HEAD'];

/**
 * The edge's answer to a preflight on a behaviour that allows OPTIONS and has a CORS policy: 200 with
 * the policy's CORS headers, the preflight-only ones (`Allow-Methods`, `Allow-Headers`, `Max-Age`)
 * included; an origin not in the list gets the 200 without CORS headers, which the browser refuses.
 * UNCONFIRMED for CloudFront, and chosen here: the edge answers the preflight itself, before any
 * signature check (a preflight never carries cookies) and without asking the origin.
 */
function sendPreflight(request: IncomingMessage, response: ServerResponse, cors: CorsView): void {
  const headers: Record<string, string | number> = { ...edgeHeaders('Miss'), 'Content-Length': 0 };
  const allowed = corsResponseHeaders(request, cors);
  if (Object.keys(allowed).length > 0) {
    Object.assign(headers, allowed, {
      'Access-Control-Allow-Methods': (cors.allowMethods.includes('ALL')
        ? ALL_METHODS
        : cors.allowMethods
      ).join(', '),
      ...(cors.allowHeaders.length === 0
        ? {}
        : { 'Access-Control-Allow-Headers': cors.allowHeaders.join(', ') }),
      ...(cors.maxAgeSec === undefined ? {} : { 'Access-Control-Max-Age': String(cors.maxAgeSec) }),
    });
  }
  response.writeHead(200, headers);
  response.end();
}

function clientIpOf(request: IncomingMessage, trustForwardedFor: boolean): string | undefined {
  const forwarded = request.headers['x-forwarded-for'];
  if (trustForwardedFor && typeof forwarded === 'string' && forwarded.trim() !== '') {
    return forwarded.split(',')[0]!.trim();
  }
  const address = request.socket.remoteAddress;
  return address?.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address;
}

function edgeHeaders(cache: 'Miss' | 'Error'): Record<string, string> {
  const id = randomBytes(27).toString('base64url');
  return {
    Server: 'CloudFront',
    'X-Cache': `${cache} from cloudfront`,
    Via: '1.1 signet-sandbox.cloudfront.net (CloudFront)',
    'X-Amz-Cf-Pop': 'LOCAL1-P1',
    'X-Amz-Cf-Id': id,
  };
}

/**
 * CloudFront's 403 for a refused signature. `X-Signet-Reason` is the sandbox's own addition (a real
 * edge says only the code): it tells a developer why, as `signet explain` would.
 */
function sendDenial(response: ServerResponse, verdict: Extract<Verdict, { allowed: false }>): void {
  const body = `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${verdict.code}</Code><Message>${verdict.message}</Message></Error>`;
  response.writeHead(403, {
    ...edgeHeaders('Error'),
    'Content-Type': 'text/xml',
    'Content-Length': Buffer.byteLength(body),
    'X-Signet-Reason': encodeURIComponent(verdict.reason).replace(/%20/g, ' '),
  });
  response.end(body);
}

function sendError(response: ServerResponse, status: number, code: string, message: string): void {
  const body = `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${escapeXml(message)}</Message></Error>`;
  response.writeHead(status, {
    ...edgeHeaders('Error'),
    'Content-Type': 'text/xml',
    'Content-Length': Buffer.byteLength(body),
  });
  response.end(body);
}

/**
 * The path as the origin reads it: percent-escapes decoded once, nothing else (S3 takes the decoded
 * key literally: no dot-segment resolution, no merged slashes). `undefined` for a malformed escape.
 */
function objectKeyOf(rawPath: string): string | undefined {
  try {
    return decodeURIComponent(rawPath);
  } catch {
    return undefined;
  }
}

/**
 * Serves `key` from the origin folder as S3 would serve an object key: literally. A key with an
 * empty, `.` or `..` segment names no file of the folder (S3 would look for that literal key, which
 * the demo origin does not have), so `/a/..%2fb` never reaches `b`.
 */
async function sendObject(
  request: IncomingMessage,
  response: ServerResponse,
  folder: string,
  originPath: string,
  key: string,
): Promise<void> {
  const segments = `${originPath}${key}`.split('/').slice(1);
  if (
    segments.some(
      (segment) =>
        segment === '' ||
        segment === '.' ||
        segment === '..' ||
        segment.includes('\\') ||
        segment.includes('\0'),
    )
  ) {
    sendError(response, 404, 'NoSuchKey', 'The specified key does not exist.');
    return;
  }
  const root = resolve(folder);
  const file = join(root, ...segments);
  if (!file.startsWith(root + sep)) {
    sendError(response, 403, 'AccessDenied', 'Access Denied');
    return;
  }
  const info = await stat(file).catch(() => undefined);
  if (info === undefined || !info.isFile()) {
    sendError(response, 404, 'NoSuchKey', 'The specified key does not exist.');
    return;
  }
  const headers: Record<string, string | number> = {
    ...edgeHeaders('Miss'),
    'Content-Type': CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
    'Accept-Ranges': 'bytes',
    'Last-Modified': info.mtime.toUTCString(),
    ETag: `"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}"`,
  };
  const range = parseRange(request.headers.range, info.size);
  if (range === 'unsatisfiable') {
    response.writeHead(416, { ...headers, 'Content-Range': `bytes */${info.size}`, 'Content-Length': 0 });
    response.end();
    return;
  }
  const [start, end] = range ?? [0, info.size - 1];
  const length = info.size === 0 ? 0 : end - start + 1;
  response.writeHead(range === undefined ? 200 : 206, {
    ...headers,
    'Content-Length': length,
    ...(range === undefined ? {} : { 'Content-Range': `bytes ${start}-${end}/${info.size}` }),
  });
  if (request.method === 'HEAD' || length === 0) {
    response.end();
    return;
  }
  await new Promise<void>((done, fail) => {
    const stream = createReadStream(file, { start, end });
    stream.on('error', fail);
    response.on('close', () => {
      stream.destroy();
      done();
    });
    stream.pipe(response);
  });
}

/**
 * One `bytes=` range (the form players and download managers send). Multiple ranges are served
 * whole, as S3 does; a syntactically bad header is ignored, as RFC 9110 allows.
 */
function parseRange(
  header: string | undefined,
  size: number,
): [number, number] | 'unsatisfiable' | undefined {
  const match = header === undefined ? null : /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (match === null) return undefined;
  const [, first, last] = match;
  if (first === '' && last === '') return undefined;
  let start: number;
  let end: number;
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0) return 'unsatisfiable';
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(first);
    end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  }
  if (start >= size || start > end) return 'unsatisfiable';
  return [start, end];
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
