import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { build } from 'esbuild';
import { startSecretsManager } from '../infra/local/secrets-manager.ts';
import { MemoryStateStore } from '../infra/local/state.ts';
import { hashApiKey } from '../lib/auth/api-keys.ts';
import { fingerprintOf } from '../lib/signing/index.ts';

const ROOT = resolve(import.meta.dirname, '..');

/** Percentile of sorted numbers. */
function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/**
 * Warm handler latency: functions/api.ts invoked in-process with API Gateway v2 events, its key ring
 * and API keys in the Secrets Manager sandbox (so the cold start reads them for real, and the warm
 * path shows it makes no further calls).
 */
export async function benchLambda(invocations: number): Promise<{
  p50Ms: number;
  p99Ms: number;
  cpuMsPerRequest: number;
  secretsManagerCallsPer10k: number;
  config: string;
}> {
  const sm = await startSecretsManager({ port: 0, store: new MemoryStateStore() });
  const client = new SecretsManagerClient({
    endpoint: sm.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
  });
  const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ring = {
    schema: 'signet.keyring/1',
    keyGroupId: '00000000-0000-4000-8000-000000000000',
    keys: [
      {
        id: 'KBENCH00000001',
        algorithm: 'rsa-2048',
        hash: 'sha1',
        privateKey: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }),
        fingerprint: fingerprintOf(pair.publicKey),
        state: 'active',
        createdAt: '2026-01-01T00:00:00Z',
      },
    ],
    history: [],
  };
  await client.send(new CreateSecretCommand({ Name: 'bench/ring', SecretString: JSON.stringify(ring) }));
  await client.send(
    new CreateSecretCommand({
      Name: 'bench/api-keys',
      SecretString: JSON.stringify({ keys: [{ id: 'bench', sha256: hashApiKey('bench-key') }] }),
    }),
  );
  const config = JSON.stringify({
    aws: { region: 'us-east-1', endpoints: { secretsManager: sm.url } },
    auth: { apiKeys: { secretId: 'bench/api-keys' } },
    profiles: {
      bench: {
        domains: ['media.example.com'],
        keyRing: { secretId: 'bench/ring' },
        grants: [{ when: { apiKeys: ['bench'] }, resources: ['https://media.example.com/*'] }],
      },
    },
  });
  process.env.SIGNET_CONFIG = config;
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  const { handler } = (await import('../functions/api.ts')) as unknown as {
    handler: (event: unknown, context: unknown) => Promise<{ statusCode: number }>;
  };
  const event = () => ({
    version: '2.0',
    routeKey: '$default',
    rawPath: '/v1/signed-urls',
    rawQueryString: '',
    headers: { 'content-type': 'application/json', 'x-api-key': 'bench-key', host: 'api.example.com' },
    requestContext: {
      http: {
        method: 'POST',
        path: '/v1/signed-urls',
        protocol: 'HTTP/1.1',
        sourceIp: '198.51.100.7',
        userAgent: 'bench',
      },
      requestId: 'r',
      routeKey: '$default',
      stage: '$default',
      timeEpoch: Date.now(),
    },
    body: JSON.stringify({ url: 'https://media.example.com/videos/a.mp4', expiresIn: 300 }),
    isBase64Encoded: false,
  });
  const context = {
    awsRequestId: 'bench',
    functionName: 'signet-api',
    getRemainingTimeInMillis: () => 10_000,
  };
  for (let i = 0; i < 200; i++) await handler(event(), context); // warm
  const callsBefore = sm.standIn.countCalls('GetSecretValue');
  const times: number[] = [];
  const cpuBefore = process.cpuUsage();
  for (let i = 0; i < invocations; i++) {
    const start = performance.now();
    const response = await handler(event(), context);
    times.push(performance.now() - start);
    if (response.statusCode !== 200)
      throw new Error(`The handler answered ${response.statusCode} during the bench.`);
  }
  const cpu = process.cpuUsage(cpuBefore);
  const calls = sm.standIn.countCalls('GetSecretValue') - callsBefore;
  await sm.close();
  times.sort((a, b) => a - b);
  return {
    p50Ms: percentile(times, 50),
    p99Ms: percentile(times, 99),
    cpuMsPerRequest: (cpu.user + cpu.system) / 1000 / invocations,
    secretsManagerCallsPer10k: (calls / invocations) * 10_000,
    config,
  };
}

/** Minified ESM bundle size and cold import time of each Lambda entry point. */
export async function benchBundles(
  config: string,
): Promise<{ name: string; bytes: number; bytesWithoutSdk: number; coldImportMs: number }[]> {
  const out = mkdtempSync(join(tmpdir(), 'signet-bundle-'));
  const results: { name: string; bytes: number; bytesWithoutSdk: number; coldImportMs: number }[] = [];
  for (const name of ['api', 'rotator']) {
    const entry = join(ROOT, 'functions', `${name}.ts`);
    if (!existsSync(entry)) continue;
    const file = join(out, `${name}.mjs`);
    await build({
      entryPoints: [entry],
      outfile: file,
      bundle: true,
      minify: true,
      platform: 'node',
      target: 'node22',
      format: 'esm',
      // esbuild's ESM output needs these, or it crashes on `Dynamic require of "node:crypto"` (docs/design.md, "Toolchain").
      mainFields: ['module', 'main'],
      banner: {
        js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
      },
      logLevel: 'silent',
    });
    // The same bundle with the AWS SDK left to the Lambda runtime's copy, for comparison.
    const slim = join(out, `${name}-no-sdk.mjs`);
    await build({
      entryPoints: [entry],
      outfile: slim,
      bundle: true,
      minify: true,
      platform: 'node',
      target: 'node22',
      format: 'esm',
      mainFields: ['module', 'main'],
      external: ['@aws-sdk/*', '@smithy/*'],
      logLevel: 'silent',
    });
    const script = `const s=performance.now();await import(${JSON.stringify(file)});console.log(performance.now()-s)`;
    const runs = [0, 1, 2].map(() =>
      Number(
        execFileSync(process.execPath, ['--input-type=module', '-e', script], {
          env: {
            ...process.env,
            SIGNET_CONFIG: config,
            AWS_REGION: 'us-east-1',
            POWERTOOLS_LOG_LEVEL: 'SILENT',
            AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
          },
          encoding: 'utf8',
        }).trim(),
      ),
    );
    results.push({
      name,
      bytes: statSync(file).size,
      bytesWithoutSdk: statSync(slim).size,
      coldImportMs: Math.min(...runs),
    });
  }
  return results;
}
