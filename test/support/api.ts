import { createLocalJWKSet } from 'jose';
import { MemoryStateStore } from '../../infra/local/state.ts';
import { createDevTokenIssuer } from '../../infra/local/token-issuer.ts';
import { createAuthenticator } from '../../lib/auth/authenticator.ts';
import { type Config, parseConfig } from '../../lib/config/index.ts';
import { createApp } from '../../lib/http/app.ts';

import { KeyRingCache } from '../../lib/keys/cache.ts';
import { MemoryKeyRingStore } from '../../lib/keys/memory-store.ts';
import type { KeyRing } from '../../lib/keys/ring.ts';
import { MemoryMetrics } from '../../lib/telemetry/memory-metrics.ts';
import type { Log } from '../../lib/telemetry/ports.ts';
import { activeRing } from './rings.ts';

export const ISSUER = 'https://issuer.test';
export const AUDIENCE = 'signet-test';

/** A config with two profiles and grants by scope, by {sub}, and by API key. */
export function testConfig(overrides: Record<string, unknown> = {}): Config {
  return parseConfig({
    defaultProfile: 'media',
    auth: {
      jwt: {
        issuer: ISSUER,
        audience: AUDIENCE,
        jwksUrl: `${ISSUER}/.well-known/jwks.json`,
        algorithms: ['ES256'],
      },
    },
    profiles: {
      media: {
        domains: ['media.example.com'],
        keyRing: { secretId: 'signet/media' },
        ttl: { default: 300, max: 86400 },
        cookie: { domain: 'example.com', path: '/', sameSite: 'None' },
        cors: { origins: ['https://app.example.com'] },
        grants: [
          {
            when: { claims: { scope: 'media:read' } },
            resources: ['https://media.example.com/videos/*'],
            maxTtl: 3600,
          },
          {
            when: { claims: { scope: 'media:user' } },
            resources: ['https://media.example.com/users/{sub}/*'],
            maxTtl: 600,
          },
        ],
      },
      docs: {
        domains: ['docs.example.com'],
        keyRing: { secretId: 'signet/docs' },
        cors: { origins: ['https://docs-app.example.com'] },
        grants: [{ when: { claims: { scope: 'docs:read' } }, resources: ['https://docs.example.com/*'] }],
      },
    },
    ...overrides,
  });
}

/** A log that keeps every line, to assert on audit lines and on what is never logged. */
export class CapturingLog implements Log {
  readonly lines: { level: string; message: string; fields: Record<string, unknown> }[] = [];
  info(message: string, fields: Record<string, unknown> = {}) {
    this.lines.push({ level: 'info', message, fields });
  }
  warn(message: string, fields: Record<string, unknown> = {}) {
    this.lines.push({ level: 'warn', message, fields });
  }
  error(message: string, fields: Record<string, unknown> = {}) {
    this.lines.push({ level: 'error', message, fields });
  }
  text(): string {
    return JSON.stringify(this.lines);
  }
}

/** The app wired with real parts: jose over the dev issuer's keys, in-memory key rings, a fixed clock. */
export async function testApp(
  options: { rings?: Record<string, KeyRing | undefined>; now?: number; config?: Config } = {},
) {
  const now = options.now ?? Date.UTC(2026, 10, 22, 12);
  const config = options.config ?? testConfig();
  const issuer = createDevTokenIssuer({
    store: new MemoryStateStore(),
    issuer: ISSUER,
    audience: AUDIENCE,
    now: () => Math.floor(now / 1000),
  });
  const log = new CapturingLog();
  const metrics = new MemoryMetrics();
  const rings = new Map<string, KeyRingCache>();
  const stores = new Map<string, MemoryKeyRingStore>();
  const ringDocs = options.rings ?? { media: activeRing(), docs: activeRing() };
  for (const name of Object.keys(config.profiles)) {
    const store = new MemoryKeyRingStore();
    const ring = ringDocs[name];
    if (ring !== undefined) await store.save(ring, undefined, 'bootstrap');
    stores.set(name, store);
    rings.set(
      name,
      new KeyRingCache({
        store,
        ttlSeconds: 300,
        maxStaleSeconds: 3600,
        propagationSeconds: config.profiles[name]!.rotation.propagation,
        now: () => now,
      }),
    );
  }
  const authenticator = createAuthenticator({
    config: config.auth,
    jwks: createLocalJWKSet(issuer.jwks()),
    now: () => Math.floor(now / 1000),
  });
  const app = createApp({ config, authenticator, rings, log, metrics, now: () => now });
  const token = (sub: string, scope: string[]) => issuer.issue({ sub, scope });
  return { app, log, metrics, stores, token, issuer, now };
}
