import { generateKeyPairSync } from 'node:crypto';
import {
  CloudFrontClient,
  CloudFrontServiceException,
  CreateKeyGroupCommand,
  CreatePublicKeyCommand,
  DeletePublicKeyCommand,
  GetKeyGroupCommand,
  GetPublicKeyCommand,
  ListKeyGroupsCommand,
  ListPublicKeysCommand,
  PreconditionFailed,
  UpdateKeyGroupCommand,
} from '@aws-sdk/client-cloudfront';
import { afterEach, describe, expect, it } from 'vitest';
import { type RunningCloudFront, startCloudFront } from '../../../infra/local/cloudfront-api.ts';

const running: RunningCloudFront[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((cloudFront) => cloudFront.close()));
});

async function start() {
  const cloudFront = await startCloudFront({ port: 0 });
  running.push(cloudFront);
  const client = new CloudFrontClient({
    endpoint: cloudFront.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  return { cloudFront, client };
}

function ecPem(): string {
  return generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey.export({
    type: 'spki',
    format: 'pem',
  }) as string;
}

/** A small seeded generator, so a failing load run can be replayed. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('CloudFront stand-in under concurrency', () => {
  it('lets exactly one of 25 concurrent UpdateKeyGroup calls with the same ETag win', async () => {
    const { client, cloudFront } = await start();
    const keys: string[] = [];
    for (let i = 0; i < 3; i += 1) {
      const created = await client.send(
        new CreatePublicKeyCommand({
          PublicKeyConfig: { CallerReference: `r${i}`, Name: `k${i}`, EncodedKey: ecPem() },
        }),
      );
      keys.push(created.PublicKey?.Id ?? '');
    }
    const group = await client.send(
      new CreateKeyGroupCommand({ KeyGroupConfig: { Name: 'raced', Items: [keys[0] ?? ''] } }),
    );
    const etag = group.ETag;
    const results = await Promise.allSettled(
      Array.from({ length: 25 }, (_, i) =>
        client.send(
          new UpdateKeyGroupCommand({
            Id: group.KeyGroup?.Id ?? '',
            IfMatch: etag,
            KeyGroupConfig: { Name: 'raced', Items: [keys[0] ?? '', keys[1 + (i % 2)] ?? ''] },
          }),
        ),
      ),
    );
    const winners = results.filter((result) => result.status === 'fulfilled');
    const losers = results.filter((result) => result.status === 'rejected');
    expect(winners).toHaveLength(1);
    expect(losers).toHaveLength(24);
    for (const loser of losers) expect(loser.reason).toBeInstanceOf(PreconditionFailed);
    const current = await client.send(new GetKeyGroupCommand({ Id: group.KeyGroup?.Id ?? '' }));
    expect(current.ETag).toBe(winners[0]?.value.ETag);
    expect(cloudFront.standIn.calls.UpdateKeyGroup).toBe(25);
  });

  it('stays consistent through about 2,000 mixed calls from 16 concurrent clients', async () => {
    const { client, cloudFront } = await start();
    const random = seeded(20260304);
    const pems = Array.from({ length: 8 }, () => ecPem());
    const group = await client.send(
      new CreateKeyGroupCommand({
        KeyGroupConfig: {
          Name: 'load',
          Items: [
            (
              await client.send(
                new CreatePublicKeyCommand({
                  PublicKeyConfig: { CallerReference: 'seed', Name: 'seed', EncodedKey: ecPem() },
                }),
              )
            ).PublicKey?.Id ?? '',
          ],
        },
      }),
    );
    const groupId = group.KeyGroup?.Id ?? '';
    // Every ETag a successful write handed out, per resource: each write must get a new one.
    const etags = new Map<string, string[]>();
    const record = (id: string, etag: string | undefined) =>
      etags.set(id, [...(etags.get(id) ?? []), etag ?? '']);
    record(groupId, group.ETag);
    // The codes a correct stand-in may answer under this mix; anything else fails the test.
    const expected = new Set([
      'TooManyPublicKeys',
      'TooManyPublicKeysInKeyGroup',
      'PreconditionFailed',
      'PublicKeyInUse',
      'NoSuchPublicKey',
      'InvalidArgument',
    ]);
    const unexpected: string[] = [];
    const refusals = new Map<string, number>();
    let names = 0;

    const operations: (() => Promise<void>)[] = [
      async () => {
        names += 1;
        const created = await client.send(
          new CreatePublicKeyCommand({
            PublicKeyConfig: {
              CallerReference: `load-${names}`,
              Name: `load-${names}`,
              EncodedKey: pems[names % pems.length] ?? '',
            },
          }),
        );
        record(created.PublicKey?.Id ?? '', created.ETag);
      },
      async () => {
        const listed = await client.send(new ListPublicKeysCommand({}));
        const items = listed.PublicKeyList?.Items ?? [];
        const victim = items[Math.floor(random() * items.length)];
        if (victim?.Id === undefined) return;
        const got = await client.send(new GetPublicKeyCommand({ Id: victim.Id }));
        await client.send(new DeletePublicKeyCommand({ Id: victim.Id, IfMatch: got.ETag }));
      },
      async () => {
        const [current, listed] = await Promise.all([
          client.send(new GetKeyGroupCommand({ Id: groupId })),
          client.send(new ListPublicKeysCommand({})),
        ]);
        const all = (listed.PublicKeyList?.Items ?? []).map((item) => item.Id ?? '');
        const items = current.KeyGroup?.KeyGroupConfig?.Items ?? [];
        // Grow the group (sometimes past the quota on purpose) or shrink it, never to empty.
        const next =
          random() < 0.6 || items.length < 2
            ? [...new Set([...items, ...all.filter(() => random() < 0.3)])]
            : items.filter((_, index) => index !== Math.floor(random() * items.length));
        const updated = await client.send(
          new UpdateKeyGroupCommand({
            Id: groupId,
            IfMatch: current.ETag,
            KeyGroupConfig: { Name: 'load', Items: next },
          }),
        );
        record(groupId, updated.ETag);
      },
      async () => {
        await client.send(new ListKeyGroupsCommand({}));
      },
    ];

    const total = () => Object.values(cloudFront.standIn.calls).reduce((sum, count) => sum + count, 0);
    const worker = async () => {
      // Bounded by requests served (an operation is one to three calls), not by operations started.
      while (total() < 2000) {
        const operation = operations[Math.floor(random() * operations.length)];
        try {
          await operation?.();
        } catch (error) {
          const name = error instanceof CloudFrontServiceException ? error.name : String(error);
          if (!expected.has(name)) unexpected.push(name);
          refusals.set(name, (refusals.get(name) ?? 0) + 1);
        }
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));

    expect(unexpected).toEqual([]);
    // The mix really contended: stale ETags were refused rather than overwriting each other.
    expect(refusals.get('PreconditionFailed') ?? 0).toBeGreaterThan(0);
    const snapshot = cloudFront.standIn.snapshot();
    expect(snapshot.publicKeys.size).toBeLessThanOrEqual(10);
    for (const keyGroup of snapshot.keyGroups.values()) {
      expect(keyGroup.items.length).toBeGreaterThan(0);
      expect(keyGroup.items.length).toBeLessThanOrEqual(5);
      for (const item of keyGroup.items) expect(snapshot.publicKeys.has(item)).toBe(true);
    }
    for (const [, history] of etags) {
      expect(new Set(history).size).toBe(history.length);
      for (const etag of history) expect(etag).toMatch(/^E[A-Z0-9]{13}$/);
    }
    expect(etags.get(groupId)?.length).toBeGreaterThan(10);
    // The API agrees with the snapshot.
    const listed = await client.send(new ListPublicKeysCommand({}));
    expect(new Set((listed.PublicKeyList?.Items ?? []).map((item) => item.Id))).toEqual(
      new Set(snapshot.publicKeys.keys()),
    );
    expect(total()).toBeGreaterThanOrEqual(2000);
  }, 60_000);
});
