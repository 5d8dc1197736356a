import { fork } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { type BuildOptions, build } from 'esbuild';
import { load as loadYaml } from 'js-yaml';
import { close, listen } from '../infra/local/http.ts';
import { createSecretsManagerStandIn } from '../infra/local/secrets-manager.ts';
import { MemoryStateStore } from '../infra/local/state.ts';
import { createDevTokenIssuer } from '../infra/local/token-issuer.ts';
import { fingerprintOf } from '../lib/signing/index.ts';

const ROOT = resolve(import.meta.dirname, '..');

/** The latency each stand-in adds to every AWS or JWKS call, as a real network round trip would. */
export const STAND_IN_LATENCY_MS = 30;

/**
 * esbuild options exactly as serverless.yml's `custom.esbuild` gives them to serverless-esbuild, so the
 * bench measures the bundle that is deployed.
 */
export function deployedEsbuildOptions(): BuildOptions {
  const document = loadYaml(readFileSync(join(ROOT, 'serverless.yml'), 'utf8')) as {
    custom: { esbuild: Record<string, unknown> & { exclude?: string[]; external?: string[] } };
  };
  const { exclude = [], external = [], packager, outputFileExtension, ...options } = document.custom.esbuild;
  void packager;
  void outputFileExtension;
  return {
    ...(options as BuildOptions),
    // serverless-esbuild builds from the service's folder: relative aliases resolve from there.
    absWorkingDir: ROOT,
    external: [...exclude, ...external],
    logLevel: 'silent',
  };
}

/** Builds one function's bundle as deployed; `withoutSdk` leaves the AWS SDK to the runtime's copy. */
async function buildFunction(name: string, outDir: string, withoutSdk = false): Promise<string> {
  const file = join(outDir, `${name}${withoutSdk ? '-no-sdk' : ''}.mjs`);
  const options = deployedEsbuildOptions();
  await build({
    ...options,
    entryPoints: [join(ROOT, 'functions', `${name}.ts`)],
    outfile: file,
    ...(withoutSdk ? { external: [...(options.external ?? []), '@aws-sdk/*', '@smithy/*'] } : {}),
  });
  return file;
}

/** A loopback server answering through `handle` after a fixed delay, counting its requests. */
async function slowServer(
  handle: (request: IncomingMessage, response: ServerResponse) => void,
  label: string,
): Promise<{ server: Server; url: string; calls: () => number }> {
  let calls = 0;
  const server = createServer((request, response) => {
    calls++;
    setTimeout(() => handle(request, response), STAND_IN_LATENCY_MS);
  });
  const url = await listen(server, 0, label);
  return { server, url, calls: () => calls };
}

/** What one fresh process (one Lambda container) measured; see bench/lambda-child.mjs. */
interface ContainerRun {
  initMs: number;
  warmMs: number;
  warmOk: boolean;
  importMs: number;
  firstMs: number;
  firstCpuMs: number;
  warmCpuP50Ms: number;
  warmP50Ms: number;
  warmP99Ms: number;
  requests: number;
  cpuMsPerRequest: number | null;
  signCpuMs: number | null;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** What {@link benchLambda} reports. */
export interface LambdaReport {
  /** Fresh processes measured for init and first request. */
  containers: number;
  /** Median over the containers: the bundle's import plus the init phase's loads (Init Duration). */
  initMs: number;
  /** Median: the bundle's own evaluation, without the init's loads and its rehearsed requests. */
  coldImportMs: number;
  /** Fastest container's import: the figure least disturbed by other load on the machine. */
  coldImportMinMs: number;
  /** Median: the first request's duration after init. */
  firstRequestMs: number;
  /** Median of the containers' warm p50. */
  warmP50Ms: number;
  warmP99Ms: number;
  /** firstRequestMs minus warmP50Ms: wall time, which other load on the machine inflates. */
  firstRequestExtraMs: number;
  /** Median: the first request's CPU time, and a warm request's (p50), in the same containers. */
  firstRequestCpuMs: number;
  warmCpuP50Ms: number;
  /** firstRequestCpuMs minus warmCpuP50Ms (target: at most 2 ms): the first request's own extra work. */
  firstRequestExtraCpuMs: number;
  /** Secrets Manager and JWKS calls made by first requests, over all containers (target 0). */
  firstRequestCalls: number;
  cpuMsPerRequest: number;
  signatureCpuMs: number;
  overheadCpuMsPerRequest: number;
  /** Secrets Manager calls per 10,000 warm requests. */
  secretsManagerCallsPer10k: number;
  bundleFile: string;
}

/**
 * The API function as Lambda runs it: its deployed bundle imported in a fresh Node process (the init
 * phase, with its top-level await), the first request, then warm requests with a JWT caller signing
 * one RSA URL. Secrets Manager and the JWKS are stand-ins that add {@link STAND_IN_LATENCY_MS} to
 * every call. Log lines and EMF metrics are written (to /dev/null), as in Lambda.
 */
export async function benchLambda(options: { containers: number; rounds: number }): Promise<LambdaReport> {
  const standIn = createSecretsManagerStandIn({ store: new MemoryStateStore() });
  const secrets = await slowServer(standIn.handle, 'Secrets Manager stand-in');
  const issuer = createDevTokenIssuer({
    store: new MemoryStateStore(),
    issuer: 'https://issuer.bench.invalid',
    audience: 'bench',
  });
  const jwks = await slowServer(issuer.handleJwks, 'JWKS stand-in');
  const client = new SecretsManagerClient({
    endpoint: secrets.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
  });
  const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const privatePem = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  const ring = {
    schema: 'signet.keyring/1',
    keyGroupId: '00000000-0000-4000-8000-000000000000',
    keys: [
      {
        id: 'KBENCH00000001',
        algorithm: 'rsa-2048',
        hash: 'sha1',
        privateKey: privatePem,
        fingerprint: fingerprintOf(pair.publicKey),
        state: 'active',
        createdAt: '2026-01-01T00:00:00Z',
      },
    ],
    history: [],
  };
  await client.send(new CreateSecretCommand({ Name: 'bench/ring', SecretString: JSON.stringify(ring) }));
  client.destroy();
  const token = await issuer.issue({ sub: 'bench', scope: ['media:read'], expiresIn: 3600 });
  const config = JSON.stringify({
    aws: { region: 'us-east-1', endpoints: { secretsManager: secrets.url } },
    auth: {
      jwt: {
        issuer: issuer.issuer,
        audience: 'bench',
        jwksUrl: `${jwks.url}/.well-known/jwks.json`,
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
  const bundleFile = await buildFunction('api', mkdtempSync(join(tmpdir(), 'signet-bench-api-')));

  const runs: ContainerRun[] = [];
  let firstRequestCalls = 0;
  let warmCalls = 0;
  for (let i = 0; i < options.containers; i++) {
    const last = i === options.containers - 1;
    // The last container also runs the long warm loop; the others stop after a few hundred requests.
    const { run, callsAfterInit } = await runContainer(
      bundleFile,
      last ? options.rounds : 0,
      {
        SIGNET_CONFIG: config,
        BENCH_TOKEN: token,
        BENCH_SIGNING_KEY: privatePem,
      },
      () => standIn.countCalls('GetSecretValue') + jwks.calls(),
    );
    firstRequestCalls += callsAfterInit.first;
    if (last) warmCalls = callsAfterInit.total;
    runs.push(run);
  }
  await close(secrets.server);
  await close(jwks.server);
  const warm = runs.at(-1)!;
  const firstRequestMs = median(runs.map((r) => r.firstMs));
  const warmP50Ms = median(runs.map((r) => r.warmP50Ms));
  return {
    containers: runs.length,
    initMs: median(runs.map((r) => r.initMs)),
    coldImportMs: median(runs.map((r) => r.importMs)),
    coldImportMinMs: Math.min(...runs.map((r) => r.importMs)),
    firstRequestMs,
    warmP50Ms,
    warmP99Ms: median(runs.map((r) => r.warmP99Ms)),
    firstRequestExtraMs: firstRequestMs - warmP50Ms,
    firstRequestCpuMs: median(runs.map((r) => r.firstCpuMs)),
    warmCpuP50Ms: median(runs.map((r) => r.warmCpuP50Ms)),
    firstRequestExtraCpuMs: median(runs.map((r) => r.firstCpuMs - r.warmCpuP50Ms)),
    firstRequestCalls,
    cpuMsPerRequest: warm.cpuMsPerRequest!,
    signatureCpuMs: warm.signCpuMs!,
    overheadCpuMsPerRequest: warm.cpuMsPerRequest! - warm.signCpuMs!,
    secretsManagerCallsPer10k: (warmCalls / (warm.requests + 501)) * 10_000,
    bundleFile,
  };
}

/**
 * Runs bench/lambda-child.mjs on the bundle in a fresh process. `calls` counts the stand-ins' calls;
 * the child stops after its init and after its first request until the counts are read.
 */
async function runContainer(
  bundle: string,
  rounds: number,
  env: Record<string, string>,
  calls: () => number,
): Promise<{ run: ContainerRun; callsAfterInit: { first: number; total: number } }> {
  const child = fork(join(import.meta.dirname, 'lambda-child.mjs'), [bundle, String(rounds)], {
    execArgv: [],
    env: {
      PATH: process.env.PATH,
      ...env,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'bench',
      AWS_SECRET_ACCESS_KEY: 'bench',
      AWS_LAMBDA_FUNCTION_NAME: 'signet-api',
      POWERTOOLS_LOG_LEVEL: 'INFO',
      SIGNET_METRICS_NAMESPACE: 'Signet',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
    // The function's log lines and EMF metrics are written, as in Lambda, to /dev/null.
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  let afterInit = 0;
  let afterFirst = 0;
  const run = await new Promise<ContainerRun>((done, fail) => {
    child.on('message', (message: ContainerRun & { phase: string }) => {
      if (message.phase === 'init') afterInit = calls();
      else if (message.phase === 'first') afterFirst = calls();
      if (message.phase === 'done') done(message);
      else child.send('go');
    });
    child.on('exit', (code) => {
      if (code !== 0) fail(new Error(`The bench container exited with code ${code}.`));
    });
  });
  return { run, callsAfterInit: { first: afterFirst - afterInit, total: calls() - afterInit } };
}

/** Minified ESM bundle size of each Lambda entry point, as deployed, and without the AWS SDK. */
export async function benchBundles(): Promise<{ name: string; bytes: number; bytesWithoutSdk: number }[]> {
  const out = mkdtempSync(join(tmpdir(), 'signet-bundle-'));
  const results: { name: string; bytes: number; bytesWithoutSdk: number }[] = [];
  for (const name of ['api', 'rotator']) {
    const file = await buildFunction(name, out);
    const slim = await buildFunction(name, out, true);
    results.push({ name, bytes: statSync(file).size, bytesWithoutSdk: statSync(slim).size });
  }
  return results;
}
