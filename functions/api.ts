// Lambda entry point of the signing API (API Gateway HTTP API, payload 2.0). Parses the config and
// builds the SDK clients and caches once per cold start; everything else lives in lib/.
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { handle } from 'hono/aws-lambda';
import { powertoolsLog } from '../lib/aws/powertools-log.ts';
import { PowertoolsMetrics } from '../lib/aws/powertools-metrics.ts';
import { createSecretsManagerClient } from '../lib/aws/secrets-manager-client.ts';
import { readConfigFromEnvironment } from '../lib/config/index.ts';
import { createApp } from '../lib/http/app.ts';
import { buildApiDependencies } from '../lib/wiring/api.ts';

const config = readConfigFromEnvironment(process.env, process.cwd());
const logger = new Logger({ serviceName: 'signet-api' });
const app = createApp(
  buildApiDependencies({
    config,
    secretsManager: createSecretsManagerClient(config),
    log: powertoolsLog(logger),
    metrics: new PowertoolsMetrics({
      namespace: process.env.SIGNET_METRICS_NAMESPACE ?? 'Signet',
      serviceName: 'signet-api',
    }),
  }),
);

/** The API Gateway v2 handler. */
export const handler = middy(handle(app)).use(injectLambdaContext(logger));
