// The rotator's custom resource Delete against the Secrets Manager and CloudFront stand-ins, through
// the real SDK clients and adapters: retained by default, torn down with DeleteKeysOnDelete 'true'.
import {
  CreateDistributionCommand,
  GetDistributionConfigCommand,
  UpdateDistributionCommand,
} from '@aws-sdk/client-cloudfront';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretsManagerKeyRingStore } from '../../lib/aws/secrets-manager-key-ring-store.ts';
import type { CustomResourceEvent } from '../../lib/cloudformation/custom-resource.ts';
import { parseConfig } from '../../lib/config/index.ts';
import type { BootstrapProperties } from '../../lib/rotation/bootstrap.ts';
import { isSignetKeyNameOf } from '../../lib/rotation/index.ts';
import type { RegisteredKeyGroup } from '../../lib/rotation/registry.ts';
import { noMetrics, silentLog } from '../../lib/telemetry/ports.ts';
import { createRotatorHandler } from '../../lib/wiring/rotator.ts';
import { distributionTrusting } from '../support/distributions.ts';
import { FaultSwitch, injectSdkFaults } from '../support/rotation-faults.ts';
import { type RotationSandbox, sdkClients, startRotationSandbox } from '../support/rotation-sandbox.ts';

let sandbox: RotationSandbox;
beforeAll(async () => {
  sandbox = await startRotationSandbox();
});
afterAll(async () => {
  await sandbox?.close();
});

/** A profile document with short timings (propagation 120 s, rotateEvery 3600 s). */
function profileDocument(name: string, extra: Record<string, unknown> = {}) {
  return {
    domains: ['media.example.com'],
    keyRing: { secretId: `signet/${name}/key-ring` },
    ttl: { default: 60, max: 300 },
    cache: { ttl: 30, maxStale: 60 },
    rotation: { rotateEvery: 3600, propagation: 120, clockSkew: 30 },
    ...extra,
  };
}

type Answer = { Status: 'SUCCESS' | 'FAILED'; Reason: string; Data: { KeyGroupId?: string } };

/** A handler for one profile, whose CloudFormation answers are collected instead of PUT to S3. */
async function setUp(
  name: string,
  options: { extra?: Record<string, unknown>; clients?: RotationSandbox['clients'] } = {},
) {
  await sandbox.newStore(`signet/${name}/key-ring`);
  const answers: Answer[] = [];
  const clients = options.clients ?? sandbox.clients;
  const handler = createRotatorHandler({
    config: parseConfig({ profiles: { [name]: profileDocument(name, options.extra) } }),
    secretsManager: clients.secretsManager,
    cloudfront: clients.cloudfront,
    log: silentLog,
    metrics: noMetrics,
    now: sandbox.clock.now,
    fetch: (async (_url: string, init: { body: string }) => {
      answers.push(JSON.parse(init.body) as Answer);
      return new Response(null, { status: 200 });
    }) as unknown as typeof fetch,
  });
  const store = new SecretsManagerKeyRingStore(sandbox.clients.secretsManager, `signet/${name}/key-ring`);
  const send = async (
    requestType: CustomResourceEvent['RequestType'],
    properties: Record<string, string> = {},
  ): Promise<Answer> => {
    const event: CustomResourceEvent<BootstrapProperties> = {
      RequestType: requestType,
      ResponseURL: 'https://cloudformation-custom-resource-response.example/x?X-Amz-Signature=abc',
      StackId: 'arn:aws:cloudformation:us-east-1:123456789012:stack/signet-test/abc',
      RequestId: `req-${requestType}-${answers.length}`,
      LogicalResourceId: 'Bootstrap',
      ...(requestType === 'Create' ? {} : { PhysicalResourceId: `signet-bootstrap-${name}` }),
      ResourceProperties: {
        ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:r',
        Profile: name,
        ...properties,
      },
    };
    await handler(event);
    const answer = answers.at(-1);
    if (answer === undefined) throw new Error('Expected the handler to answer CloudFormation.');
    return answer;
  };
  const scheduled = () =>
    handler({ source: 'aws.events', 'detail-type': 'Scheduled Event' }) as Promise<{
      profiles: { profile: string; ok: boolean; action?: string }[];
    }>;
  return { send, scheduled, store };
}

/** Everything CloudFront and Secrets Manager hold for a profile: compared before and after a refusal. */
async function snapshot(name: string, store: SecretsManagerKeyRingStore, groupId: string | undefined) {
  const loaded = await store.load();
  const group = groupId === undefined ? undefined : await groupOrUndefined(groupId);
  const keys = (await sandbox.registry.listPublicKeys()).filter((key) => isSignetKeyNameOf(name, key.name));
  return { version: loaded?.version, ring: loaded?.ring, group, keys };
}

async function groupOrUndefined(id: string): Promise<RegisteredKeyGroup | undefined> {
  try {
    return await sandbox.registry.getKeyGroup(id);
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_REGISTRY_NOT_FOUND') return undefined;
    throw error;
  }
}

const pemOf = async () => {
  const { generateKeyPairSync } = await import('node:crypto');
  return generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
    .publicKey.export({ type: 'spki', format: 'pem' })
    .toString();
};

/** A public key someone other than Signet made. */
async function foreignKey(name: string) {
  return sandbox.registry.createPublicKey({
    name,
    callerReference: `ref-${name}`,
    encodedKey: await pemOf(),
    comment: 'not Signet',
  });
}

describe('custom resource Delete', () => {
  it('with DeleteKeysOnDelete "true", deletes the key group and Signet keys and records them in history; a retry succeeds', async () => {
    const { send, scheduled, store } = await setUp('media');
    const created = await send('Create');
    expect(created.Status).toBe('SUCCESS');
    const groupId = created.Data.KeyGroupId!;
    // Activate the first key, then introduce the next: an active and a pending key, both in the group.
    sandbox.clock.advance(121);
    expect((await scheduled()).profiles[0]).toMatchObject({ ok: true, action: 'activate' });
    sandbox.clock.advance(3600);
    expect((await scheduled()).profiles[0]).toMatchObject({ ok: true, action: 'introduce' });
    const before = await snapshot('media', store, groupId);
    expect(before.group?.items).toHaveLength(2);
    expect(before.keys).toHaveLength(2);
    const bystander = await foreignKey('someone-elses-key');

    sandbox.clock.advance(10);
    const deleted = await send('Delete', { DeleteKeysOnDelete: 'true' });
    expect(deleted).toMatchObject({ Status: 'SUCCESS', Data: { KeyGroupId: groupId } });
    expect(deleted.Reason).toContain(`deleted key group ${groupId}; deleted 2 public key(s)`);

    const after = await snapshot('media', store, groupId);
    expect(after.group).toBeUndefined();
    expect(after.keys).toEqual([]);
    // Never a key Signet did not create.
    expect(await sandbox.registry.getPublicKey(bystander.id)).toBeDefined();
    // The ring stays (its secret is retained), every key now in history, with no private key left.
    const iso = sandbox.clock.now().toISOString();
    expect(after.ring?.keyGroupId).toBe(groupId);
    expect(after.ring?.keys).toEqual([]);
    const active = before.ring?.keys.find((key) => key.state === 'active');
    const pending = before.ring?.keys.find((key) => key.state === 'pending');
    expect(after.ring?.history).toEqual([
      {
        id: active?.id,
        fingerprint: active?.fingerprint,
        activatedAt: active?.activatedAt,
        retiredAt: iso,
        removedAt: iso,
      },
      { id: pending?.id, fingerprint: pending?.fingerprint, removedAt: iso },
    ]);
    expect(JSON.stringify(after.ring)).not.toContain('PRIVATE KEY');

    // CloudFormation retries a Delete: the same answer, and no second ring write.
    const retried = await send('Delete', { DeleteKeysOnDelete: 'true' });
    expect(retried.Status).toBe('SUCCESS');
    expect(retried.Reason).toContain(`key group ${groupId} was already gone; deleted 0 public key(s)`);
    expect((await store.load())?.version).toBe(after.version);

    // A schedule that fires while the stack is going away does not re-create a key.
    sandbox.clock.advance(3600);
    expect((await scheduled()).profiles).toEqual([{ profile: 'media', ok: true, action: 'torn-down' }]);
    expect(await snapshot('media', store, groupId)).toEqual(after);
    await sandbox.registry.deletePublicKey(bystander.id);
  });

  it('answers FAILED naming the distribution that still trusts the group, and deletes nothing', async () => {
    const { send, store } = await setUp('video');
    const groupId = (await send('Create')).Data.KeyGroupId!;
    const cloudfront = sandbox.clients.cloudfront;
    const distribution = await cloudfront.send(
      new CreateDistributionCommand({ DistributionConfig: distributionTrusting('video-dist', [groupId]) }),
    );
    const distributionId = distribution.Distribution!.Id!;
    const before = await snapshot('video', store, groupId);

    const refused = await send('Delete', { DeleteKeysOnDelete: 'true' });
    expect(refused.Status).toBe('FAILED');
    expect(refused.Reason).toMatch(/^Signet teardown of video failed: /);
    expect(refused.Reason).toContain(distributionId);
    expect(refused.Reason).toContain(`must stop trusting key group ${groupId}`);
    expect(refused.Reason).toContain('Nothing was deleted.');
    expect(await snapshot('video', store, groupId)).toEqual(before);

    // Once the distribution no longer trusts it, the retried Delete goes through.
    const current = await cloudfront.send(new GetDistributionConfigCommand({ Id: distributionId }));
    await cloudfront.send(
      new UpdateDistributionCommand({
        Id: distributionId,
        IfMatch: current.ETag,
        DistributionConfig: distributionTrusting('video-dist', []),
      }),
    );
    expect((await send('Delete', { DeleteKeysOnDelete: 'true' })).Status).toBe('SUCCESS');
    const after = await snapshot('video', store, groupId);
    expect(after.group).toBeUndefined();
    expect(after.keys).toEqual([]);
    expect(after.ring?.keys).toEqual([]);
  });

  it('retains the key group, keys and ring by default, and for any value but "true"', async () => {
    const { send, store } = await setUp('audio');
    const groupId = (await send('Create')).Data.KeyGroupId!;
    const before = await snapshot('audio', store, groupId);
    expect(before.keys).toHaveLength(1);
    for (const properties of [{}, { DeleteKeysOnDelete: 'false' }, { DeleteKeysOnDelete: 'TRUE' }]) {
      expect((await send('Delete', properties)).Status).toBe('SUCCESS');
      expect(await snapshot('audio', store, groupId)).toEqual(before);
    }
  });

  it('leaves an adopted key group in place, taking only Signet keys out of it', async () => {
    const theirs = await foreignKey('legacy-key');
    const legacy = await sandbox.registry.createKeyGroup('legacy-group', [theirs.id]);
    const { send, store } = await setUp('docs', { extra: { keyGroupId: legacy.id } });
    const created = await send('Create', { AdoptKeyGroupId: legacy.id });
    expect(created).toMatchObject({ Status: 'SUCCESS', Data: { KeyGroupId: legacy.id } });
    const [ours] = (await snapshot('docs', store, legacy.id)).keys;
    expect((await sandbox.registry.getKeyGroup(legacy.id)).items).toEqual([theirs.id, ours!.id]);

    const deleted = await send('Delete', { AdoptKeyGroupId: legacy.id, DeleteKeysOnDelete: 'true' });
    expect(deleted.Status).toBe('SUCCESS');
    expect(deleted.Reason).toContain(`left adopted key group ${legacy.id} in place`);
    expect((await sandbox.registry.getKeyGroup(legacy.id)).items).toEqual([theirs.id]);
    expect(await sandbox.registry.getPublicKey(theirs.id)).toBeDefined();
    const after = await snapshot('docs', store, legacy.id);
    expect(after.keys).toEqual([]);
    expect(after.ring?.history.map((entry) => entry.id)).toEqual([ours!.id]);
  });

  it('refuses to empty an adopted key group that holds only Signet keys, changing nothing', async () => {
    const theirs = await foreignKey('legacy-key-2');
    const legacy = await sandbox.registry.createKeyGroup('legacy-group-2', [theirs.id]);
    const { send, store } = await setUp('wiki', { extra: { keyGroupId: legacy.id } });
    await send('Create', { AdoptKeyGroupId: legacy.id });
    const [ours] = (await snapshot('wiki', store, legacy.id)).keys;
    // The operator has since taken their own key out: only Signet's is left.
    await sandbox.registry.updateKeyGroup(await sandbox.registry.getKeyGroup(legacy.id), [ours!.id]);
    const before = await snapshot('wiki', store, legacy.id);

    const refused = await send('Delete', { AdoptKeyGroupId: legacy.id, DeleteKeysOnDelete: 'true' });
    expect(refused.Status).toBe('FAILED');
    expect(refused.Reason).toContain(`Key group ${legacy.id} was adopted, not created by Signet`);
    expect(await snapshot('wiki', store, legacy.id)).toEqual(before);
  });

  it('converges when a crash or an AWS error interrupts the teardown at any AWS call', async () => {
    const faults = new FaultSwitch();
    faults.armed = false;
    const clients = sdkClients({
      secretsManager: sandbox.secretsManager.url,
      cloudfront: sandbox.cloudfront.url,
    });
    injectSdkFaults(clients.secretsManager as never, faults, 'sm');
    injectSdkFaults(clients.cloudfront as never, faults, 'cf');
    const fired: string[] = [];
    try {
      for (let at = 1; ; at++) {
        let firedAny = false;
        for (const when of ['before', 'after'] as const) {
          const name = `crash-${at}-${when}`;
          const { send, store } = await setUp(name, { clients });
          const groupId = (await send('Create')).Data.KeyGroupId!;
          faults.calls = 0;
          faults.fired = undefined;
          faults.plan = { at, when };
          faults.armed = true;
          const first = await send('Delete', { DeleteKeysOnDelete: 'true' });
          faults.armed = false;
          faults.plan = undefined;
          if (faults.fired !== undefined) {
            firedAny = true;
            fired.push(faults.fired);
            // The fault may land after the last call that mattered: then the first Delete succeeded.
            if (first.Status === 'FAILED') expect(first.Reason).toContain('Injected fault');
            expect((await send('Delete', { DeleteKeysOnDelete: 'true' })).Status).toBe('SUCCESS');
          } else {
            expect(first.Status).toBe('SUCCESS');
          }
          const after = await snapshot(name, store, groupId);
          expect(after.group, faults.fired).toBeUndefined();
          expect(after.keys, faults.fired).toEqual([]);
          expect(after.ring?.keys, faults.fired).toEqual([]);
          expect(
            after.ring?.history.some((entry) => entry.removedAt !== undefined),
            faults.fired,
          ).toBe(true);
        }
        if (!firedAny) break;
      }
    } finally {
      clients.secretsManager.destroy();
      clients.cloudfront.destroy();
    }
    // Every AWS call of the teardown was interrupted once, before and after.
    expect(fired.some((where) => where.includes('cf.DeleteKeyGroupCommand'))).toBe(true);
    expect(fired.some((where) => where.includes('sm.PutSecretValueCommand'))).toBe(true);
    expect(fired.some((where) => where.includes('cf.DeletePublicKeyCommand'))).toBe(true);
  }, 60_000);
});
