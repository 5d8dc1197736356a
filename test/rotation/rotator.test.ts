import { GetSecretValueCommand, PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publicKeyNameFor } from '../../lib/rotation/names.ts';
import { runRotation } from '../../lib/rotation/rotator.ts';
import { type CycleContext, expectConverged, rotate } from '../support/rotation-cycle.ts';
import {
  HandClock,
  observeRotation,
  startRotationSandbox,
  TIMINGS,
  testProfile,
} from '../support/rotation-sandbox.ts';
import { RecordingLog, RecordingMetrics } from '../support/rotation-telemetry.ts';

const profile = testProfile();
let sandbox: Awaited<ReturnType<typeof startRotationSandbox>>;

beforeAll(async () => {
  sandbox = await startRotationSandbox();
});
afterAll(async () => {
  await sandbox?.close();
});

/** A fresh profile (own secret, own clock) in the shared sandbox. CloudFront's stand-in is per test. */
async function freshProfile(name: string): Promise<CycleContext & { close(): Promise<void> }> {
  const clock = new HandClock();
  const own = await startRotationSandbox({ clock, secretsManager: sandbox.secretsManager });
  const store = await own.newStore(`signet/${name}`);
  return { profileName: name, profile, store, registry: own.registry, clock, close: () => own.close() };
}

describe('runRotation against the Secrets Manager and CloudFront stand-ins', () => {
  it('bootstraps, then rotates three times: introduce, activate after propagation, remove after the delay', async () => {
    const context = await freshProfile('media');
    const log = new RecordingLog();
    const metrics = new RecordingMetrics();
    const run = () => rotate(context, { log, metrics });
    try {
      // Bootstrap: the ring first (pending, no id), then the public key, the group, trustedAt.
      const boot = await run();
      expect(boot).toMatchObject({
        ok: true,
        action: { kind: 'bootstrap' },
        transitioned: true,
        activeKeyId: undefined,
      });
      expect(boot.commits.map((commit) => commit.step)).toEqual(['bootstrap', 'trust', 'trust']);
      const afterBoot = await observeRotation(context.store, context.registry);
      const first = afterBoot.ring!.keys[0]!;
      expect(first).toMatchObject({
        state: 'pending',
        algorithm: 'ecdsa-p256',
        hash: 'sha256',
        trustedAt: context.clock.now().toISOString(),
      });
      expect(afterBoot.group).toMatchObject({ name: 'signet-media', items: [first.id] });
      expect(afterBoot.ring!.keyGroupId).toBe(afterBoot.group!.id);
      expect(afterBoot.publicKeys).toEqual([
        expect.objectContaining({ id: first.id, name: publicKeyNameFor('media', first.fingerprint) }),
      ]);
      expect(boot.keyGroupId).toBe(afterBoot.group!.id);

      // Nothing to sign with until the key has propagated.
      context.clock.advance(TIMINGS.propagation - 1);
      expect(await run()).toMatchObject({
        action: { kind: 'none' },
        transitioned: false,
        activeKeyId: undefined,
      });
      context.clock.advance(1);
      expect(await run()).toMatchObject({
        action: { kind: 'activate' },
        activeKeyId: first.id,
        activeKeyAgeSeconds: 0,
      });

      const seen = [first.id];
      for (let rotation = 1; rotation <= 3; rotation++) {
        context.clock.advance(TIMINGS.rotateEvery);
        const introduced = await run();
        expect(introduced).toMatchObject({ ok: true, action: { kind: 'introduce' }, transitioned: true });
        expect(introduced.activeKeyId).toBe(seen.at(-1));
        context.clock.advance(TIMINGS.propagation);
        const activated = await run();
        expect(activated).toMatchObject({ ok: true, action: { kind: 'activate' } });
        expect(seen).not.toContain(activated.activeKeyId);
        seen.push(activated.activeKeyId!);
        const mid = await observeRotation(context.store, context.registry);
        expect(mid.ring!.keys.map((key) => [key.id, key.state])).toEqual([
          [seen.at(-2), 'retiring'],
          [seen.at(-1), 'active'],
        ]);
        expect(mid.group!.items).toEqual(seen.slice(-2));
        context.clock.advance(TIMINGS.removal - 1);
        expect((await run()).action.kind).toBe('none');
        context.clock.advance(1);
        expect(await run()).toMatchObject({ ok: true, action: { kind: 'remove', keyId: seen.at(-2) } });
        const after = await observeRotation(context.store, context.registry);
        expect(after.group!.items).toEqual([seen.at(-1)]);
        expect(after.publicKeys.map((key) => key.id)).toEqual([seen.at(-1)]);
        expect(after.ring!.history.at(-1)).toMatchObject({
          id: seen.at(-2),
          removedAt: context.clock.now().toISOString(),
        });
        await expectConverged(context);
      }
      expect(sandbox.maxGroupSize()).toBeLessThanOrEqual(5);

      // One log line and one metric per committed change; the active key's age as a gauge.
      const transitions = log.lines.filter((line) => line.message === 'rotation transition');
      const counted = metrics.of('RotationTransitions');
      expect(transitions.length).toBe(counted.length);
      expect(counted.map((point) => point.dimensions.action).filter((step) => step !== 'trust')).toEqual([
        'bootstrap',
        'activate',
        ...Array.from({ length: 3 }, () => ['introduce', 'activate', 'remove']).flat(),
      ]);
      expect(metrics.of('ActiveKeyAgeSeconds').at(-1)).toMatchObject({
        kind: 'gauge',
        dimensions: { profile: 'media' },
      });
      expect(metrics.of('RotationInvariantViolations')).toEqual([]);
      expect(log.text()).not.toContain('PRIVATE KEY');
    } finally {
      await context.close();
    }
  });

  it('adopts an existing key group on bootstrap and leaves its other keys alone', async () => {
    const context = await freshProfile('adopt');
    try {
      const foreign = await context.registry.createPublicKey({
        name: 'legacy-key',
        callerReference: 'legacy',
        encodedKey: (await import('node:crypto'))
          .generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
          .publicKey.export({ type: 'spki', format: 'pem' })
          .toString(),
        comment: 'not Signet',
      });
      const legacy = await context.registry.createKeyGroup('legacy-group', [foreign.id]);
      const result = await rotate(context, { adoptKeyGroupId: legacy.id });
      expect(result).toMatchObject({ ok: true, keyGroupId: legacy.id });
      const observed = await observeRotation(context.store, context.registry);
      expect(observed.group!.items).toEqual([foreign.id, observed.ring!.keys[0]!.id]);
    } finally {
      await context.close();
    }
  });

  it('two concurrent runs make at most one phase change, at every phase', async () => {
    const context = await freshProfile('race');
    try {
      const pair = async () => {
        const results = await Promise.all([rotate(context), rotate(context)]);
        expect(results.filter((result) => result.transitioned).length).toBe(1);
        return results;
      };
      await pair(); // bootstrap
      let ring = (await observeRotation(context.store, context.registry)).ring!;
      expect(ring.keys.map((key) => key.state)).toEqual(['pending']);
      context.clock.advance(TIMINGS.propagation);
      await pair(); // activate
      context.clock.advance(TIMINGS.rotateEvery);
      await pair(); // introduce
      ring = (await observeRotation(context.store, context.registry)).ring!;
      expect(ring.keys.map((key) => key.state)).toEqual(['active', 'pending']);
      context.clock.advance(TIMINGS.propagation);
      await pair(); // activate
      context.clock.advance(TIMINGS.removal);
      await pair(); // remove
      ring = (await observeRotation(context.store, context.registry)).ring!;
      expect(ring.keys.map((key) => key.state)).toEqual(['active']);
      await expectConverged(context);
    } finally {
      await context.close();
    }
  });

  it('fails the run that first sees a broken invariant, counts it once, and throws RotationInvariantError on request', async () => {
    const context = await freshProfile('broken');
    try {
      await rotate(context);
      context.clock.advance(TIMINGS.propagation);
      await rotate(context);
      context.clock.advance(TIMINGS.rotateEvery);
      await rotate(context);
      context.clock.advance(TIMINGS.propagation);
      await rotate(context);
      // Someone takes the retiring key out of the group early: URLs it signed now fail.
      const { ring, group } = await observeRotation(context.store, context.registry);
      const retiring = ring!.keys.find((key) => key.state === 'retiring')!;
      await context.registry.updateKeyGroup(
        group!,
        group!.items.filter((id) => id !== retiring.id),
      );
      const log = new RecordingLog();
      const metrics = new RecordingMetrics();
      const result = await rotate(context, { log, metrics });
      expect(result.ok).toBe(false);
      expect(result.violations).toEqual([
        expect.objectContaining({ code: 'RETIRING_KEY_LEFT_GROUP', severity: 'error', keyId: retiring.id }),
      ]);
      expect(log.lines).toContainEqual(
        expect.objectContaining({ level: 'error', message: 'rotation invariant violated' }),
      );
      expect(metrics.of('RotationInvariantViolations')).toEqual([
        expect.objectContaining({
          value: 1,
          dimensions: { profile: 'broken', code: 'RETIRING_KEY_LEFT_GROUP' },
        }),
      ]);
      // The alarm's metric: errors only, one dimension, counted by the run that first saw it.
      expect(metrics.of('RotationInvariantErrors')).toEqual([
        expect.objectContaining({ value: 1, dimensions: { profile: 'broken' } }),
      ]);
      const recorded = (await observeRotation(context.store, context.registry)).ring!;
      expect(recorded.incidents).toEqual([
        {
          code: 'RETIRING_KEY_LEFT_GROUP',
          keyId: retiring.id,
          firstSeenAt: context.clock.now().toISOString(),
        },
      ]);

      // The next run still sees and logs it, but neither fails nor counts it again.
      const laterMetrics = new RecordingMetrics();
      const later = await rotate(context, { metrics: laterMetrics, throwOnViolation: true });
      expect(later.ok).toBe(true);
      expect(later.violations).toEqual([expect.objectContaining({ code: 'RETIRING_KEY_LEFT_GROUP' })]);
      expect(later.newViolations).toEqual([]);
      expect(laterMetrics.of('RotationInvariantErrors')).toEqual([]);

      // Once fixed, the incident is dropped; if it happens again it fails (and throws) again.
      const broken = (await observeRotation(context.store, context.registry)).group!;
      await context.registry.updateKeyGroup(broken, [...broken.items, retiring.id!]);
      expect((await rotate(context)).violations).toEqual([]);
      expect((await observeRotation(context.store, context.registry)).ring!.incidents).toEqual([]);
      const again = (await observeRotation(context.store, context.registry)).group!;
      await context.registry.updateKeyGroup(
        again,
        again.items.filter((id) => id !== retiring.id),
      );
      await expect(rotate(context, { throwOnViolation: true })).rejects.toMatchObject({
        code: 'ERR_ROTATION_INVARIANT',
        violations: [expect.objectContaining({ code: 'RETIRING_KEY_LEFT_GROUP' })],
      });
    } finally {
      await context.close();
    }
  });

  it('refuses a lowered rotation.propagation without a canary: keeps the old wait, fails the run, names the field', async () => {
    const context = await freshProfile('hasty-config');
    try {
      await rotate(context);
      context.clock.advance(TIMINGS.propagation);
      await rotate(context); // activates after 120 s: recorded
      const lowered = testProfile({
        rotation: { rotateEvery: TIMINGS.rotateEvery, propagation: 30, clockSkew: 30 },
      });
      const log = new RecordingLog();
      const metrics = new RecordingMetrics();
      context.clock.advance(TIMINGS.rotateEvery);
      const introduced = await rotate(context, { profile: lowered, log, metrics });
      expect(introduced).toMatchObject({
        ok: false,
        action: { kind: 'introduce' },
        refused: [
          {
            field: 'rotation.propagation',
            message: expect.stringContaining('Activations keep waiting 120s'),
          },
        ],
      });
      expect(log.lines).toContainEqual(
        expect.objectContaining({ level: 'error', message: 'rotation config change refused' }),
      );
      expect(metrics.of('RotationConfigRefused')).toEqual([
        expect.objectContaining({ value: 1, dimensions: { profile: 'hasty-config' } }),
      ]);
      context.clock.advance(30);
      expect((await rotate(context, { profile: lowered })).action.kind).toBe('none');
      context.clock.advance(TIMINGS.propagation - 30);
      expect((await rotate(context, { profile: lowered })).action.kind).toBe('activate');
      // Set back, the run is fine again.
      expect((await rotate(context)).refused).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('keeps what a later version wrote into the ring through its own writes, and upgrades a version-1 ring', async () => {
    const context = await freshProfile('compat');
    try {
      await rotate(context);
      context.clock.advance(TIMINGS.propagation);
      await rotate(context);
      // What the secret holds as a later Signet (same schema number, more fields) or 0.1 would write it.
      const raw = async () =>
        JSON.parse(
          (
            await sandbox.clients.secretsManager.send(
              new GetSecretValueCommand({ SecretId: 'signet/compat' }),
            )
          ).SecretString!,
        );
      const put = (document: unknown) =>
        sandbox.clients.secretsManager.send(
          new PutSecretValueCommand({ SecretId: 'signet/compat', SecretString: JSON.stringify(document) }),
        );
      const current = await raw();
      await put({
        ...current,
        retention: { historyDays: 400 },
        keys: current.keys.map((key: Record<string, unknown>) => ({
          ...key,
          futureKeyRef: 'ref-x',
        })),
      });
      context.clock.advance(TIMINGS.rotateEvery);
      expect((await rotate(context)).action.kind).toBe('introduce');
      const after = await raw();
      expect(after.retention).toEqual({ historyDays: 400 });
      expect(after.keys[0]).toMatchObject({ state: 'active', futureKeyRef: 'ref-x' });

      // A ring as 0.1 wrote it: schema 1, no bounds. It loads, and the next run records the bounds.
      const legacy = await raw();
      await put({
        ...legacy,
        schema: 'signet.keyring/1',
        keys: legacy.keys.map(({ bounds: _b, futureKeyRef: _k, ...key }: Record<string, unknown>) => key),
      });
      expect((await context.store.load())!.ring.schema).toBe('signet.keyring/2');
      const upgraded = await rotate(context);
      expect(upgraded.commits.map((commit) => commit.step)).toContain('record-bounds');
      const recorded = await raw();
      expect(recorded.schema).toBe('signet.keyring/2');
      for (const key of recorded.keys)
        expect(key.bounds).toMatchObject({ ttlMax: 300, maxStale: 60, clockSkew: 30 });
    } finally {
      await context.close();
    }
  });

  it('finishes a removal a killed run left half-done even after a longer config arrived, with no false alarm', async () => {
    // Found by the property test: the run that removed K1 died right after UpdateKeyGroup; then
    // ttl.max was raised. K1 stopped signing long before, so nothing it signed is valid: the next
    // run must finish the removal, not call K1's absence from the group a broken invariant.
    const context = await freshProfile('half-removed');
    try {
      await rotate(context);
      context.clock.advance(TIMINGS.propagation);
      await rotate(context); // K1 active
      await rotate(context, { forceIntroduce: true });
      context.clock.advance(TIMINGS.propagation);
      await rotate(context); // K2 active, K1 retiring
      const k1 = (await observeRotation(context.store, context.registry)).ring!.keys.find(
        (k) => k.state === 'retiring',
      )!;
      context.clock.advance(TIMINGS.removal);
      const dying = new Proxy(context.registry, {
        get(target, property, receiver) {
          const value = Reflect.get(target, property, receiver);
          if (property !== 'updateKeyGroup') return typeof value === 'function' ? value.bind(target) : value;
          return async (...args: Parameters<typeof target.updateKeyGroup>) => {
            await target.updateKeyGroup(...args);
            throw new Error('killed right after UpdateKeyGroup');
          };
        },
      });
      await expect(rotate(context, { registry: dying })).rejects.toThrow('killed right after UpdateKeyGroup');
      expect((await observeRotation(context.store, context.registry)).group!.items).not.toContain(k1.id);

      context.clock.advance(60);
      const longer = testProfile({ ttl: { default: 60, max: 3600 } });
      const next = await rotate(context, { profile: longer });
      expect(next).toMatchObject({ ok: true, newViolations: [] });
      expect(next.violations).toEqual([]);
      const after = await observeRotation(context.store, context.registry);
      expect(after.ring!.keys.map((k) => k.id)).not.toContain(k1.id);
      // Judged by what was in force while it signed: retired + 60 + 300 + 30.
      expect(after.ring!.history).toContainEqual(
        expect.objectContaining({
          id: k1.id,
          validUntil: new Date(Date.parse(k1.retiredAt!) + 390_000).toISOString(),
        }),
      );
      expect(after.publicKeys.map((k) => k.id)).not.toContain(k1.id);
    } finally {
      await context.close();
    }
  });

  it('reports a full key group as blocked, never forcing a key out', async () => {
    const context = await freshProfile('full');
    try {
      await rotate(context);
      context.clock.advance(TIMINGS.propagation);
      await rotate(context);
      const { group } = await observeRotation(context.store, context.registry);
      const { generateKeyPairSync } = await import('node:crypto');
      const fillers = [];
      for (let index = 0; index < 4; index++) {
        const key = await context.registry.createPublicKey({
          name: `filler-${index}`,
          callerReference: `filler-${index}`,
          encodedKey: generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
            .publicKey.export({ type: 'spki', format: 'pem' })
            .toString(),
          comment: 'filler',
        });
        fillers.push(key.id);
      }
      await context.registry.updateKeyGroup(group!, [...group!.items, ...fillers]);
      context.clock.advance(TIMINGS.rotateEvery);
      const metrics = new RecordingMetrics();
      const result = await rotate(context, { metrics });
      expect(result).toMatchObject({
        ok: false,
        transitioned: false,
        action: { kind: 'blocked', reason: 'group-full' },
      });
      expect(metrics.of('RotationBlocked')).toEqual([
        expect.objectContaining({ dimensions: { profile: 'full', reason: 'group-full' } }),
      ]);
      expect((await observeRotation(context.store, context.registry)).group!.items).toHaveLength(5);
    } finally {
      await context.close();
    }
  });

  it('generates keys with the profile algorithm (RSA-2048 when pinned)', async () => {
    const context = await freshProfile('rsa');
    try {
      const rsa = testProfile({ algorithm: 'rsa-2048', hash: 'sha256' });
      const result = await runRotation({ ...context, profile: rsa, now: context.clock.now });
      expect(result.ok).toBe(true);
      const { ring } = await observeRotation(context.store, context.registry);
      expect(ring!.keys[0]).toMatchObject({ algorithm: 'rsa-2048', hash: 'sha256' });
    } finally {
      await context.close();
    }
  });
});
