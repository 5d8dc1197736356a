import { generateKeyPairSync } from 'node:crypto';
import {
  CreateDistributionCommand,
  type DistributionConfig,
  GetDistributionConfigCommand,
  UpdateDistributionCommand,
} from '@aws-sdk/client-cloudfront';
import { afterEach, describe, expect, it } from 'vitest';
import { KeyGroupMoveRefusedError, moveKeyGroup } from '../../lib/rotation/move-key-group.ts';
import { revokeKey } from '../../lib/rotation/revoke.ts';
import { runRotation } from '../../lib/rotation/rotator.ts';
import { parseSigningKey, signUrl } from '../../lib/signing/index.ts';
import { startEdgeWithFile } from '../support/edge.ts';
import {
  HandClock,
  type RotationSandbox,
  startRotationSandbox,
  TIMINGS,
  testProfile,
} from '../support/rotation-sandbox.ts';

// Moving a ring to another key group (docs/operators.md, "Changing the key group"): made only when
// every behaviour that trusts the old group trusts the new one too, and then no URL is refused at the
// edge, before or after the move, through a whole rotation in the new group, and after the old group
// is dropped from the distribution.

const EDGE_DELAY_S = 60;
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

const profile = testProfile({ keyRing: { secretId: 'signet/move' } });

async function setUp() {
  const clock = new HandClock();
  const sandbox: RotationSandbox = await startRotationSandbox({ clock });
  closers.push(() => sandbox.close());
  const edge = await startEdgeWithFile(sandbox, EDGE_DELAY_S, 'moved content\n');
  closers.push(() => edge.close());
  const store = await sandbox.newStore('signet/move');
  const run = () =>
    runRotation({ profileName: 'media', profile, store, registry: sandbox.registry, now: clock.now });
  const move = (to: string) =>
    moveKeyGroup({
      profileName: 'media',
      profile,
      store,
      registry: sandbox.registry,
      distributions: sandbox.registry,
      to,
      now: clock.now,
    });
  return { clock, sandbox, edge, store, run, move };
}

/** A key group made by hand for the move: CloudFront wants at least one key in a group. */
async function handMadeGroup(sandbox: RotationSandbox): Promise<{ id: string; keyId: string }> {
  const encodedKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
    .publicKey.export({ type: 'spki', format: 'pem' })
    .toString();
  const key = await sandbox.registry.createPublicKey({
    name: 'by-hand',
    callerReference: 'by-hand',
    encodedKey,
    comment: 'made by hand',
  });
  const group = await sandbox.registry.createKeyGroup('media-next', [key.id]);
  return { id: group.id, keyId: key.id };
}

function distribution(groups: readonly string[]): DistributionConfig {
  return {
    CallerReference: 'move-key-group',
    Comment: 'move',
    Enabled: true,
    Origins: { Quantity: 1, Items: [{ Id: 'origin', DomainName: 'origin.example' }] },
    DefaultCacheBehavior: {
      TargetOriginId: 'origin',
      ViewerProtocolPolicy: 'allow-all',
      TrustedKeyGroups: { Enabled: true, Quantity: groups.length, Items: [...groups] },
    },
  };
}

async function trust(sandbox: RotationSandbox, id: string | undefined, groups: readonly string[]) {
  const cloudfront = sandbox.clients.cloudfront;
  if (id === undefined) {
    const created = await cloudfront.send(
      new CreateDistributionCommand({ DistributionConfig: distribution(groups) }),
    );
    return created.Distribution!.Id!;
  }
  const current = await cloudfront.send(new GetDistributionConfigCommand({ Id: id }));
  await cloudfront.send(
    new UpdateDistributionCommand({
      Id: id,
      IfMatch: current.ETag,
      DistributionConfig: distribution(groups),
    }),
  );
  return id;
}

describe('moveKeyGroup', () => {
  it('refuses while a behaviour trusts only the old group, then moves with no link broken', async () => {
    const { clock, sandbox, edge, store, run, move } = await setUp();
    await run();
    clock.advance(TIMINGS.propagation);
    expect((await run()).action.kind).toBe('activate');
    const g1 = (await store.load())!.ring.keyGroupId!;
    const distributionId = await trust(sandbox, undefined, [g1]);
    clock.advance(EDGE_DELAY_S);
    const { id: g2, keyId: handKey } = await handMadeGroup(sandbox);

    const signed: string[] = [];
    const sign = async () => {
      const active = (await store.load())!.ring.keys.find((key) => key.state === 'active')!;
      const now = Math.floor(clock.millis() / 1000);
      const { url } = signUrl({
        url: `${edge.url}/private/file.txt`,
        key: parseSigningKey(active.privateKey!),
        keyPairId: active.id!,
        hash: active.hash,
        expires: now + 300,
        now,
      });
      signed.push(url);
    };
    const live = async () => {
      const now = Math.floor(clock.millis() / 1000);
      const valid = signed.filter((url) => Number(new URL(url).searchParams.get('Expires')) > now);
      return Promise.all(valid.map(async (url) => (await fetch(url)).status));
    };
    await sign();
    expect(await live()).toEqual([200]);

    // The distribution trusts only g1: a key the rotator later adds to g2 only would be refused there.
    const before = await store.load();
    const refused = await move(g2).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(KeyGroupMoveRefusedError);
    expect((refused as Error).message).toContain(
      `cache behaviour(s) ${distributionId} * trust ${g1} but not ${g2}`,
    );
    expect((refused as Error).message).toContain(
      `make every cache behaviour that trusts ${g1} trust ${g2} as well`,
    );
    expect(await store.load()).toEqual(before);
    expect((await sandbox.registry.getKeyGroup(g2)).items).toEqual([handKey]);

    // A missing group is refused too.
    await expect(move('no-such-group')).rejects.toThrow('key group no-such-group does not exist.');

    // Trusting both groups, the move is made: g2 gets the ring's keys, g1 keeps them.
    await trust(sandbox, distributionId, [g1, g2]);
    const activeId = (await store.load())!.ring.keys.find((key) => key.state === 'active')!.id!;
    expect(await move(g2)).toEqual({
      moved: true,
      from: g1,
      to: g2,
      addedKeyIds: [activeId],
      keptInOld: [activeId],
    });
    expect((await store.load())!.ring.keyGroupId).toBe(g2);
    expect((await sandbox.registry.getKeyGroup(g2)).items).toEqual([handKey, activeId]);
    expect((await sandbox.registry.getKeyGroup(g1)).items).toEqual([activeId]);
    expect(await move(g2)).toEqual({ moved: false });
    // Before the edge has learnt g2's keys, the old group still vouches for them.
    expect(await live()).toEqual([200]);

    // A whole rotation in g2: every URL stays valid, and the old key leaves g1 as well when it goes.
    const kinds: string[] = [];
    clock.advance(TIMINGS.rotateEvery);
    for (let i = 0; i < 12 && !kinds.includes('remove'); i++) {
      const result = await run();
      expect(result.newViolations).toEqual([]);
      expect(result.keyGroupId).toBe(g2);
      kinds.push(result.action.kind);
      await sign();
      expect((await live()).every((status) => status === 200)).toBe(true);
      clock.advance(60);
    }
    expect(kinds).toEqual(expect.arrayContaining(['introduce', 'activate', 'remove']));
    // CloudFront keeps no empty key group: g1 keeps its last key, which the ring no longer signs with.
    expect((await sandbox.registry.getKeyGroup(g1)).items).toEqual([activeId]);
    expect((await store.load())!.ring.keys.map((key) => key.id)).not.toContain(activeId);

    // The old group dropped from the distribution: the new active key's URLs are still accepted.
    await trust(sandbox, distributionId, [g2]);
    clock.advance(EDGE_DELAY_S);
    signed.splice(0);
    await sign();
    expect(await live()).toEqual([200]);
    const after = await run();
    expect(after.violations.filter((violation) => violation.severity === 'error')).toEqual([]);
  }, 60_000);

  it('a revoke after a move takes the key out of the old group too, and refuses to leave it there as its last key', async () => {
    const { clock, sandbox, store, run, move } = await setUp();
    await run();
    clock.advance(TIMINGS.propagation);
    await run();
    const g1 = (await store.load())!.ring.keyGroupId!;
    const { id: g2, keyId: handKey } = await handMadeGroup(sandbox);
    await trust(sandbox, undefined, [g1, g2]);
    expect(await move(g2)).toMatchObject({ moved: true });
    const activeId = (await store.load())!.ring.keys.find((key) => key.state === 'active')!.id!;
    const revoke = () =>
      revokeKey({
        profileName: 'media',
        profile,
        store,
        registry: sandbox.registry,
        now: clock.now,
        keyId: activeId,
      });

    await expect(revoke()).rejects.toThrow(
      `Public key ${activeId} is the last key of key group ${g1}, and CloudFront keeps no empty key group`,
    );
    const old = await sandbox.registry.getKeyGroup(g1);
    await sandbox.registry.updateKeyGroup(old, [...old.items, handKey]);
    await revoke();
    expect((await sandbox.registry.getKeyGroup(g1)).items).toEqual([handKey]);
    expect((await sandbox.registry.getKeyGroup(g2)).items).not.toContain(activeId);
    expect((await sandbox.registry.listPublicKeys()).map((key) => key.id)).not.toContain(activeId);
  });

  it('refuses without a way to list distributions, and leaves a ring with no group to the bootstrap', async () => {
    const { clock, sandbox, store, run } = await setUp();
    const { id: g2 } = await handMadeGroup(sandbox);
    const options = {
      profileName: 'media',
      profile,
      store,
      registry: sandbox.registry,
      distributions: undefined,
      to: g2,
      now: clock.now,
    };
    expect(await moveKeyGroup(options)).toEqual({ moved: false });
    await run();
    await expect(moveKeyGroup(options)).rejects.toThrow(
      'nothing here can list the distributions that trust it.',
    );
  });
});
