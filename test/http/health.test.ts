import { describe, expect, it } from 'vitest';
import type { Authenticator } from '../../lib/auth/authenticator.ts';
import { createApp } from '../../lib/http/app.ts';

import { KeyRingCache } from '../../lib/keys/cache.ts';
import { MemoryKeyRingStore } from '../../lib/keys/memory-store.ts';
import { KeyRingUnavailableError } from '../../lib/keys/store.ts';
import { MemoryMetrics } from '../../lib/telemetry/memory-metrics.ts';
import { silentLog } from '../../lib/telemetry/ports.ts';
import { testConfig } from '../support/api.ts';
import { activeRing, ringKey } from '../support/rings.ts';

/** Issue 7, AC4: health says per profile whether the service can sign, served stale or not, never a secret. */
describe('GET /v1/health while Secrets Manager is down', () => {
  it('reports a ring served stale as degraded (200), then unavailable (503) past maxStale', async () => {
    let now = Date.UTC(2026, 10, 22, 12);
    let down = false;
    const rings = new Map<string, KeyRingCache>();
    for (const name of ['media', 'docs']) {
      const store = new MemoryKeyRingStore();
      await store.save(activeRing(ringKey({ id: 'K2JCJMDEHXQW5F' })), undefined, 'bootstrap');
      const failing = {
        load: () =>
          down
            ? Promise.reject(new KeyRingUnavailableError('Secrets Manager is unreachable.'))
            : store.load(),
        save: store.save.bind(store),
      };
      rings.set(
        name,
        new KeyRingCache({ store: failing, ttlSeconds: 300, maxStaleSeconds: 3600, now: () => now }),
      );
    }
    const authenticator: Authenticator = {
      authenticate: () => Promise.reject(new Error('health needs no caller')),
    };
    const app = createApp({
      config: testConfig(),
      authenticator,
      rings,
      log: silentLog,
      metrics: new MemoryMetrics(),
      now: () => now,
    });
    const health = async () => {
      const response = await app.request('/v1/health');
      const text = await response.text();
      expect(text).not.toContain('PRIVATE');
      return { status: response.status, body: JSON.parse(text) as Record<string, unknown> };
    };

    expect(await health()).toMatchObject({ status: 200, body: { status: 'ok' } });
    down = true;
    now += 600_000;
    await health(); // starts the background refresh, which fails
    await new Promise((resolve) => setImmediate(resolve));
    expect(await health()).toEqual({
      status: 200,
      body: {
        status: 'degraded',
        profiles: {
          media: { canSign: true, activeKeyId: 'K2JCJMDEHXQW5F', ringAgeSeconds: 600, stale: true },
          docs: { canSign: true, activeKeyId: 'K2JCJMDEHXQW5F', ringAgeSeconds: 600, stale: true },
        },
      },
    });

    now += 3600_000;
    const gone = await health();
    expect(gone.status).toBe(503);
    expect(gone.body).toMatchObject({
      status: 'unavailable',
      profiles: { media: { canSign: false, stale: true }, docs: { canSign: false } },
    });
  });
});
