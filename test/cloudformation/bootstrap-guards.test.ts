import type { KMSClient } from '@aws-sdk/client-kms';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningKms, startKms } from '../../infra/local/kms.ts';
import { type Config, parseConfig } from '../../lib/config/index.ts';
import { noMetrics, silentLog } from '../../lib/telemetry/ports.ts';
import { createRotatorHandler } from '../../lib/wiring/rotator.ts';
import { kmsClientFor } from '../support/kms.ts';
import { FaultSwitch, injectSdkFaults } from '../support/rotation-faults.ts';
import {
  HandClock,
  type RotationSandbox,
  sdkClients,
  startRotationSandbox,
  TIMINGS,
} from '../support/rotation-sandbox.ts';

// The bootstrap custom resource on a deploy that changes no key group (docs/operators.md, "KMS
// signing" and "Deploying"): it refuses (FAILED, so CloudFormation rolls back) a switch away from
// signer: kms without kms: retiring while the ring still signs with KMS keys, never refuses the
// rollback itself, and treats the rotation step of such an Update as best effort.

const SECRET = 'signet/test/media/key-ring';
const clock = new HandClock();
let sandbox: RotationSandbox;
let kms: RunningKms;
let kmsClient: KMSClient;
const answers: { Status: string; Reason: string; Data: Record<string, string> }[] = [];

beforeAll(async () => {
  sandbox = await startRotationSandbox({ clock });
  kms = await startKms({ now: clock.now });
  kmsClient = kmsClientFor(kms);
  await sandbox.newStore(SECRET);
});
afterAll(async () => {
  kmsClient.destroy();
  await kms.close();
  await sandbox.close();
});

function configWith(signing: Record<string, unknown>): Config {
  return parseConfig({
    stage: 'test',
    profiles: {
      media: {
        domains: ['media.example.com'],
        keyRing: { secretId: SECRET },
        grants: [],
        ttl: { default: 60, max: 300 },
        cache: { ttl: 30, maxStale: 60 },
        rotation: { rotateEvery: TIMINGS.rotateEvery, propagation: TIMINGS.propagation, clockSkew: 30 },
        ...signing,
      },
    },
  });
}

/** One custom resource request through the rotator's handler; answers what it sent CloudFormation. */
async function send(
  config: Config,
  requestType: 'Create' | 'Update',
  properties: Record<string, string>,
  oldProperties?: Record<string, string>,
  clients: ReturnType<typeof sdkClients> = sandbox.clients,
): Promise<(typeof answers)[number]> {
  const handler = createRotatorHandler({
    config,
    secretsManager: clients.secretsManager,
    cloudfront: clients.cloudfront,
    kms: kmsClient,
    log: silentLog,
    metrics: noMetrics,
    now: clock.now,
    // CloudFormation's side: the pre-signed URL the answer is PUT to.
    fetch: (async (_url: string, init: { body: string }) => {
      answers.push(JSON.parse(init.body));
      return new Response(null, { status: 200 });
    }) as never,
  });
  const base = {
    ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:signet-test-rotator',
    Profile: 'media',
  };
  await handler({
    RequestType: requestType,
    ResponseURL: 'https://cloudformation-custom-resource-response.example/answer',
    StackId: 'arn:aws:cloudformation:us-east-1:123456789012:stack/signet-test/abc',
    RequestId: `req-${answers.length + 1}`,
    LogicalResourceId: 'Bootstrap',
    ResourceType: 'Custom::SignetKeyGroup',
    ...(requestType === 'Create' ? {} : { PhysicalResourceId: 'signet-bootstrap-media' }),
    ResourceProperties: { ...base, ...properties },
    ...(oldProperties === undefined ? {} : { OldResourceProperties: { ...base, ...oldProperties } }),
  } as never);
  return answers.at(-1)!;
}

async function ringKeys(): Promise<string> {
  const value = await sandbox.clients.secretsManager.send(new GetSecretValueCommand({ SecretId: SECRET }));
  return value.SecretString!;
}

describe('the bootstrap custom resource guards a deploy', () => {
  const kmsConfig = configWith({ signer: 'kms' });
  const unmarked = configWith({ signer: 'secrets-manager' });
  const retiring = configWith({ signer: 'secrets-manager', kms: 'retiring' });
  let groupId: string;

  it('refuses to switch away from signer: kms without kms: retiring while the ring signs with KMS keys', async () => {
    const created = await send(kmsConfig, 'Create', { Signer: 'kms' });
    expect(created.Status, created.Reason).toBe('SUCCESS');
    groupId = created.Data.KeyGroupId!;
    const before = await ringKeys();
    expect(before).toContain('kmsKeyArn');

    const refused = await send(unmarked, 'Update', { Signer: 'secrets-manager' }, { Signer: 'kms' });
    expect(refused.Status).toBe('FAILED');
    expect(refused.Reason).toContain(
      'Expected profiles.media to keep kms: retiring while its key ring holds KMS keys',
    );
    expect(refused.Reason).toContain('Add kms: retiring to the profile and deploy');
    // Refused before anything was written.
    expect(await ringKeys()).toBe(before);
  });

  it('never refuses the rollback (the template’s old Signer), whichever config the rotator still has', async () => {
    const rollback = await send(unmarked, 'Update', { Signer: 'kms' }, { Signer: 'secrets-manager' });
    expect(rollback).toMatchObject({ Status: 'SUCCESS', Data: { KeyGroupId: groupId } });
  });

  it('lets the switch through with kms: retiring', async () => {
    const marked = await send(retiring, 'Update', { Signer: 'kms-retiring' }, { Signer: 'kms' });
    expect(marked).toMatchObject({ Status: 'SUCCESS', Data: { KeyGroupId: groupId } });
  });

  it('an Update that keeps the key group answers SUCCESS with it even when its rotation step fails', async () => {
    // The first CloudFront call of this Update fails, as a throttled or unreachable API would.
    const faults = new FaultSwitch();
    faults.plan = { at: 1, when: 'before' };
    const clients = sdkClients({
      secretsManager: sandbox.secretsManager.url,
      cloudfront: sandbox.cloudfront.url,
    });
    injectSdkFaults(clients.cloudfront as never, faults, 'cloudfront');
    try {
      const kept = await send(
        kmsConfig,
        'Update',
        { Signer: 'kms', MetricsNamespace: 'Signet/test' },
        { Signer: 'kms' },
        clients,
      );
      expect(faults.fired).toBeDefined();
      expect(kept).toMatchObject({ Status: 'SUCCESS', Data: { KeyGroupId: groupId } });
      expect(kept.Reason).toContain("this update's rotation step failed");
      expect(kept.Reason).toContain('the schedule retries it');
    } finally {
      clients.secretsManager.destroy();
      clients.cloudfront.destroy();
    }
  });
});
