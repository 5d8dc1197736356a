// One Lambda container, as `npm run bench` runs it in a fresh Node process (bench/lambda.ts): imports
// the API bundle (the init phase, top-level await included), times the first request, then warm
// requests, and the bare RSA signature on the same key interleaved with them so that both see the
// same machine load. Plain JavaScript, so that no TypeScript loader sits in the import being timed.
// Reports one JSON object over IPC; stdout (the function's log lines and EMF metrics) goes to /dev/null.
import { createPrivateKey, sign } from 'node:crypto';

const [bundle, roundsArg] = process.argv.slice(2);
const rounds = Number(roundsArg ?? '0');
const PER_ROUND = 100;

/** Tells the bench where this container is (so it can read the stand-ins' call counts) and waits for it. */
const checkpoint = (phase) =>
  new Promise((done) => {
    process.once('message', done);
    process.send({ phase });
  });

const started = performance.now();
const api = await import(bundle);
const initMs = performance.now() - started;
await checkpoint('init');

const event = () => ({
  version: '2.0',
  routeKey: '$default',
  rawPath: '/v1/signed-urls',
  rawQueryString: '',
  headers: {
    'content-type': 'application/json',
    authorization: `Bearer ${process.env.BENCH_TOKEN}`,
    host: 'api.example.com',
    'content-length': '72',
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
let invocation = 0;
const context = () => ({
  awsRequestId: `bench-${++invocation}`,
  functionName: 'signet-api',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:signet-api',
  memoryLimitInMB: '1024',
  getRemainingTimeInMillis: () => 10_000,
});
const invoke = async () => {
  const response = await api.handler(event(), context());
  if (response.statusCode !== 200)
    throw new Error(`The handler answered ${response.statusCode}: ${response.body}`);
};

const firstStart = performance.now();
const firstCpuBefore = process.cpuUsage();
await invoke();
const firstCpu = process.cpuUsage(firstCpuBefore);
const firstMs = performance.now() - firstStart;
const firstCpuMs = (firstCpu.user + firstCpu.system) / 1000;
await checkpoint('first');

// Warm requests: the same process after its first few hundred, as a container serves them.
for (let i = 0; i < 300; i++) await invoke();
const warmTimes = [];
const warmCpuTimes = [];
for (let i = 0; i < 200; i++) {
  const start = performance.now();
  const cpuBefore = process.cpuUsage();
  await invoke();
  const cpu = process.cpuUsage(cpuBefore);
  warmTimes.push(performance.now() - start);
  warmCpuTimes.push((cpu.user + cpu.system) / 1000);
}
warmCpuTimes.sort((a, b) => a - b);

// CPU per request beside the bare signature (crypto.sign of a canned policy of the same size, same key).
const key = createPrivateKey(process.env.BENCH_SIGNING_KEY);
const policy = Buffer.from(
  `{"Statement":[{"Resource":"https://media.example.com/videos/2026/launch-keynote.mp4","Condition":{"DateLessThan":{"AWS:EpochTime":${Math.floor(Date.now() / 1000) + 300}}}}]}`,
);
let handlerCpu = 0;
let signCpu = 0;
for (let round = 0; round < rounds; round++) {
  let before = process.cpuUsage();
  for (let i = 0; i < PER_ROUND; i++) {
    const start = performance.now();
    await invoke();
    warmTimes.push(performance.now() - start);
  }
  let used = process.cpuUsage(before);
  handlerCpu += used.user + used.system;
  before = process.cpuUsage();
  for (let i = 0; i < PER_ROUND; i++) sign('sha1', policy, key);
  used = process.cpuUsage(before);
  signCpu += used.user + used.system;
}
warmTimes.sort((a, b) => a - b);
const at = (p) => warmTimes[Math.min(warmTimes.length - 1, Math.floor(p * warmTimes.length))];
const requests = rounds * PER_ROUND;
process.send(
  {
    phase: 'done',
    initMs,
    warmMs: api.warmed.ms,
    warmOk: api.warmed.ok,
    importMs: initMs - api.warmed.ms - api.rehearsedMs,
    firstMs,
    firstCpuMs,
    warmCpuP50Ms: warmCpuTimes[100],
    warmP50Ms: at(0.5),
    warmP99Ms: at(0.99),
    requests,
    cpuMsPerRequest: requests === 0 ? null : handlerCpu / 1000 / requests,
    signCpuMs: requests === 0 ? null : signCpu / 1000 / requests,
  },
  () => process.exit(0),
);
