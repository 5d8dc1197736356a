import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CachedApiKeySource } from '../auth/api-keys.ts';
import { createAuthenticator } from '../auth/authenticator.ts';
import { SecretsManagerApiKeySource } from '../aws/api-key-source.ts';
import { SecretsManagerKeyRingStore } from '../aws/secrets-manager-key-ring-store.ts';
import type { Config } from '../config/index.ts';
import type { AppDependencies } from '../http/app.ts';
import type { ApiMetrics as Metrics } from '../http/telemetry.ts';
import { KeyRingCache } from '../keys/cache.ts';
import type { Log } from '../telemetry/ports.ts';

/** What {@link buildApiDependencies} needs from the entry point. */
export interface ServiceOptions {
  readonly config: Config;
  readonly secretsManager: SecretsManagerClient;
  readonly log: Log;
  readonly metrics: Metrics;
  /** Epoch milliseconds. Default `Date.now`. */
  readonly now?: () => number;
}

/**
 * Wires the API's dependencies once per process (a Lambda cold start, or `npm start`): a key ring
 * cache per profile over Secrets Manager, and the authenticator with its cached API key list.
 * Cache events become metrics and log lines; none carries key material.
 */
export function buildApiDependencies(options: ServiceOptions): AppDependencies {
  const { config, secretsManager, log, metrics } = options;
  const now = options.now ?? Date.now;
  const rings = new Map<string, KeyRingCache>();
  for (const [name, profile] of Object.entries(config.profiles)) {
    rings.set(
      name,
      new KeyRingCache({
        store: new SecretsManagerKeyRingStore(secretsManager, profile.keyRing.secretId),
        ttlSeconds: profile.cache.ttl,
        maxStaleSeconds: profile.cache.maxStale,
        propagationSeconds: profile.rotation.propagation,
        now,
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
  const authenticator = createAuthenticator({
    config: config.auth,
    ...(apiKeys === undefined ? {} : { apiKeys }),
    now: () => Math.floor(now() / 1000),
  });
  return { config, authenticator, rings, log, metrics, now };
}
