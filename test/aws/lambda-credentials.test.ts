// The Lambda bundles' credential provider (serverless.yml custom.esbuild.alias): the role's
// credentials from the environment, as the SDK's chain reads them first, through a real SDK client.
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { defaultProvider } from '../../lib/aws/lambda-credentials.ts';
import { startFixture } from '../support/secrets-manager-fixture.ts';

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('lambda-credentials defaultProvider', () => {
  it('reads the key, secret, session token and expiry Lambda puts in the environment', async () => {
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'ASIAEXAMPLE');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'secret');
    vi.stubEnv('AWS_SESSION_TOKEN', 'token');
    vi.stubEnv('AWS_CREDENTIAL_EXPIRATION', '2030-01-01T00:00:00Z');
    expect(await defaultProvider()()).toEqual({
      accessKeyId: 'ASIAEXAMPLE',
      secretAccessKey: 'secret',
      sessionToken: 'token',
      expiration: new Date('2030-01-01T00:00:00Z'),
    });
  });

  it('refuses, naming the variables, when the environment has no credentials', async () => {
    vi.stubEnv('AWS_ACCESS_KEY_ID', '');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', '');
    await expect(defaultProvider()()).rejects.toThrow(/Expected AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/);
  });

  it('signs a real SDK client request with them (as the bundle wires it as credentialDefaultProvider)', async () => {
    const sandbox = await startFixture();
    try {
      vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIAEXAMPLE');
      vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'secret');
      const client = new SecretsManagerClient({
        endpoint: sandbox.url,
        region: 'us-east-1',
        credentialDefaultProvider: defaultProvider as never,
        maxAttempts: 1,
      });
      // The stand-in answers ResourceNotFound: the request was built, signed and sent.
      await expect(client.send(new GetSecretValueCommand({ SecretId: 'missing' }))).rejects.toMatchObject({
        name: 'ResourceNotFoundException',
      });
      client.destroy();
    } finally {
      await sandbox.stop();
    }
  });
});
