import { createServer, type IncomingMessage } from 'node:http';
import { CloudFrontClient, ListKeyGroupsCommand } from '@aws-sdk/client-cloudfront';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { close, listen } from '../../infra/local/http.ts';
import { type Sandbox, startSandbox } from '../../infra/local/sandbox.ts';
import { lambdaContext } from '../support/lambda.ts';

// Issue 13, point 1, through the rotator handler: a prod stack deployed when key groups were named
// `signet-<profile>` keeps its group after the upgrade that names them `signet-<stage>-<profile>`
// (adopted, not replaced), and a dev stack of the same profile then deploys into the same account.

type Handler = (event: unknown, context: unknown) => Promise<unknown>;
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
const PROD_SECRET = 'signet/prod/media/key-ring';
const DEV_SECRET = 'signet/dev/media/key-ring';

let sandbox: Sandbox;
let responder: ReturnType<typeof createServer>;
let responseUrl: string;
const answers: Record<string, unknown>[] = [];

beforeAll(async () => {
  sandbox = await startSandbox({ stateDir: null, portBase: 0, propagationDelayMs: 0 });
  const sm = new SecretsManagerClient({
    endpoint: sandbox.endpoints.secretsManager,
    region: 'us-east-1',
    credentials,
  });
  await sm.send(new CreateSecretCommand({ Name: PROD_SECRET }));
  await sm.send(new CreateSecretCommand({ Name: DEV_SECRET }));
  responder = createServer(async (request: IncomingMessage, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    answers.push(JSON.parse(Buffer.concat(chunks).toString()));
    response.end();
  });
  responseUrl = `${await listen(responder, 0, 'response URL')}/cfn-response?X-Amz-Signature=abc`;
  vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'SILENT');
  vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'true');
});

afterAll(async () => {
  vi.unstubAllEnvs();
  await close(responder);
  await sandbox.close();
});

/** The rotator Lambda of one deploy: its config (with or without a stage) read at cold start. */
async function rotatorOf(stage: string | undefined, secretId: string): Promise<Handler> {
  vi.stubEnv(
    'SIGNET_CONFIG',
    JSON.stringify({
      ...(stage === undefined ? {} : { stage }),
      aws: {
        region: 'us-east-1',
        endpoints: {
          secretsManager: sandbox.endpoints.secretsManager,
          cloudfront: sandbox.endpoints.cloudfront,
        },
      },
      profiles: {
        media: { domains: ['media.example.com'], keyRing: { secretId }, rotation: { propagation: 0 } },
      },
    }),
  );
  vi.resetModules();
  return ((await import('../../functions/rotator.ts')) as { handler: Handler }).handler;
}

async function send(handler: Handler, requestType: 'Create' | 'Update', stack: string) {
  const before = answers.length;
  await handler(
    {
      RequestType: requestType,
      ResponseURL: responseUrl,
      StackId: `arn:aws:cloudformation:us-east-1:123456789012:stack/${stack}/abc`,
      RequestId: `${stack}-${requestType}-${before}`,
      LogicalResourceId: 'Bootstrap',
      ResourceType: 'Custom::SignetKeyGroup',
      ...(requestType === 'Create' ? {} : { PhysicalResourceId: 'signet-bootstrap-media' }),
      ResourceProperties: { ServiceToken: 'arn:aws:lambda:::function:rotator', Profile: 'media' },
      ...(requestType === 'Create'
        ? {}
        : { OldResourceProperties: { ServiceToken: 'arn:aws:lambda:::function:rotator', Profile: 'media' } }),
    },
    lambdaContext(),
  );
  expect(answers).toHaveLength(before + 1);
  return answers[before] as { Status: string; Reason: string; Data: { KeyGroupId?: string } };
}

async function groups(): Promise<string[]> {
  const cloudfront = new CloudFrontClient({
    endpoint: sandbox.endpoints.cloudfront,
    region: 'us-east-1',
    credentials,
  });
  const listed = await cloudfront.send(new ListKeyGroupsCommand({}));
  return (listed.KeyGroupList?.Items ?? []).map((item) => item.KeyGroup!.KeyGroupConfig!.Name!).sort();
}

describe('upgrading a deployed stage to key group names with the stage', () => {
  it('keeps the old-name group of a deployed stack, and lets another stage of the profile deploy', async () => {
    // Deployed before: the config had no stage, and the group is signet-media.
    const before = await send(await rotatorOf(undefined, PROD_SECRET), 'Create', 'signet-prod');
    expect(before.Status).toBe('SUCCESS');
    expect(await groups()).toEqual(['signet-media']);

    // The upgrade: packaging now puts stage prod into the config; the stack update sends an Update.
    const prod = await rotatorOf('prod', PROD_SECRET);
    const updated = await send(prod, 'Update', 'signet-prod');
    expect(updated).toMatchObject({ Status: 'SUCCESS', Data: { KeyGroupId: before.Data.KeyGroupId } });
    await expect(
      prod({ source: 'aws.events', 'detail-type': 'Scheduled Event' }, lambdaContext()),
    ).resolves.toEqual({
      profiles: [expect.objectContaining({ profile: 'media', ok: true })],
    });
    expect(await groups()).toEqual(['signet-media']);

    // dev, same profile name, same account: its own group, no key-group-not-ours.
    const dev = await send(await rotatorOf('dev', DEV_SECRET), 'Create', 'signet-dev');
    expect(dev.Status).toBe('SUCCESS');
    expect(dev.Data.KeyGroupId).not.toBe(before.Data.KeyGroupId);
    expect(await groups()).toEqual(['signet-dev-media', 'signet-media']);
  });
});
