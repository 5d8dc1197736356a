// Lambda entry point of the key rotator: the EventBridge schedule and the CloudFormation custom
// resource that bootstraps each profile. Parses the config and builds the SDK clients once per cold start.
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { createAwsClients } from '../lib/aws/clients.ts';
import { powertoolsLog } from '../lib/aws/powertools-log.ts';
import { PowertoolsMetrics } from '../lib/aws/powertools-metrics.ts';
import { readConfigFromEnvironment } from '../lib/config/load.ts';
import { metricsNamespace } from '../lib/telemetry/catalogue.ts';
import { createRotatorHandler } from '../lib/wiring/rotator.ts';

const config = readConfigFromEnvironment(process.env, process.cwd());
const logger = new Logger({ serviceName: 'signet-rotator' });
const clients = createAwsClients(config);

/** The schedule and custom resource handler. */
export const handler = middy(
  createRotatorHandler({
    config,
    secretsManager: clients.secretsManager,
    cloudfront: clients.cloudfront,
    log: powertoolsLog(logger),
    metrics: new PowertoolsMetrics({
      namespace: process.env.SIGNET_METRICS_NAMESPACE ?? metricsNamespace(config.stage),
      serviceName: 'signet-rotator',
    }),
  }),
).use(injectLambdaContext(logger));
