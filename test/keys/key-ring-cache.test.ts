import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { afterEach, describe, expect, it } from 'vitest';
import { SecretsManagerKeyRingStore } from '../../lib/aws/secrets-manager-key-ring-store.ts';
import { type CacheEvent, KeyRingCache, KeysUnavailableError } from '../../lib/keys/cache.ts';
import { MemoryKeyRingStore } from '../../lib/keys/memory-store.ts';
import { activeRing, ringKey } from '../support/rings.ts';
import { type SecretsManagerFixture, startFixture } from '../support/secrets-manager-fixture.ts';

let sandbox: SecretsManagerFixture | undefined;
afterEach(async () => {
  await sandbox?.stop().catch(() => undefined);
  sandbox = undefined;
});

/** A clock moved by hand, epoch milliseconds. */
function manualClock(start = Date.UTC(2026, 10, 22)) {
  let time = start;
  return { now: () => time, advance: (seconds: number) => (time += seconds * 1000) };
}

/**
 * Waits until `count` events of `type` (refreshes by default) have been reported: a background
 * refresh goes over HTTP to the stand-in, which may take longer than {@link settle} on a busy machine.
 */
async function refreshed(
  events: readonly CacheEvent[],
  count: number,
  type: CacheEvent['type'] = 'refreshed',
): Promise<void> {
  for (let tries = 0; tries < 1000; tries++) {
    if (events.filter((event) => event.type === type).length >= count) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Lets background refreshes (promises) settle. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

async function sandboxCache(options: { ttl: number; maxStale: number }) {
  sandbox = await startFixture();
  await sandbox.client.send(
    new CreateSecretCommand({ Name: 'signet/cache', SecretString: JSON.stringify(activeRing()) }),
  );
  const clock = manualClock();
  const events: CacheEvent[] = [];
  const cache = new KeyRingCache({
    store: new SecretsManagerKeyRingStore(sandbox.client, 'signet/cache'),
    ttlSeconds: options.ttl,
    maxStaleSeconds: options.maxStale,
    now: clock.now,
    onEvent: (event) => events.push(event),
  });
  return { cache, clock, events, gets: () => sandbox!.standIn.countCalls('GetSecretValue') };
}

describe('KeyRingCache against the Secrets Manager sandbox', () => {
  it('makes zero Secrets Manager calls per request in steady state, and one per cacheTtl', async () => {
    const { cache, clock, events, gets } = await sandboxCache({ ttl: 300, maxStale: 3600 });
    const first = await cache.active();
    expect(gets()).toBe(1);
    for (let i = 0; i < 1000; i++) await cache.active();
    expect(gets()).toBe(1);
    // Ten cache periods of steady traffic: one refresh per period, never one per request.
    for (let period = 0; period < 10; period++) {
      clock.advance(300);
      await Promise.all(Array.from({ length: 200 }, () => cache.active()));
      await refreshed(events, period + 2);
    }
    expect(gets()).toBe(11);
    const later = await cache.active();
    expect(later.active.key).toBe(first.active.key); // same version: the parsed key is reused, not re-parsed
  });

  it('keeps serving the cached ring while Secrets Manager is down, until maxStale, then refuses with Retry-After', async () => {
    const { cache, clock, events } = await sandboxCache({ ttl: 60, maxStale: 600 });
    const { active } = await cache.active();
    await sandbox!.stop(); // Secrets Manager goes away: connections are refused
    clock.advance(61);
    const stale = await cache.active();
    expect(stale.active.id).toBe(active.id);
    await refreshed(events, 1, 'refresh-failed');
    expect(events.some((e) => e.type === 'refresh-failed')).toBe(true);
    expect(cache.status()).toMatchObject({
      loaded: true,
      stale: true,
      canSign: true,
      activeKeyId: active.id,
    });
    clock.advance(540);
    const refused = cache.active();
    await expect(refused).rejects.toBeInstanceOf(KeysUnavailableError);
    await expect(refused).rejects.toMatchObject({ code: 'ERR_KEYS_UNAVAILABLE', retryAfterSeconds: 30 });
    expect(cache.status()).toMatchObject({ canSign: false });
  });
});

describe('KeyRingCache behaviour', () => {
  it('has at most one refresh in flight however many requests arrive', async () => {
    const store = new MemoryKeyRingStore();
    await store.save(activeRing(), undefined, 'bootstrap');
    const clock = manualClock();
    const cache = new KeyRingCache({ store, ttlSeconds: 10, maxStaleSeconds: 100, now: clock.now });
    await Promise.all(Array.from({ length: 50 }, () => cache.active()));
    expect(store.calls.load).toBe(1);
    clock.advance(11);
    await Promise.all(Array.from({ length: 50 }, () => cache.active()));
    await settle();
    expect(store.calls.load).toBe(2);
  });

  it('picks up a rotated ring at the next refresh and parses the new key once', async () => {
    const store = new MemoryKeyRingStore();
    const v1 = await store.save(activeRing(), undefined, 'bootstrap');
    const clock = manualClock();
    const cache = new KeyRingCache({ store, ttlSeconds: 10, maxStaleSeconds: 100, now: clock.now });
    const before = await cache.active();
    const rotated = ringKey({ id: 'K3NEWKEY000001' });
    await store.save(activeRing(rotated), v1, 'rotate');
    expect((await cache.active()).active.id).toBe(before.active.id); // still fresh
    clock.advance(11);
    await cache.active(); // serves the cached ring and refreshes in the background
    await settle();
    const after = await cache.active();
    expect(after.active.id).toBe('K3NEWKEY000001');
    expect(after.active.key?.fingerprint).toBe(rotated.fingerprint);
  });

  it('refuses with 503-style error when the ring has no active key yet', async () => {
    const store = new MemoryKeyRingStore();
    await store.save(
      { ...activeRing(ringKey({ state: 'pending', id: undefined, activatedAt: undefined })) },
      undefined,
      'b',
    );
    const cache = new KeyRingCache({ store, ttlSeconds: 10, maxStaleSeconds: 100, now: manualClock().now });
    await expect(cache.active()).rejects.toMatchObject({ code: 'ERR_KEYS_UNAVAILABLE' });
    expect(cache.status()).toMatchObject({ loaded: true, canSign: false, activeKeyId: null });
  });

  it('refuses when the first load fails, and never caches the failure', async () => {
    const store = new MemoryKeyRingStore();
    const clock = manualClock();
    const cache = new KeyRingCache({ store, ttlSeconds: 10, maxStaleSeconds: 100, now: clock.now });
    await expect(cache.active()).rejects.toBeInstanceOf(KeysUnavailableError);
    await store.save(activeRing(), undefined, 'bootstrap');
    expect((await cache.active()).active.id).toBe('K2JCJMDEHXQW5F');
  });
});
