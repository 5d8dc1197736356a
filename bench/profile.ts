// Where a warm API request's CPU goes: a CPU profile of warm requests (functions/api.ts from source,
// in-process, JWT caller, one RSA URL, log lines and EMF metrics written to /dev/null), summarized as
// self time by package or source folder. `npm run bench` prints it after the Lambda figures;
// `npx tsx bench/profile.ts [requests]` prints it alone (BENCH_PROFILE_FUNCTIONS=1: by function too).

import { generateKeyPairSync } from 'node:crypto';
import { openSync, writeSync } from 'node:fs';
import { createServer } from 'node:http';
import { Session } from 'node:inspector/promises';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { close, listen } from '../infra/local/http.ts';
import { createSecretsManagerStandIn } from '../infra/local/secrets-manager.ts';
import { MemoryStateStore } from '../infra/local/state.ts';
import { createDevTokenIssuer } from '../infra/local/token-issuer.ts';
import { fingerprintOf } from '../lib/signing/index.ts';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  hitCount: number;
}

/** Where a function's self time is counted: a package, a folder of this repository, or Node itself. */
function bucketOf(url: string, functionName: string): string {
  if (url === '')
    return functionName === '(garbage collector)'
      ? 'garbage collection'
      : `native: ${functionName || '(program)'}`;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg !== null) return pkg[1]!;
  if (url.startsWith('node:')) return `node: ${url.slice(5)}`;
  const own = /\/(lib\/[^/]+|functions|infra\/[^/]+|bench)\//.exec(url);
  return own === null ? url : own[1]!;
}

export async function profileWarmRequests(requests: number): Promise<{ bucket: string; share: number }[]> {
  const standIn = createSecretsManagerStandIn({ store: new MemoryStateStore() });
  const secrets = createServer(standIn.handle);
  const secretsUrl = await listen(secrets, 0, 'Secrets Manager stand-in');
  const issuer = createDevTokenIssuer({
    store: new MemoryStateStore(),
    issuer: 'https://issuer.bench.invalid',
    audience: 'bench',
  });
  const jwksServer = createServer(issuer.handleJwks);
  const jwksUrl = await listen(jwksServer, 0, 'JWKS stand-in');
  const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const client = new SecretsManagerClient({
    endpoint: secretsUrl,
    region: 'us-east-1',
    credentials: { accessKeyId: 'b', secretAccessKey: 'b' },
  });
  await client.send(
    new CreateSecretCommand({
      Name: 'bench/ring',
      SecretString: JSON.stringify({
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
      }),
    }),
  );
  client.destroy();
  const token = await issuer.issue({ sub: 'bench', scope: ['media:read'], expiresIn: 3600 });
  process.env.SIGNET_CONFIG = JSON.stringify({
    aws: { region: 'us-east-1', endpoints: { secretsManager: secretsUrl } },
    auth: {
      jwt: {
        issuer: issuer.issuer,
        audience: 'bench',
        jwksUrl: `${jwksUrl}/.well-known/jwks.json`,
        algorithms: ['ES256'],
      },
    },
    profiles: {
      bench: {
        domains: ['media.example.com'],
        keyRing: { secretId: 'bench/ring' },
        grants: [{ when: { claims: { scope: 'media:read' } }, resources: ['https://media.example.com/*'] }],
      },
    },
  });
  process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  process.env.AWS_LAMBDA_FUNCTION_NAME = 'signet-api';
  // Powertools writes through a Console on process.stdout; point it at /dev/null for the profile.
  const devNull = openSync('/dev/null', 'w');
  const original = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array) => {
    writeSync(devNull, chunk as string);
    return true;
  }) as typeof process.stdout.write;
  const { handler } = (await import('../functions/api.ts')) as unknown as {
    handler: (e: unknown, c: unknown) => Promise<{ statusCode: number }>;
  };
  const event = () => ({
    version: '2.0',
    routeKey: '$default',
    rawPath: '/v1/signed-urls',
    rawQueryString: '',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${token}`,
      host: 'api.example.com',
    },
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
    body: JSON.stringify({ url: 'https://media.example.com/videos/2026/launch-keynote.mp4', expiresIn: 300 }),
    isBase64Encoded: false,
  });
  const context = () => ({
    awsRequestId: 'bench',
    functionName: 'signet-api',
    getRemainingTimeInMillis: () => 10_000,
  });
  for (let i = 0; i < 500; i++) await handler(event(), context());
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 50 });
  await session.post('Profiler.start');
  for (let i = 0; i < requests; i++) await handler(event(), context());
  const { profile } = (await session.post('Profiler.stop')) as unknown as {
    profile: { nodes: ProfileNode[] };
  };
  session.disconnect();
  process.stdout.write = original;
  await close(secrets);
  await close(jwksServer);
  if (process.env.BENCH_PROFILE_FUNCTIONS === '1') {
    const byFn = new Map<string, number>();
    for (const node of profile.nodes) {
      const key = `${node.callFrame.functionName || '(anonymous)'} ${node.callFrame.url.replace(/.*node_modules\//, '').replace(/.*\/main\//, '')}:${(node.callFrame as { lineNumber?: number }).lineNumber}`;
      byFn.set(key, (byFn.get(key) ?? 0) + node.hitCount);
    }
    const all = [...byFn.values()].reduce((a, b) => a + b, 0);
    for (const [k, v] of [...byFn].sort((a, b) => b[1] - a[1]).slice(0, 70))
      console.error(`${((v / all) * 100).toFixed(2)}% ${k}`);
  }
  const byBucket = new Map<string, number>();
  let total = 0;
  for (const node of profile.nodes) {
    const bucket = bucketOf(node.callFrame.url, node.callFrame.functionName);
    byBucket.set(bucket, (byBucket.get(bucket) ?? 0) + node.hitCount);
    total += node.hitCount;
  }
  return [...byBucket]
    .map(([bucket, hits]) => ({ bucket, share: hits / total }))
    .sort((a, b) => b.share - a.share);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const rows = await profileWarmRequests(Number(process.argv[2] ?? '3000'));
  if (process.argv.includes('--json')) process.stdout.write(`${JSON.stringify(rows)}\n`);
  else for (const row of rows) console.log(`${(row.share * 100).toFixed(1).padStart(5)}%  ${row.bucket}`);
  process.exit(0);
}
