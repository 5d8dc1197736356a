import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { generateKeyPair, type JWTVerifyGetKey, jwtVerify, SignJWT } from 'jose';
import { CachedApiKeySource } from '../auth/api-keys.ts';
import { createAuthenticator, remoteJwks } from '../auth/authenticator.ts';
import { SecretsManagerApiKeySource } from '../aws/api-key-source.ts';
import { SecretsManagerKeyRingStore } from '../aws/secrets-manager-key-ring-store.ts';
import type { Config } from '../config/index.ts';
import type { AppDependencies } from '../http/app.ts';
import { signedCookiesRequest, signedUrlsRequest } from '../http/schemas.ts';
import type { ApiMetrics as Metrics } from '../http/telemetry.ts';
import { KeyRingCache } from '../keys/cache.ts';
import { installedKmsSigners, type RemoteSignerFactory } from '../keys/kms.ts';
import { signCookies, signUrls } from '../signing/index.ts';
import type { Log } from '../telemetry/ports.ts';

/** What {@link buildApiDependencies} needs from the entry point. */
export interface ServiceOptions {
  readonly config: Config;
  readonly secretsManager: SecretsManagerClient;
  readonly log: Log;
  readonly metrics: Metrics;
  /** Epoch milliseconds. Default `Date.now`. */
  readonly now?: () => number;
  /** Resolves a bearer token's key. Default: the config's `auth.jwt.jwksUrl`, fetched and cached. */
  readonly jwks?: JWTVerifyGetKey;
  /** The signers of `signer: kms` profiles. Default: KMS through the SDK, loaded on first use. */
  readonly kmsSigner?: RemoteSignerFactory;
}

/** What {@link ApiDependencies.warm} did, for the init log line and the bench. */
export interface WarmResult {
  /** Everything loaded within the wait. */
  readonly ok: boolean;
  /** Milliseconds spent waiting. */
  readonly ms: number;
  /** What did not load (`key ring <profile>`, `API keys`, `JWKS`), each with its reason. */
  readonly failures: readonly string[];
  /** The wait ran out before everything answered; what was still loading goes on in the background. */
  readonly timedOut: boolean;
}

/** The API's dependencies, and the start-up work that a cold start does before its first request. */
export interface ApiDependencies extends AppDependencies {
  /**
   * Loads every profile's key ring (parsing its active key), the API key list and the JWKS, waiting
   * at most `timeoutMs`. Never throws: whatever failed or is still loading is loaded by the first
   * request that needs it, as without warming (docs/operators.md, "Cold starts").
   */
  warm(options?: { readonly timeoutMs?: number }): Promise<WarmResult>;
}

/** How long {@link ApiDependencies.warm} waits by default: well inside Lambda's 10-second init phase. */
export const DEFAULT_WARM_TIMEOUT_MS = 3000;

/**
 * Wires the API's dependencies once per process (a Lambda cold start, or `npm start`): a key ring
 * cache per profile over Secrets Manager, and the authenticator with its cached API key list.
 * Cache events become metrics and log lines; none carries key material.
 */
export function buildApiDependencies(options: ServiceOptions): ApiDependencies {
  const { config, secretsManager, log, metrics } = options;
  const now = options.now ?? Date.now;
  const rings = new Map<string, KeyRingCache>();
  // The KMS signers: from the option, else from lib/keys/kms-signers.ts when the process imported it
  // (functions/api-kms.ts does; functions/api.ts, for Secrets Manager-only configs, does not). The
  // KMS client itself loads on the first KMS signature.
  const kms: RemoteSignerFactory | undefined = options.kmsSigner ?? installedKmsSigners()?.(config, { now });
  for (const [name, profile] of Object.entries(config.profiles)) {
    rings.set(
      name,
      new KeyRingCache({
        store: new SecretsManagerKeyRingStore(secretsManager, profile.keyRing.secretId),
        ttlSeconds: profile.cache.ttl,
        maxStaleSeconds: profile.cache.maxStale,
        propagationSeconds: profile.rotation.propagation,
        now,
        // Every profile: a ring moved between signers holds both kinds of keys for a rotation. The
        // factory is cheap; the KMS client loads only when an active key is a KMS key.
        ...(kms === undefined ? {} : { remoteSigner: kms }),
        onEvent: (event) => {
          if (event.type === 'refreshed') {
            metrics.count('KeyRingRefreshes', 1, { profile: name });
            if (event.changed) log.info('key ring loaded', { profile: name, version: event.version });
          } else if (event.type === 'refresh-failed') {
            metrics.count('KeyRingRefreshFailures', 1, { profile: name });
            log.warn('key ring refresh failed', {
              profile: name,
              ringAgeSeconds: event.ringAgeSeconds,
              error:
                event.error instanceof Error
                  ? `${event.error.name}: ${event.error.message}`
                  : String(event.error),
            });
          } else {
            metrics.count('KeyRingStaleServes', 1, { profile: name });
          }
        },
      }),
    );
  }
  const apiKeys =
    config.auth.apiKeys === undefined
      ? undefined
      : new CachedApiKeySource(new SecretsManagerApiKeySource(secretsManager, config.auth.apiKeys.secretId), {
          now,
          onEvent: (event) => {
            if (event.type === 'refresh-failed')
              log.warn('API key list refresh failed', { ageSeconds: event.ageSeconds });
          },
        });
  const jwt = config.auth.jwt;
  // The same remote key set the authenticator would build itself (cached for jwksMaxAge, refetched on
  // an unknown kid), made here so that warm() can fetch it before the first request.
  const jwks = options.jwks ?? (jwt === undefined ? undefined : remoteJwks(jwt));
  const authenticator = createAuthenticator({
    config: config.auth,
    ...(apiKeys === undefined ? {} : { apiKeys }),
    ...(jwks === undefined ? {} : { jwks }),
    now: () => Math.floor(now() / 1000),
  });
  const warm = async (warmOptions: { readonly timeoutMs?: number } = {}): Promise<WarmResult> => {
    const started = performance.now();
    const failures: string[] = [];
    const task = (what: string, load: () => Promise<unknown>): Promise<void> =>
      load().then(
        () => undefined,
        (error: unknown) => {
          failures.push(`${what}: ${error instanceof Error ? error.message : String(error)}`);
        },
      );
    const tasks = [
      ...[...rings].map(([name, cache]) => task(`key ring ${name}`, () => cache.refresh())),
      ...(apiKeys === undefined ? [] : [task('API keys', () => apiKeys.load())]),
      ...(jwt === undefined || jwks === undefined
        ? []
        : [task('JWKS', () => warmJwks(jwks, jwt.algorithms))]),
    ];
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      Promise.all(tasks).then(() => false),
      new Promise<boolean>((done) => {
        timer = setTimeout(() => done(true), warmOptions.timeoutMs ?? DEFAULT_WARM_TIMEOUT_MS);
      }),
    ]);
    clearTimeout(timer);
    if (!timedOut) await warmCode(config, rings, jwt?.algorithms).catch(() => undefined);
    const ms = performance.now() - started;
    const result = { ok: !timedOut && failures.length === 0, ms, failures: [...failures], timedOut };
    if (result.ok) log.info('warmed', { ms: Math.round(ms) });
    else
      log.warn('warming incomplete: the first request loads what is missing', {
        ms: Math.round(ms),
        timedOut,
        failures: result.failures,
      });
    return result;
  };
  return { config, authenticator, rings, log, metrics, now, warm };
}

/**
 * Runs the code of a signing request once on throwaway inputs, so that the first real request does
 * not pay for compiling it (zod builds its parsers on first use, jose and WebCrypto set up on their
 * first verification, V8 compiles every function on its first call): the request schemas, one
 * signed URL and one set of cookies with each profile's active key (nothing is sent or logged), and a
 * JWT verified with a key made for the purpose.
 */
async function warmCode(
  config: Config,
  rings: ReadonlyMap<string, KeyRingCache>,
  algorithms: readonly string[] | undefined,
): Promise<void> {
  signedUrlsRequest.safeParse({ url: 'https://warm.invalid/a', expiresIn: 60 });
  signedCookiesRequest.safeParse({ resource: 'https://warm.invalid/*', expiresIn: 60 });
  const now = Math.floor(Date.now() / 1000);
  for (const [name, cache] of rings) {
    const active = cache.status().canSign ? (await cache.active()).active : undefined;
    const domain = config.profiles[name]?.domains[0];
    // A KMS key is not warmed: that would spend a KMS call on a throwaway signature.
    if (active?.key === undefined || domain === undefined) continue;
    const options = { key: active.key, keyPairId: active.id, hash: active.hash, expires: now + 60, now };
    signUrls([`https://${domain}/signet-warm-up`], options);
    signCookies({ ...options, resource: `https://${domain}/signet-warm-up/*` });
  }
  const alg = algorithms?.find((candidate) => /^(ES|RS|PS)\d+$|^EdDSA$/.test(candidate));
  if (alg !== undefined) {
    const { privateKey, publicKey } = await generateKeyPair(alg);
    const token = await new SignJWT({ sub: 'warm-up' })
      .setProtectedHeader({ alg })
      .setExpirationTime('1m')
      .sign(privateKey);
    await jwtVerify(token, publicKey, { algorithms: [alg], requiredClaims: ['exp', 'sub'] });
  }
}

/**
 * Fetches the key set (the remote set's `reload`) and resolves each of its keys once, so that the
 * first token pays neither the fetch nor the key import. A resolver without `reload` (a local set)
 * only gets its keys resolved.
 */
async function warmJwks(jwks: JWTVerifyGetKey, algorithms: readonly string[]): Promise<void> {
  const remote = jwks as JWTVerifyGetKey & {
    reload?: () => Promise<void>;
    jwks?: () => { keys: { kid?: string; alg?: string }[] } | undefined;
  };
  await remote.reload?.();
  for (const key of remote.jwks?.()?.keys ?? []) {
    const alg = key.alg ?? algorithms[0];
    if (alg === undefined || !algorithms.includes(alg)) continue;
    const header = key.kid === undefined ? { alg } : { alg, kid: key.kid };
    // Resolves (and caches) the imported key; a set with several candidates throws, which is fine here.
    await Promise.resolve(jwks(header, { payload: '', signature: '' })).catch(() => undefined);
  }
}
