import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { extname, join, resolve, sep } from 'node:path';
import { pathPatternMatches } from '../../lib/doctor/distribution.ts';
import {
  parseVerifyingKey,
  type Verdict,
  type VerifyingKey,
  verifyRequest,
} from '../../lib/signing/index.ts';
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
 * `Host` header, else, on loopback where no Host matches, the first enabled distribution.
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
    if (request.method !== 'GET' && request.method !== 'HEAD') {
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
    const distribution = distributionFor(snapshot, host);
    if (distribution === undefined) {
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
    if (behavior.trustedKeyGroups.length > 0) {
      const verdict = verifyRequest({
        url: `http://${host}${request.url ?? '/'}`,
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
    await sendObject(request, response, originFolder(origin), origin.originPath, key);
  }

  return { handle, effective };
}

/** Options of {@link startEdge}. */
export interface StartEdgeOptions extends EdgeOptions {
  readonly port?: number;
}

/** Starts an edge on 127.0.0.1. */
export async function startEdge(
  options: StartEdgeOptions,
): Promise<{ url: string; edge: Edge; close(): Promise<void> }> {
  const edge = createEdge(options);
  const server = createServer((request, response) => {
    void edge.handle(request, response);
  });
  const url = await listen(server, options.port ?? 0, 'CloudFront edge stand-in');
  return { url, edge, close: () => close(server) };
}

function distributionFor(snapshot: CloudFrontSnapshot, host: string): DistributionSnapshot | undefined {
  const enabled = [...snapshot.distributions.values()].filter((d) => d.enabled);
  const bare = host.replace(/:\d+$/, '');
  return (
    enabled.find((d) => d.domainName === bare || aliasesOf(d).includes(bare)) ??
    (/^(127\.\d+\.\d+\.\d+|localhost|\[::1\])$/.test(bare) ? enabled[0] : undefined)
  );
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
