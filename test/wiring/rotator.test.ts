import { CloudFrontClient } from '@aws-sdk/client-cloudfront';
import {
  CreateSecretCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningSecretsManager, startSecretsManager } from '../../infra/local/secrets-manager.ts';
import { parseConfig } from '../../lib/config/index.ts';
import { createRotatorHandler } from '../../lib/wiring/rotator.ts';
import { RecordingLog, RecordingMetrics } from '../support/rotation-telemetry.ts';

// Every metric of a failing scheduled run is counted once (issue: a failed rotation was counted in
// RotationFailures twice, by the rotation and again by the handler, and no test noticed). Two ways
// to fail: the ring cannot be read before the run starts (the schedule counts it), and the run
// itself throws (runRotation counts it; the schedule must not count it again).

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
let secretsManager: RunningSecretsManager;
let client: SecretsManagerClient;

beforeAll(async () => {
  secretsManager = await startSecretsManager({ port: 0 });
  client = new SecretsManagerClient({
    endpoint: secretsManager.url,
    region: 'us-east-1',
    credentials,
    maxAttempts: 1,
  });
  await client.send(new CreateSecretCommand({ Name: 'signet/broken' }));
  await client.send(new PutSecretValueCommand({ SecretId: 'signet/broken', SecretString: 'not a key ring' }));
  await client.send(new CreateSecretCommand({ Name: 'signet/unreachable' }));
});
afterAll(async () => {
  client.destroy();
  await secretsManager.close();
});

describe('the scheduled rotator run, as wired for Lambda', () => {
  it('counts each failed profile once in RotationFailures, and nothing else', async () => {
    const profile = (secretId: string) => ({ domains: ['media.example.com'], keyRing: { secretId } });
    const config = parseConfig({
      aws: {
        region: 'us-east-1',
        endpoints: { secretsManager: secretsManager.url, cloudfront: 'http://127.0.0.1:9' },
      },
      profiles: { broken: profile('signet/broken'), unreachable: profile('signet/unreachable') },
    });
    // CloudFront is unreachable (nothing listens on port 9): the run for `unreachable` throws.
    const cloudfront = new CloudFrontClient({
      endpoint: 'http://127.0.0.1:9',
      region: 'us-east-1',
      credentials,
      maxAttempts: 1,
    });
    const log = new RecordingLog();
    const metrics = new RecordingMetrics();
    const handler = createRotatorHandler({ config, secretsManager: client, cloudfront, log, metrics });
    try {
      await expect(handler({ source: 'aws.events', 'detail-type': 'Scheduled Event' })).rejects.toMatchObject(
        {
          code: 'ERR_ROTATION_RUN_FAILED',
          summary: {
            profiles: [
              expect.objectContaining({ profile: 'broken', ok: false }),
              expect.objectContaining({ profile: 'unreachable', ok: false }),
            ],
          },
        },
      );
      expect(metrics.points).toEqual([
        {
          kind: 'count',
          name: 'RotationFailures',
          value: 1,
          dimensions: { profile: 'broken', code: 'ERR_KEY_RING_INVALID' },
        },
        {
          kind: 'count',
          name: 'RotationFailures',
          value: 1,
          dimensions: { profile: 'unreachable', code: expect.any(String) },
        },
      ]);
      expect(log.lines.filter((line) => line.message === 'rotation run failed')).toHaveLength(2);
    } finally {
      cloudfront.destroy();
    }
  });
});
