import { createServer, type IncomingMessage } from 'node:http';
import { CloudFrontClient, GetKeyGroupCommand } from '@aws-sdk/client-cloudfront';
import {
  CreateSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { close, listen } from '../../infra/local/http.ts';
import { type Sandbox, startSandbox } from '../../infra/local/sandbox.ts';
import { lambdaContext } from '../support/lambda.ts';

type Handler = (event: unknown, context: unknown) => Promise<unknown>;
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

let sandbox: Sandbox;
let responses: Record<string, unknown>[] = [];
let responder: ReturnType<typeof createServer>;
let responseUrl: string;
let handler: Handler;

beforeAll(async () => {
  sandbox = await startSandbox({ stateDir: null, portBase: 0, propagationDelayMs: 0 });
  const sm = new SecretsManagerClient({
    endpoint: sandbox.endpoints.secretsManager,
    region: 'us-east-1',
    credentials,
  });
  await sm.send(new CreateSecretCommand({ Name: 'signet/media/key-ring' }));
  // Stands in for CloudFormation's pre-signed S3 response URL.
  responder = createServer(async (request: IncomingMessage, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    responses.push({ method: request.method, ...JSON.parse(Buffer.concat(chunks).toString()) });
    response.end();
  });
  responseUrl = `${await listen(responder, 0, 'response URL')}/cfn-response?X-Amz-Signature=abc`;
  vi.stubEnv(
    'SIGNET_CONFIG',
    JSON.stringify({
      aws: {
        region: 'us-east-1',
        endpoints: {
          secretsManager: sandbox.endpoints.secretsManager,
          cloudfront: sandbox.endpoints.cloudfront,
        },
      },
      profiles: {
        media: {
          domains: ['media.example.com'],
          keyRing: { secretId: 'signet/media/key-ring' },
          grants: [],
        },
      },
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

function customResource(requestType: 'Create' | 'Update' | 'Delete', profile = 'media') {
  return {
    RequestType: requestType,
    ResponseURL: responseUrl,
    StackId: 'arn:aws:cloudformation:us-east-1:123456789012:stack/signet-prod/abc',
    RequestId: `req-${requestType}`,
    LogicalResourceId: 'MediaBootstrap',
    ResourceType: 'Custom::SignetBootstrap',
    ...(requestType === 'Create' ? {} : { PhysicalResourceId: `signet-bootstrap-${profile}` }),
    ResourceProperties: {
      ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:signet-rotator',
      Profile: profile,
    },
  };
}

describe('functions/rotator handler', () => {
  it('bootstraps a profile as a custom resource Create and answers CloudFormation with the key group id', async () => {
    responses = [];
    await handler(customResource('Create'), lambdaContext());
    expect(responses).toHaveLength(1);
    const answer = responses[0]!;
    expect(answer).toMatchObject({
      method: 'PUT',
      Status: 'SUCCESS',
      PhysicalResourceId: 'signet-bootstrap-media',
      RequestId: 'req-Create',
      LogicalResourceId: 'MediaBootstrap',
    });
    const keyGroupId = (answer.Data as { KeyGroupId: string }).KeyGroupId;
    const cf = new CloudFrontClient({
      endpoint: sandbox.endpoints.cloudfront,
      region: 'us-east-1',
      credentials,
    });
    const group = await cf.send(new GetKeyGroupCommand({ Id: keyGroupId }));
    expect(group.KeyGroup?.KeyGroupConfig?.Items).toHaveLength(1);
    const sm = new SecretsManagerClient({
      endpoint: sandbox.endpoints.secretsManager,
      region: 'us-east-1',
      credentials,
    });
    const ring = JSON.parse(
      (await sm.send(new GetSecretValueCommand({ SecretId: 'signet/media/key-ring' }))).SecretString!,
    );
    expect(ring.keyGroupId).toBe(keyGroupId);
    expect(ring.keys[0].state).toBe('pending'); // activated by a scheduled run once propagation has passed
  });

  it('runs every profile on the schedule and reports what each did', async () => {
    const summary = (await handler(
      { source: 'aws.events', 'detail-type': 'Scheduled Event' },
      lambdaContext(),
    )) as {
      profiles: { profile: string; ok: boolean; action: string }[];
    };
    expect(summary.profiles).toEqual([
      expect.objectContaining({ profile: 'media', ok: true, action: 'none' }),
    ]);
  });

  it('fails the one scheduled run that first sees a broken invariant, not every run after it', async () => {
    const sm = new SecretsManagerClient({
      endpoint: sandbox.endpoints.secretsManager,
      region: 'us-east-1',
      credentials,
    });
    const ring = JSON.parse(
      (await sm.send(new GetSecretValueCommand({ SecretId: 'signet/media/key-ring' }))).SecretString!,
    );
    // A key that left the group a minute ago while URLs it signed stay valid for another hour.
    const now = Date.now();
    ring.history.push({
      id: 'KGONEKEY000001',
      fingerprint: 'sha256:gone',
      activatedAt: new Date(now - 86_400_000).toISOString(),
      retiredAt: new Date(now - 120_000).toISOString(),
      removedAt: new Date(now - 60_000).toISOString(),
      validUntil: new Date(now + 3_600_000).toISOString(),
    });
    await sm.send(
      new PutSecretValueCommand({ SecretId: 'signet/media/key-ring', SecretString: JSON.stringify(ring) }),
    );
    const scheduled = { source: 'aws.events', 'detail-type': 'Scheduled Event' };
    await expect(handler(scheduled, lambdaContext())).rejects.toMatchObject({
      code: 'ERR_ROTATION_RUN_FAILED',
      summary: { profiles: [expect.objectContaining({ profile: 'media', ok: false })] },
    });
    // The ring remembers it; the next run (a Lambda retry, or the next schedule) succeeds.
    const after = JSON.parse(
      (await sm.send(new GetSecretValueCommand({ SecretId: 'signet/media/key-ring' }))).SecretString!,
    );
    expect(after.incidents).toEqual([
      { code: 'KEY_REMOVED_TOO_EARLY', keyId: 'KGONEKEY000001', firstSeenAt: expect.any(String) },
    ]);
    expect(await handler(scheduled, lambdaContext())).toEqual({
      profiles: [expect.objectContaining({ profile: 'media', ok: true })],
    });
  });

  it('leaves keys in place on Delete, and answers FAILED (not a hung stack) for an unknown profile', async () => {
    responses = [];
    await handler(customResource('Delete'), lambdaContext());
    expect(responses[0]).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: 'signet-bootstrap-media' });
    await handler(customResource('Create', 'nope'), lambdaContext());
    expect(responses[1]).toMatchObject({ Status: 'FAILED' });
    expect(String(responses[1]!.Reason)).toContain('Expected a profile of the config (media); got nope.');
  });
});
