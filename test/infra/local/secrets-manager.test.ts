import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  InvalidNextTokenException,
  InvalidParameterException,
  InvalidRequestException,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  RestoreSecretCommand,
  type SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  deriveToken,
  ManualClock,
  type SecretsManagerFixture,
  startFixture,
} from '../../support/secrets-manager-fixture.ts';

const START = '2026-03-01T12:00:00.000Z';
const DAY_MS = 86_400_000;
const TOKEN_A = 'aaaaaaaa-0000-4000-8000-000000000001';
const TOKEN_B = 'bbbbbbbb-0000-4000-8000-000000000002';
const TOKEN_C = 'cccccccc-0000-4000-8000-000000000003';

let sandbox: SecretsManagerFixture;
let client: SecretsManagerClient;
let clock: ManualClock;

beforeEach(async () => {
  clock = new ManualClock(START);
  sandbox = await startFixture({ now: clock.now });
  client = sandbox.client;
});

afterEach(async () => {
  await sandbox.stop();
});

/** The staging labels per version, as DescribeSecret reports them. */
async function stagesOf(secretId: string): Promise<Record<string, string[]>> {
  const { VersionIdsToStages } = await client.send(new DescribeSecretCommand({ SecretId: secretId }));
  return VersionIdsToStages ?? {};
}

async function currentValue(secretId: string): Promise<string | undefined> {
  return (await client.send(new GetSecretValueCommand({ SecretId: secretId }))).SecretString;
}

/** Creates `name` with versions `v1`..`vN` put in order, each with token A, B, C. */
async function createWithVersions(name: string, count: 1 | 2 | 3): Promise<void> {
  const tokens = [TOKEN_A, TOKEN_B, TOKEN_C];
  await client.send(new CreateSecretCommand({ Name: name, SecretString: 'v1', ClientRequestToken: TOKEN_A }));
  for (let i = 1; i < count; i++) {
    await client.send(
      new PutSecretValueCommand({ SecretId: name, SecretString: `v${i + 1}`, ClientRequestToken: tokens[i] }),
    );
  }
}

describe('CreateSecret', () => {
  it('creates a secret whose first version is AWSCURRENT and whose VersionId is the token', async () => {
    const created = await client.send(
      new CreateSecretCommand({
        Name: 'signet/ring',
        SecretString: '{"keys":[]}',
        ClientRequestToken: TOKEN_A,
      }),
    );
    expect(created.Name).toBe('signet/ring');
    expect(created.VersionId).toBe(TOKEN_A);
    expect(created.ARN).toMatch(
      /^arn:aws:secretsmanager:us-east-1:000000000000:secret:signet\/ring-[A-Za-z0-9]{6}$/,
    );
    expect(await stagesOf('signet/ring')).toEqual({ [TOKEN_A]: ['AWSCURRENT'] });
  });

  it('gives a VersionId the SDK generated when the caller passes no token', async () => {
    const created = await client.send(new CreateSecretCommand({ Name: 'auto', SecretString: 'x' }));
    expect(created.VersionId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('creates no version without a value, and the first PutSecretValue becomes AWSCURRENT', async () => {
    const created = await client.send(new CreateSecretCommand({ Name: 'empty' }));
    expect(created.VersionId).toBeUndefined();
    await expect(client.send(new GetSecretValueCommand({ SecretId: 'empty' }))).rejects.toThrow(
      ResourceNotFoundException,
    );
    expect(
      (await client.send(new DescribeSecretCommand({ SecretId: 'empty' }))).VersionIdsToStages,
    ).toBeUndefined();

    // Even when asked for AWSPENDING only, AWS labels a secret's first version AWSCURRENT too.
    const put = await client.send(
      new PutSecretValueCommand({
        SecretId: 'empty',
        SecretString: 'first',
        ClientRequestToken: TOKEN_A,
        VersionStages: ['AWSPENDING'],
      }),
    );
    expect(put.VersionStages).toEqual(['AWSPENDING', 'AWSCURRENT']);
    expect(await currentValue('empty')).toBe('first');
  });

  it('refuses a name that exists with ResourceExistsException', async () => {
    await client.send(new CreateSecretCommand({ Name: 'dup', SecretString: 'a' }));
    const error = await client
      .send(new CreateSecretCommand({ Name: 'dup', SecretString: 'b' }))
      .catch((e) => e);
    expect(error).toBeInstanceOf(ResourceExistsException);
    expect(error.message).toContain('dup');
    expect(error.$metadata.httpStatusCode).toBe(400);
  });

  it('treats a retry with the same token and value as success with the same version', async () => {
    const input = { Name: 'retry', SecretString: 'a', ClientRequestToken: TOKEN_A };
    const first = await client.send(new CreateSecretCommand(input));
    const second = await client.send(new CreateSecretCommand(input));
    expect(second).toMatchObject({ ARN: first.ARN, VersionId: TOKEN_A });
    await expect(
      client.send(new CreateSecretCommand({ ...input, SecretString: 'different' })),
    ).rejects.toBeInstanceOf(ResourceExistsException);
  });

  it('refuses both SecretString and SecretBinary, a bad name and a missing name', async () => {
    await expect(
      client.send(
        new CreateSecretCommand({ Name: 'both', SecretString: 'a', SecretBinary: Uint8Array.of(1) }),
      ),
    ).rejects.toBeInstanceOf(InvalidParameterException);
    await expect(
      client.send(new CreateSecretCommand({ Name: 'spaces are not allowed' })),
    ).rejects.toBeInstanceOf(InvalidParameterException);
    const missing = await client.send(new CreateSecretCommand({ Name: undefined })).catch((e) => e);
    expect(missing).toBeInstanceOf(InvalidParameterException);
    expect(missing.message).toBe('Expected Name to be set; it is missing.');
  });

  it('keeps Description and Tags for DescribeSecret', async () => {
    await client.send(
      new CreateSecretCommand({
        Name: 'described',
        Description: 'key ring',
        Tags: [{ Key: 'app', Value: 'signet' }],
      }),
    );
    const described = await client.send(new DescribeSecretCommand({ SecretId: 'described' }));
    expect(described.Description).toBe('key ring');
    expect(described.Tags).toEqual([{ Key: 'app', Value: 'signet' }]);
  });
});

describe('GetSecretValue', () => {
  it('reads AWSCURRENT by name, ARN and partial ARN, with epoch-second dates', async () => {
    const { ARN } = await client.send(
      new CreateSecretCommand({ Name: 'read-me', SecretString: 'hello', ClientRequestToken: TOKEN_A }),
    );
    const arn = ARN ?? '';
    for (const secretId of ['read-me', arn, arn.slice(0, -7)]) {
      const value = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
      expect(value).toMatchObject({
        ARN: arn,
        Name: 'read-me',
        SecretString: 'hello',
        VersionId: TOKEN_A,
        VersionStages: ['AWSCURRENT'],
      });
      expect(value.CreatedDate).toEqual(new Date(START));
    }
  });

  it('reads a version by VersionId or by VersionStage', async () => {
    await createWithVersions('versions', 2);
    const byId = await client.send(new GetSecretValueCommand({ SecretId: 'versions', VersionId: TOKEN_A }));
    expect(byId.SecretString).toBe('v1');
    const byStage = await client.send(
      new GetSecretValueCommand({ SecretId: 'versions', VersionStage: 'AWSPREVIOUS' }),
    );
    expect(byStage).toMatchObject({ SecretString: 'v1', VersionId: TOKEN_A });
    const both = await client.send(
      new GetSecretValueCommand({ SecretId: 'versions', VersionId: TOKEN_B, VersionStage: 'AWSCURRENT' }),
    );
    expect(both.SecretString).toBe('v2');
  });

  it('answers ResourceNotFoundException for a missing secret, version, label or label mismatch', async () => {
    await createWithVersions('versions', 2);
    const missingSecret = await client.send(new GetSecretValueCommand({ SecretId: 'nope' })).catch((e) => e);
    expect(missingSecret).toBeInstanceOf(ResourceNotFoundException);
    expect(missingSecret.message).toBe("Secrets Manager can't find the specified secret.");
    expect(missingSecret.$metadata.httpStatusCode).toBe(400);

    const missingVersion = await client
      .send(new GetSecretValueCommand({ SecretId: 'versions', VersionId: TOKEN_C }))
      .catch((e) => e);
    expect(missingVersion).toBeInstanceOf(ResourceNotFoundException);
    expect(missingVersion.message).toContain(TOKEN_C);

    const missingLabel = await client
      .send(new GetSecretValueCommand({ SecretId: 'versions', VersionStage: 'AWSPENDING' }))
      .catch((e) => e);
    expect(missingLabel).toBeInstanceOf(ResourceNotFoundException);
    expect(missingLabel.message).toContain('AWSPENDING');

    await expect(
      client.send(
        new GetSecretValueCommand({ SecretId: 'versions', VersionId: TOKEN_A, VersionStage: 'AWSCURRENT' }),
      ),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
  });

  it('round-trips SecretBinary', async () => {
    const bytes = Uint8Array.from([0, 1, 2, 250, 255]);
    await client.send(new CreateSecretCommand({ Name: 'binary', SecretBinary: bytes }));
    const value = await client.send(new GetSecretValueCommand({ SecretId: 'binary' }));
    expect(value.SecretString).toBeUndefined();
    expect(Array.from(value.SecretBinary ?? [])).toEqual(Array.from(bytes));
  });

  it('names the missing SecretId', async () => {
    const error = await client.send(new GetSecretValueCommand({ SecretId: undefined })).catch((e) => e);
    expect(error).toBeInstanceOf(InvalidParameterException);
    expect(error.message).toContain('SecretId');
  });
});

describe('PutSecretValue', () => {
  it('moves AWSCURRENT to the new version and AWSPREVIOUS to the one it left', async () => {
    await createWithVersions('ring', 2);
    expect(await stagesOf('ring')).toEqual({ [TOKEN_A]: ['AWSPREVIOUS'], [TOKEN_B]: ['AWSCURRENT'] });

    const put = await client.send(
      new PutSecretValueCommand({ SecretId: 'ring', SecretString: 'v3', ClientRequestToken: TOKEN_C }),
    );
    expect(put).toMatchObject({ VersionId: TOKEN_C, VersionStages: ['AWSCURRENT'], Name: 'ring' });
    // v1 lost its last label: deprecated, so DescribeSecret leaves it out.
    expect(await stagesOf('ring')).toEqual({ [TOKEN_B]: ['AWSPREVIOUS'], [TOKEN_C]: ['AWSCURRENT'] });
    expect(await currentValue('ring')).toBe('v3');
  });

  it('with VersionStages attaches only those labels, moving them off other versions', async () => {
    await createWithVersions('ring', 1);
    await client.send(
      new PutSecretValueCommand({
        SecretId: 'ring',
        SecretString: 'pending-1',
        ClientRequestToken: TOKEN_B,
        VersionStages: ['AWSPENDING'],
      }),
    );
    expect(await stagesOf('ring')).toEqual({ [TOKEN_A]: ['AWSCURRENT'], [TOKEN_B]: ['AWSPENDING'] });
    await client.send(
      new PutSecretValueCommand({
        SecretId: 'ring',
        SecretString: 'pending-2',
        ClientRequestToken: TOKEN_C,
        VersionStages: ['AWSPENDING', 'custom'],
      }),
    );
    expect(await stagesOf('ring')).toEqual({
      [TOKEN_A]: ['AWSCURRENT'],
      [TOKEN_C]: ['AWSPENDING', 'custom'],
    });
    expect(await currentValue('ring')).toBe('v1');
  });

  it('is idempotent for the same token and value, and refuses the same token with another value', async () => {
    await createWithVersions('ring', 1);
    const input = { SecretId: 'ring', SecretString: 'v2', ClientRequestToken: TOKEN_B };
    await client.send(new PutSecretValueCommand(input));
    const retry = await client.send(new PutSecretValueCommand(input));
    expect(retry).toMatchObject({ VersionId: TOKEN_B, VersionStages: ['AWSCURRENT'] });
    // The retry moved no label: v1 is still AWSPREVIOUS, not deprecated.
    expect(await stagesOf('ring')).toEqual({ [TOKEN_A]: ['AWSPREVIOUS'], [TOKEN_B]: ['AWSCURRENT'] });

    const conflict = await client
      .send(new PutSecretValueCommand({ ...input, SecretString: 'other' }))
      .catch((e) => e);
    expect(conflict).toBeInstanceOf(ResourceExistsException);
    expect(conflict.message).toContain(TOKEN_B);
    expect(await currentValue('ring')).toBe('v2');
  });

  it('refuses a ClientRequestToken shorter than 32 or longer than 64 characters', async () => {
    await createWithVersions('ring', 1);
    for (const token of ['x'.repeat(31), 'x'.repeat(65)]) {
      const error = await client
        .send(new PutSecretValueCommand({ SecretId: 'ring', SecretString: 'v', ClientRequestToken: token }))
        .catch((e) => e);
      expect(error).toBeInstanceOf(InvalidParameterException);
      expect(error.message).toBe(`Expected ClientRequestToken of 32 to 64 characters, got ${token.length}.`);
    }
    for (const token of ['x'.repeat(32), 'y'.repeat(64)]) {
      const put = await client.send(
        new PutSecretValueCommand({ SecretId: 'ring', SecretString: token, ClientRequestToken: token }),
      );
      expect(put.VersionId).toBe(token);
    }
  });

  it('refuses a call without a value, with an empty label list, and on a missing secret', async () => {
    await createWithVersions('ring', 1);
    const noValue = await client.send(new PutSecretValueCommand({ SecretId: 'ring' })).catch((e) => e);
    expect(noValue).toBeInstanceOf(InvalidParameterException);
    expect(noValue.message).toContain('SecretString or SecretBinary');
    await expect(
      client.send(new PutSecretValueCommand({ SecretId: 'ring', SecretString: 'v', VersionStages: [] })),
    ).rejects.toBeInstanceOf(InvalidParameterException);
    await expect(
      client.send(new PutSecretValueCommand({ SecretId: 'missing', SecretString: 'v' })),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
  });
});

describe('DescribeSecret', () => {
  it('reports dates as epoch seconds and LastAccessedDate to the day', async () => {
    await createWithVersions('ring', 1);
    clock.advance(60_000);
    await client.send(new PutSecretValueCommand({ SecretId: 'ring', SecretString: 'v2' }));
    await client.send(new GetSecretValueCommand({ SecretId: 'ring' }));
    const described = await client.send(new DescribeSecretCommand({ SecretId: 'ring' }));
    expect(described.CreatedDate).toEqual(new Date(START));
    expect(described.LastChangedDate).toEqual(new Date(Date.parse(START) + 60_000));
    expect(described.LastAccessedDate).toEqual(new Date('2026-03-01T00:00:00.000Z'));
    expect(described.RotationEnabled).toBe(false);
    expect(described.DeletedDate).toBeUndefined();
  });

  it('answers ResourceNotFoundException for a missing secret', async () => {
    await expect(client.send(new DescribeSecretCommand({ SecretId: 'missing' }))).rejects.toBeInstanceOf(
      ResourceNotFoundException,
    );
  });
});

describe('UpdateSecretVersionStage', () => {
  async function withPending(): Promise<void> {
    await createWithVersions('ring', 2);
    await client.send(
      new PutSecretValueCommand({
        SecretId: 'ring',
        SecretString: 'v3',
        ClientRequestToken: TOKEN_C,
        VersionStages: ['AWSPENDING'],
      }),
    );
  }

  it('moves AWSCURRENT when RemoveFromVersionId names its holder, and AWSPREVIOUS follows', async () => {
    await withPending();
    const moved = await client.send(
      new UpdateSecretVersionStageCommand({
        SecretId: 'ring',
        VersionStage: 'AWSCURRENT',
        MoveToVersionId: TOKEN_C,
        RemoveFromVersionId: TOKEN_B,
      }),
    );
    expect(moved.Name).toBe('ring');
    expect(await stagesOf('ring')).toEqual({
      [TOKEN_B]: ['AWSPREVIOUS'],
      [TOKEN_C]: ['AWSPENDING', 'AWSCURRENT'],
    });
    expect(await currentValue('ring')).toBe('v3');
  });

  it('refuses to move a label held elsewhere without RemoveFromVersionId, naming the holder', async () => {
    await withPending();
    const error = await client
      .send(
        new UpdateSecretVersionStageCommand({
          SecretId: 'ring',
          VersionStage: 'AWSCURRENT',
          MoveToVersionId: TOKEN_C,
        }),
      )
      .catch((e) => e);
    expect(error).toBeInstanceOf(InvalidParameterException);
    expect(error.message).toContain(TOKEN_B);
    expect(await currentValue('ring')).toBe('v2');
  });

  it('refuses a RemoveFromVersionId that does not hold the label, saying which does', async () => {
    await withPending();
    const error = await client
      .send(
        new UpdateSecretVersionStageCommand({
          SecretId: 'ring',
          VersionStage: 'AWSCURRENT',
          MoveToVersionId: TOKEN_C,
          RemoveFromVersionId: TOKEN_A,
        }),
      )
      .catch((e) => e);
    expect(error).toBeInstanceOf(InvalidParameterException);
    expect(error.message).toBe(
      `Expected RemoveFromVersionId to name the version that carries AWSCURRENT (${TOKEN_B}), got ${TOKEN_A}.`,
    );
    expect(await stagesOf('ring')).toEqual({
      [TOKEN_A]: ['AWSPREVIOUS'],
      [TOKEN_B]: ['AWSCURRENT'],
      [TOKEN_C]: ['AWSPENDING'],
    });
  });

  it('removes a label when only RemoveFromVersionId is given', async () => {
    await withPending();
    await client.send(
      new UpdateSecretVersionStageCommand({
        SecretId: 'ring',
        VersionStage: 'AWSPENDING',
        RemoveFromVersionId: TOKEN_C,
      }),
    );
    expect(await stagesOf('ring')).toEqual({ [TOKEN_A]: ['AWSPREVIOUS'], [TOKEN_B]: ['AWSCURRENT'] });
  });

  it('attaches a label no version holds without RemoveFromVersionId', async () => {
    await withPending();
    await client.send(
      new UpdateSecretVersionStageCommand({
        SecretId: 'ring',
        VersionStage: 'reviewed',
        MoveToVersionId: TOKEN_A,
      }),
    );
    expect((await stagesOf('ring'))[TOKEN_A]).toEqual(['AWSPREVIOUS', 'reviewed']);
  });

  it('treats moving a label onto the version that already holds it as a no-op', async () => {
    await withPending();
    await client.send(
      new UpdateSecretVersionStageCommand({
        SecretId: 'ring',
        VersionStage: 'AWSCURRENT',
        MoveToVersionId: TOKEN_B,
      }),
    );
    expect((await stagesOf('ring'))[TOKEN_B]).toEqual(['AWSCURRENT']);
  });

  it('refuses an unknown version, a call naming no version, and removing AWSCURRENT outright', async () => {
    await withPending();
    const unknown = 'dddddddd-0000-4000-8000-000000000004';
    const calls = [
      { VersionStage: 'AWSCURRENT', MoveToVersionId: unknown, RemoveFromVersionId: TOKEN_B },
      { VersionStage: 'AWSPENDING', RemoveFromVersionId: unknown },
      { VersionStage: 'AWSPENDING' },
      { VersionStage: 'AWSCURRENT', RemoveFromVersionId: TOKEN_B },
      { VersionStage: undefined, MoveToVersionId: TOKEN_A },
    ];
    for (const call of calls) {
      const error = await client
        .send(new UpdateSecretVersionStageCommand({ SecretId: 'ring', ...call }))
        .catch((e) => e);
      expect(error, JSON.stringify(call)).toBeInstanceOf(InvalidParameterException);
    }
    expect(await currentValue('ring')).toBe('v2');
  });
});

describe('ListSecretVersionIds', () => {
  it('lists labelled versions, deprecated ones only on request, newest first', async () => {
    await createWithVersions('ring', 3);
    const listed = await client.send(new ListSecretVersionIdsCommand({ SecretId: 'ring' }));
    expect(listed.Name).toBe('ring');
    expect(listed.Versions?.map((v) => [v.VersionId, v.VersionStages])).toEqual([
      [TOKEN_C, ['AWSCURRENT']],
      [TOKEN_B, ['AWSPREVIOUS']],
    ]);
    expect(listed.Versions?.[0]?.CreatedDate).toEqual(new Date(START));

    const all = await client.send(
      new ListSecretVersionIdsCommand({ SecretId: 'ring', IncludeDeprecated: true }),
    );
    expect(all.Versions?.map((v) => v.VersionId)).toEqual([TOKEN_C, TOKEN_B, TOKEN_A]);
    expect(all.Versions?.[2]?.VersionStages).toEqual([]);
  });

  it('pages with MaxResults and NextToken, and refuses a forged NextToken', async () => {
    await createWithVersions('ring', 3);
    const first = await client.send(
      new ListSecretVersionIdsCommand({ SecretId: 'ring', IncludeDeprecated: true, MaxResults: 2 }),
    );
    expect(first.Versions).toHaveLength(2);
    expect(first.NextToken).toBeTypeOf('string');
    const second = await client.send(
      new ListSecretVersionIdsCommand({
        SecretId: 'ring',
        IncludeDeprecated: true,
        MaxResults: 2,
        NextToken: first.NextToken,
      }),
    );
    expect(second.Versions?.map((v) => v.VersionId)).toEqual([TOKEN_A]);
    expect(second.NextToken).toBeUndefined();
    await expect(
      client.send(new ListSecretVersionIdsCommand({ SecretId: 'ring', NextToken: 'not-a-token' })),
    ).rejects.toBeInstanceOf(InvalidNextTokenException);
    await expect(
      client.send(new ListSecretVersionIdsCommand({ SecretId: 'ring', MaxResults: 0 })),
    ).rejects.toBeInstanceOf(InvalidParameterException);
  });
});

describe('DeleteSecret and RestoreSecret', () => {
  it('marks a secret for deletion: reads and writes fail, DescribeSecret shows DeletedDate', async () => {
    await createWithVersions('ring', 1);
    const deleted = await client.send(new DeleteSecretCommand({ SecretId: 'ring', RecoveryWindowInDays: 7 }));
    expect(deleted.DeletionDate).toEqual(new Date(Date.parse(START) + 7 * DAY_MS));

    const read = await client.send(new GetSecretValueCommand({ SecretId: 'ring' })).catch((e) => e);
    expect(read).toBeInstanceOf(InvalidRequestException);
    expect(read.message).toContain('marked for deletion');
    await expect(
      client.send(new PutSecretValueCommand({ SecretId: 'ring', SecretString: 'x' })),
    ).rejects.toBeInstanceOf(InvalidRequestException);
    await expect(
      client.send(
        new UpdateSecretVersionStageCommand({
          SecretId: 'ring',
          VersionStage: 'x',
          MoveToVersionId: TOKEN_A,
        }),
      ),
    ).rejects.toBeInstanceOf(InvalidRequestException);
    await expect(client.send(new CreateSecretCommand({ Name: 'ring' }))).rejects.toBeInstanceOf(
      InvalidRequestException,
    );
    await expect(client.send(new DeleteSecretCommand({ SecretId: 'ring' }))).rejects.toBeInstanceOf(
      InvalidRequestException,
    );
    expect((await client.send(new DescribeSecretCommand({ SecretId: 'ring' }))).DeletedDate).toEqual(
      new Date(START),
    );

    await client.send(new RestoreSecretCommand({ SecretId: 'ring' }));
    expect(await currentValue('ring')).toBe('v1');
  });

  it('purges a marked secret once its recovery window has passed, freeing the name', async () => {
    await createWithVersions('ring', 1);
    await client.send(new DeleteSecretCommand({ SecretId: 'ring' }));
    clock.advance(30 * DAY_MS - 1);
    await expect(client.send(new GetSecretValueCommand({ SecretId: 'ring' }))).rejects.toBeInstanceOf(
      InvalidRequestException,
    );
    clock.advance(1);
    await expect(client.send(new GetSecretValueCommand({ SecretId: 'ring' }))).rejects.toBeInstanceOf(
      ResourceNotFoundException,
    );
    await client.send(new CreateSecretCommand({ Name: 'ring', SecretString: 'reborn' }));
    expect(await currentValue('ring')).toBe('reborn');
  });

  it('deletes at once with ForceDeleteWithoutRecovery, and a forced delete of a missing secret succeeds', async () => {
    await createWithVersions('ring', 1);
    const deleted = await client.send(
      new DeleteSecretCommand({ SecretId: 'ring', ForceDeleteWithoutRecovery: true }),
    );
    expect(deleted).toMatchObject({ Name: 'ring', DeletionDate: new Date(START) });
    await expect(client.send(new DescribeSecretCommand({ SecretId: 'ring' }))).rejects.toBeInstanceOf(
      ResourceNotFoundException,
    );
    const again = await client.send(
      new DeleteSecretCommand({ SecretId: 'ring', ForceDeleteWithoutRecovery: true }),
    );
    expect(again.Name).toBe('ring');
    await expect(client.send(new DeleteSecretCommand({ SecretId: 'ring' }))).rejects.toBeInstanceOf(
      ResourceNotFoundException,
    );
  });

  it('refuses a recovery window outside 7..30 days, or one combined with a forced delete', async () => {
    await createWithVersions('ring', 1);
    for (const input of [
      { RecoveryWindowInDays: 6 },
      { RecoveryWindowInDays: 31 },
      { RecoveryWindowInDays: 7, ForceDeleteWithoutRecovery: true },
    ]) {
      const error = await client
        .send(new DeleteSecretCommand({ SecretId: 'ring', ...input }))
        .catch((e) => e);
      expect(error, JSON.stringify(input)).toBeInstanceOf(InvalidParameterException);
    }
    expect(await currentValue('ring')).toBe('v1');
  });
});

describe('the compare-and-swap of the key ring (docs/design.md, "The key ring document")', () => {
  /** One writer's change: read AWSCURRENT, write AWSPENDING with a derived token, move AWSCURRENT. */
  async function writeRing(priorVersionId: string, transition: string, ring: string): Promise<string> {
    const token = deriveToken(priorVersionId, transition);
    const put = await client.send(
      new PutSecretValueCommand({
        SecretId: 'ring',
        SecretString: ring,
        ClientRequestToken: token,
        VersionStages: ['AWSPENDING'],
      }),
    );
    await client.send(
      new UpdateSecretVersionStageCommand({
        SecretId: 'ring',
        VersionStage: 'AWSCURRENT',
        MoveToVersionId: put.VersionId,
        RemoveFromVersionId: priorVersionId,
      }),
    );
    return token;
  }

  it('lets the first writer win, fails a writer with a stale base, and succeeds once it recomputes', async () => {
    await client.send(
      new CreateSecretCommand({ Name: 'ring', SecretString: 'ring-0', ClientRequestToken: TOKEN_A }),
    );
    const base = await client.send(new GetSecretValueCommand({ SecretId: 'ring' }));
    const baseVersion = base.VersionId ?? '';

    // Writer A (the rotator) and writer B (an operator) both computed their change from ring-0.
    const versionA = await writeRing(baseVersion, 'activate', 'ring-A');
    // AWSPENDING stays on A's version until the next pending write takes it, as in AWS rotations.
    expect(await stagesOf('ring')).toEqual({
      [baseVersion]: ['AWSPREVIOUS'],
      [versionA]: ['AWSPENDING', 'AWSCURRENT'],
    });

    // A retried put of A's change (same derived token, same ring) is a no-op, not a new version.
    const retry = await client.send(
      new PutSecretValueCommand({
        SecretId: 'ring',
        SecretString: 'ring-A',
        ClientRequestToken: deriveToken(baseVersion, 'activate'),
        VersionStages: ['AWSPENDING'],
      }),
    );
    expect(retry.VersionId).toBe(versionA);

    const stale = await writeRing(baseVersion, 'revoke', 'ring-B').catch((e) => e);
    expect(stale).toBeInstanceOf(InvalidParameterException);
    expect(stale.message).toContain(versionA);
    expect(await currentValue('ring')).toBe('ring-A');
    const previous = await client.send(
      new GetSecretValueCommand({ SecretId: 'ring', VersionStage: 'AWSPREVIOUS' }),
    );
    expect(previous.SecretString).toBe('ring-0');

    // B recomputes from A's ring and wins this time.
    const versionB = await writeRing(versionA, 'revoke', 'ring-A+B');
    expect(await currentValue('ring')).toBe('ring-A+B');
    const stages = await stagesOf('ring');
    expect(stages[versionB]).toContain('AWSCURRENT');
    expect(stages[versionA]).toEqual(['AWSPREVIOUS']);
  });
});
