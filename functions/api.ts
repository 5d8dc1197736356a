// Lambda entry point of the signing API (API Gateway HTTP API, payload 2.0). Parses the config and
// builds the SDK clients and caches once per cold start, then (top-level await, so during Lambda's
// init phase) loads the key rings, API keys and JWKS the first request would otherwise wait for;
// everything else lives in lib/. docs/operators.md, "Cold starts".
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { EmfMetrics } from '../lib/aws/emf-metrics.ts';
import { JsonLog } from '../lib/aws/json-log.ts';
import { createSecretsManagerClient } from '../lib/aws/secrets-manager-client.ts';
import { readConfigFromEnvironment } from '../lib/config/load.ts';
import { createApp } from '../lib/http/app.ts';
import { metricsNamespace } from '../lib/telemetry/catalogue.ts';
import { noMetrics, silentLog } from '../lib/telemetry/ports.ts';
import { buildApiDependencies, DEFAULT_WARM_TIMEOUT_MS } from '../lib/wiring/api.ts';
import { lambdaHandler } from '../lib/wiring/lambda-http.ts';

const config = readConfigFromEnvironment(process.env, process.cwd());
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
/** What the init phase loaded and how long it waited (read by `npm run bench`). */
export const warmed = await deps.warm({ timeoutMs: DEFAULT_WARM_TIMEOUT_MS });

const appHandler = lambdaHandler(app);

/** The API Gateway v2 handler: each invocation's log lines carry its Lambda context. */
export const handler = (event: APIGatewayProxyEventV2, context: Context) => {
  log.setContext(context);
  return appHandler(event, context);
};

// Requests answered in-process before the first caller's, so that it does not pay for compiling the
// adapter, the router, the body's schema and the access checks: a GET /v1/health through the app's
// adapter (not `handler`, which sets the log's context: the first real request stays the one logged as the cold
// start), and a POST /v1/signed-urls through a second instance of the app whose caller is a made-up
// principal no grant names (so it is refused), with no key to sign with in any case, and whose log
// lines and metrics go nowhere. The key rings are loaded, so neither calls anything.
const rehearsalStarted = performance.now();
if (warmed.ok) {
  await appHandler(warmUpEvent('GET', '/v1/health')).catch(() => undefined);
  const rehearsal = lambdaHandler(
    createApp({
      ...deps,
      authenticator: {
        authenticate: async () => ({
          kind: 'api-key',
          subject: 'api-key:signet-warm-up',
          claims: {},
          apiKeyId: '\u0000',
        }),
      },
      // And no key: were a grant to cover every caller, the rehearsal still stops before signing.
      rings: new Map(
        [...deps.rings.keys()].map((name) => [
          name,
          { active: () => Promise.reject(new Error('rehearsal')) } as never,
        ]),
      ),
      log: silentLog,
      metrics: noMetrics,
    }),
  );
  for (const [profile, { domains }] of Object.entries(config.profiles)) {
    const body = JSON.stringify({ profile, url: `https://${domains[0]}/signet-warm-up`, expiresIn: 60 });
    await rehearsal(warmUpEvent('POST', '/v1/signed-urls', body)).catch(() => undefined);
  }
}

/** How long the rehearsal took, milliseconds (read by `npm run bench`, which counts it as init work, not import). */
export const rehearsedMs = performance.now() - rehearsalStarted;

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
