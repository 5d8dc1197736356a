// A bench-only server: the real Hono app, with a key ring and API keys in memory, on a cluster of
// worker processes sharing one loopback port (to use every core). Not shipped; `npm run bench` runs it.
import cluster from 'node:cluster';
import { generateKeyPairSync } from 'node:crypto';
import type { Server } from 'node:http';
import { createAdaptorServer } from '@hono/node-server';
import { createLocalJWKSet } from 'jose';
import { MemoryStateStore } from '../infra/local/state.ts';
import { createDevTokenIssuer } from '../infra/local/token-issuer.ts';
import { hashApiKey } from '../lib/auth/api-keys.ts';
import { createAuthenticator } from '../lib/auth/authenticator.ts';
import { parseConfig } from '../lib/config/index.ts';
import { createApp } from '../lib/http/app.ts';

import { KeyRingCache } from '../lib/keys/cache.ts';
import { MemoryKeyRingStore } from '../lib/keys/memory-store.ts';
import { fingerprintOf } from '../lib/signing/index.ts';
import { MemoryMetrics } from '../lib/telemetry/memory-metrics.ts';
import { silentLog } from '../lib/telemetry/ports.ts';

export const BENCH_API_KEY = 'bench-api-key-0123456789';
export const BENCH_ISSUER = 'https://bench.signet.local';

const workers = Number(process.env.BENCH_WORKERS ?? '2');
const algorithm = (process.env.BENCH_ALGORITHM ?? 'rsa-2048') as 'rsa-2048' | 'ecdsa-p256';

if (cluster.isPrimary) {
  const pair =
    algorithm === 'rsa-2048'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const ring = {
    schema: 'signet.keyring/1',
    keyGroupId: '00000000-0000-4000-8000-000000000000',
    keys: [
      {
        id: 'KBENCH00000001',
        algorithm,
        hash: algorithm === 'rsa-2048' ? 'sha1' : 'sha256',
        privateKey: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }),
        fingerprint: fingerprintOf(pair.publicKey),
        state: 'active',
        createdAt: '2026-01-01T00:00:00Z',
        trustedAt: '2026-01-01T00:00:00Z',
        activatedAt: '2026-01-01T01:00:00Z',
      },
    ],
    history: [],
  };
  const issuerState = new MemoryStateStore();
  const issuer = createDevTokenIssuer({ store: issuerState, issuer: BENCH_ISSUER, audience: 'bench' });
  const token = await issuer.issue({ sub: 'bench', scope: ['bench:read'], expiresIn: 3600 });
  const env = {
    BENCH_RING: JSON.stringify(ring),
    BENCH_JWKS: JSON.stringify(issuer.jwks()),
    BENCH_PORT: process.env.BENCH_PORT ?? '0',
  };
  let peakRss = 0;
  let ready = 0;
  let port = 0;
  for (let i = 0; i < workers; i++) {
    const worker = cluster.fork(env);
    worker.on('message', (message: { type: string; port?: number; rss?: number }) => {
      if (message.type === 'listening') {
        port = message.port!;
        if (++ready === workers) process.stdout.write(`${JSON.stringify({ ready: true, port, token })}\n`);
      } else if (message.type === 'rss') {
        peakRss = Math.max(peakRss, message.rss!);
      }
    });
  }
  process.on('SIGTERM', () => {
    for (const worker of Object.values(cluster.workers ?? {})) worker?.send('report');
    setTimeout(() => {
      process.stdout.write(`${JSON.stringify({ peakRssBytes: peakRss })}\n`);
      for (const worker of Object.values(cluster.workers ?? {})) worker?.kill();
      process.exit(0);
    }, 300);
  });
} else {
  const config = parseConfig({
    auth: {
      jwt: {
        issuer: BENCH_ISSUER,
        audience: 'bench',
        jwksUrl: `${BENCH_ISSUER}/jwks.json`,
        algorithms: ['ES256'],
      },
      apiKeys: { secretId: 'unused' },
    },
    profiles: {
      bench: {
        domains: ['media.example.com'],
        keyRing: { secretId: 'unused' },
        grants: [
          { when: { apiKeys: ['bench'] }, resources: ['https://media.example.com/*'] },
          { when: { claims: { scope: 'bench:read' } }, resources: ['https://media.example.com/*'] },
        ],
      },
    },
  });
  const store = new MemoryKeyRingStore();
  await store.save(JSON.parse(process.env.BENCH_RING!), undefined, 'bench');
  const rings = new Map([
    ['bench', new KeyRingCache({ store, ttlSeconds: 300, maxStaleSeconds: 3600, now: Date.now })],
  ]);
  const authenticator = createAuthenticator({
    config: config.auth,
    jwks: createLocalJWKSet(JSON.parse(process.env.BENCH_JWKS!)),
    apiKeys: { load: async () => [{ id: 'bench', sha256: hashApiKey(BENCH_API_KEY) }] },
  });
  const app = createApp({
    config,
    authenticator,
    rings,
    log: silentLog,
    metrics: new MemoryMetrics(),
    now: Date.now,
  });
  const server = createAdaptorServer({ fetch: app.fetch }) as Server;
  let peak = 0;
  const sample = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 100);
  sample.unref();
  process.on('message', (message) => {
    if (message === 'report') process.send?.({ type: 'rss', rss: Math.max(peak, process.memoryUsage().rss) });
  });
  server.listen(Number(process.env.BENCH_PORT), '127.0.0.1', () => {
    const address = server.address();
    process.send?.({
      type: 'listening',
      port: typeof address === 'object' && address !== null ? address.port : 0,
    });
  });
}
