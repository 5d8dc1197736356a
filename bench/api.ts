import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { opensslSignRate, ratio } from './measure.ts';

interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number; average: number };
  non2xx: number;
  errors: number;
}
type Autocannon = (options: Record<string, unknown>) => Promise<AutocannonResult>;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

/** One load run against the local API. */
export interface LoadResult {
  name: string;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  /**
   * The load generator's (autocannon's, in this process) CPU time as a share of the machine's CPU
   * over the run: the part of the cores the API could not use, for reading the ratio fairly.
   */
  loadGeneratorCpuShare: number;
}

async function startServer(
  workers: number,
  algorithm: string,
): Promise<{ child: ChildProcess; port: number; token: string; stop(): Promise<number> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', resolve(import.meta.dirname, 'api-server.ts')], {
    env: {
      ...process.env,
      BENCH_WORKERS: String(workers),
      BENCH_ALGORITHM: algorithm,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  let buffer = '';
  const waiters: ((line: string) => void)[] = [];
  child.stdout!.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    let newline = buffer.indexOf('\n');
    while (newline !== -1) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      const waiter = waiters.shift();
      if (waiter) waiter(line);
      else lines.push(line);
      newline = buffer.indexOf('\n');
    }
  });
  const nextLine = () =>
    new Promise<string>((done) => (lines.length > 0 ? done(lines.shift()!) : waiters.push(done)));
  const ready = JSON.parse(await nextLine()) as { port: number; token: string };
  return {
    child,
    port: ready.port,
    token: ready.token,
    stop: async () => {
      child.kill('SIGTERM');
      const report = JSON.parse(await nextLine()) as { peakRssBytes: number };
      return report.peakRssBytes;
    },
  };
}

async function load(
  name: string,
  url: string,
  headers: Record<string, string>,
  body: string,
  seconds: number,
): Promise<LoadResult> {
  const options = {
    url,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
    connections: 32,
    pipelining: 1,
  };
  await autocannon({ ...options, duration: 1 }); // warm-up: JIT, key parse, connection setup
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const result = await autocannon({ ...options, duration: seconds });
  const cpu = process.cpuUsage(cpuBefore);
  const wallMicros = (performance.now() - started) * 1000;
  return {
    loadGeneratorCpuShare: (cpu.user + cpu.system) / (wallMicros * availableParallelism()),
    name,
    requestsPerSecond: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    non2xx: result.non2xx + result.errors,
  };
}

/**
 * The local API under autocannon load on loopback (a cluster of one worker per core), beside
 * `openssl speed -multi <cores> rsa2048` measured in the same run. Load generator and server share
 * the machine's cores, as docs/design.md, "Contracts", notes.
 */
export async function benchApi(seconds: number): Promise<{
  loads: LoadResult[];
  peakRssBytes: number;
  opensslMulti: number;
  opensslEcdsaMulti: number;
  ratios: Record<string, number>;
}> {
  const body = JSON.stringify({
    url: 'https://media.example.com/videos/2026/launch-keynote.mp4',
    expiresIn: 300,
  });
  const loads: LoadResult[] = [];
  let peakRssBytes = 0;

  // openssl is measured just before and just after each algorithm's loads, and the two averaged, so
  // that a change in the machine's other load during the run weighs on both sides of the ratio.
  const opensslRsaBefore = opensslSignRate('rsa2048', seconds, 2);
  const rsa = await startServer(2, 'rsa-2048');
  const url = `http://127.0.0.1:${rsa.port}/v1/signed-urls`;
  loads.push(
    await load(
      'API, RSA URL, x-api-key, 2 workers',
      url,
      { 'x-api-key': 'bench-api-key-0123456789' },
      body,
      seconds,
    ),
  );
  loads.push(
    await load(
      'API, RSA URL, bearer JWT (ES256), 2 workers',
      url,
      { authorization: `Bearer ${rsa.token}` },
      body,
      seconds,
    ),
  );
  peakRssBytes = Math.max(peakRssBytes, await rsa.stop());

  const opensslRsaAfter = opensslSignRate('rsa2048', seconds, 2);
  const opensslEcdsaBefore = opensslSignRate('ecdsap256', seconds, 2);
  const ec = await startServer(2, 'ecdsa-p256');
  const ecUrl = `http://127.0.0.1:${ec.port}/v1/signed-urls`;
  loads.push(
    await load(
      'API, ECDSA URL, x-api-key, 2 workers',
      ecUrl,
      { 'x-api-key': 'bench-api-key-0123456789' },
      body,
      seconds,
    ),
  );
  peakRssBytes = Math.max(peakRssBytes, await ec.stop());

  const opensslMulti = (opensslRsaBefore + opensslRsaAfter) / 2;
  const opensslEcdsaMulti = (opensslEcdsaBefore + opensslSignRate('ecdsap256', seconds, 2)) / 2;
  return {
    loads,
    peakRssBytes,
    opensslMulti,
    opensslEcdsaMulti,
    ratios: {
      apiRsaVsOpensslMulti: ratio(loads[0]!.requestsPerSecond, opensslMulti),
      apiRsaJwtVsOpensslMulti: ratio(loads[1]!.requestsPerSecond, opensslMulti),
      apiEcdsaVsOpensslMulti: ratio(loads[2]!.requestsPerSecond, opensslEcdsaMulti),
    },
  };
}
