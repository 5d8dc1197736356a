// Lambda entry point of the signing API (API Gateway HTTP API, payload 2.0). Parses the config and
// builds the SDK clients and caches once per cold start, then (top-level await, so during Lambda's
// init phase) loads the key rings, API keys and JWKS the first request would otherwise wait for;
// everything else lives in lib/. docs/operators.md, "Cold starts".
import { generateKeyPairSync } from 'node:crypto';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { EmfMetrics } from '../lib/aws/emf-metrics.ts';
import { JsonLog } from '../lib/aws/json-log.ts';
import { createSecretsManagerClient } from '../lib/aws/secrets-manager-client.ts';
import { readConfigFromEnvironment } from '../lib/config/load.ts';
import { createApp } from '../lib/http/app.ts';
import { parseSigningKey } from '../lib/signing/index.ts';
import { metricsNamespace } from '../lib/telemetry/catalogue.ts';
import { buildApiDependencies, DEFAULT_WARM_TIMEOUT_MS } from '../lib/wiring/api.ts';
import { lambdaHandler } from '../lib/wiring/lambda-http.ts';

const config = readConfigFromEnvironment(process.env, process.cwd());
/** Rounds of the init's rehearsal (see {@link rehearse}): enough for V8 to compile the hot code. */
const REHEARSALS = 40;
// The Powertools Logger's lines, written without it: cheap on the signing path (lib/aws/json-log.ts).
const log = new JsonLog({ serviceName: 'signet-api' });
const deps = buildApiDependencies({
  config,
  secretsManager: createSecretsManagerClient(config, { signingPath: true }),
  log,
  // The same EMF lines as PowertoolsMetrics (the rotator's), from templates: cheap on the signing path.
  metrics: new EmfMetrics({
    namespace: process.env.SIGNET_METRICS_NAMESPACE ?? metricsNamespace(config.stage),
    serviceName: 'signet-api',
  }),
});
const app = createApp(deps);

// Bounded, and never throws: a Secrets Manager or issuer outage must not fail the init phase (Lambda
// would retry it on every request); the first request then loads what is missing, as it always did.
// The rehearsal (below) runs while the loads wait on the network.
const warming = deps.warm({ timeoutMs: DEFAULT_WARM_TIMEOUT_MS });
const rehearsalStarted = performance.now();
const rehearsing = rehearse();
/** What the init phase loaded and how long it waited (read by `npm run bench`). */
export const warmed = await warming;

const appHandler = lambdaHandler(app);

/** The API Gateway v2 handler: each invocation's log lines carry its Lambda context. */
export const handler = (event: APIGatewayProxyEventV2, context: Context) => {
  log.setContext(context);
  return appHandler(event, context);
};

// The app's health answer, once the rings are loaded: through the app's adapter (not `handler`, which
// sets the log's context: the first real request stays the one logged as the cold start).
if (warmed.ok) await appHandler(warmUpEvent('GET', '/v1/health')).catch(() => undefined);
await rehearsing;

/**
 * How long the init's work past the loads took, milliseconds: the rehearsal and the health answer, less
 * the loads' `warmed.ms` they overlap (read by `npm run bench`, which counts both as init work, not import).
 */
export const rehearsedMs = performance.now() - rehearsalStarted - warmed.ms;

/**
 * Requests answered in-process during the init phase, so that the first caller's pays neither for
 * compiling the code of a signing request nor for its first slow runs (V8 optimizes a function after
 * it has run a while): {@link REHEARSALS} rounds of one signed URL and one set of signed cookies per
 * profile, through a second instance of the app. Its config grants only a made-up caller, and only
 * https://<domain>/signet-warm-up; it signs with a throwaway key made here (never a profile's key,
 * never KMS), and its log lines and metrics are written by the same classes as the real ones, to
 * nowhere. It needs nothing loaded and yields between requests, so it runs while the init's loads
 * wait on the network.
 */
async function rehearse(): Promise<void> {
  const caller = { sub: 'signet-warm-up' };
  const throwaway = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
  const active = {
    id: 'KSIGNETWARMUP',
    hash: 'sha256',
    key: parseSigningKey(throwaway.export({ type: 'pkcs8', format: 'pem' })),
  };
  const ring = { active: async () => ({ active }) } as never;
  const rehearsal = lambdaHandler(
    createApp({
      ...deps,
      config: {
        ...config,
        profiles: Object.fromEntries(
          Object.entries(config.profiles).map(([name, profile]) => [
            name,
            {
              ...profile,
              grants: [
                { when: { claims: caller }, resources: [`https://${profile.domains[0]}/signet-warm-up`] },
              ],
            },
          ]),
        ),
      },
      authenticator: { authenticate: async () => ({ kind: 'jwt', subject: caller.sub, claims: caller }) },
      rings: new Map(Object.keys(config.profiles).map((name) => [name, ring])),
      log: new JsonLog({ serviceName: 'signet-api', write: () => undefined }),
      metrics: new EmfMetrics({
        namespace: 'Signet/rehearsal',
        serviceName: 'signet-api',
        write: () => undefined,
      }),
    }),
  );
  for (let round = 0; round < REHEARSALS; round++) {
    for (const [profile, { domains }] of Object.entries(config.profiles)) {
      const body = JSON.stringify({ profile, url: `https://${domains[0]}/signet-warm-up`, expiresIn: 60 });
      await rehearsal(warmUpEvent('POST', '/v1/signed-urls', body)).catch(() => undefined);
      await rehearsal(warmUpEvent('POST', '/v1/signed-cookies', body)).catch(() => undefined);
    }
    // Lets the init's network answers in between: the loads are not held up.
    await new Promise((done) => setImmediate(done));
  }
}

function warmUpEvent(method: string, path: string, body?: string) {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: '',
    headers: { host: 'init.invalid', 'content-type': 'application/json' },
    requestContext: {
      http: {
        method,
        path,
        protocol: 'HTTP/1.1',
        sourceIp: '127.0.0.1',
        userAgent: 'init',
      },
      requestId: 'init',
      routeKey: '$default',
      stage: '$default',
      timeEpoch: Date.now(),
    },
    ...(body === undefined ? {} : { body }),
    isBase64Encoded: false,
  } as never;
}
