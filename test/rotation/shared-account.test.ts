import { generateKeyPairSync } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Profile } from '../../lib/config/schema.ts';
import { diagnose } from '../../lib/doctor/diagnose.ts';
import type { DoctorSnapshot } from '../../lib/doctor/snapshot.ts';
import type { KeyRingStore } from '../../lib/keys/store.ts';
import { publicKeyCommentFor, publicKeyNameFor } from '../../lib/rotation/names.ts';
import type { KeyGroupRegistry, RegisteredKeyGroup } from '../../lib/rotation/registry.ts';
import { type RotationResult, runRotation } from '../../lib/rotation/rotator.ts';
import { tearDownProfile } from '../../lib/rotation/teardown.ts';
import { parseVerifyingKey } from '../../lib/signing/index.ts';
import {
  observeRotation,
  type RotationSandbox,
  startRotationSandbox,
  TIMINGS,
  testProfile,
} from '../support/rotation-sandbox.ts';

// Two stages (dev and prod) use the same profile name `media` in one CloudFront account: key and
// key group names carry only the profile (docs/design.md, "Contracts"), so ownership must come from elsewhere.

const DEV_SECRET = 'signet/dev/media/key-ring';
const PROD_SECRET = 'signet/prod/media/key-ring';
const NOT_OURS =
  "a key group named signet-media already exists and holds none of this ring's keys: another stage or stack " +
  'uses this name; set profiles.media.keyGroupId to adopt it deliberately, or use a different profile name or stage';

/** A registry that remembers which keys it created and refuses, as a test failure, to touch any other. */
class OwnershipGuard {
  readonly created = new Set<string>();
  readonly violations: string[] = [];
  readonly deleted: string[] = [];
  constructor(
    readonly label: string,
    readonly others: () => ReadonlySet<string>,
  ) {}

  wrap(registry: KeyGroupRegistry): KeyGroupRegistry {
    const guard = this;
    return new Proxy(registry, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver);
        if (typeof value !== 'function') return value;
        const call = (...args: unknown[]) =>
          (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        if (property === 'createPublicKey') {
          return async (...args: unknown[]) => {
            const key = (await call(...args)) as { id: string };
            guard.created.add(key.id);
            return key;
          };
        }
        if (property === 'deletePublicKey') {
          return async (id: string) => {
            if (guard.others().has(id)) guard.violations.push(`${guard.label} deleted ${id}`);
            guard.deleted.push(id);
            return call(id);
          };
        }
        if (property === 'updateKeyGroup') {
          return async (group: RegisteredKeyGroup, items: readonly string[]) => {
            for (const id of group.items) {
              if (!items.includes(id) && guard.others().has(id))
                guard.violations.push(`${guard.label} took ${id} out of ${group.id}`);
            }
            return call(group, items);
          };
        }
        return call;
      },
    });
  }
}

interface Stage {
  readonly store: KeyRingStore;
  readonly profile: Profile;
  readonly guard: OwnershipGuard;
  readonly registry: KeyGroupRegistry;
}

let sandbox: RotationSandbox;
let dev: Stage;
let prod: Stage;

async function stage(
  secretId: string,
  label: string,
  others: () => ReadonlySet<string>,
  overrides: Record<string, unknown> = {},
): Promise<Stage> {
  const guard = new OwnershipGuard(label, others);
  return {
    store: await sandbox.newStore(secretId),
    profile: testProfile({ keyRing: { secretId }, ...overrides }),
    guard,
    registry: guard.wrap(sandbox.registry),
  };
}

function run(s: Stage): Promise<RotationResult> {
  return runRotation({
    profileName: 'media',
    profile: s.profile,
    store: s.store,
    registry: s.registry,
    now: sandbox.clock.now,
  });
}

/** Whatever CloudFront and the ring secret hold for one stage, for before/after comparisons. */
async function snapshotOf(s: Stage) {
  const observed = await observeRotation(s.store, sandbox.registry);
  return { ring: observed.ring, version: observed.version, group: observed.group };
}

beforeEach(async () => {
  sandbox = await startRotationSandbox();
  dev = await stage(DEV_SECRET, 'dev', () => prod.guard.created);
  prod = await stage(PROD_SECRET, 'prod', () => dev.guard.created);
});
afterEach(async () => {
  await sandbox?.close();
});

describe('two stages with the same profile name in one CloudFront account', () => {
  it("refuses the second stage's bootstrap into the first's key group, touching nothing of the first", async () => {
    await run(dev);
    sandbox.clock.advance(TIMINGS.propagation);
    expect((await run(dev)).action.kind).toBe('activate');
    const before = await snapshotOf(dev);
    const keysBefore = await sandbox.registry.listPublicKeys();

    for (let i = 0; i < 3; i++) {
      const result = await run(prod);
      expect(result.ok).toBe(false);
      expect(result.action).toMatchObject({ kind: 'blocked', reason: 'key-group-not-ours' });
      expect(result.action.kind === 'blocked' && result.action.message).toContain(NOT_OURS);
      expect(result.commits).toEqual([]);
      sandbox.clock.advance(TIMINGS.removal);
    }

    expect(await prod.store.load()).toBeUndefined();
    expect(prod.guard.created.size).toBe(0);
    expect(await sandbox.registry.listPublicKeys()).toEqual(keysBefore);
    expect(await snapshotOf(dev)).toEqual(before);
    expect((await run(dev)).ok).toBe(true);
    expect(dev.guard.violations).toEqual([]);
    expect(prod.guard.violations).toEqual([]);
  });

  it("with a deliberately shared key group, neither rotator ever touches the other stage's keys", async () => {
    await run(dev);
    const groupId = (await dev.store.load())!.ring.keyGroupId!;
    prod = await stage(`${PROD_SECRET}-shared`, 'prod', () => dev.guard.created, { keyGroupId: groupId });

    const phases = { dev: new Set<string>(), prod: new Set<string>() };
    // Three full rotation cycles of each stage, interleaved, with prod half a phase behind.
    for (let step = 0; step < 90; step++) {
      for (const [name, s] of [
        ['dev', dev],
        ['prod', prod],
      ] as const) {
        const result = await run(s);
        expect(result.violations.filter((violation) => violation.severity === 'error')).toEqual([]);
        expect(result.action.kind).not.toBe('blocked');
        for (const commit of result.commits) phases[name].add(commit.step);
        expect(result.keyGroupId).toBe(groupId);
      }
      sandbox.clock.advance(130);
    }
    for (const name of ['dev', 'prod'] as const) {
      expect([...phases[name]]).toEqual(expect.arrayContaining(['activate', 'introduce', 'remove']));
    }
    expect(phases.prod.has('bootstrap')).toBe(true);
    expect(dev.guard.violations).toEqual([]);
    expect(prod.guard.violations).toEqual([]);
    // Each removed keys of its own over the cycles, and both still sign with a key the group holds.
    expect(dev.guard.deleted.length).toBeGreaterThanOrEqual(2);
    expect(prod.guard.deleted.length).toBeGreaterThanOrEqual(2);
    const group = await sandbox.registry.getKeyGroup(groupId);
    for (const s of [dev, prod]) {
      const active = (await s.store.load())!.ring.keys.find((key) => key.state === 'active')!;
      expect(group.items).toContain(active.id);
    }
    expect(sandbox.maxGroupSize()).toBeLessThanOrEqual(5);

    // doctor, from prod's side: dev's keys are reported as another ring's, with no remedy that removes them.
    const prodRing = (await prod.store.load())!.ring;
    const devIds = (await dev.store.load())!.ring.keys.map((key) => key.id!);
    const snapshot: DoctorSnapshot = {
      profiles: [
        {
          name: 'media',
          profile: prod.profile,
          ring: { status: 'ok', ring: prodRing },
          keyGroup: { status: 'ok', group },
          distribution: { status: 'unset' },
        },
      ],
      publicKeys: await sandbox.registry.listPublicKeys(),
      keyGroups: await sandbox.registry.listKeyGroups(),
      configuredProfiles: 1,
    };
    const findings = diagnose(snapshot, sandbox.clock.now());
    const foreign = findings.filter((finding) => finding.code === 'FOREIGN_PUBLIC_KEY');
    expect(foreign.map((finding) => finding.keyId).sort()).toEqual([...devIds].sort());
    expect(foreign.every((finding) => finding.severity === 'info')).toBe(true);
    expect(findings.filter((finding) => finding.code === 'ORPHAN_PUBLIC_KEY')).toEqual([]);
    for (const finding of findings) {
      for (const id of devIds) {
        if (finding.remedy.includes(id))
          expect(finding.remedy).not.toMatch(/revoke|delete|update-key-group|Take/);
      }
    }

    // Tearing dev down leaves the shared group and prod's keys in place.
    const prodKeys = prodRing.keys.map((key) => key.id!);
    const teardown = await tearDownProfile({
      profileName: 'media',
      profile: dev.profile,
      store: dev.store,
      registry: dev.registry,
      now: sandbox.clock.now,
    });
    expect(teardown.keyGroup).toBe('adopted-retained');
    expect([...teardown.deletedKeyIds].sort()).toEqual([...devIds].sort());
    expect([...(await sandbox.registry.getKeyGroup(groupId)).items].sort()).toEqual([...prodKeys].sort());
    expect(dev.guard.violations).toEqual([]);
  }, 60_000);

  it('never touches a Signet-named key that another key group holds, nor one in no group that it cannot tie to itself', async () => {
    await run(dev);
    sandbox.clock.advance(TIMINGS.propagation);
    await run(dev);
    const pem = () =>
      generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
        .publicKey.export({ type: 'spki', format: 'pem' })
        .toString();
    const create = (encodedKey: string, comment: string) =>
      sandbox.registry.createPublicKey({
        name: publicKeyNameFor('media', parseVerifyingKey(encodedKey).fingerprint),
        callerReference: parseVerifyingKey(encodedKey).fingerprint,
        encodedKey,
        comment,
      });
    // Another stage's key in that stage's group (say, a group built by hand), a prod leftover in no
    // group, and a key made before comments named rings, in no group.
    const inOtherGroup = await create(pem(), publicKeyCommentFor(PROD_SECRET));
    await sandbox.registry.createKeyGroup('prod-media-by-hand', [inOtherGroup.id]);
    const prodLeftover = await create(pem(), publicKeyCommentFor(PROD_SECRET));
    const legacy = await create(pem(), 'Signet signing key of profile media');
    // And one of dev's own, lost to a ring rollback: its comment ties it to dev, so dev deletes it.
    const ownLeftover = await create(pem(), publicKeyCommentFor(DEV_SECRET));

    for (let i = 0; i < 4; i++) {
      const result = await run(dev);
      expect(result.violations.filter((violation) => violation.severity === 'error')).toEqual([]);
      sandbox.clock.advance(TIMINGS.removal);
    }
    const left = (await sandbox.registry.listPublicKeys()).map((key) => key.id);
    expect(left).toEqual(expect.arrayContaining([inOtherGroup.id, prodLeftover.id, legacy.id]));
    expect(left).not.toContain(ownLeftover.id);
    expect(dev.guard.deleted).toEqual([ownLeftover.id]);
    const warnings = (await run(dev)).violations.filter(
      (violation) => violation.code === 'ORPHAN_PUBLIC_KEY',
    );
    expect(warnings.map((violation) => violation.keyId)).toEqual([legacy.id]);
    expect(warnings[0]!.message).toContain('left alone');
  });

  it('still adopts the group its own crashed bootstrap created, found by name', async () => {
    // A bootstrap that created the public key and the group, then died before recording the group id.
    const crashing: KeyGroupRegistry = new Proxy(dev.registry, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver);
        if (property !== 'createKeyGroup') return typeof value === 'function' ? value.bind(target) : value;
        return async (...args: [string, readonly string[]]) => {
          await (value as KeyGroupRegistry['createKeyGroup']).apply(target, args);
          throw new Error('killed after CreateKeyGroup');
        };
      },
    });
    await expect(
      runRotation({
        profileName: 'media',
        profile: dev.profile,
        store: dev.store,
        registry: crashing,
        now: sandbox.clock.now,
      }),
    ).rejects.toThrow('killed after CreateKeyGroup');
    expect((await dev.store.load())!.ring.keyGroupId).toBeUndefined();
    const result = await run(dev);
    expect(result).toMatchObject({ ok: true, action: { kind: 'adopt-orphan' } });
    const group = await sandbox.registry.findKeyGroupByName('signet-media');
    expect(result.keyGroupId).toBe(group!.id);
    // And prod, arriving later, is still refused.
    expect((await run(prod)).action).toMatchObject({ kind: 'blocked', reason: 'key-group-not-ours' });
  });
});
