// `npm run bench`: performance figures measured in one run, printed as ratios so they mean the
// same on any machine, each beside its target (issue 15; docs/design.md, "Toolchain"). Not a test:
// nothing here asserts timing, and a missed target does not fail the run. `npm run bench -- --json`
// prints one JSON object: `ratios` maps each comparison to its ratio, `targets` lists each figure
// with its target and whether it holds. `--only signing|api|lambda|cli` runs one part.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { benchApi } from './api.ts';
import { benchCli } from './cli.ts';
import { benchBundles, benchLambda, STAND_IN_LATENCY_MS } from './lambda.ts';
import { benchSigning } from './signing.ts';

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    seconds: { type: 'string', default: '2' },
    only: { type: 'string' },
  },
});
const seconds = Number(values.seconds);
if (!Number.isFinite(seconds) || seconds <= 0) {
  process.stderr.write(
    `Expected --seconds to be a positive number; got ${JSON.stringify(values.seconds)}.\n`,
  );
  process.exit(2);
}
const PARTS = ['signing', 'api', 'lambda', 'cli', 'kms'];
const only = values.only;
if (only !== undefined && !PARTS.includes(only)) {
  process.stderr.write(`Expected --only to be one of ${PARTS.join(', ')}; got ${JSON.stringify(only)}.\n`);
  process.exit(2);
}
const runs = (part: string) => only === undefined || only === part;
const out = (text: string) => {
  if (!values.json) process.stdout.write(text);
};

/** One figure beside its target. */
interface Target {
  name: string;
  value: number;
  target: number;
  /** `max`: the figure must be at most the target; `min`: at least. */
  kind: 'max' | 'min';
  unit: string;
  holds: boolean;
}
const targets: Target[] = [];
const target = (name: string, value: number, kind: 'max' | 'min', limit: number, unit = '') => {
  targets.push({
    name,
    value,
    target: limit,
    kind,
    unit,
    holds: kind === 'max' ? value <= limit : value >= limit,
  });
};
const fmt = (value: number, digits = 3) => (Number.isInteger(value) ? String(value) : value.toFixed(digits));

const report: Record<string, unknown> & { ratios: Record<string, number> } = {
  seconds,
  loadAverage: (await import('node:os')).loadavg()[0],
  ratios: {},
};

if (runs('signing')) {
  const signing = benchSigning(seconds);
  report.signing = signing.measurements;
  Object.assign(report.ratios, signing.ratios);
  const width = Math.max(...signing.measurements.map((m) => m.name.length));
  out(`Signing throughput (${seconds} s per figure, one core; each ratio from interleaved slices):\n`);
  for (const m of signing.measurements) {
    out(`  ${m.name.padEnd(width)}  ${Math.round(m.perSecond).toLocaleString('en-US').padStart(9)} /s\n`);
  }
  target('ecdsaUrlVsCryptoSign', signing.ratios.ecdsaUrlVsCryptoSign!, 'min', 0.92);
  target('rsaUrlVsCryptoSign', signing.ratios.rsaUrlVsCryptoSign!, 'min', 0.97);
}

if (runs('api')) {
  const api = await benchApi(Math.max(seconds * 2, 3));
  report.api = api;
  Object.assign(report.ratios, api.ratios);
  out(`\nLocal API under autocannon load (loopback, 32 connections, load generator on the same 2 cores):\n`);
  for (const l of api.loads) {
    out(
      `  ${l.name.padEnd(46)} ${Math.round(l.requestsPerSecond).toLocaleString('en-US').padStart(7)} req/s  p50 ${l.p50Ms} ms  p99 ${l.p99Ms} ms  load generator ${Math.round(l.loadGeneratorCpuShare * 100)}% of the CPU${l.non2xx > 0 ? `  (${l.non2xx} non-2xx!)` : ''}\n`,
    );
  }
  out(`  openssl speed -multi 2 rsa2048: ${Math.round(api.opensslMulti).toLocaleString('en-US')} signs/s\n`);
  out(
    `  openssl speed -multi 2 ecdsap256: ${Math.round(api.opensslEcdsaMulti).toLocaleString('en-US')} signs/s\n`,
  );
  out(`  peak RSS of one API worker under load: ${(api.peakRssBytes / 1024 / 1024).toFixed(0)} MiB\n`);
  target('apiRsaVsOpensslMulti', api.ratios.apiRsaVsOpensslMulti!, 'min', 0.55);
}

if (runs('lambda')) {
  const lambda = await benchLambda({ containers: 5, rounds: 20 });
  const bundles = await benchBundles();
  const { bundleFile, ...figures } = lambda;
  void bundleFile;
  report.lambda = figures;
  report.overheadCpuMsPerRequest = lambda.overheadCpuMsPerRequest;
  report.bundles = bundles.map((b) => (b.name === 'api' ? { ...b, coldImportMs: lambda.coldImportMs } : b));
  out(
    `\nAPI function as Lambda runs it (deployed bundle, fresh process per container, JWT caller, one RSA URL; stand-ins add ${STAND_IN_LATENCY_MS} ms per AWS/JWKS call; median of ${lambda.containers} containers):\n`,
  );
  out(
    `  init ${lambda.initMs.toFixed(1)} ms (bundle import ${lambda.coldImportMs.toFixed(1)} ms, fastest ${lambda.coldImportMinMs.toFixed(1)} ms)\n`,
  );
  out(
    `  first request ${lambda.firstRequestMs.toFixed(2)} ms, warm p50 ${lambda.warmP50Ms.toFixed(3)} ms, p99 ${lambda.warmP99Ms.toFixed(3)} ms; first request calls to Secrets Manager/JWKS: ${lambda.firstRequestCalls}\n`,
  );
  out(
    `  first request CPU ${lambda.firstRequestCpuMs.toFixed(2)} ms, warm request CPU p50 ${lambda.warmCpuP50Ms.toFixed(3)} ms (wall times above include waiting for a core under load)\n`,
  );
  out(
    `  CPU per warm request ${lambda.cpuMsPerRequest.toFixed(3)} ms = RSA signature ${lambda.signatureCpuMs.toFixed(3)} ms + overhead ${lambda.overheadCpuMsPerRequest.toFixed(3)} ms\n`,
  );
  out(
    `  Secrets Manager/JWKS calls per 10,000 warm requests: ${lambda.secretsManagerCallsPer10k.toFixed(0)}\n`,
  );
  out('\nBundles (esbuild with serverless.yml custom.esbuild, minified ESM):\n');
  for (const b of bundles) {
    out(
      `  ${b.name.padEnd(8)} ${(b.bytes / 1024).toFixed(0).padStart(5)} KB (${(b.bytesWithoutSdk / 1024).toFixed(0)} KB with the runtime's AWS SDK)\n`,
    );
  }
  // Where the warm request's CPU goes (bench/profile.ts), from source in a fresh process.
  const profile = (
    JSON.parse(
      execFileSync(
        process.execPath,
        ['--import', 'tsx', join(import.meta.dirname, 'profile.ts'), '3000', '--json'],
        {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'ignore'],
          env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
        },
      ),
    ) as { bucket: string; share: number }[]
  ).filter((row) => row.share >= 0.01);
  report.profile = profile;
  out('  where a warm request\'s CPU goes (self time, at least 1%; "native: run" is the signature):\n');
  for (const row of profile) out(`    ${(row.share * 100).toFixed(1).padStart(5)}%  ${row.bucket}\n`);
  target(
    'firstRequestExtraCpuMs (first request minus warm, CPU)',
    lambda.firstRequestExtraCpuMs,
    'max',
    2,
    ' ms',
  );
  target('firstRequestCalls (Secrets Manager/JWKS)', lambda.firstRequestCalls, 'max', 0);
  target('overheadCpuMsPerRequest', lambda.overheadCpuMsPerRequest, 'max', 0.15, ' ms');
  target('apiBundleKB', bundles.find((b) => b.name === 'api')!.bytes / 1024, 'max', 400, ' KB');
  target('apiColdImportMs', lambda.coldImportMs, 'max', 50, ' ms');
}

if (runs('cli')) {
  const cli = await benchCli();
  report.cli = cli;
  out(
    `\nCLI: signet --help ${cli.helpSeconds.toFixed(3)} s CPU (${cli.helpWallSeconds.toFixed(3)} s wall; a bare node -e 0: ${cli.bareNodeSeconds.toFixed(3)} s CPU), ${cli.compiled ? 'compiled (dist/cli)' : 'through tsx: the compiled CLI is missing or older than the sources (npm install builds it)'}\n`,
  );
  target('signetHelpSeconds (CPU)', cli.helpSeconds, 'max', 0.2, ' s');
}

// KMS signing (issue 16): calls per 1,000 requests and added latency; see bench/kms.ts.
if (runs('kms')) report.kms = await import('./kms.ts').then((kms) => kms.benchKmsAndPrint(out));

report.targets = targets;
if (values.json) {
  process.stdout.write(`${JSON.stringify(report)}\n`);
} else {
  out('\nRatios:\n');
  for (const [name, value] of Object.entries(report.ratios))
    out(`  ${name.padEnd(26)} ${value.toFixed(3)}\n`);
  out(`\nTargets (load average ${Number(report.loadAverage).toFixed(1)} when the run started):\n`);
  const width = Math.max(...targets.map((t) => t.name.length));
  for (const t of targets) {
    out(
      `  ${t.name.padEnd(width)}  ${fmt(t.value).padStart(9)}${t.unit}  ${t.kind === 'max' ? '<=' : '>='} ${t.target}${t.unit}  ${t.holds ? 'holds' : 'MISSED'}\n`,
    );
  }
}
