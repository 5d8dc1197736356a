import { describe, expect, it } from 'vitest';
import { type CacheEvent, KeyRingCache, KeysUnavailableError } from '../../lib/keys/cache.ts';
import { MemoryKeyRingStore } from '../../lib/keys/memory-store.ts';
import type { KeyRingStore, VersionedKeyRing } from '../../lib/keys/store.ts';
import { activeRing, ringKey } from '../support/rings.ts';

// What the signing API does with its cached key ring (docs/design.md, "The key ring cache"): when
// it asks the store, what it serves while the store is down, when it refuses, and what health
// checks and callers are told. The store is the in-memory one behind a switch that makes it fail
// like an unreachable Secrets Manager.

const START = Date.UTC(2026, 10, 22);

/** A clock moved by hand, epoch milliseconds. */
function manualClock() {
  let time = START;
  return { now: () => time, advance: (seconds: number) => (time += seconds * 1000) };
}

/** The in-memory store, unreachable while `down`. */
class SwitchableStore implements KeyRingStore {
  readonly inner = new MemoryKeyRingStore();
  down = false;
  readonly failure = new Error('connect ECONNREFUSED 127.0.0.1:4600');
  async load(): Promise<VersionedKeyRing | undefined> {
    if (this.down) {
      this.inner.calls.load++;
      throw this.failure;
    }
    return this.inner.load();
  }
  save: KeyRingStore['save'] = (...args) => this.inner.save(...args);
}

/** Lets a background refresh (a chain of resolved promises) finish. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

async function cacheOf(
  options: { ttl?: number; maxStale?: number; propagation?: number; retry?: number } = {},
) {
  const store = new SwitchableStore();
  const clock = manualClock();
  const events: CacheEvent[] = [];
  const cache = new KeyRingCache({
    store,
    ttlSeconds: options.ttl ?? 60,
    maxStaleSeconds: options.maxStale ?? 600,
    now: clock.now,
    onEvent: (event) => events.push(event),
    ...(options.propagation === undefined ? {} : { propagationSeconds: options.propagation }),
    ...(options.retry === undefined ? {} : { retryAfterFailureSeconds: options.retry }),
  });
  return { store, clock, events, cache, loads: () => store.inner.calls.load };
}

/** The cache failing one background refresh at `age` seconds, then serving the cached ring stale. */
async function failedOnceAt(age: number, options: Parameters<typeof cacheOf>[0] = {}) {
  const setup = await cacheOf(options);
  await setup.store.save(activeRing(), undefined, 'bootstrap');
  await setup.cache.active();
  setup.store.down = true;
  setup.clock.advance(age);
  await setup.cache.active();
  await settle();
  return setup;
}

describe('KeyRingCache: when it asks the store again after a failure', () => {
  it('waits min(ttl, 10) seconds by default before trying again, serving the cached ring meanwhile', async () => {
    const { cache, clock, loads } = await failedOnceAt(60);
    expect(loads()).toBe(2);
    clock.advance(9.999);
    await cache.active();
    await settle();
    expect(loads()).toBe(2);
    clock.advance(0.001);
    await cache.active();
    await settle();
    expect(loads()).toBe(3);
  });

  it('waits retryAfterFailureSeconds when set', async () => {
    const { cache, clock, loads } = await failedOnceAt(60, { retry: 30 });
    clock.advance(29);
    await cache.active();
    await settle();
    expect(loads()).toBe(2);
    clock.advance(1);
    await cache.active();
    await settle();
    expect(loads()).toBe(3);
  });

  it("reports each stale serving and the failed refresh with the ring's age", async () => {
    const { cache, clock, events } = await failedOnceAt(75);
    expect(events.map((e) => e.type)).toEqual(['refreshed', 'refresh-failed']);
    expect(events[1]).toMatchObject({ type: 'refresh-failed', ringAgeSeconds: 75 });
    clock.advance(2.5);
    await cache.active();
    expect(events.at(-1)).toEqual({ type: 'served-stale', ringAgeSeconds: 77 });
  });
});

describe('KeyRingCache: what health checks are told', () => {
  it('is not stale while fresh, even after a failed warm-up refresh', async () => {
    const { store, cache, clock } = await cacheOf();
    await store.save(activeRing(), undefined, 'bootstrap');
    await cache.active();
    store.down = true;
    clock.advance(59);
    await expect(cache.refresh()).rejects.toBe(store.failure);
    expect(cache.status()).toMatchObject({ stale: false, canSign: true, ringAgeSeconds: 59 });
  });

  it('is not stale past ttl until a refresh has failed, and stale from exactly ttl once one has', async () => {
    const { store, cache, clock } = await cacheOf();
    await store.save(activeRing(), undefined, 'bootstrap');
    await cache.active();
    clock.advance(60);
    expect(cache.status()).toMatchObject({ stale: false, canSign: true });
    store.down = true;
    await cache.active();
    await settle();
    expect(cache.status()).toMatchObject({ stale: true, canSign: true, ringAgeSeconds: 60 });
  });

  it('can no longer sign from exactly maxStale', async () => {
    const { cache, clock } = await failedOnceAt(60);
    clock.advance(539);
    expect(cache.status()).toMatchObject({ canSign: true, ringAgeSeconds: 599 });
    clock.advance(1);
    expect(cache.status()).toMatchObject({ canSign: false, ringAgeSeconds: 600 });
  });

  it('says when signing starts before the first key is active, and nothing once it is', async () => {
    const { store, cache } = await cacheOf({ propagation: 120 });
    const trustedAt = new Date(START - 20_000).toISOString();
    const pending = ringKey({ state: 'pending', trustedAt, activatedAt: undefined });
    const v1 = await store.save(activeRing(pending), undefined, 'bootstrap');
    await expect(cache.active()).rejects.toBeInstanceOf(KeysUnavailableError);
    const startsAt = new Date(START + 100_000).toISOString();
    expect(cache.status()).toMatchObject({
      loaded: true,
      canSign: false,
      activeKeyId: null,
      signingStartsAt: startsAt,
    });
    await store.save(activeRing(), v1, 'activate');
    await cache.refresh();
    expect(cache.status()).toMatchObject({ canSign: true, signingStartsAt: null });
  });
});

describe('KeyRingCache: what callers are told before the first key is active', () => {
  it('says when signing starts and to retry then', async () => {
    const { store, cache, clock } = await cacheOf({ propagation: 120 });
    const trustedAt = new Date(START - 20_000).toISOString();
    await store.save(
      activeRing(ringKey({ state: 'pending', trustedAt, activatedAt: undefined })),
      undefined,
      'b',
    );
    const startsAt = new Date(START + 100_000).toISOString();
    const refusal = cache.active();
    await expect(refusal).rejects.toMatchObject({
      code: 'ERR_KEYS_UNAVAILABLE',
      retryAfterSeconds: 100,
      signingStartsAt: startsAt,
      message: `The key ring has no active key yet: its first key is waiting to reach CloudFront's edges (rotation.propagation); signing starts at about ${startsAt}, when the rotator's next run activates it.`,
    });
    // Past that moment (the rotator has not run yet): retry in a second.
    clock.advance(30);
    await expect(cache.active()).rejects.toMatchObject({ retryAfterSeconds: 70 });
    clock.advance(200);
    await expect(cache.active()).rejects.toMatchObject({ retryAfterSeconds: 1, signingStartsAt: startsAt });
  });

  it('says the rotator has not finished bootstrapping when no pending key is trusted yet, or no propagation is known', async () => {
    const bootstrapping =
      'The key ring has no active key yet: the rotator has not finished bootstrapping it.';
    const untrusted = await cacheOf({ propagation: 120 });
    const pending = ringKey({
      state: 'pending',
      id: undefined,
      trustedAt: undefined,
      activatedAt: undefined,
    });
    await untrusted.store.save(activeRing(pending), undefined, 'b');
    await expect(untrusted.cache.active()).rejects.toMatchObject({
      retryAfterSeconds: 30,
      message: bootstrapping,
    });
    expect(untrusted.cache.status()).toMatchObject({ signingStartsAt: null });

    const unknown = await cacheOf();
    const trusted = ringKey({
      state: 'pending',
      trustedAt: new Date(START).toISOString(),
      activatedAt: undefined,
    });
    await unknown.store.save(activeRing(trusted), undefined, 'b');
    const refusal = unknown.cache.active();
    await expect(refusal).rejects.toMatchObject({ retryAfterSeconds: 30, message: bootstrapping });
    await expect(refusal).rejects.toHaveProperty('signingStartsAt', undefined);
  });
});

describe('KeyRingCache: refusals when no ring can be served', () => {
  it("says the ring could not be loaded, keeps the store's error as the cause, and retries after min(ttl, 30) s", async () => {
    const { store, cache, events } = await cacheOf({ ttl: 45 });
    store.down = true;
    const refusal = cache.active();
    await expect(refusal).rejects.toMatchObject({
      code: 'ERR_KEYS_UNAVAILABLE',
      message: 'The key ring could not be loaded from its store.',
      retryAfterSeconds: 30,
      cause: store.failure,
    });
    expect(events).toEqual([{ type: 'refresh-failed', error: store.failure, ringAgeSeconds: null }]);
    const short = await cacheOf({ ttl: 5 });
    short.store.down = true;
    await expect(short.cache.active()).rejects.toMatchObject({ retryAfterSeconds: 5 });
  });

  it('says the secret has no value yet when the rotator never wrote it', async () => {
    const { cache } = await cacheOf();
    const refusal = cache.active();
    await expect(refusal).rejects.toMatchObject({
      message: 'The key ring could not be loaded from its store.',
    });
    await expect(refusal).rejects.toHaveProperty(
      'cause.message',
      'The key ring secret has no value yet: run the rotator to bootstrap it.',
    );
  });

  it('says how old the cached ring is once it is past maxStale', async () => {
    const { cache, clock, events } = await failedOnceAt(60);
    clock.advance(541);
    await expect(cache.active()).rejects.toMatchObject({
      message: 'The key ring could not be refreshed and the cached one is 601 s old, past maxStale (600 s).',
      retryAfterSeconds: 30,
    });
    expect(events.at(-1)).toMatchObject({ type: 'refresh-failed', ringAgeSeconds: 601 });
  });

  it("refuses for the store's reason even without an event listener", async () => {
    const store = new SwitchableStore();
    store.down = true;
    const cache = new KeyRingCache({ store, ttlSeconds: 60, maxStaleSeconds: 600, now: () => START });
    await expect(cache.active()).rejects.toMatchObject({ cause: store.failure });
  });
});

describe('KeyRingCache: what it reports on each refresh', () => {
  it('says whether the ring changed', async () => {
    const { store, cache, events } = await cacheOf();
    const v1 = await store.save(activeRing(), undefined, 'bootstrap');
    await cache.refresh();
    await cache.refresh();
    const v2 = await store.save(activeRing(ringKey({ id: 'K3NEWKEY000001' })), v1, 'rotate');
    await cache.refresh();
    expect(events).toEqual([
      { type: 'refreshed', version: v1, changed: true },
      { type: 'refreshed', version: v1, changed: false },
      { type: 'refreshed', version: v2, changed: true },
    ]);
  });
});

describe('KeyRingCache: serving', () => {
  it('serves a fresh ring without asking the store, and reports nothing before the first load', async () => {
    const { store, cache, clock, loads } = await cacheOf();
    expect(cache.status()).toStrictEqual({
      loaded: false,
      activeKeyId: null,
      ringAgeSeconds: null,
      stale: false,
      canSign: false,
      signingStartsAt: null,
    });
    await store.save(activeRing(), undefined, 'bootstrap');
    await cache.active();
    clock.advance(59);
    for (let i = 0; i < 5; i++) await cache.active();
    await settle();
    expect(loads()).toBe(1);
  });

  it('refuses from exactly maxStale, naming its error', async () => {
    const { cache, clock } = await failedOnceAt(60);
    clock.advance(540);
    await expect(cache.active()).rejects.toMatchObject({
      name: 'KeysUnavailableError',
      code: 'ERR_KEYS_UNAVAILABLE',
    });
  });

  it('serves stale without an event listener', async () => {
    const store = new SwitchableStore();
    await store.save(activeRing(), undefined, 'bootstrap');
    const clock = manualClock();
    const cache = new KeyRingCache({ store, ttlSeconds: 60, maxStaleSeconds: 600, now: clock.now });
    const first = await cache.active();
    store.down = true;
    clock.advance(61);
    await cache.active();
    await settle();
    expect((await cache.active()).active.id).toBe(first.active.id);
  });

  it('says nothing of when signing starts while a key is active, even with a trusted pending key', async () => {
    const { store, cache } = await cacheOf({ propagation: 120 });
    const pending = ringKey({
      id: 'K3PENDING00001',
      state: 'pending',
      trustedAt: new Date(START).toISOString(),
    });
    await store.save({ ...activeRing(), keys: [...activeRing().keys, pending] }, undefined, 'b');
    await cache.active();
    expect(cache.status()).toMatchObject({ canSign: true, signingStartsAt: null });
  });

  it('takes when signing starts from the trusted pending key, not another trusted key', async () => {
    const { store, cache } = await cacheOf({ propagation: 120 });
    const retiring = ringKey({
      id: 'K3RETIRING0001',
      state: 'retiring',
      trustedAt: new Date(START - 900_000).toISOString(),
    });
    const pending = ringKey({
      id: 'K3PENDING00001',
      state: 'pending',
      trustedAt: new Date(START).toISOString(),
    });
    await store.save({ ...activeRing(), keys: [retiring, pending] }, undefined, 'b');
    await expect(cache.active()).rejects.toMatchObject({
      signingStartsAt: new Date(START + 120_000).toISOString(),
    });
  });
});
