import { generateKeyPairSync } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import {
  CloudFrontClient,
  CreateDistributionCommand,
  DeleteKeyGroupCommand,
  GetDistributionConfigCommand,
  GetKeyGroupCommand,
  UpdateDistributionCommand,
} from '@aws-sdk/client-cloudfront';
import {
  CreateSecretCommand,
  GetSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { close, listen } from '../../infra/local/http.ts';
import { type Sandbox, startSandbox } from '../../infra/local/sandbox.ts';
import { CloudFrontKeyGroupRegistry } from '../../lib/aws/cloudfront-key-group-registry.ts';
import { distributionTrusting } from '../support/distributions.ts';
import { lambdaContext } from '../support/lambda.ts';

// The bootstrap custom resource's Update, through the real rotator handler with CloudFormation's
// own request shapes (docs/operators.md, "Changing the key group"): it carries out a change of key
// group when no link can break, or answers FAILED with the reason; never SUCCESS with a KeyGroupId
// the ring does not use.

type Handler = (event: unknown, context: unknown) => Promise<unknown>;
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
const SECRET = 'signet/test/media/key-ring';
const DOCS_SECRET = 'signet/test/docs/key-ring';

let sandbox: Sandbox;
let responder: ReturnType<typeof createServer>;
let responseUrl: string;
let handler: Handler;
let cloudfront: CloudFrontClient;
let secretsManager: SecretsManagerClient;
const answers: Record<string, unknown>[] = [];

beforeAll(async () => {
  sandbox = await startSandbox({ stateDir: null, portBase: 0, propagationDelayMs: 0 });
  secretsManager = new SecretsManagerClient({
    endpoint: sandbox.endpoints.secretsManager,
    region: 'us-east-1',
    credentials,
  });
  cloudfront = new CloudFrontClient({
    endpoint: sandbox.endpoints.cloudfront,
    region: 'us-east-1',
    credentials,
  });
  await secretsManager.send(new CreateSecretCommand({ Name: SECRET }));
  await secretsManager.send(new CreateSecretCommand({ Name: DOCS_SECRET }));
  // Stands in for CloudFormation's pre-signed S3 response URL: records each answer.
  responder = createServer(async (request: IncomingMessage, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    answers.push({ method: request.method, ...JSON.parse(Buffer.concat(chunks).toString()) });
    response.end();
  });
  responseUrl = `${await listen(responder, 0, 'response URL')}/cfn-response?X-Amz-Signature=abc`;
  const profile = (secretId: string) => ({
    domains: ['media.example.com'],
    keyRing: { secretId },
    grants: [],
    // Stand-ins apply changes at once (propagationDelayMs 0): the first key activates on the next run.
    rotation: { propagation: 0 },
  });
  vi.stubEnv(
    'SIGNET_CONFIG',
    JSON.stringify({
      stage: 'test',
      defaultProfile: 'media',
      aws: {
        region: 'us-east-1',
        endpoints: {
          secretsManager: sandbox.endpoints.secretsManager,
          cloudfront: sandbox.endpoints.cloudfront,
        },
      },
      profiles: { media: profile(SECRET), docs: profile(DOCS_SECRET) },
    }),
  );
  vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'SILENT');
  vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'true');
  handler = ((await import('../../functions/rotator.ts')) as { handler: Handler }).handler;
});

afterAll(async () => {
  vi.unstubAllEnvs();
  await close(responder);
  await sandbox.close();
});

type Properties = { Profile: string; AdoptKeyGroupId?: string; DeleteKeysOnDelete?: string };

let requests = 0;
/** A custom resource request as CloudFormation sends it; answers the one answer it got. */
async function send(
  requestType: 'Create' | 'Update' | 'Delete',
  properties: Properties,
  oldProperties?: Properties,
): Promise<{ Status: string; Reason: string; Data: Record<string, string>; PhysicalResourceId: string }> {
  const serviceToken = 'arn:aws:lambda:us-east-1:123456789012:function:signet-test-rotator';
  const event = {
    RequestType: requestType,
    ResponseURL: responseUrl,
    StackId: 'arn:aws:cloudformation:us-east-1:123456789012:stack/signet-test/abc',
    RequestId: `req-${++requests}`,
    LogicalResourceId: properties.Profile === 'media' ? 'Bootstrap' : 'BootstrapDocs',
    ResourceType: 'Custom::SignetKeyGroup',
    ...(requestType === 'Create' ? {} : { PhysicalResourceId: `signet-bootstrap-${properties.Profile}` }),
    ResourceProperties: { ServiceToken: serviceToken, DeleteKeysOnDelete: 'false', ...properties },
    ...(oldProperties === undefined
      ? {}
      : {
          OldResourceProperties: {
            ServiceToken: serviceToken,
            DeleteKeysOnDelete: 'false',
            ...oldProperties,
          },
        }),
  };
  const before = answers.length;
  await handler(event, lambdaContext());
  expect(answers).toHaveLength(before + 1);
  const answer = answers[before] as { RequestId: string; method: string };
  expect(answer).toMatchObject({ method: 'PUT', RequestId: event.RequestId, StackId: event.StackId });
  return answer as never;
}

async function ringGroup(secretId = SECRET): Promise<string> {
  const value = await secretsManager.send(new GetSecretValueCommand({ SecretId: secretId }));
  return JSON.parse(value.SecretString!).keyGroupId;
}

async function groupItems(id: string): Promise<string[]> {
  return (await cloudfront.send(new GetKeyGroupCommand({ Id: id }))).KeyGroup!.KeyGroupConfig!.Items ?? [];
}

async function trust(distributionId: string, groups: string[]) {
  const current = await cloudfront.send(new GetDistributionConfigCommand({ Id: distributionId }));
  await cloudfront.send(
    new UpdateDistributionCommand({
      Id: distributionId,
      IfMatch: current.ETag,
      DistributionConfig: distributionTrusting(current.DistributionConfig!.CallerReference!, groups),
    }),
  );
}

const scheduled = { source: 'aws.events', 'detail-type': 'Scheduled Event' };

describe('the bootstrap custom resource on Update', () => {
  let g1: string;
  let g2: string;
  let distributionId: string;

  it('Create bootstraps into signet-<stage>-<profile>; an Update that changes nothing answers the same group', async () => {
    const created = await send('Create', { Profile: 'media' });
    expect(created).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: 'signet-bootstrap-media' });
    g1 = created.Data.KeyGroupId!;
    expect((await cloudfront.send(new GetKeyGroupCommand({ Id: g1 }))).KeyGroup!.KeyGroupConfig!.Name).toBe(
      'signet-test-media',
    );
    await handler(scheduled, lambdaContext()).catch(() => undefined); // activates media's first key
    const same = await send('Update', { Profile: 'media' }, { Profile: 'media' });
    expect(same).toMatchObject({ Status: 'SUCCESS', Data: { KeyGroupId: g1 } });
  });

  it('answers FAILED with the reason and the steps while a behaviour trusts only the old group, changing nothing', async () => {
    distributionId = (
      await cloudfront.send(
        new CreateDistributionCommand({ DistributionConfig: distributionTrusting('bootstrap-update', [g1]) }),
      )
    ).Distribution!.Id!;
    // The group to move to, made by hand with a key of its own (CloudFront keeps no empty group).
    const registry = new CloudFrontKeyGroupRegistry(cloudfront);
    const encodedKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
      .publicKey.export({ type: 'spki', format: 'pem' })
      .toString();
    const handKey = await registry.createPublicKey({
      name: 'by-hand',
      callerReference: 'by-hand',
      encodedKey,
      comment: 'made by hand',
    });
    g2 = (await registry.createKeyGroup('media-next', [handKey.id])).id;

    const refused = await send('Update', { Profile: 'media', AdoptKeyGroupId: g2 }, { Profile: 'media' });
    expect(refused.Status).toBe('FAILED');
    expect(refused.Data).toEqual({});
    expect(refused.Reason).toContain(`Signet did not move profile media from key group ${g1} to ${g2}`);
    expect(refused.Reason).toContain(`${distributionId} * trust ${g1} but not ${g2}`);
    expect(refused.Reason).toContain(`make every cache behaviour that trusts ${g1} trust ${g2} as well`);
    expect(await ringGroup()).toBe(g1);
    expect(await groupItems(g2)).toEqual([handKey.id]);

    const missing = await send(
      'Update',
      { Profile: 'media', AdoptKeyGroupId: 'K-NO-SUCH-GROUP' },
      { Profile: 'media' },
    );
    expect(missing).toMatchObject({ Status: 'FAILED', Data: {} });
    expect(missing.Reason).toContain('key group K-NO-SUCH-GROUP does not exist.');
    expect(await ringGroup()).toBe(g1);
  });

  it('moves the ring once every behaviour trusts both groups, and answers the new group', async () => {
    await trust(distributionId, [g1, g2]);
    const [activeId] = await groupItems(g1);
    const moved = await send('Update', { Profile: 'media', AdoptKeyGroupId: g2 }, { Profile: 'media' });
    expect(moved).toMatchObject({ Status: 'SUCCESS', Data: { KeyGroupId: g2 } });
    expect(moved.Reason).toContain(`Signet moved profile media from key group ${g1} to ${g2}`);
    expect(await ringGroup()).toBe(g2);
    expect(await groupItems(g2)).toContain(activeId);
    expect(await groupItems(g1)).toEqual([activeId]);
    // The schedule goes on in the new group.
    await expect(handler(scheduled, lambdaContext())).resolves.toMatchObject({
      profiles: expect.arrayContaining([expect.objectContaining({ profile: 'media', ok: true })]),
    });
  });

  it('a rollback (the old properties again) moves the ring back, since both groups still trust its keys', async () => {
    const rolledBack = await send(
      'Update',
      { Profile: 'media', AdoptKeyGroupId: g1 },
      { Profile: 'media', AdoptKeyGroupId: g2 },
    );
    expect(rolledBack).toMatchObject({ Status: 'SUCCESS', Data: { KeyGroupId: g1 } });
    expect(await ringGroup()).toBe(g1);
    // Without AdoptKeyGroupId the ring's group wins: nothing moves.
    const unchanged = await send('Update', { Profile: 'media' }, { Profile: 'media', AdoptKeyGroupId: g1 });
    expect(unchanged).toMatchObject({ Status: 'SUCCESS', Data: { KeyGroupId: g1 } });
  });

  it("answers FAILED with the planner's reason when the ring's key group is gone", async () => {
    const created = await send('Create', { Profile: 'docs' });
    expect(created.Status).toBe('SUCCESS');
    const g3 = created.Data.KeyGroupId!;
    const group = await cloudfront.send(new GetKeyGroupCommand({ Id: g3 }));
    await cloudfront.send(new DeleteKeyGroupCommand({ Id: g3, IfMatch: group.ETag }));
    const failed = await send('Update', { Profile: 'docs' }, { Profile: 'docs' });
    expect(failed).toMatchObject({ Status: 'FAILED', Data: {} });
    expect(failed.Reason).toBe(
      `Signet bootstrap of docs failed: The ring's key group ${g3} does not exist in CloudFront; restore it or re-bootstrap. (key-group-missing)`,
    );
  });

  it('a renamed profile is a new resource; Delete retains everything', async () => {
    const deleted = await send('Delete', { Profile: 'media' });
    expect(deleted).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: 'signet-bootstrap-media' });
    expect(await ringGroup()).toBe(g1);
    const renamed = await send('Update', { Profile: 'media' }, { Profile: 'docs' });
    expect(renamed).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: 'signet-bootstrap-media' });
  });
});
