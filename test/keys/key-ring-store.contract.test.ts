import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretsManagerKeyRingStore } from '../../lib/aws/secrets-manager-key-ring-store.ts';
import { MemoryKeyRingStore } from '../../lib/keys/memory-store.ts';
import { KeyRingConflictError, type KeyRingStore } from '../../lib/keys/store.ts';
import { activeRing, ringKey } from '../support/rings.ts';
import { type SecretsManagerFixture, startFixture } from '../support/secrets-manager-fixture.ts';

let sandbox: SecretsManagerFixture;
let secrets = 0;

beforeAll(async () => {
  sandbox = await startFixture();
});
afterAll(async () => {
  await sandbox.stop();
});

/** Each store under contract, fresh per test. */
const stores: [string, () => Promise<KeyRingStore>][] = [
  ['in-memory fake', async () => new MemoryKeyRingStore()],
  [
    'Secrets Manager adapter (sandbox, real SDK)',
    async () => {
      const name = `signet/contract/${++secrets}`;
      // Declared with no value, as infrastructure declares it: the rotator writes the first ring.
      await sandbox.client.send(new CreateSecretCommand({ Name: name }));
      return new SecretsManagerKeyRingStore(sandbox.client, name);
    },
  ],
];

describe.each(stores)('KeyRingStore contract: %s', (_name, create) => {
  it('loads nothing before the first save, then the saved ring with its version', async () => {
    const store = await create();
    expect(await store.load()).toBeUndefined();
    const ring = activeRing();
    const version = await store.save(ring, undefined, 'bootstrap:test');
    const loaded = await store.load();
    expect(loaded?.version).toBe(version);
    expect(loaded?.ring).toEqual(ring);
  });

  it('is a compare-and-swap: a save computed from an old version fails with a conflict', async () => {
    const store = await create();
    const v1 = await store.save(activeRing(), undefined, 'bootstrap');
    const v2 = await store.save(activeRing(ringKey()), v1, 'change-a');
    expect(v2).not.toBe(v1);
    const stale = store.save(activeRing(ringKey()), v1, 'change-b');
    await expect(stale).rejects.toBeInstanceOf(KeyRingConflictError);
    expect((await store.load())?.version).toBe(v2);
  });

  it('treats a retried save (same version, same transition, same content) as a no-op', async () => {
    const store = await create();
    const v1 = await store.save(activeRing(), undefined, 'bootstrap');
    const next = activeRing(ringKey());
    const v2 = await store.save(next, v1, 'rotate');
    expect(await store.save(next, v1, 'rotate')).toBe(v2);
    expect((await store.load())?.ring).toEqual(next);
  });

  it('refuses the same transition from the same version with other content', async () => {
    const store = await create();
    const v1 = await store.save(activeRing(), undefined, 'bootstrap');
    await store.save(activeRing(ringKey()), v1, 'rotate');
    await expect(store.save(activeRing(ringKey()), v1, 'rotate')).rejects.toBeInstanceOf(
      KeyRingConflictError,
    );
  });

  it('lets exactly one of two concurrent writers from the same version win', async () => {
    const store = await create();
    const v1 = await store.save(activeRing(), undefined, 'bootstrap');
    const results = await Promise.allSettled([
      store.save(activeRing(ringKey()), v1, 'writer-a'),
      store.save(activeRing(ringKey()), v1, 'writer-b'),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const rejected = results.filter((r) => r.status === 'rejected');
    expect(rejected).toHaveLength(1);
    expect((rejected[0] as PromiseRejectedResult).reason).toBeInstanceOf(KeyRingConflictError);
  });
});
