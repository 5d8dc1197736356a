import { generateKeyPairSync } from 'node:crypto';
import { CreateDistributionCommand, UpdateDistributionCommand } from '@aws-sdk/client-cloudfront';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  RegistryConflictError,
  RegistryInUseError,
  RegistryNotFoundError,
  RegistryQuotaError,
} from '../../lib/rotation/registry.ts';
import { distributionTrusting } from '../support/distributions.ts';
import { type RotationSandbox, startRotationSandbox } from '../support/rotation-sandbox.ts';

// KeyGroupRegistry's contract, run through CloudFrontKeyGroupRegistry and the real SDK client
// against the CloudFront stand-in.

const pem = () =>
  generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
    .publicKey.export({ type: 'spki', format: 'pem' })
    .toString();

let sandbox: RotationSandbox;
beforeAll(async () => {
  sandbox = await startRotationSandbox();
});
afterAll(async () => {
  await sandbox?.close();
});

const create = (name: string, encodedKey = pem()) =>
  sandbox.registry.createPublicKey({ name, callerReference: `ref-${name}`, encodedKey, comment: 'contract' });

describe('KeyGroupRegistry over the CloudFront stand-in', () => {
  it('creates, lists and gets a public key; a retry with the same name and key adopts it', async () => {
    const encodedKey = pem();
    const key = await create('contract-a', encodedKey);
    expect(key).toMatchObject({ name: 'contract-a', encodedKey });
    expect(key.id).toMatch(/^K[A-Z0-9]+$/);
    expect(await sandbox.registry.getPublicKey(key.id)).toMatchObject({ id: key.id, name: 'contract-a' });
    expect((await sandbox.registry.listPublicKeys()).map((k) => k.id)).toContain(key.id);
    // Same CallerReference, name and key: the crash-retry case.
    expect((await create('contract-a', encodedKey)).id).toBe(key.id);
    // The same name with another key is not ours to adopt.
    await expect(create('contract-a')).rejects.toThrow();
    expect(await sandbox.registry.getPublicKey('KNOSUCHKEY0001')).toBeUndefined();
  });

  it('keeps the comment a public key was created with: it names the ring that owns the key', async () => {
    const encodedKey = pem();
    const comment = 'Signet signing key; ring signet/prod/media/key-ring';
    const key = await sandbox.registry.createPublicKey({
      name: 'contract-commented',
      callerReference: 'ref-contract-commented',
      encodedKey,
      comment,
    });
    expect(key.comment).toBe(comment);
    expect(await sandbox.registry.getPublicKey(key.id)).toMatchObject({ comment });
    expect((await sandbox.registry.listPublicKeys()).find((k) => k.id === key.id)).toMatchObject({ comment });
  });

  it('lists every key group of the account with its keys, across pages', async () => {
    const own = await startRotationSandbox({ cloudfront: { maxKeyGroups: 120 } });
    try {
      const key = await own.registry.createPublicKey({
        name: 'contract-paged',
        callerReference: 'ref-contract-paged',
        encodedKey: pem(),
        comment: 'contract',
      });
      expect(await own.registry.listKeyGroups()).toEqual([]);
      const names = Array.from({ length: 105 }, (_, index) => `contract-paged-${index}`);
      for (const name of names) await own.registry.createKeyGroup(name, [key.id]);
      const listed = await own.registry.listKeyGroups();
      expect(listed.map((group) => group.name).sort()).toEqual([...names].sort());
      expect(listed.every((group) => group.items.length === 1 && group.items[0] === key.id)).toBe(true);
      expect(listed[0]).not.toHaveProperty('etag');
    } finally {
      await own.close();
    }
  });

  it('creates, finds and updates a key group with If-Match', async () => {
    const one = await create('contract-b');
    const two = await create('contract-c');
    const group = await sandbox.registry.createKeyGroup('contract-group', [one.id]);
    expect(group).toMatchObject({ name: 'contract-group', items: [one.id] });
    expect(await sandbox.registry.findKeyGroupByName('contract-group')).toEqual(group);
    expect(await sandbox.registry.findKeyGroupByName('no-such-group')).toBeUndefined();
    expect(await sandbox.registry.getKeyGroup(group.id)).toEqual(group);

    const updated = await sandbox.registry.updateKeyGroup(group, [one.id, two.id]);
    expect(updated.items).toEqual([one.id, two.id]);
    expect(updated.etag).not.toBe(group.etag);
    // The ETag read before the update is stale now: PreconditionFailed.
    await expect(sandbox.registry.updateKeyGroup(group, [two.id])).rejects.toMatchObject({
      code: 'ERR_REGISTRY_CONFLICT',
    });
    await expect(sandbox.registry.createKeyGroup('contract-group', [one.id])).rejects.toBeInstanceOf(
      RegistryConflictError,
    );
  });

  it('reports a missing key group, and a key still in a group, with their own errors', async () => {
    await expect(sandbox.registry.getKeyGroup('00000000-0000-4000-8000-000000000000')).rejects.toBeInstanceOf(
      RegistryNotFoundError,
    );
    const key = await create('contract-d');
    const group = await sandbox.registry.createKeyGroup('contract-group-d', [key.id]);
    await expect(sandbox.registry.deletePublicKey(key.id)).rejects.toBeInstanceOf(RegistryInUseError);
    const other = await create('contract-e');
    await sandbox.registry.updateKeyGroup(group, [other.id]);
    await sandbox.registry.deletePublicKey(key.id);
    expect(await sandbox.registry.getPublicKey(key.id)).toBeUndefined();
    // Already gone: not an error.
    await sandbox.registry.deletePublicKey(key.id);
  });

  it('deletes a key group with If-Match, refuses one a distribution trusts, and treats a gone one as done', async () => {
    const key = await create('contract-f');
    const group = await sandbox.registry.createKeyGroup('contract-group-f', [key.id]);
    const distribution = await sandbox.clients.cloudfront.send(
      new CreateDistributionCommand({
        DistributionConfig: distributionTrusting('contract-dist-f', [group.id]),
      }),
    );
    const distributionId = distribution.Distribution?.Id ?? '';
    const refused = sandbox.registry.deleteKeyGroup(group);
    await expect(refused).rejects.toBeInstanceOf(RegistryInUseError);
    // The message keeps CloudFront's, which is what names the distribution.
    await expect(refused).rejects.toThrow(distributionId);
    await sandbox.clients.cloudfront.send(
      new UpdateDistributionCommand({
        Id: distributionId,
        IfMatch: distribution.ETag,
        DistributionConfig: distributionTrusting('contract-dist-f', []),
      }),
    );

    const updated = await sandbox.registry.updateKeyGroup(group, [key.id, (await create('contract-g')).id]);
    // The ETag read before the update is stale now: PreconditionFailed, and the group stays.
    await expect(sandbox.registry.deleteKeyGroup(group)).rejects.toMatchObject({
      code: 'ERR_REGISTRY_CONFLICT',
    });
    await sandbox.registry.deleteKeyGroup(updated);
    await expect(sandbox.registry.getKeyGroup(group.id)).rejects.toBeInstanceOf(RegistryNotFoundError);
    // Already gone: not an error (a retried teardown).
    await sandbox.registry.deleteKeyGroup(updated);
    // Its keys are free to delete now.
    for (const id of updated.items) await sandbox.registry.deletePublicKey(id);
  });

  it('refuses a sixth key in a group and an eleventh key in the account with RegistryQuotaError', async () => {
    const existing = await sandbox.registry.listPublicKeys();
    const made = [];
    for (let index = existing.length; index < 10; index++) made.push(await create(`contract-q${index}`));
    const ids = (await sandbox.registry.listPublicKeys()).map((key) => key.id);
    const group = await sandbox.registry.createKeyGroup('contract-full', ids.slice(0, 5));
    await expect(sandbox.registry.updateKeyGroup(group, ids.slice(0, 6))).rejects.toMatchObject({
      code: 'ERR_REGISTRY_QUOTA',
    });
    await expect(create('contract-eleventh')).rejects.toBeInstanceOf(RegistryQuotaError);
    expect(made.length).toBeGreaterThan(0);
  });
});
