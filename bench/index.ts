// `npm run bench`: performance figures measured in one run, printed as ratios so they mean the
// same on any machine. Not a test: nothing here asserts timing. `npm run bench -- --json` prints
// one JSON object whose `ratios` maps each comparison to its measured ratio.
import { parseArgs } from 'node:util';
import { benchApi } from './api.ts';
import { benchBundles, benchLambda } from './lambda.ts';
import { benchSigning } from './signing.ts';

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    seconds: { type: 'string', default: '2' },
    only: { type: 'string' },
  },
});
const seconds = Number(values.seconds);
const only = values.only;
const out = (text: string) => {
  if (!values.json) process.stdout.write(text);
};

const report: Record<string, unknown> & { ratios: Record<string, number> } = { seconds, ratios: {} };

if (only === undefined || only === 'signing') {
  const signing = benchSigning(seconds);
  report.signing = signing.measurements;
  Object.assign(report.ratios, signing.ratios);
  const width = Math.max(...signing.measurements.map((m) => m.name.length));
  out(`Signing throughput (${seconds} s per figure, one core):\n`);
  for (const m of signing.measurements) {
    out(`  ${m.name.padEnd(width)}  ${Math.round(m.perSecond).toLocaleString('en-US').padStart(9)} /s\n`);
  }
}

if (only === undefined || only === 'api') {
  const api = await benchApi(Math.max(seconds * 2, 3));
  report.api = api;
  Object.assign(report.ratios, api.ratios);
  out(`\nLocal API under autocannon load (loopback, 32 connections, load generator on the same 2 cores):\n`);
  for (const l of api.loads) {
    out(
      `  ${l.name.padEnd(46)} ${Math.round(l.requestsPerSecond).toLocaleString('en-US').padStart(7)} req/s  p50 ${l.p50Ms} ms  p99 ${l.p99Ms} ms${l.non2xx > 0 ? `  (${l.non2xx} non-2xx!)` : ''}\n`,
    );
  }
  out(`  openssl speed -multi 2 rsa2048: ${Math.round(api.opensslMulti).toLocaleString('en-US')} signs/s\n`);
  out(`  peak RSS of one API worker under load: ${(api.peakRssBytes / 1024 / 1024).toFixed(0)} MiB\n`);
}

if (only === undefined || only === 'lambda') {
  const lambda = await benchLambda(2000);
  const bundles = await benchBundles(lambda.config);
  report.lambda = {
    p50Ms: lambda.p50Ms,
    p99Ms: lambda.p99Ms,
    cpuMsPerRequest: lambda.cpuMsPerRequest,
    secretsManagerCallsPer10k: lambda.secretsManagerCallsPer10k,
  };
  report.bundles = bundles;
  out(
    '\nWarm Lambda handler (functions/api.ts, in-process, API Gateway v2 events, RSA, 2,000 invocations):\n',
  );
  out(
    `  p50 ${lambda.p50Ms.toFixed(3)} ms  p99 ${lambda.p99Ms.toFixed(3)} ms  CPU ${lambda.cpuMsPerRequest.toFixed(3)} ms/request\n`,
  );
  out(`  Secrets Manager calls per 10,000 warm requests: ${lambda.secretsManagerCallsPer10k}\n`);
  out('\nBundles (esbuild, minified ESM):\n');
  for (const b of bundles) {
    out(
      `  ${b.name.padEnd(8)} ${(b.bytes / 1024).toFixed(0).padStart(5)} KB (${(b.bytesWithoutSdk / 1024).toFixed(0)} KB with the runtime's AWS SDK)  cold import ${b.coldImportMs.toFixed(0)} ms\n`,
    );
  }
}

if (values.json) {
  process.stdout.write(`${JSON.stringify(report)}\n`);
} else {
  out('\nRatios:\n');
  for (const [name, value] of Object.entries(report.ratios))
    out(`  ${name.padEnd(26)} ${value.toFixed(3)}\n`);
  out(
    '\nTargets: rsaUrlVsOpenssl >= 0.90, ecdsaUrlVsOpenssl >= 0.80, apiRsaVsOpensslMulti >= 0.60; warm handler p50 <= 1 ms; API bundle < 400 KB.\n',
  );
}
