import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CloudFrontClient,
  CreateDistributionCommand,
  type CreateDistributionCommandInput,
  CreateKeyGroupCommand,
  CreatePublicKeyCommand,
  DeleteKeyGroupCommand,
  DeletePublicKeyCommand,
  DistributionAlreadyExists,
  type DistributionConfig,
  GetDistributionCommand,
  GetDistributionConfigCommand,
  GetKeyGroupCommand,
  GetKeyGroupConfigCommand,
  GetPublicKeyCommand,
  GetPublicKeyConfigCommand,
  IllegalUpdate,
  InconsistentQuantities,
  InvalidArgument,
  InvalidIfMatchVersion,
  KeyGroupAlreadyExists,
  ListDistributionsCommand,
  ListKeyGroupsCommand,
  ListPublicKeysCommand,
  NoSuchDistribution,
  NoSuchOrigin,
  NoSuchPublicKey,
  NoSuchResource,
  PreconditionFailed,
  PublicKeyAlreadyExists,
  PublicKeyInUse,
  ResourceInUse,
  TooManyKeyGroups,
  TooManyKeyGroupsAssociatedToDistribution,
  TooManyPublicKeys,
  TooManyPublicKeysInKeyGroup,
  TrustedKeyGroupDoesNotExist,
  UpdateDistributionCommand,
  UpdateKeyGroupCommand,
} from '@aws-sdk/client-cloudfront';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type CloudFrontStandInOptions,
  type RunningCloudFront,
  startCloudFront,
} from '../../../infra/local/cloudfront-api.ts';
import { FileStateStore } from '../../../infra/local/state.ts';

const FIXED_TIME = '2026-03-04T05:06:07.000Z';
const PUBLIC_KEY_ID = /^K[A-Z0-9]{13}$/;
const ETAG = /^E[A-Z0-9]{13}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

// Keys are generated per run: no key material is committed.
function ecPem(): string {
  return generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey.export({
    type: 'spki',
    format: 'pem',
  }) as string;
}

function rsaPem(modulusLength = 2048): string {
  return generateKeyPairSync('rsa', { modulusLength }).publicKey.export({
    type: 'spki',
    format: 'pem',
  }) as string;
}

const running: RunningCloudFront[] = [];
const tempDirs: string[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((cloudFront) => cloudFront.close()));
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function start(options: CloudFrontStandInOptions = {}) {
  const cloudFront = await startCloudFront({ port: 0, now: () => new Date(FIXED_TIME), ...options });
  running.push(cloudFront);
  const client = new CloudFrontClient({
    endpoint: cloudFront.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  let counter = 0;
  const nextName = (prefix: string) => {
    counter += 1;
    return `${prefix}-${counter}`;
  };
  const createKey = async (name = nextName('key'), encodedKey = ecPem()) => {
    const created = await client.send(
      new CreatePublicKeyCommand({
        PublicKeyConfig: { CallerReference: `ref-${name}`, Name: name, EncodedKey: encodedKey },
      }),
    );
    return { id: created.PublicKey?.Id ?? '', etag: created.ETag ?? '' };
  };
  const createGroup = async (items: string[], name = nextName('group')) => {
    const created = await client.send(
      new CreateKeyGroupCommand({ KeyGroupConfig: { Name: name, Items: items } }),
    );
    return { id: created.KeyGroup?.Id ?? '', etag: created.ETag ?? '' };
  };
  return { cloudFront, client, createKey, createGroup };
}

function distributionConfig(
  keyGroups: string[],
  overrides: Partial<DistributionConfig> = {},
): DistributionConfig {
  return {
    CallerReference: 'dist-1',
    Comment: '',
    Enabled: true,
    Origins: {
      Quantity: 1,
      Items: [
        {
          Id: 'demo',
          DomainName: 'origin.example.com',
          CustomOriginConfig: { HTTPPort: 80, HTTPSPort: 443, OriginProtocolPolicy: 'http-only' },
        },
      ],
    },
    DefaultCacheBehavior: {
      TargetOriginId: 'demo',
      ViewerProtocolPolicy: 'redirect-to-https',
      TrustedKeyGroups: { Enabled: true, Quantity: keyGroups.length, Items: keyGroups },
    },
    CacheBehaviors: {
      Quantity: 1,
      Items: [
        {
          PathPattern: '/public/*',
          TargetOriginId: 'demo',
          ViewerProtocolPolicy: 'allow-all',
          TrustedKeyGroups: { Enabled: false, Quantity: 0 },
        },
      ],
    },
    ...overrides,
  };
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('Expected the call to fail; it succeeded.');
}

describe('CloudFront stand-in: public keys', () => {
  it('creates an EC P-256 key and answers 201 with the key, an ETag and a Location', async () => {
    const { client, cloudFront } = await start();
    const pem = ecPem();
    const created = await client.send(
      new CreatePublicKeyCommand({
        PublicKeyConfig: {
          CallerReference: 'ref & <1>',
          Name: 'signet-demo',
          EncodedKey: pem,
          Comment: ' spaced ',
        },
      }),
    );
    expect(created.$metadata.httpStatusCode).toBe(201);
    expect(created.PublicKey?.Id).toMatch(PUBLIC_KEY_ID);
    expect(created.ETag).toMatch(ETAG);
    expect(created.Location).toBe(`${cloudFront.url}/2020-05-31/public-key/${created.PublicKey?.Id}`);
    expect(created.PublicKey?.CreatedTime).toEqual(new Date(FIXED_TIME));
    // The SDK sends the PEM's newlines as &#x0A;: they must come back byte for byte.
    expect(created.PublicKey?.PublicKeyConfig).toEqual({
      CallerReference: 'ref & <1>',
      Name: 'signet-demo',
      EncodedKey: pem,
      Comment: ' spaced ',
    });
  });

  it('accepts RSA 2048 and reads a key back with GetPublicKey and GetPublicKeyConfig', async () => {
    const { client, createKey } = await start();
    const pem = rsaPem();
    const { id, etag } = await createKey('rsa-key', pem);
    const got = await client.send(new GetPublicKeyCommand({ Id: id }));
    expect(got.ETag).toBe(etag);
    expect(got.PublicKey).toEqual({
      Id: id,
      CreatedTime: new Date(FIXED_TIME),
      PublicKeyConfig: { CallerReference: 'ref-rsa-key', Name: 'rsa-key', EncodedKey: pem },
    });
    const config = await client.send(new GetPublicKeyConfigCommand({ Id: id }));
    expect(config.ETag).toBe(etag);
    expect(config.PublicKeyConfig?.EncodedKey).toBe(pem);
  });

  it.each([
    ['RSA 1024', () => rsaPem(1024), 'an RSA-1024 key'],
    [
      'EC P-384',
      () =>
        generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).publicKey.export({
          type: 'spki',
          format: 'pem',
        }),
      'curve secp384r1',
    ],
    [
      'Ed25519',
      () => generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }),
      'ed25519',
    ],
    [
      'PKCS#1 RSA',
      () =>
        generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({
          type: 'pkcs1',
          format: 'pem',
        }),
      'PKCS#1',
    ],
    [
      'a private key',
      () =>
        generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({
          type: 'pkcs8',
          format: 'pem',
        }),
      'a private key',
    ],
    ['a PEM with lost newlines', () => ecPem().replaceAll('\n', ''), 'does not parse'],
    ['garbage', () => 'not a key', 'no PEM block'],
  ])('refuses %s with InvalidArgument naming what it found', async (_label, makePem, found) => {
    const { client } = await start();
    const error = await rejection(
      client.send(
        new CreatePublicKeyCommand({
          PublicKeyConfig: { CallerReference: 'r', Name: 'bad', EncodedKey: String(makePem()) },
        }),
      ),
    );
    expect(error).toBeInstanceOf(InvalidArgument);
    expect(error.message).toContain(found);
    expect(error.message).toContain('RSA 2048 or ECDSA P-256');
  });

  it('refuses a taken name and a reused CallerReference with PublicKeyAlreadyExists', async () => {
    const { client, createKey } = await start();
    await createKey('taken');
    const sameName = await rejection(
      client.send(
        new CreatePublicKeyCommand({
          PublicKeyConfig: { CallerReference: 'other', Name: 'taken', EncodedKey: ecPem() },
        }),
      ),
    );
    expect(sameName).toBeInstanceOf(PublicKeyAlreadyExists);
    const sameReference = await rejection(
      client.send(
        new CreatePublicKeyCommand({
          PublicKeyConfig: { CallerReference: 'ref-taken', Name: 'fresh', EncodedKey: ecPem() },
        }),
      ),
    );
    expect(sameReference).toBeInstanceOf(PublicKeyAlreadyExists);
    expect(sameReference.message).toContain('CallerReference');
  });

  it('answers an identical replay with the existing key only when configured to (UNCONFIRMED AWS behaviour)', async () => {
    const pem = ecPem();
    const config = { CallerReference: 'same', Name: 'replayed', EncodedKey: pem };
    const strict = await start();
    await strict.client.send(new CreatePublicKeyCommand({ PublicKeyConfig: config }));
    expect(
      await rejection(strict.client.send(new CreatePublicKeyCommand({ PublicKeyConfig: config }))),
    ).toBeInstanceOf(PublicKeyAlreadyExists);

    const lenient = await start({ callerReferenceReplay: 'return-existing' });
    const first = await lenient.client.send(new CreatePublicKeyCommand({ PublicKeyConfig: config }));
    const again = await lenient.client.send(new CreatePublicKeyCommand({ PublicKeyConfig: config }));
    expect(again.PublicKey?.Id).toBe(first.PublicKey?.Id);
    expect(again.ETag).toBe(first.ETag);
    const different = await rejection(
      lenient.client.send(new CreatePublicKeyCommand({ PublicKeyConfig: { ...config, Comment: 'changed' } })),
    );
    expect(different).toBeInstanceOf(PublicKeyAlreadyExists);
  });

  it('refuses the 11th public key with TooManyPublicKeys, and honours a configured quota', async () => {
    const { createKey } = await start();
    for (let i = 0; i < 10; i += 1) await createKey();
    expect(await rejection(createKey())).toBeInstanceOf(TooManyPublicKeys);

    const small = await start({ maxPublicKeys: 2 });
    await small.createKey();
    await small.createKey();
    expect(await rejection(small.createKey())).toBeInstanceOf(TooManyPublicKeys);
  });

  it('lists public keys with summaries and pages through them with Marker/MaxItems', async () => {
    const { client, createKey } = await start();
    const ids = [];
    for (let i = 0; i < 5; i += 1) ids.push((await createKey()).id);
    const all = await client.send(new ListPublicKeysCommand({}));
    expect(all.PublicKeyList?.Quantity).toBe(5);
    expect(all.PublicKeyList?.MaxItems).toBe(100);
    expect(all.PublicKeyList?.NextMarker).toBeUndefined();
    const summary = all.PublicKeyList?.Items?.[0];
    expect(Object.keys(summary ?? {}).sort()).toEqual(['CreatedTime', 'EncodedKey', 'Id', 'Name']);

    const seen: string[] = [];
    let marker: string | undefined;
    do {
      const pageOf = await client.send(
        new ListPublicKeysCommand({ MaxItems: 2, ...(marker ? { Marker: marker } : {}) }),
      );
      seen.push(...(pageOf.PublicKeyList?.Items ?? []).map((item) => item.Id ?? ''));
      marker = pageOf.PublicKeyList?.NextMarker;
    } while (marker !== undefined);
    expect(seen.sort()).toEqual([...ids].sort());

    const empty = await (await start()).client.send(new ListPublicKeysCommand({}));
    expect(empty.PublicKeyList).toEqual({ MaxItems: 100, Quantity: 0 });
  });

  it('deletes a key only with its current ETag, and not while a key group holds it', async () => {
    const { client, createKey, createGroup } = await start();
    const held = await createKey();
    const group = await createGroup([held.id]);
    expect(await rejection(client.send(new DeletePublicKeyCommand({ Id: held.id })))).toBeInstanceOf(
      InvalidIfMatchVersion,
    );
    expect(
      await rejection(client.send(new DeletePublicKeyCommand({ Id: held.id, IfMatch: 'ESTALEETAG0000' }))),
    ).toBeInstanceOf(PreconditionFailed);
    const inUse = await rejection(
      client.send(new DeletePublicKeyCommand({ Id: held.id, IfMatch: held.etag })),
    );
    expect(inUse).toBeInstanceOf(PublicKeyInUse);
    expect(inUse.message).toContain(group.id);

    const free = await createKey();
    const deleted = await client.send(new DeletePublicKeyCommand({ Id: free.id, IfMatch: free.etag }));
    expect(deleted.$metadata.httpStatusCode).toBe(204);
    expect(await rejection(client.send(new GetPublicKeyCommand({ Id: free.id })))).toBeInstanceOf(
      NoSuchPublicKey,
    );
    expect(await rejection(client.send(new GetPublicKeyConfigCommand({ Id: free.id })))).toBeInstanceOf(
      NoSuchPublicKey,
    );
    expect(
      await rejection(client.send(new DeletePublicKeyCommand({ Id: free.id, IfMatch: free.etag }))),
    ).toBeInstanceOf(NoSuchPublicKey);
  });
});

describe('CloudFront stand-in: key groups', () => {
  it('creates, reads, updates and lists a key group, with a new ETag on every write', async () => {
    const { client, cloudFront, createKey } = await start();
    const [a, b] = [await createKey(), await createKey()];
    const created = await client.send(
      new CreateKeyGroupCommand({ KeyGroupConfig: { Name: 'signet-demo', Items: [a.id], Comment: 'demo' } }),
    );
    const id = created.KeyGroup?.Id ?? '';
    expect(created.$metadata.httpStatusCode).toBe(201);
    expect(id).toMatch(UUID);
    expect(created.ETag).toMatch(ETAG);
    expect(created.Location).toBe(`${cloudFront.url}/2020-05-31/key-group/${id}`);
    expect(created.KeyGroup).toEqual({
      Id: id,
      LastModifiedTime: new Date(FIXED_TIME),
      KeyGroupConfig: { Name: 'signet-demo', Items: [a.id], Comment: 'demo' },
    });

    const got = await client.send(new GetKeyGroupCommand({ Id: id }));
    expect(got.ETag).toBe(created.ETag);
    const config = await client.send(new GetKeyGroupConfigCommand({ Id: id }));
    expect(config).toMatchObject({
      ETag: created.ETag,
      KeyGroupConfig: { Name: 'signet-demo', Items: [a.id] },
    });

    const updated = await client.send(
      new UpdateKeyGroupCommand({
        Id: id,
        IfMatch: got.ETag,
        KeyGroupConfig: { Name: 'signet-demo', Items: [a.id, b.id] },
      }),
    );
    expect(updated.ETag).toMatch(ETAG);
    expect(updated.ETag).not.toBe(created.ETag);
    expect(updated.KeyGroup?.KeyGroupConfig).toEqual({ Name: 'signet-demo', Items: [a.id, b.id] });
    expect((await client.send(new GetKeyGroupCommand({ Id: id }))).ETag).toBe(updated.ETag);

    const listed = await client.send(new ListKeyGroupsCommand({}));
    expect(listed.KeyGroupList).toMatchObject({ MaxItems: 100, Quantity: 1 });
    expect(listed.KeyGroupList?.Items?.[0]?.KeyGroup).toEqual(updated.KeyGroup);
  });

  it('requires the current ETag to update or delete (InvalidIfMatchVersion, PreconditionFailed)', async () => {
    const { client, createKey, createGroup } = await start();
    const key = await createKey();
    const group = await createGroup([key.id], 'versioned');
    const config = { Name: 'versioned', Items: [key.id] };
    expect(
      await rejection(client.send(new UpdateKeyGroupCommand({ Id: group.id, KeyGroupConfig: config }))),
    ).toBeInstanceOf(InvalidIfMatchVersion);
    const next = await client.send(
      new UpdateKeyGroupCommand({ Id: group.id, IfMatch: group.etag, KeyGroupConfig: config }),
    );
    // The ETag the first update consumed is now stale for both update and delete.
    expect(
      await rejection(
        client.send(new UpdateKeyGroupCommand({ Id: group.id, IfMatch: group.etag, KeyGroupConfig: config })),
      ),
    ).toBeInstanceOf(PreconditionFailed);
    expect(
      await rejection(client.send(new DeleteKeyGroupCommand({ Id: group.id, IfMatch: group.etag }))),
    ).toBeInstanceOf(PreconditionFailed);
    expect(await rejection(client.send(new DeleteKeyGroupCommand({ Id: group.id })))).toBeInstanceOf(
      InvalidIfMatchVersion,
    );
    const deleted = await client.send(new DeleteKeyGroupCommand({ Id: group.id, IfMatch: next.ETag }));
    expect(deleted.$metadata.httpStatusCode).toBe(204);
    expect(await rejection(client.send(new GetKeyGroupCommand({ Id: group.id })))).toBeInstanceOf(
      NoSuchResource,
    );
    expect(await rejection(client.send(new GetKeyGroupConfigCommand({ Id: group.id })))).toBeInstanceOf(
      NoSuchResource,
    );
    expect(
      await rejection(
        client.send(new UpdateKeyGroupCommand({ Id: group.id, IfMatch: next.ETag, KeyGroupConfig: config })),
      ),
    ).toBeInstanceOf(NoSuchResource);
    expect(
      await rejection(client.send(new DeleteKeyGroupCommand({ Id: group.id, IfMatch: next.ETag }))),
    ).toBeInstanceOf(NoSuchResource);
    // A public key freed from its (deleted) group can now be deleted.
    await client.send(new DeletePublicKeyCommand({ Id: key.id, IfMatch: key.etag }));
  });

  it('refuses a sixth key in a group with TooManyPublicKeysInKeyGroup, on create and update', async () => {
    const { client, createKey, createGroup } = await start();
    const keys = [];
    for (let i = 0; i < 6; i += 1) keys.push((await createKey()).id);
    expect(await rejection(createGroup(keys))).toBeInstanceOf(TooManyPublicKeysInKeyGroup);
    const group = await createGroup(keys.slice(0, 5), 'full');
    const error = await rejection(
      client.send(
        new UpdateKeyGroupCommand({
          Id: group.id,
          IfMatch: group.etag,
          KeyGroupConfig: { Name: 'full', Items: keys },
        }),
      ),
    );
    expect(error).toBeInstanceOf(TooManyPublicKeysInKeyGroup);
    const unchanged = await client.send(new GetKeyGroupCommand({ Id: group.id }));
    expect(unchanged.ETag).toBe(group.etag);
    expect(unchanged.KeyGroup?.KeyGroupConfig?.Items).toEqual(keys.slice(0, 5));

    const small = await start({ maxKeysPerGroup: 2 });
    const [x, y, z] = [await small.createKey(), await small.createKey(), await small.createKey()];
    expect(await rejection(small.createGroup([x.id, y.id, z.id]))).toBeInstanceOf(
      TooManyPublicKeysInKeyGroup,
    );
  });

  it('refuses taken names with KeyGroupAlreadyExists, on create and on rename', async () => {
    const { client, createKey, createGroup } = await start();
    const key = await createKey();
    await createGroup([key.id], 'first');
    const second = await createGroup([key.id], 'second');
    expect(await rejection(createGroup([key.id], 'first'))).toBeInstanceOf(KeyGroupAlreadyExists);
    const rename = await rejection(
      client.send(
        new UpdateKeyGroupCommand({
          Id: second.id,
          IfMatch: second.etag,
          KeyGroupConfig: { Name: 'first', Items: [key.id] },
        }),
      ),
    );
    expect(rename).toBeInstanceOf(KeyGroupAlreadyExists);
    // Keeping its own name is not a conflict.
    await client.send(
      new UpdateKeyGroupCommand({
        Id: second.id,
        IfMatch: second.etag,
        KeyGroupConfig: { Name: 'second', Items: [key.id] },
      }),
    );
  });

  it('refuses unknown, duplicate or no public keys and bad names with InvalidArgument', async () => {
    const { createKey, createGroup } = await start();
    const key = await createKey();
    const unknown = await rejection(createGroup([key.id, 'KDOESNOTEXIST1']));
    expect(unknown).toBeInstanceOf(InvalidArgument);
    expect(unknown.message).toContain('KDOESNOTEXIST1');
    expect(await rejection(createGroup([key.id, key.id]))).toBeInstanceOf(InvalidArgument);
    expect(await rejection(createGroup([]))).toBeInstanceOf(InvalidArgument);
    expect(await rejection(createGroup([key.id], 'has spaces'))).toBeInstanceOf(InvalidArgument);
  });

  it('refuses an eleventh key group with TooManyKeyGroups, and honours a configured quota', async () => {
    const { createKey, createGroup } = await start();
    const key = await createKey();
    for (let i = 0; i < 10; i += 1) await createGroup([key.id]);
    expect(await rejection(createGroup([key.id]))).toBeInstanceOf(TooManyKeyGroups);
    const small = await start({ maxKeyGroups: 1 });
    const other = await small.createKey();
    await small.createGroup([other.id]);
    expect(await rejection(small.createGroup([other.id]))).toBeInstanceOf(TooManyKeyGroups);
  });
});

describe('CloudFront stand-in: distributions', () => {
  async function withDistribution(options: CloudFrontStandInOptions = {}) {
    const setup = await start(options);
    const key = await setup.createKey();
    const group = await setup.createGroup([key.id], 'trusted');
    const input: CreateDistributionCommandInput = { DistributionConfig: distributionConfig([group.id]) };
    const created = await setup.client.send(new CreateDistributionCommand(input));
    return { ...setup, key, group, created, id: created.Distribution?.Id ?? '' };
  }

  it('creates a distribution and echoes its whole config, with ETag, Location and a cloudfront.net domain', async () => {
    const { created, cloudFront, group, key, id } = await withDistribution();
    expect(created.$metadata.httpStatusCode).toBe(201);
    expect(id).toMatch(/^E[A-Z0-9]{13}$/);
    expect(created.ETag).toMatch(ETAG);
    expect(created.Location).toBe(`${cloudFront.url}/2020-05-31/distribution/${id}`);
    expect(created.Distribution).toMatchObject({
      Id: id,
      ARN: `arn:aws:cloudfront::000000000000:distribution/${id}`,
      Status: 'Deployed',
      LastModifiedTime: new Date(FIXED_TIME),
      InProgressInvalidationBatches: 0,
      DistributionConfig: distributionConfig([group.id]),
      ActiveTrustedKeyGroups: {
        Enabled: true,
        Quantity: 1,
        Items: [{ KeyGroupId: group.id, KeyPairIds: { Quantity: 1, Items: [key.id] } }],
      },
    });
    expect(created.Distribution?.DomainName).toMatch(/^d[a-z0-9]{13}\.cloudfront\.net$/);
  });

  it('reads, updates and lists a distribution with ETag/If-Match', async () => {
    const { client, created, group, id } = await withDistribution();
    const got = await client.send(new GetDistributionCommand({ Id: id }));
    expect(got.ETag).toBe(created.ETag);
    expect(got.Distribution?.DistributionConfig).toEqual(distributionConfig([group.id]));
    const config = await client.send(new GetDistributionConfigCommand({ Id: id }));
    expect(config.ETag).toBe(created.ETag);
    expect(config.DistributionConfig).toEqual(distributionConfig([group.id]));
    const trusted = config.DistributionConfig?.DefaultCacheBehavior?.TrustedKeyGroups;
    expect(trusted).toEqual({ Enabled: true, Quantity: 1, Items: [group.id] });

    const untrusting = distributionConfig([], { Comment: 'no signing' });
    expect(
      await rejection(client.send(new UpdateDistributionCommand({ Id: id, DistributionConfig: untrusting }))),
    ).toBeInstanceOf(InvalidIfMatchVersion);
    expect(
      await rejection(
        client.send(
          new UpdateDistributionCommand({
            Id: id,
            IfMatch: 'ESTALEETAG0000',
            DistributionConfig: untrusting,
          }),
        ),
      ),
    ).toBeInstanceOf(PreconditionFailed);
    const updated = await client.send(
      new UpdateDistributionCommand({ Id: id, IfMatch: config.ETag, DistributionConfig: untrusting }),
    );
    expect(updated.ETag).not.toBe(config.ETag);
    expect(updated.Distribution?.DistributionConfig?.Comment).toBe('no signing');
    expect(updated.Distribution?.ActiveTrustedKeyGroups).toEqual({ Enabled: false, Quantity: 0 });

    const listed = await client.send(new ListDistributionsCommand({}));
    expect(listed.DistributionList).toMatchObject({
      Marker: '',
      MaxItems: 100,
      IsTruncated: false,
      Quantity: 1,
    });
    expect(listed.DistributionList?.Items?.[0]).toMatchObject({
      Id: id,
      ETag: updated.ETag,
      DomainName: updated.Distribution?.DomainName,
      Comment: 'no signing',
      Enabled: true,
    });
  });

  it('refuses to delete a key group a distribution trusts (ResourceInUse) until the distribution lets go', async () => {
    const { client, group, id, created } = await withDistribution();
    const inUse = await rejection(
      client.send(new DeleteKeyGroupCommand({ Id: group.id, IfMatch: group.etag })),
    );
    expect(inUse).toBeInstanceOf(ResourceInUse);
    expect(inUse.message).toContain(id);
    await client.send(
      new UpdateDistributionCommand({
        Id: id,
        IfMatch: created.ETag,
        DistributionConfig: distributionConfig([]),
      }),
    );
    await client.send(new DeleteKeyGroupCommand({ Id: group.id, IfMatch: group.etag }));
  });

  it('refuses configs CloudFront refuses, each with its own exception class', async () => {
    const { client, group, id, created } = await withDistribution();
    const create = (config: DistributionConfig) =>
      rejection(client.send(new CreateDistributionCommand({ DistributionConfig: config })));
    expect(await create(distributionConfig([group.id]))).toBeInstanceOf(DistributionAlreadyExists);
    expect(
      await create(distributionConfig(['00000000-0000-0000-0000-000000000000'], { CallerReference: 'x' })),
    ).toBeInstanceOf(TrustedKeyGroupDoesNotExist);
    expect(
      await create(
        distributionConfig([group.id], {
          CallerReference: 'x',
          Origins: { Quantity: 2, Items: distributionConfig([]).Origins?.Items ?? [] },
        }),
      ),
    ).toBeInstanceOf(InconsistentQuantities);
    const base = distributionConfig([group.id], { CallerReference: 'x' });
    expect(
      await create({
        ...base,
        DefaultCacheBehavior: { ViewerProtocolPolicy: 'allow-all', TargetOriginId: 'nowhere' },
      }),
    ).toBeInstanceOf(NoSuchOrigin);

    const small = await start({ maxKeyGroupsPerCacheBehavior: 1 });
    const smallKey = await small.createKey();
    const [g1, g2] = [await small.createGroup([smallKey.id]), await small.createGroup([smallKey.id])];
    expect(
      await rejection(
        small.client.send(
          new CreateDistributionCommand({ DistributionConfig: distributionConfig([g1.id, g2.id]) }),
        ),
      ),
    ).toBeInstanceOf(TooManyKeyGroupsAssociatedToDistribution);

    expect(
      await rejection(
        client.send(
          new UpdateDistributionCommand({
            Id: id,
            IfMatch: created.ETag,
            DistributionConfig: distributionConfig([group.id], { CallerReference: 'changed' }),
          }),
        ),
      ),
    ).toBeInstanceOf(IllegalUpdate);
    expect(await rejection(client.send(new GetDistributionCommand({ Id: 'ENOSUCHDISTRIB' })))).toBeInstanceOf(
      NoSuchDistribution,
    );
    expect(
      await rejection(client.send(new GetDistributionConfigCommand({ Id: 'ENOSUCHDISTRIB' }))),
    ).toBeInstanceOf(NoSuchDistribution);
    expect(
      await rejection(
        client.send(
          new UpdateDistributionCommand({
            Id: 'ENOSUCHDISTRIB',
            IfMatch: created.ETag,
            DistributionConfig: base,
          }),
        ),
      ),
    ).toBeInstanceOf(NoSuchDistribution);
  });
});

describe('CloudFront stand-in: persistence', () => {
  it('keeps keys, groups, distributions and ETags across a restart with FileStateStore', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'signet-cloudfront-'));
    tempDirs.push(dir);
    const first = await start({ store: new FileStateStore(dir, 'cloudfront') });
    const key = await first.createKey('persisted');
    const group = await first.createGroup([key.id], 'persisted-group');
    const distribution = await first.client.send(
      new CreateDistributionCommand({ DistributionConfig: distributionConfig([group.id]) }),
    );
    const before = first.cloudFront.standIn.snapshot();
    await first.cloudFront.close();

    const second = await start({ store: new FileStateStore(dir, 'cloudfront') });
    const gotKey = await second.client.send(new GetPublicKeyCommand({ Id: key.id }));
    expect(gotKey.ETag).toBe(key.etag);
    expect(gotKey.PublicKey?.PublicKeyConfig?.Name).toBe('persisted');
    const gotGroup = await second.client.send(new GetKeyGroupCommand({ Id: group.id }));
    expect(gotGroup.ETag).toBe(group.etag);
    expect(gotGroup.KeyGroup?.KeyGroupConfig?.Items).toEqual([key.id]);
    const gotDistribution = await second.client.send(
      new GetDistributionCommand({ Id: distribution.Distribution?.Id ?? '' }),
    );
    expect(gotDistribution.ETag).toBe(distribution.ETag);
    expect(gotDistribution.Distribution?.DistributionConfig).toEqual(distributionConfig([group.id]));
    const after = second.cloudFront.standIn.snapshot();
    expect([...after.publicKeys.values()]).toEqual([...before.publicKeys.values()]);
    expect([...after.keyGroups.values()]).toEqual([...before.keyGroups.values()]);
    expect([...after.distributions.values()]).toEqual([...before.distributions.values()]);
    // Quotas count what was reloaded.
    expect(await rejection(second.createGroup([key.id], 'persisted-group'))).toBeInstanceOf(
      KeyGroupAlreadyExists,
    );
  });

  it('refuses to start from a saved document of another shape', async () => {
    const store = { load: () => ({ version: 99 }), save: () => undefined };
    await expect(startCloudFront({ store })).rejects.toThrow(/Expected saved CloudFront stand-in state/);
  });
});
