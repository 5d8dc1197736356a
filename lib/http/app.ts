import { createHash, randomUUID } from 'node:crypto';
import { type Context, Hono } from 'hono';
import type * as z from 'zod';
import { authorize } from '../access/index.ts';
import type { Authenticator } from '../auth/authenticator.ts';
import type { Principal } from '../auth/principal.ts';
import type { Config, Profile } from '../config/index.ts';
import { profileName } from '../config/load.ts';
import type { KeyRingCache } from '../keys/cache.ts';
import {
  assertNoWildcard,
  canonicalUrl,
  cookieRefreshIn,
  describeCookies,
  formatSetCookie,
  isoOf,
  SigningError,
  signCanonicalUrls,
  signCookies,
  validateConditions,
} from '../signing/index.ts';
import { RemoteSigningError } from '../signing/remote.ts';
import { roundExpiry } from '../signing/rounding.ts';
import { isDenialReason, isServerErrorReason } from '../telemetry/catalogue.ts';
import type { Log } from '../telemetry/ports.ts';
import { openApiDocument } from './openapi.ts';
import { HttpProblem, problemOf } from './problems.ts';
import { signedCookiesRequest, signedUrlsRequest } from './schemas.ts';
import type { ApiMetrics as Metrics } from './telemetry.ts';

/** The largest request body accepted: 100 URLs of CloudFront's 8 KB limit fit with room to spare. */
export const MAX_BODY_BYTES = 1024 * 1024;

/** Everything the app needs, built by the caller (a Lambda cold start, `npm start`, a test). */
export interface AppDependencies {
  readonly config: Config;
  readonly authenticator: Authenticator;
  /** One key ring cache per profile name. */
  readonly rings: ReadonlyMap<string, KeyRingCache>;
  readonly log: Log;
  readonly metrics: Metrics;
  /** Epoch milliseconds. */
  readonly now: () => number;
}

/** What API Gateway (through hono/aws-lambda) puts in `c.env`. Absent when running locally. */
interface LambdaBindings {
  /** Set by @hono/node-server: the Node request, read directly to skip building a web Request body. */
  incoming?: AsyncIterable<Uint8Array>;
  event?: {
    body?: string | null;
    isBase64Encoded?: boolean;
    requestContext?: {
      requestId?: string;
      http?: { sourceIp?: string };
      authorizer?: { jwt?: { claims?: Record<string, unknown> } };
    };
  };
  lambdaContext?: { awsRequestId?: string };
}

type AppEnv = { Bindings: LambdaBindings; Variables: { requestId: string } };

/**
 * The Signet HTTP API as a Hono app: `POST /v1/signed-urls`, `POST /v1/signed-cookies`,
 * `GET /v1/health`, `GET /openapi.json`. Builds none of its dependencies.
 */
export function createApp(deps: AppDependencies): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const allOrigins = [...new Set(Object.values(deps.config.profiles).flatMap((p) => p.cors.origins))];
  // Built on first request, not at cold start: JSON Schema generation is the costliest thing the
  // app could do before its first signature, and most containers never serve /openapi.json.
  let openApi: string | undefined;

  // Headers go on before the handler runs: Hono then builds each response once. Setting them after
  // `next()` (as hono/cors and hono/body-limit do) makes it copy every response, which cut this API's
  // throughput by more than half (see `npm run bench`).
  app.use('*', async (c, next) => {
    const requestId =
      c.env?.lambdaContext?.awsRequestId ?? c.env?.event?.requestContext?.requestId ?? randomUUID();
    c.set('requestId', requestId);
    c.header('Cache-Control', 'no-store');
    c.header('X-Content-Type-Options', 'nosniff');
    c.header('X-Request-Id', requestId);
    const preflight = applyCors(c, allOrigins);
    if (preflight !== undefined) return preflight;
    await next();
  });

  app.onError((error, c) => {
    if (error instanceof ClientAbortError) {
      // The caller went away mid-body: nothing to answer and nothing wrong here. One info line.
      deps.log.info('request aborted by the client', { requestId: c.get('requestId') });
    }
    const problem = problemOf(error instanceof ClientAbortError ? error.problem : error);
    // Reasons are the problem types, a fixed list (lib/telemetry/catalogue.ts): never the caller or the URL.
    if (isDenialReason(problem.type)) deps.metrics.count('Denials', 1, { reason: problem.type });
    if (isServerErrorReason(problem.type)) deps.metrics.count('ServerErrors', 1, { reason: problem.type });
    if (problem.status >= 500) {
      deps.log.error('request failed', {
        requestId: c.get('requestId'),
        problem: problem.type,
        error: describeError(error),
      });
    }
    for (const [name, value] of Object.entries(problem.headers)) c.header(name, value);
    c.header('Content-Type', 'application/problem+json');
    return c.body(JSON.stringify(problem.body()), problem.status as 400);
  });

  app.notFound(() => {
    throw new HttpProblem(
      'not-found',
      'Expected one of POST /v1/signed-urls, POST /v1/signed-cookies, GET /v1/health, GET /openapi.json.',
    );
  });

  app.post('/v1/signed-urls', async (c) => {
    const principal = await authenticate(c, deps);
    const body = await readJson(c, signedUrlsRequest);
    const { name, profile } = resolveProfile(deps.config, body.profile);
    checkOrigin(c, profile);
    const now = Math.floor(deps.now() / 1000);
    let conditions = conditionsOf(body, profile, now);
    const urls = body.urls ?? [body.url!];
    const hrefs = validateEach(urls, body.resource !== undefined);
    const decision = authorize({
      profileName: name,
      profile,
      caller: principal,
      urls,
      resource: body.resource,
      ttlSeconds: conditions.expires - now,
    });
    conditions = rounded(conditions, profile, decision.maxTtl, now);
    const { active } = await ringOf(deps, name).active();
    const options = { ...conditions, resource: body.resource, keyPairId: active.id, hash: active.hash, now };
    // A KMS key (signer: kms) signs remotely: one call per distinct policy (docs/operators.md, "KMS signing").
    const remote = active.remote;
    const signed =
      remote === undefined
        ? signCanonicalUrls(hrefs, { ...options, key: active.key })
        : await signedThroughKms(deps, name, (onCall) => remote.signUrls(urls, options, onCall));
    audit(c, deps, principal, name, {
      kind: 'url',
      resources: signed.map((s) => s.resource),
      resource: body.resource,
      expires: conditions.expires,
      keyId: active.id,
    });
    deps.metrics.count('SignaturesIssued', signed.length, { profile: name, keyId: active.id, kind: 'url' });
    const expiresAt = isoOf(conditions.expires);
    return c.json({
      urls: signed.map((s) => ({ url: s.url, expires: s.expires, expiresAt })),
      expires: conditions.expires,
      expiresAt,
      keyId: active.id,
      profile: name,
    });
  });

  app.post('/v1/signed-cookies', async (c) => {
    const principal = await authenticate(c, deps);
    const body = await readJson(c, signedCookiesRequest);
    const { name, profile } = resolveProfile(deps.config, body.profile);
    checkOrigin(c, profile);
    const now = Math.floor(deps.now() / 1000);
    let conditions = conditionsOf(body, profile, now);
    if (body.url !== undefined) validateEach([body.url], body.resource !== undefined);
    const decision = authorize({
      profileName: name,
      profile,
      caller: principal,
      urls: body.url === undefined ? [] : [body.url],
      resource: body.resource,
      ttlSeconds: conditions.expires - now,
    });
    conditions = rounded(conditions, profile, decision.maxTtl, now);
    const { active } = await ringOf(deps, name).active();
    const options = {
      ...conditions,
      resource: body.resource,
      url: body.url,
      keyPairId: active.id,
      hash: active.hash,
      now,
    };
    const remote = active.remote;
    const signed =
      remote === undefined
        ? signCookies({ ...options, key: active.key })
        : await signedThroughKms(deps, name, (onCall) => remote.signCookies(options, onCall));
    const lifetime = { expires: conditions.expires, now };
    const cookies = describeCookies(signed.cookies, profile.cookie, lifetime);
    for (const cookie of cookies) c.header('Set-Cookie', formatSetCookie(cookie), { append: true });
    audit(c, deps, principal, name, {
      kind: 'cookies',
      resource: signed.resource,
      expires: conditions.expires,
      keyId: active.id,
    });
    deps.metrics.count('SignaturesIssued', 1, { profile: name, keyId: active.id, kind: 'cookies' });
    const refreshIn = cookieRefreshIn(lifetime);
    return c.json({
      cookies,
      expires: conditions.expires,
      expiresAt: isoOf(conditions.expires),
      expiresIn: conditions.expires - now,
      refreshIn,
      refreshAt: isoOf(now + refreshIn),
      persistent: profile.cookie.persistent,
      keyId: active.id,
      profile: name,
    });
  });

  app.get('/v1/health', async (c) => {
    const profiles: Record<
      string,
      {
        canSign: boolean;
        activeKeyId: string | null;
        ringAgeSeconds: number | null;
        stale: boolean;
        signingStartsAt?: string;
      }
    > = {};
    for (const [name, cache] of deps.rings) {
      // Loads a ring that was never loaded (cold start); otherwise answers from memory.
      await cache.current().catch(() => undefined);
      const { canSign, activeKeyId, ringAgeSeconds, stale, signingStartsAt } = cache.status();
      profiles[name] = {
        canSign,
        activeKeyId,
        ringAgeSeconds,
        stale,
        // Before the first key is active: when it will have propagated and signing starts.
        ...(signingStartsAt === null ? {} : { signingStartsAt }),
      };
    }
    const states = Object.values(profiles);
    const able = states.filter((p) => p.canSign).length;
    const status =
      able === 0 ? 'unavailable' : able === states.length && !states.some((p) => p.stale) ? 'ok' : 'degraded';
    return c.json({ status, profiles }, able === 0 ? 503 : 200);
  });

  app.get('/openapi.json', (c) => {
    c.header('Content-Type', 'application/json');
    openApi ??= JSON.stringify(openApiDocument());
    return c.body(openApi);
  });

  return app;
}

async function authenticate(c: Context<AppEnv>, deps: AppDependencies): Promise<Principal> {
  return deps.authenticator.authenticate({
    authorization: c.req.header('authorization'),
    apiKey: c.req.header('x-api-key'),
    gatewayClaims: c.env?.event?.requestContext?.authorizer?.jwt?.claims,
  });
}

/** The client closed the connection before its body arrived: not our error, not a 5xx. */
class ClientAbortError extends Error {
  readonly problem = new HttpProblem('invalid-request', 'The request body ended before it was complete.');
  constructor(options: { cause: unknown }) {
    super('The client closed the connection before sending the whole request body.', options);
    this.name = 'ClientAbortError';
  }
}

/** Whether reading the body failed because the client went away (Node: `aborted`, ECONNRESET). */
function isClientAbort(error: unknown): boolean {
  const { code, message, name } = (error ?? {}) as { code?: unknown; message?: unknown; name?: unknown };
  return (
    code === 'ECONNRESET' ||
    code === 'ERR_STREAM_PREMATURE_CLOSE' ||
    message === 'aborted' ||
    name === 'AbortError'
  );
}

/** Decodes a body that must be UTF-8: invalid bytes are the caller's mistake (400), never replaced. */
function utf8(bytes: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch (cause) {
    throw new HttpProblem(
      'invalid-request',
      'Expected the request body to be UTF-8; it holds bytes that are not.',
      {
        cause,
      },
    );
  }
}

async function readJson<T extends z.ZodType>(c: Context<AppEnv>, schema: T): Promise<z.output<T>> {
  const encoding = (c.req.header('content-encoding') ?? 'identity').trim().toLowerCase();
  // A compressed body read as text would be signed (or refused) as garbage: refuse it plainly.
  if (encoding !== 'identity' && encoding !== '') {
    throw new HttpProblem(
      'unsupported-media-type',
      `Expected an uncompressed body (Content-Encoding: identity); got Content-Encoding ${JSON.stringify(encoding)}.`,
    );
  }
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/([a-z.+-]*\+)?json\s*(;|$)/i.test(type)) {
    throw new HttpProblem(
      'unsupported-media-type',
      `Expected Content-Type: application/json; got ${type === '' ? 'none' : JSON.stringify(type)}.`,
    );
  }
  const text = await readBoundedText(c, MAX_BODY_BYTES);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    if (error instanceof HttpProblem) throw error;
    throw new HttpProblem(
      'invalid-request',
      `Expected a JSON body; could not parse it (${(error as Error).message}).`,
    );
  }
  const result = schema.safeParse(json);
  if (!result.success) {
    const errors = result.error.issues.map((issue) => ({
      path: issue.path.join('.'),
      message: issue.message,
    }));
    const summary = errors.map((e) => (e.path === '' ? e.message : `${e.path}: ${e.message}`)).join('; ');
    throw new HttpProblem('invalid-request', `The request body is not valid: ${summary}.`, {
      extra: { errors },
    });
  }
  return result.data;
}

/**
 * The request body as text, refusing (413) one over `limit` bytes: at once when Content-Length says
 * so (API Gateway always sends it), else while reading a chunked body, so nothing larger is buffered.
 * Where the runtime hands over the raw body (API Gateway's event, Node's request), it is read from
 * there: building a web `Request` body stream costs more than the rest of the request's parsing.
 */
async function readBoundedText(c: Context<AppEnv>, limit: number): Promise<string> {
  const tooLarge = () =>
    new HttpProblem('payload-too-large', `Expected a request body of at most ${limit} bytes.`);
  const declared = Number(c.req.header('content-length') ?? Number.NaN);
  if (declared > limit) throw tooLarge();
  const event = c.env?.event;
  if (event !== undefined && 'body' in event) {
    const body = event.body ?? '';
    const text = event.isBase64Encoded ? utf8(Buffer.from(body, 'base64')) : body;
    if (Buffer.byteLength(text) > limit) throw tooLarge();
    return text;
  }
  const source = c.env?.incoming ?? (c.req.raw.body as unknown as AsyncIterable<Uint8Array> | null);
  if (source === null || source === undefined) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for await (const chunk of source) {
      size += chunk.byteLength;
      if (size > limit) throw tooLarge();
      chunks.push(chunk);
    }
  } catch (error) {
    if (isClientAbort(error)) throw new ClientAbortError({ cause: error });
    throw error;
  }
  return utf8(Buffer.concat(chunks));
}

/**
 * CORS: a preflight from any profile's origin is allowed (the union); the real request is then
 * checked against its own profile's origins (checkOrigin). Credentials are allowed, so the origin is
 * echoed, never `*`. Returns the preflight answer, or undefined to go on.
 */
function applyCors(c: Context<AppEnv>, allowed: readonly string[]): Response | undefined {
  const origin = c.req.header('origin');
  c.header('Vary', 'Origin');
  const permitted = origin !== undefined && allowed.includes(origin);
  if (permitted) {
    c.header('Access-Control-Allow-Origin', origin);
    c.header('Access-Control-Allow-Credentials', 'true');
    c.header('Access-Control-Expose-Headers', 'X-Request-Id, Retry-After');
  }
  if (c.req.method !== 'OPTIONS') return undefined;
  if (permitted) {
    c.header('Access-Control-Allow-Methods', 'GET, POST, OPTIONS');
    c.header('Access-Control-Allow-Headers', 'Authorization, Content-Type, X-Api-Key');
    c.header('Access-Control-Max-Age', '600');
  }
  return c.body(null, 204);
}

function resolveProfile(config: Config, requested: string | undefined): { name: string; profile: Profile } {
  const name = profileName(config, requested);
  if (name === undefined) {
    const names = Object.keys(config.profiles).join(', ');
    throw new HttpProblem(
      'unknown-profile',
      requested === undefined
        ? `Expected a \`profile\` (one of: ${names}); there is no default profile.`
        : `Expected a profile of this service (one of: ${names}); got ${JSON.stringify(requested)}.`,
    );
  }
  return { name, profile: config.profiles[name]! };
}

function checkOrigin(c: Context<AppEnv>, profile: Profile): void {
  const origin = c.req.header('origin');
  if (origin !== undefined && !profile.cors.origins.includes(origin)) {
    throw new HttpProblem('origin-not-allowed', `The origin ${origin} may not use this profile.`);
  }
}

function conditionsOf(
  body: {
    expiresIn?: number | undefined;
    expiresAt?: number | string | undefined;
    notBefore?: number | string | undefined;
    ipAddress?: string | undefined;
  },
  profile: Profile,
  now: number,
) {
  if (body.ipAddress !== undefined && !profile.allowIpRestriction) {
    throw new HttpProblem(
      'invalid-request',
      'Expected no `ipAddress`: this profile does not sign IP-restricted policies (allowIpRestriction is false).',
    );
  }
  const expires =
    body.expiresIn !== undefined
      ? now + body.expiresIn
      : body.expiresAt !== undefined
        ? epochOf(body.expiresAt)
        : now + profile.ttl.default;
  return validateConditions(
    {
      expires,
      notBefore: body.notBefore === undefined ? undefined : epochOf(body.notBefore),
      ipAddress: body.ipAddress,
    },
    now,
  );
}

/** `expiryRounding` (kms profiles): identical policies within a window share one KMS signature. */
function rounded<T extends { expires: number; notBefore?: number | undefined }>(
  conditions: T,
  profile: Profile,
  ceiling: number,
  now: number,
): T {
  const grid = profile.expiryRounding;
  if (grid === undefined) return conditions;
  const expires = roundExpiry({ ...conditions, now, grid, ceiling: Math.min(ceiling, profile.ttl.max) });
  return expires === conditions.expires ? conditions : { ...conditions, expires };
}

function epochOf(value: number | string): number {
  return typeof value === 'number' ? value : Math.floor(Date.parse(value) / 1000);
}

/**
 * Checks every URL of a batch so one answer lists each refused URL by index, and returns their
 * canonical forms: each URL is canonicalized once, here, and signed as returned.
 */
function validateEach(urls: readonly string[], hasResource: boolean): string[] {
  const errors: { index: number; code: string; message: string }[] = [];
  const hrefs: string[] = [];
  for (const [index, url] of urls.entries()) {
    try {
      const href = canonicalUrl(url);
      hrefs.push(href);
      if (!hasResource) assertNoWildcard(href);
    } catch (error) {
      if (!(error instanceof SigningError)) throw error;
      errors.push({ index, code: error.code, message: error.message });
    }
  }
  if (errors.length === 1 && urls.length === 1) {
    throw new HttpProblem('invalid-request', errors[0]!.message, {
      extra: { code: errors[0]!.code, errors },
    });
  }
  if (errors.length > 0) {
    throw new HttpProblem(
      'invalid-request',
      `${errors.length} of ${urls.length} URLs cannot be signed; nothing was signed.`,
      {
        extra: { errors },
      },
    );
  }
  return hrefs;
}

/**
 * Signs through KMS for profile `name`, counting the Sign calls the request made (`KmsSignCalls`: a
 * cached signature makes none) and, when KMS signing failed, why (`KmsSignFailures`, reason as
 * answered in the 503; KmsSigningFailedAlarm: docs/operators.md, "Alarms and runbooks").
 */
async function signedThroughKms<T>(
  deps: AppDependencies,
  name: string,
  sign: (onRemoteCall: () => void) => Promise<T>,
): Promise<T> {
  let calls = 0;
  try {
    return await sign(() => {
      calls += 1;
    });
  } catch (error) {
    if (error instanceof RemoteSigningError)
      deps.metrics.count('KmsSignFailures', 1, { profile: name, reason: error.failure });
    throw error;
  } finally {
    if (calls > 0) deps.metrics.count('KmsSignCalls', calls, { profile: name });
  }
}

function ringOf(deps: AppDependencies, name: string): KeyRingCache {
  const ring = deps.rings.get(name);
  if (ring === undefined) throw new Error(`No key ring cache was built for profile ${name}.`);
  return ring;
}

/** How many of a batch's URLs an audit line shows (each cut to {@link AUDIT_URL_CHARS}). */
export const AUDIT_URLS_SHOWN = 3;
/** The most characters of one URL, resource or caller an audit line holds. */
export const AUDIT_URL_CHARS = 512;

/** A value cut to `max` characters, saying how long it was: an audit line has a bound. */
function clip(value: string, max = AUDIT_URL_CHARS): string {
  return value.length <= max ? value : `${value.slice(0, max)}…(${value.length} chars)`;
}

/**
 * One audit line per issuance: who, which profile, what, until when, with which key, from where.
 * Bounded (about 3 KB at most, far under CloudWatch Logs' 256 KB per event): a batch logs its
 * count, the first {@link AUDIT_URLS_SHOWN} URLs cut to {@link AUDIT_URL_CHARS} characters, and a
 * SHA-256 of the whole list (one URL per line) to match it against a URL found later; never the
 * request body, never a signature or key material.
 */
function audit(
  c: Context<AppEnv>,
  deps: AppDependencies,
  principal: Principal,
  profile: string,
  what: {
    kind: 'url' | 'cookies';
    resources?: readonly string[];
    resource?: string | undefined;
    expires: number;
    keyId: string;
  },
): void {
  const resources = what.resources;
  deps.log.info('signature issued', {
    audit: true,
    requestId: c.get('requestId'),
    caller: clip(principal.subject, 256),
    authKind: principal.kind,
    profile,
    kind: what.kind,
    ...(resources === undefined
      ? {}
      : {
          count: resources.length,
          resources: resources.slice(0, AUDIT_URLS_SHOWN).map((url) => clip(url)),
          resourcesSha256: createHash('sha256').update(resources.join('\n')).digest('hex'),
        }),
    ...(what.resource === undefined ? {} : { resource: clip(what.resource) }),
    expires: what.expires,
    keyId: what.keyId,
    sourceIp: c.env?.event?.requestContext?.http?.sourceIp,
  });
}

function describeError(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { value: String(error) };
  return {
    name: error.name,
    message: error.message,
    code: (error as { code?: unknown }).code,
    stack: error.stack,
  };
}
