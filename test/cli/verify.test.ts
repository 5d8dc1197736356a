import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import {
  type CloudFrontClient,
  CreateKeyGroupCommand,
  CreatePublicKeyCommand,
  GetDistributionConfigCommand,
  UpdateDistributionCommand,
} from '@aws-sdk/client-cloudfront';
import { createAdaptorServer } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { close, listen } from '../../infra/local/http.ts';
import { type LocalService, startLocalService } from '../../infra/local/service.ts';
import { createAwsClients } from '../../lib/aws/clients.ts';
import { type Config, parseConfig } from '../../lib/config/index.ts';
import { createApp } from '../../lib/http/app.ts';
import { MemoryMetrics } from '../../lib/telemetry/memory-metrics.ts';
import { silentLog } from '../../lib/telemetry/ports.ts';
import { buildApiDependencies } from '../../lib/wiring/api.ts';
import { runCli, tempDir } from '../support/cli.ts';

let service: LocalService;
let dir: string;
let config: Config;
let configFile: string;
let api: string;
let apiServer: Server;
let edge: string;

/**
 * The sandbox (`npm start` in-process) and a signing API over it with the config an operator would
 * verify with: a canary object, a grant for it, and an API key secret.
 */
beforeAll(async () => {
  dir = tempDir();
  service = await startLocalService({ stateDir: dir, portBase: 0, edgePropagationMs: 0, log: silentLog });
  edge = service.endpoints.edge;
  const demo = service.config.profiles.demo!;
  config = parseConfig({
    ...service.config,
    auth: { ...service.config.auth, apiKeys: { secretId: 'signet/test/verify-api-keys' } },
    profiles: {
      demo: {
        ...demo,
        grants: [
          ...demo.grants,
          { when: { claims: { scope: 'verify' } }, resources: [`${edge}/*`] },
          { when: { apiKeys: ['verifier'] }, resources: [`${edge}/private/*`] },
        ],
        rotation: { ...demo.rotation, canary: { url: service.demoUrl } },
      },
    },
  });
  configFile = join(dir, 'verify-config.json');
  writeFileSync(configFile, JSON.stringify(config));
  const app = createApp(
    buildApiDependencies({
      config,
      secretsManager: createAwsClients(config).secretsManager,
      log: silentLog,
      metrics: new MemoryMetrics(),
    }),
  );
  apiServer = createAdaptorServer({ fetch: app.fetch }) as Server;
  api = await listen(apiServer, 0, 'verify test API');
}, 30_000);

afterAll(async () => {
  if (apiServer !== undefined) await close(apiServer);
  await service?.close();
});

async function token(scope = 'verify'): Promise<string> {
  return service.issuer.issue({ sub: 'deployer', scope: [scope], expiresIn: 600 });
}

async function verify(extra: string[], env: Record<string, string>) {
  const run = await runCli(['verify', '--config', configFile, '--api', api, ...extra], { env });
  return run;
}

interface Report {
  ok: boolean;
  verdict: string;
  steps: { step: string; status: string; detail: string }[];
}

async function verifyJson(extra: string[], env: Record<string, string>) {
  const run = await verify([...extra, '--json'], env);
  return { code: run.code, report: JSON.parse(run.stdout) as Report, run };
}

const statuses = (report: Report) => Object.fromEntries(report.steps.map((s) => [s.step, s.status]));
const detail = (report: Report, step: string) => report.steps.find((s) => s.step === step)!.detail;

describe('signet verify against the sandbox', () => {
  it('passes a healthy stage: each step, then one verdict; never prints the credential or the signed URL', async () => {
    const jwt = await token();
    const run = await verify([], { SIGNET_TOKEN: jwt });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(
      `signet verify: API ${api}, profile demo, canary ${service.demoUrl}, caller JWT (SIGNET_TOKEN)`,
    );
    expect(lines.slice(1, 5).map((line) => line.trim().split(/\s+/).slice(0, 2))).toEqual([
      ['PASS', 'health'],
      ['PASS', 'sign'],
      ['PASS', 'fetch'],
      ['PASS', 'doctor'],
    ]);
    expect(lines[5]).toBe(`PASS: the stage at ${api} signs and serves ${service.demoUrl} for profile demo`);
    expect(lines).toHaveLength(6);
    expect(run.stdout).toContain('unsigned, it answered 403');
    expect(run.stdout).not.toContain(jwt);
    expect(run.stdout).not.toMatch(/Signature=|Key-Pair-Id=/);

    const json = await verifyJson([], { SIGNET_TOKEN: jwt });
    expect(json.code).toBe(0);
    expect(json.report).toMatchObject({ ok: true, api, profile: 'demo', canary: service.demoUrl });
    expect(statuses(json.report)).toEqual({ health: 'pass', sign: 'pass', fetch: 'pass', doctor: 'pass' });
  });

  it('passes against the npm start API itself, with its own config and a development token', async () => {
    const run = await runCli(
      [
        'verify',
        '--config',
        join(dir, 'config.json'),
        '--api',
        service.endpoints.api,
        '--url',
        service.demoUrl,
      ],
      { env: { SIGNET_TOKEN: await token('demo:read') } },
    );
    expect(run.code).toBe(0);
    expect(run.stdout.trimEnd().split('\n').at(-1)).toMatch(/^PASS: /);
  });

  it('passes with an API key made by signet api-keys', async () => {
    const created = await runCli(['api-keys', 'create', '--id', 'verifier', '--expires-in', '1h'], {
      env: { SIGNET_CONFIG: configFile },
    });
    expect(created.code).toBe(0);
    const key = created.stdout.trim();
    // The API's key list is cached; this API process has not loaded it yet.
    const run = await verify([], { SIGNET_API_KEY: key });
    expect(run.stdout).toContain('caller API key (SIGNET_API_KEY)');
    expect(run.code).toBe(0);
    expect(run.stdout).not.toContain(key);
  });

  it('fails the fetch step for a canary object that is missing at the origin', async () => {
    const { code, report } = await verifyJson(['--url', `${edge}/private/no-such-object.txt`], {
      SIGNET_TOKEN: await token(),
    });
    expect(code).toBe(1);
    expect(statuses(report)).toEqual({ health: 'pass', sign: 'pass', fetch: 'fail', doctor: 'pass' });
    expect(detail(report, 'fetch')).toMatch(
      /^Expected the signed canary to answer 200 through the distribution; got 404/,
    );
    expect(detail(report, 'fetch')).toContain('upload it');
    expect(report.verdict).toBe('FAIL: fetch did not pass');
  });

  it('fails the fetch step for a canary that answers without a signature', async () => {
    const { code, report } = await verifyJson(['--url', `${edge}/index.html`], {
      SIGNET_TOKEN: await token(),
    });
    expect(code).toBe(1);
    expect(statuses(report).fetch).toBe('fail');
    expect(detail(report, 'fetch')).toContain('does not require signed URLs');
  });

  it('fails the sign step, and skips the fetch, for a caller not granted the canary', async () => {
    const run = await verify([], { SIGNET_TOKEN: await token('nothing') });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(
      /FAIL +sign +Expected POST .*\/v1\/signed-urls to sign the canary \(200\); got 403\. .*resource-not-granted/,
    );
    expect(run.stdout).toContain('Grant the caller the canary URL');
    expect(run.stdout).toMatch(/SKIP +fetch +skipped: there is no signed URL/);
    expect(run.stdout.trimEnd().split('\n').at(-1)).toBe('FAIL: sign, fetch did not pass');

    const refused = await verifyJson([], { SIGNET_API_KEY: 'sgk_not-a-key' });
    expect(refused.code).toBe(1);
    expect(detail(refused.report, 'sign')).toContain('got 401');
    expect(detail(refused.report, 'sign')).toContain('The API key (SIGNET_API_KEY) was refused');
  });

  it('fails health and sign when the API is down, naming where it went, and still runs doctor', async () => {
    const closed = createServer();
    const down = await listen(closed, 0, 'closed port');
    await close(closed);
    const run = await runCli(['verify', '--config', configFile, '--api', down, '--json'], {
      env: { SIGNET_TOKEN: await token() },
    });
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout) as Report;
    expect(statuses(report)).toEqual({ health: 'fail', sign: 'fail', fetch: 'skip', doctor: 'pass' });
    expect(detail(report, 'health')).toMatch(
      new RegExp(`^Expected GET ${down}/v1/health to answer; it could not be reached \\(ECONNREFUSED\\)`),
    );
    expect(detail(report, 'health')).toContain('Check --api');
    expect(report.verdict).toBe('FAIL: health, sign, fetch did not pass');
  });

  it('fails fetch and doctor when the distribution no longer trusts the key group', async () => {
    const cloudfront = createAwsClients(config).cloudfront;
    const id = config.profiles.demo!.distributionId!;
    const restore = await trustOtherGroup(cloudfront, id);
    try {
      const { code, report } = await verifyJson([], { SIGNET_TOKEN: await token() });
      expect(code).toBe(1);
      expect(statuses(report)).toEqual({ health: 'pass', sign: 'pass', fetch: 'fail', doctor: 'fail' });
      expect(detail(report, 'fetch')).toMatch(/got 403 \(/);
      expect(detail(report, 'fetch')).toContain('InvalidKey');
      expect(detail(report, 'fetch')).toContain('signet doctor --profile demo');
      expect(detail(report, 'doctor')).toMatch(
        /^Expected no errors; doctor found \d+: .*Run "signet doctor --profile demo"/,
      );
    } finally {
      await restore();
      cloudfront.destroy();
    }
    expect((await verifyJson([], { SIGNET_TOKEN: await token() })).code).toBe(0);
  });

  it('refuses to start without a canary, a credential or a good --api, saying what to set', async () => {
    const noCanary = join(dir, 'no-canary.json');
    const demo = config.profiles.demo!;
    writeFileSync(
      noCanary,
      JSON.stringify({
        ...config,
        profiles: { demo: { ...demo, rotation: { ...demo.rotation, canary: undefined } } },
      }),
    );
    const jwt = await token();
    const cases: [string[], Record<string, string>, string][] = [
      [
        ['verify', '--config', noCanary, '--api', api],
        { SIGNET_TOKEN: jwt },
        'Expected a canary object: set profiles.demo.rotation.canary.url in the config',
      ],
      [
        ['verify', '--config', configFile, '--api', api],
        {},
        'Expected a caller credential in the environment',
      ],
      [
        ['verify', '--config', configFile, '--api', api],
        { SIGNET_TOKEN: jwt, SIGNET_API_KEY: 'k' },
        'both SIGNET_TOKEN and SIGNET_API_KEY are set',
      ],
      [['verify', '--config', configFile], { SIGNET_TOKEN: jwt }, 'Expected --api URL'],
      [
        ['verify', '--config', configFile, '--api', 'ftp://x'],
        { SIGNET_TOKEN: jwt },
        'Expected --api to be an http(s) URL',
      ],
      [
        ['verify', '--config', configFile, '--api', api, '--url', 'https://elsewhere.example.com/a'],
        { SIGNET_TOKEN: jwt },
        "Expected the canary on one of profile demo's domains",
      ],
      [
        ['verify', '--config', configFile, '--api', api, '--timeout', '0'],
        { SIGNET_TOKEN: jwt },
        'Expected --timeout',
      ],
    ];
    for (const [argv, env, message] of cases) {
      const run = await runCli(argv, { env });
      expect(run.code, message).toBe(2);
      expect(run.stderr).toContain(message);
      expect(run.stderr).not.toContain(jwt);
    }
  });
});

/** Points every behaviour of the distribution at a key group of its own; returns how to undo it. */
async function trustOtherGroup(cloudfront: CloudFrontClient, id: string): Promise<() => Promise<void>> {
  const publicPem = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    .publicKey.export({ type: 'spki', format: 'pem' })
    .toString();
  const publicKey = await cloudfront.send(
    new CreatePublicKeyCommand({
      PublicKeyConfig: {
        CallerReference: `verify-${Date.now()}`,
        Name: `verify-other-${Date.now()}`,
        EncodedKey: publicPem,
      },
    }),
  );
  const group = await cloudfront.send(
    new CreateKeyGroupCommand({
      KeyGroupConfig: { Name: `verify-other-${Date.now()}`, Items: [publicKey.PublicKey!.Id!] },
    }),
  );
  const otherId = group.KeyGroup!.Id!;
  const current = await cloudfront.send(new GetDistributionConfigCommand({ Id: id }));
  const original = current.DistributionConfig!;
  const trust = { Enabled: true, Quantity: 1, Items: [otherId] };
  const changed = {
    ...original,
    DefaultCacheBehavior: { ...original.DefaultCacheBehavior!, TrustedKeyGroups: trust },
    CacheBehaviors: {
      Quantity: original.CacheBehaviors!.Quantity!,
      Items: original.CacheBehaviors!.Items!.map((behavior) =>
        behavior.TrustedKeyGroups?.Enabled ? { ...behavior, TrustedKeyGroups: trust } : behavior,
      ),
    },
  };
  const updated = await cloudfront.send(
    new UpdateDistributionCommand({ Id: id, IfMatch: current.ETag!, DistributionConfig: changed }),
  );
  return async () => {
    await cloudfront.send(
      new UpdateDistributionCommand({ Id: id, IfMatch: updated.ETag!, DistributionConfig: original }),
    );
  };
}
