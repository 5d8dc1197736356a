import { generateKeyPairSync } from 'node:crypto';
import { CloudFrontClient, CreatePublicKeyCommand, ListPublicKeysCommand } from '@aws-sdk/client-cloudfront';
import {
  CreateSecretCommand,
  GetSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../support/cli.ts';
import { startSignet } from '../../support/process.ts';

interface Endpoints {
  secretsManager: string;
  cloudfront: string;
  edge: string;
}

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

describe('signet sandbox', () => {
  it('prints its endpoints, serves the real SDKs, keeps state across a restart and stops on SIGINT within a second', async () => {
    const dir = tempDir();
    const first = await startSignet<Endpoints>(['sandbox', '--json', '--port-base', '0'], { cwd: dir });
    expect(Object.keys(first.ready)).toEqual(['secretsManager', 'cloudfront', 'edge']);
    for (const url of Object.values(first.ready)) expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    const sm = new SecretsManagerClient({
      endpoint: first.ready.secretsManager,
      region: 'us-east-1',
      credentials,
    });
    await sm.send(new CreateSecretCommand({ Name: 'signet/demo', SecretString: '{"hello":"world"}' }));
    const cf = new CloudFrontClient({ endpoint: first.ready.cloudfront, region: 'us-east-1', credentials });
    const pem = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey.export({
      type: 'spki',
      format: 'pem',
    }) as string;
    await cf.send(
      new CreatePublicKeyCommand({
        PublicKeyConfig: { CallerReference: 'r1', Name: 'restart-test', EncodedKey: pem },
      }),
    );
    const stopped = await first.stop('SIGINT');
    expect(stopped.code).toBe(0);
    expect(stopped.ms).toBeLessThan(1000);

    const second = await startSignet<Endpoints>(['sandbox', '--json', '--port-base', '0'], { cwd: dir });
    const sm2 = new SecretsManagerClient({
      endpoint: second.ready.secretsManager,
      region: 'us-east-1',
      credentials,
    });
    const secret = await sm2.send(new GetSecretValueCommand({ SecretId: 'signet/demo' }));
    expect(secret.SecretString).toBe('{"hello":"world"}');
    const cf2 = new CloudFrontClient({ endpoint: second.ready.cloudfront, region: 'us-east-1', credentials });
    const keys = await cf2.send(new ListPublicKeysCommand({}));
    expect(keys.PublicKeyList?.Items?.map((k) => k.Name)).toEqual(['restart-test']);
    expect((await second.stop('SIGTERM')).code).toBe(0);
  });

  it('fails with a clear message (exit 3) when a port is taken', async () => {
    const holder = await startSignet<Endpoints>(['sandbox', '--json', '--memory', '--port-base', '0']);
    const port = Number(new URL(holder.ready.secretsManager).port);
    const clash = startSignet<Endpoints>(['sandbox', '--json', '--memory', '--port-base', String(port)]);
    await expect(clash).rejects.toThrow(
      /exited with 3[\s\S]*Port \d+ for the Secrets Manager stand-in is already in use/,
    );
    await holder.stop();
  });
});
