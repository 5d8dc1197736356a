import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalService, startLocalService } from '../../infra/local/service.ts';
import { ApiKeysConflictError, hashApiKey, parseApiKeyDocument } from '../../lib/auth/api-keys.ts';
import { SecretsManagerApiKeyStore } from '../../lib/aws/api-key-store.ts';
import { createSecretsManagerClient } from '../../lib/aws/secrets-manager-client.ts';
import { runApiKeyChange } from '../../lib/cli/api-keys.ts';
import { type Config, parseConfig } from '../../lib/config/index.ts';
import { createApp } from '../../lib/http/app.ts';
import { MemoryMetrics } from '../../lib/telemetry/memory-metrics.ts';
import { silentLog } from '../../lib/telemetry/ports.ts';
import { buildApiDependencies } from '../../lib/wiring/api.ts';
import { runCli, tempDir } from '../support/cli.ts';

let service: LocalService;
let client: SecretsManagerClient;
let counter = 0;

beforeAll(async () => {
  service = await startLocalService({
    stateDir: tempDir(),
    portBase: 0,
    edgePropagationMs: 0,
    log: silentLog,
  });
  client = createSecretsManagerClient(service.config);
}, 30_000);

afterAll(async () => {
  client?.destroy();
  await service?.close();
});

/** The local service's config with an API key secret of its own and a grant for API key principal `app`. */
function configWith(secretId: string): Config {
  const demo = service.config.profiles.demo!;
  return parseConfig({
    ...service.config,
    auth: { ...service.config.auth, apiKeys: { secretId } },
    profiles: {
      demo: {
        ...demo,
        grants: [
          ...demo.grants,
          { when: { apiKeys: ['app'] }, resources: [`${service.endpoints.edge}/private/*`] },
        ],
      },
    },
  });
}

function freshSecret(): { secretId: string; env: Record<string, string> } {
  counter += 1;
  const secretId = `signet/test/api-keys-${counter}`;
  return { secretId, env: { SIGNET_CONFIG: JSON.stringify(configWith(secretId)) } };
}

async function secretText(secretId: string): Promise<string> {
  const response = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
  return response.SecretString!;
}

async function listJson(env: Record<string, string>, now?: number) {
  const run = await runCli(['api-keys', 'list', '--json'], { env, ...(now === undefined ? {} : { now }) });
  expect(run.code).toBe(0);
  return JSON.parse(run.stdout) as {
    secretId: string;
    keys: {
      id: string;
      principal: string;
      state: string;
      expiresAt: string | null;
      revokedAt: string | null;
    }[];
  };
}

describe('signet api-keys against the sandbox Secrets Manager', () => {
  it('creates the secret with the first key, prints the key once and stores only its hash', async () => {
    const { secretId, env } = freshSecret();
    const created = await runCli(['api-keys', 'create', '--id', 'mobile', '--description', 'iOS app'], {
      env,
    });
    expect(created.code).toBe(0);
    const key = created.stdout.trim();
    expect(key).toMatch(/^sgk_[A-Za-z0-9_-]{43}$/);
    expect(created.stdout).toBe(`${key}\n`); // stdout is the key and nothing else
    expect(created.stderr).toContain('shown once');
    expect(created.stderr).not.toContain(key);

    const stored = await secretText(secretId);
    expect(stored).not.toContain(key);
    expect(parseApiKeyDocument(stored)).toEqual([
      { id: 'mobile', sha256: hashApiKey(key), description: 'iOS app', createdAt: expect.any(String) },
    ]);

    const listed = await runCli(['api-keys', 'list'], { env });
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/mobile +mobile +active .* never +iOS app/);
    const json = await runCli(['api-keys', 'list', '--json'], { env });
    for (const output of [listed.stdout, json.stdout]) {
      expect(output).not.toContain(key);
      expect(output).not.toContain(hashApiKey(key).slice(0, 12));
    }
  });

  it('gives a key an expiry, lists it as expired after it, and revokes by id', async () => {
    const { secretId, env } = freshSecret();
    const now = 1_900_000_000; // 2030-03-17T17:46:40Z
    const created = await runCli(['api-keys', 'create', '--id', 'partner', '--expires-in', '90d', '--json'], {
      env,
      now,
    });
    expect(created.code).toBe(0);
    const out = JSON.parse(created.stdout);
    expect(out).toEqual({
      id: 'partner',
      key: expect.stringMatching(/^sgk_/),
      principal: 'partner',
      createdAt: '2030-03-17T17:46:40.000Z',
      expiresAt: '2030-06-15T17:46:40.000Z',
    });
    const at = await runCli(
      [
        'api-keys',
        'create',
        '--id',
        'batch',
        '--principal',
        'partner',
        '--expires-at',
        '2031-01-01T00:00:00Z',
      ],
      { env, now },
    );
    expect(at.code).toBe(0);

    expect((await listJson(env, now)).keys.map((k) => [k.id, k.principal, k.state])).toEqual([
      ['partner', 'partner', 'active'],
      ['batch', 'partner', 'active'],
    ]);
    expect((await listJson(env, now + 91 * 86_400)).keys.map((k) => k.state)).toEqual(['expired', 'active']);

    const revoked = await runCli(['api-keys', 'revoke', 'batch'], { env, now: now + 60 });
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toContain('Revoked API key batch');
    const after = await listJson(env, now + 60);
    expect(after.keys[1]).toMatchObject({
      id: 'batch',
      state: 'revoked',
      revokedAt: '2030-03-17T17:47:40.000Z',
    });

    // Revoking again changes nothing, not even the secret's version.
    const before = await client.send(new DescribeSecretCommand({ SecretId: secretId }));
    const again = await runCli(['api-keys', 'revoke', 'batch'], { env, now: now + 120 });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('already revoked at 2030-03-17T17:47:40.000Z');
    const unchanged = await client.send(new DescribeSecretCommand({ SecretId: secretId }));
    expect(unchanged.VersionIdsToStages).toEqual(before.VersionIdsToStages);
  });

  it('refuses bad input with what it expected', async () => {
    const { env } = freshSecret();
    expect((await runCli(['api-keys', 'create', '--id', 'taken'], { env })).code).toBe(0);
    const cases: [string[], string][] = [
      [['api-keys'], 'Expected a subcommand: create, list, revoke or prune; got none'],
      [['api-keys', 'rotate'], 'got "rotate"'],
      [['api-keys', 'create'], 'Expected --id'],
      [['api-keys', 'create', '--id', 'has space'], 'Expected --id of 1 to 128 printable ASCII'],
      [['api-keys', 'create', '--id', 'taken'], 'already exists'],
      [
        ['api-keys', 'create', '--id', 'x', '--expires-in', '3 weeks'],
        'Expected --expires-in to be a duration',
      ],
      [['api-keys', 'create', '--id', 'x', '--expires-in', '0'], 'above 0'],
      [['api-keys', 'create', '--id', 'x', '--expires-at', '2030-01-01'], 'with a time zone'],
      [['api-keys', 'create', '--id', 'x', '--expires-at', '2001-01-01T00:00:00Z'], 'in the future'],
      [
        ['api-keys', 'create', '--id', 'x', '--expires-in', '1d', '--expires-at', '2040-01-01T00:00:00Z'],
        'not both',
      ],
      [['api-keys', 'revoke'], 'Expected one API key id to revoke; got none'],
      [['api-keys', 'revoke', 'nobody'], '(taken); got "nobody"'],
    ];
    for (const [argv, message] of cases) {
      const run = await runCli(argv, { env });
      expect(run.code, argv.join(' ')).toBe(2);
      expect(run.stderr).toContain(message);
      expect(run.stdout).toBe('');
    }
    const noSecret = await runCli(['api-keys', 'list'], {
      env: { SIGNET_CONFIG: JSON.stringify(service.config) },
    });
    expect(noSecret.code).toBe(2);
    expect(noSecret.stderr).toContain('Expected auth.apiKeys.secretId in the config');
  });

  it('prunes keys revoked or expired long enough ago, and refuses a list over the secret size limit', async () => {
    const { secretId, env } = freshSecret();
    const t0 = 1_900_000_000;
    const day = 86_400;
    expect((await runCli(['api-keys', 'create', '--id', 'gone'], { env, now: t0 })).code).toBe(0);
    expect((await runCli(['api-keys', 'revoke', 'gone'], { env, now: t0 })).code).toBe(0);
    expect(
      (await runCli(['api-keys', 'create', '--id', 'ran-out', '--expires-in', '1d'], { env, now: t0 })).code,
    ).toBe(0);
    expect((await runCli(['api-keys', 'create', '--id', 'live'], { env, now: t0 })).code).toBe(0);

    const early = await runCli(['api-keys', 'prune', '--older-than', '30d'], { env, now: t0 + 10 * day });
    expect(early.code).toBe(0);
    expect(early.stdout).toContain('nothing changed');
    const pruned = await runCli(['api-keys', 'prune'], { env, now: t0 + 100 * day });
    expect(pruned.code).toBe(0);
    expect(pruned.stdout).toContain(
      'Removed 2 API key(s) revoked or expired before 2030-03-27T17:46:40.000Z: gone, ran-out.',
    );
    expect(parseApiKeyDocument(await secretText(secretId)).map((r) => r.id)).toEqual(['live']);
    // A pruned id can be used again.
    expect((await runCli(['api-keys', 'create', '--id', 'gone'], { env, now: t0 + 100 * day })).code).toBe(0);
    expect((await runCli(['api-keys', 'prune', '--older-than', 'soon'], { env })).stderr).toContain(
      'Expected --older-than to be a duration',
    );

    const big = freshSecret();
    const huge = { id: 'huge', sha256: hashApiKey('huge'), description: 'x'.repeat(65_300) };
    await client.send(
      new CreateSecretCommand({ Name: big.secretId, SecretString: JSON.stringify({ keys: [huge] }) }),
    );
    const over = await runCli(['api-keys', 'create', '--id', 'one-more', '--description', 'y'.repeat(300)], {
      env: big.env,
    });
    expect(over.code).toBe(2);
    expect(over.stderr).toContain("over Secrets Manager's 65536-byte limit");
    expect(over.stderr).toContain('signet api-keys prune');
    expect(over.stdout).toBe('');
  });

  it('reads a secret in the old format, and keeps its records as they were when it writes', async () => {
    const { secretId, env } = freshSecret();
    const legacy = {
      id: 'legacy',
      sha256: hashApiKey('old-key-written-by-hand'),
      description: 'before lifecycle',
    };
    await client.send(
      new CreateSecretCommand({ Name: secretId, SecretString: JSON.stringify({ keys: [legacy] }) }),
    );
    const listed = await listJson(env);
    expect(listed.keys).toEqual([
      {
        id: 'legacy',
        principal: 'legacy',
        state: 'active',
        createdAt: null,
        expiresAt: null,
        revokedAt: null,
        description: 'before lifecycle',
      },
    ]);
    expect((await runCli(['api-keys', 'create', '--id', 'new'], { env })).code).toBe(0);
    const stored = JSON.parse(await secretText(secretId));
    expect(stored.keys[0]).toEqual(legacy);
    expect(stored.keys[1]).toMatchObject({ id: 'new', createdAt: expect.any(String) });
  });

  it('says what is wrong with a secret that is not a valid document, and writes nothing', async () => {
    const { secretId, env } = freshSecret();
    await client.send(new CreateSecretCommand({ Name: secretId, SecretString: '{"keys":[{"id":"a"}]}' }));
    const run = await runCli(['api-keys', 'create', '--id', 'b'], { env });
    expect(run.code).toBe(3);
    expect(run.stderr).toContain(`In the API key secret ${secretId}`);
    expect(run.stderr).toContain('keys.0.sha256');
    expect(run.stdout).toBe('');
    expect(await secretText(secretId)).toBe('{"keys":[{"id":"a"}]}');
  });
});

describe('compare-and-swap on the API key secret', () => {
  it('refuses a write computed from a version another writer replaced', async () => {
    const { secretId } = freshSecret();
    const store = new SecretsManagerApiKeyStore(client, secretId);
    await store.save([{ id: 'first', sha256: hashApiKey('k1') }], await store.load());
    const a = await store.load();
    const b = await store.load();
    await store.save([...a.records, { id: 'a', sha256: hashApiKey('ka') }], a);
    await expect(store.save([...b.records, { id: 'b', sha256: hashApiKey('kb') }], b)).rejects.toThrow(
      ApiKeysConflictError,
    );
    expect(parseApiKeyDocument(await secretText(secretId)).map((r) => r.id)).toEqual(['first', 'a']);
    // A retried write that already went through is not a conflict.
    const c = await store.load();
    const next = [...c.records, { id: 'c', sha256: hashApiKey('kc') }];
    const version = await store.save(next, c);
    expect(await store.save(next, c)).toBe(version);
  });

  it('a writer that loses the race applies its change again on the winner’s list: nothing is lost', async () => {
    const { secretId, env } = freshSecret();
    expect((await runCli(['api-keys', 'create', '--id', 'seed'], { env })).code).toBe(0);
    let raced = false;
    const racing = interposing(client, async () => {
      if (raced) return;
      raced = true;
      // Another operator's whole `create` lands between this writer's read and its write.
      expect((await runCli(['api-keys', 'create', '--id', 'other'], { env })).code).toBe(0);
    });
    const result = await runApiKeyChange(new SecretsManagerApiKeyStore(racing, secretId), (records) => [
      ...records,
      { id: 'mine', sha256: hashApiKey('mine') },
    ]);
    expect(result).toEqual({ attempts: 2, written: true });
    expect(parseApiKeyDocument(await secretText(secretId)).map((r) => r.id)).toEqual([
      'seed',
      'other',
      'mine',
    ]);
  });

  it('a writer that keeps losing gives up clearly, and every winner’s key stays', async () => {
    const { secretId, env } = freshSecret();
    expect((await runCli(['api-keys', 'create', '--id', 'seed'], { env })).code).toBe(0);
    let n = 0;
    const racing = interposing(client, async () => {
      n += 1;
      expect((await runCli(['api-keys', 'create', '--id', `other-${n}`], { env })).code).toBe(0);
    });
    await expect(
      runApiKeyChange(new SecretsManagerApiKeyStore(racing, secretId), (records) => [
        ...records,
        { id: 'mine', sha256: hashApiKey('mine') },
      ]),
    ).rejects.toThrow(
      /Other writers changed the API key secret .* 5 times .* nothing was written\. Run the command again/,
    );
    expect(parseApiKeyDocument(await secretText(secretId)).map((r) => r.id)).toEqual([
      'seed',
      'other-1',
      'other-2',
      'other-3',
      'other-4',
      'other-5',
    ]);
  });
});

describe('the API and the keys signet api-keys writes', () => {
  /** The signing API over the sandbox, with its own clock (epoch ms) so cache TTLs and expiries can pass. */
  function apiAt(secretId: string, clock: { now: number }) {
    const app = createApp(
      buildApiDependencies({
        config: configWith(secretId),
        secretsManager: client,
        log: silentLog,
        metrics: new MemoryMetrics(),
        now: () => clock.now,
      }),
    );
    return async (apiKey: string) => {
      const response = await app.request('/v1/signed-urls', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': apiKey },
        body: JSON.stringify({ url: service.demoUrl }),
      });
      const body = (await response.json()) as Record<string, unknown>;
      return { status: response.status, body };
    };
  }

  /** What a 401 says, without what differs per request. */
  const refusal = (body: Record<string, unknown>) => ({
    type: body.type,
    title: body.title,
    detail: body.detail,
    code: body.code,
  });

  it('signs for a created key (its URL opens at the edge), and refuses it once expired exactly like an unknown key', async () => {
    const { env, secretId } = freshSecret();
    const created = await runCli(
      ['api-keys', 'create', '--id', 'app-1', '--principal', 'app', '--expires-in', '1h'],
      {
        env,
      },
    );
    const key = created.stdout.trim();
    const clock = { now: Date.now() };
    const sign = apiAt(secretId, clock);
    const ok = await sign(key);
    expect(ok.status).toBe(200);
    const url = (ok.body.urls as { url: string }[])[0]!.url;
    expect((await fetch(url)).status).toBe(200);

    const unknown = await sign(`sgk_${'A'.repeat(43)}`);
    expect(unknown.status).toBe(401);
    clock.now += 3600_000; // the expiry instant itself: refused
    const expired = await sign(key);
    expect(expired.status).toBe(401);
    expect(refusal(expired.body)).toEqual(refusal(unknown.body));
    expect(JSON.stringify(expired.body)).not.toMatch(/expire|app-1/i);
  });

  it('stops accepting a revoked key within the API key cache TTL (5 minutes)', async () => {
    const { env, secretId } = freshSecret();
    const key = (
      await runCli(['api-keys', 'create', '--id', 'app-2', '--principal', 'app'], { env })
    ).stdout.trim();
    const clock = { now: Date.now() };
    const sign = apiAt(secretId, clock);
    expect((await sign(key)).status).toBe(200);
    expect((await runCli(['api-keys', 'revoke', 'app-2'], { env })).code).toBe(0);
    clock.now += 301_000;
    const revoked = await sign(key);
    expect(revoked.status).toBe(401);
    expect(refusal(revoked.body)).toEqual(refusal((await sign('not-a-key')).body));
  });

  it('still accepts a key from a secret in the old format', async () => {
    const { secretId } = freshSecret();
    const key = 'old-format-key-0123456789abcdef';
    await client.send(
      new CreateSecretCommand({
        Name: secretId,
        SecretString: JSON.stringify({ keys: [{ id: 'app', sha256: hashApiKey(key) }] }),
      }),
    );
    expect((await apiAt(secretId, { now: Date.now() })(key)).status).toBe(200);
  });
});

/**
 * The same SDK client, with `before` run ahead of each PutSecretValue: a way to make another writer
 * land between a change's read and its write, through the real stand-in.
 */
function interposing(real: SecretsManagerClient, before: () => Promise<void>): SecretsManagerClient {
  return new Proxy(real, {
    get(target, property, receiver) {
      if (property !== 'send') return Reflect.get(target, property, receiver);
      return async (...args: Parameters<SecretsManagerClient['send']>) => {
        if (args[0]?.constructor?.name === 'PutSecretValueCommand') await before();
        return (target.send as (...a: unknown[]) => Promise<unknown>)(...args);
      };
    },
  }) as SecretsManagerClient;
}
