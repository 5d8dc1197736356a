import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  InternalServiceError,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  SecretsManagerServiceException,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSecretsManagerStandIn } from '../../../infra/local/secrets-manager.ts';
import { FileStateStore, MemoryStateStore, type StateStore } from '../../../infra/local/state.ts';
import {
  rawRequest,
  type SecretsManagerFixture,
  startFixture,
} from '../../support/secrets-manager-fixture.ts';

const TOKEN_A = 'aaaaaaaa-0000-4000-8000-000000000001';
const TOKEN_B = 'bbbbbbbb-0000-4000-8000-000000000002';

describe('the awsJson1_1 protocol edge', () => {
  let sandbox: SecretsManagerFixture;

  beforeEach(async () => {
    sandbox = await startFixture();
  });

  afterEach(async () => {
    await sandbox.stop();
  });

  async function errorOf(response: Response): Promise<{ status: number; type: string; message: string }> {
    expect(response.headers.get('content-type')).toBe('application/x-amz-json-1.1');
    const body = (await response.json()) as { __type: string; Message: string };
    expect(response.headers.get('x-amzn-errortype')).toBe(body.__type);
    return { status: response.status, type: body.__type, message: body.Message };
  }

  const target = (operation: string) => ({ 'x-amz-target': `secretsmanager.${operation}` });

  it('answers a successful call with JSON 1.1 and a request id', async () => {
    const response = await rawRequest(
      sandbox.url,
      '{"Name":"raw","SecretString":"v"}',
      target('CreateSecret'),
    );
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/x-amz-json-1.1');
    expect(response.headers.get('x-amzn-requestid')).toMatch(/^[0-9a-f-]{36}$/);
    expect(await response.json()).toMatchObject({ Name: 'raw', VersionId: expect.any(String) });
  });

  it('answers malformed JSON with a SerializationException', async () => {
    const response = await rawRequest(sandbox.url, '{"SecretId": ', target('GetSecretValue'));
    expect(await errorOf(response)).toEqual({
      status: 400,
      type: 'SerializationException',
      message: 'Expected the request body to be JSON; it is not.',
    });
  });

  it('answers a body that is not an object, or a member of the wrong type, with a SerializationException', async () => {
    const array = await errorOf(await rawRequest(sandbox.url, '[1]', target('GetSecretValue')));
    expect(array).toMatchObject({ status: 400, type: 'SerializationException' });
    const wrongType = await errorOf(
      await rawRequest(sandbox.url, '{"Name":"n","SecretString":5}', target('CreateSecret')),
    );
    expect(wrongType).toEqual({
      status: 400,
      type: 'SerializationException',
      message: 'Expected SecretString to be a string, got number.',
    });
  });

  it('treats an empty body as an empty request and names the missing member', async () => {
    const error = await errorOf(await rawRequest(sandbox.url, '', target('DescribeSecret')));
    expect(error).toEqual({
      status: 400,
      type: 'InvalidParameterException',
      message: 'Expected SecretId to be set; it is missing.',
    });
  });

  it('answers an unknown operation, a missing target and a GET with UnknownOperationException', async () => {
    const unknown = await errorOf(await rawRequest(sandbox.url, '{}', target('RotateSecret')));
    expect(unknown.status).toBe(400);
    expect(unknown.type).toBe('UnknownOperationException');
    expect(unknown.message).toContain('got RotateSecret');
    const missing = await errorOf(await rawRequest(sandbox.url, '{}'));
    expect(missing).toMatchObject({ status: 400, type: 'UnknownOperationException' });
    expect(missing.message).toContain('(none)');
    const get = await errorOf(await rawRequest(sandbox.url, '', target('GetSecretValue'), 'GET'));
    expect(get).toMatchObject({ status: 400, type: 'UnknownOperationException' });
  });

  it('refuses a body that is not JSON by Content-Type', async () => {
    const error = await errorOf(
      await rawRequest(sandbox.url, 'SecretId=x', {
        ...target('GetSecretValue'),
        'content-type': 'text/plain',
      }),
    );
    expect(error).toMatchObject({ status: 400, type: 'SerializationException' });
    expect(error.message).toBe('Expected Content-Type application/x-amz-json-1.1, got text/plain.');
  });

  it('answers a body over 1 MiB with 413, then keeps serving', async () => {
    const huge = JSON.stringify({ SecretId: 'x', SecretString: 'a'.repeat(1024 * 1024) });
    const error = await errorOf(await rawRequest(sandbox.url, huge, target('PutSecretValue')));
    expect(error).toEqual({
      status: 413,
      type: 'RequestEntityTooLargeException',
      message: 'Expected a request body of at most 1048576 bytes.',
    });

    // Through the SDK the same refusal arrives as a service exception carrying the type and status.
    const sdkError = await sandbox.client
      .send(new PutSecretValueCommand({ SecretId: 'x', SecretString: 'a'.repeat(1024 * 1024) }))
      .catch((e) => e);
    expect(sdkError).toBeInstanceOf(SecretsManagerServiceException);
    expect(sdkError.name).toBe('RequestEntityTooLargeException');
    expect(sdkError.$metadata.httpStatusCode).toBe(413);

    await sandbox.client.send(new CreateSecretCommand({ Name: 'after', SecretString: 'still here' }));
    const value = await sandbox.client.send(new GetSecretValueCommand({ SecretId: 'after' }));
    expect(value.SecretString).toBe('still here');
  });

  it('ends a chunked body over 1 MiB (no Content-Length) instead of hanging', async () => {
    const outcome = await new Promise<string>((resolve) => {
      const req = request(`${sandbox.url}/`, {
        method: 'POST',
        headers: { ...target('PutSecretValue'), 'content-type': 'application/x-amz-json-1.1' },
      });
      req.on('response', (response) => {
        response.resume();
        resolve(`status ${response.statusCode}`);
      });
      req.on('error', (error: NodeJS.ErrnoException) => resolve(`error ${error.code}`));
      const chunk = 'a'.repeat(64 * 1024);
      let sent = 0;
      const pump = () => {
        while (sent < 40) {
          sent++;
          if (!req.write(chunk)) return void req.once('drain', pump);
        }
        req.end();
      };
      pump();
    });
    expect(outcome).toMatch(/^(status 413|error (ECONNRESET|EPIPE))$/);
    const response = await rawRequest(sandbox.url, '{"Name":"next"}', target('CreateSecret'));
    expect(response.status).toBe(200);
  });

  it('counts calls per operation, failed ones included', async () => {
    const { client, standIn } = sandbox;
    await client.send(new CreateSecretCommand({ Name: 'counted', SecretString: 'v' }));
    for (let i = 0; i < 3; i++) await client.send(new GetSecretValueCommand({ SecretId: 'counted' }));
    await client.send(new GetSecretValueCommand({ SecretId: 'missing' })).catch(() => undefined);
    expect(standIn.countCalls('GetSecretValue')).toBe(4);
    expect(standIn.calls).toEqual({ CreateSecret: 1, GetSecretValue: 4 });
    standIn.resetCalls();
    expect(standIn.countCalls('GetSecretValue')).toBe(0);
  });

  it('leaves one AWSCURRENT and one AWSPREVIOUS after 300 concurrent PutSecretValue calls', async () => {
    const { client, standIn } = sandbox;
    await client.send(new CreateSecretCommand({ Name: 'busy', SecretString: 'v0' }));
    const writes = Array.from({ length: 300 }, (_, i) =>
      client.send(new PutSecretValueCommand({ SecretId: 'busy', SecretString: `v${i + 1}` })),
    );
    const results = await Promise.all(writes);
    expect(new Set(results.map((r) => r.VersionId)).size).toBe(300);
    expect(standIn.countCalls('PutSecretValue')).toBe(300);

    const listed = await client.send(
      new ListSecretVersionIdsCommand({ SecretId: 'busy', IncludeDeprecated: true }),
    );
    const versions = listed.Versions ?? [];
    const holders = (label: string) => versions.filter((v) => v.VersionStages?.includes(label));
    expect(holders('AWSCURRENT')).toHaveLength(1);
    expect(holders('AWSPREVIOUS')).toHaveLength(1);
    expect(holders('AWSPREVIOUS')[0]?.VersionId).not.toBe(holders('AWSCURRENT')[0]?.VersionId);
    // Deprecated versions beyond AWS's 100-version quota are pruned.
    expect(versions.length).toBeLessThanOrEqual(100);

    const current = await client.send(new GetSecretValueCommand({ SecretId: 'busy' }));
    expect(current.VersionId).toBe(holders('AWSCURRENT')[0]?.VersionId);
    const described = await client.send(new DescribeSecretCommand({ SecretId: 'busy' }));
    expect(Object.keys(described.VersionIdsToStages ?? {})).toHaveLength(2);
  });
});

describe('state', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'signet-secrets-manager-'));
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('survives a restart with FileStateStore: values, ARNs, labels and deletions', async () => {
    const first = await startFixture({ store: new FileStateStore(dir, 'secrets-manager') });
    const created = await first.client.send(
      new CreateSecretCommand({ Name: 'ring', SecretString: 'v1', ClientRequestToken: TOKEN_A }),
    );
    await first.client.send(
      new PutSecretValueCommand({
        SecretId: 'ring',
        SecretString: 'v2',
        ClientRequestToken: TOKEN_B,
        VersionStages: ['AWSPENDING'],
      }),
    );
    await first.client.send(
      new UpdateSecretVersionStageCommand({
        SecretId: 'ring',
        VersionStage: 'AWSCURRENT',
        MoveToVersionId: TOKEN_B,
        RemoveFromVersionId: TOKEN_A,
      }),
    );
    await first.client.send(new CreateSecretCommand({ Name: 'doomed', SecretString: 'x' }));
    await first.client.send(new DeleteSecretCommand({ SecretId: 'doomed' }));

    // Saved after every write, before any shutdown.
    const onDisk = JSON.parse(readFileSync(join(dir, 'secrets-manager.json'), 'utf8'));
    expect(onDisk.secrets.map((s: { name: string }) => s.name)).toEqual(['ring', 'doomed']);
    await first.stop();

    const second = await startFixture({ store: new FileStateStore(dir, 'secrets-manager') });
    try {
      const value = await second.client.send(new GetSecretValueCommand({ SecretId: created.ARN }));
      expect(value).toMatchObject({ SecretString: 'v2', VersionId: TOKEN_B });
      const described = await second.client.send(new DescribeSecretCommand({ SecretId: 'ring' }));
      expect(described.VersionIdsToStages).toEqual({
        [TOKEN_A]: ['AWSPREVIOUS'],
        [TOKEN_B]: ['AWSPENDING', 'AWSCURRENT'],
      });
      // Idempotency survives too: the same token and value is still the same version.
      const retry = await second.client.send(
        new PutSecretValueCommand({ SecretId: 'ring', SecretString: 'v2', ClientRequestToken: TOKEN_B }),
      );
      expect(retry.VersionId).toBe(TOKEN_B);
      const doomed = await second.client.send(new DescribeSecretCommand({ SecretId: 'doomed' }));
      expect(doomed.DeletedDate).toBeInstanceOf(Date);
    } finally {
      await second.stop();
    }
  });

  it('refuses to start from a state file of another shape, saying how to recover', () => {
    writeFileSync(join(dir, 'secrets-manager.json'), JSON.stringify({ schema: 'other', secrets: [] }));
    expect(() => createSecretsManagerStandIn({ store: new FileStateStore(dir, 'secrets-manager') })).toThrow(
      /schema "signet\.sandbox\.secrets-manager\/1".*delete the state file/,
    );
    writeFileSync(
      join(dir, 'secrets-manager.json'),
      JSON.stringify({ schema: 'signet.sandbox.secrets-manager/1', secrets: [{ name: 'no arn' }] }),
    );
    expect(() => createSecretsManagerStandIn({ store: new FileStateStore(dir, 'secrets-manager') })).toThrow(
      /secrets\[0\]/,
    );
  });

  it('answers InternalServiceError and keeps the old state when the store cannot save', async () => {
    const inner = new MemoryStateStore();
    let failing = false;
    const store: StateStore = {
      load: () => inner.load(),
      save: (document) => {
        if (failing) throw new Error('disk full');
        inner.save(document);
      },
    };
    const sandbox = await startFixture({ store });
    try {
      await sandbox.client.send(new CreateSecretCommand({ Name: 'ring', SecretString: 'v1' }));
      failing = true;
      const error = await sandbox.client
        .send(new PutSecretValueCommand({ SecretId: 'ring', SecretString: 'v2' }))
        .catch((e) => e);
      expect(error).toBeInstanceOf(InternalServiceError);
      expect(error.$metadata.httpStatusCode).toBe(500);
      expect(error.message).not.toContain('disk full');
      const value = await sandbox.client.send(new GetSecretValueCommand({ SecretId: 'ring' }));
      expect(value.SecretString).toBe('v1');
    } finally {
      await sandbox.stop();
    }
  });
});
