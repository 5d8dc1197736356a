// Lambda entry point of the key rotator: the EventBridge schedule and the CloudFormation custom
// resource that bootstraps each profile. Parses the config and builds the SDK clients once per cold start.
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics } from '@aws-lambda-powertools/metrics';
import middy from '@middy/core';
import { createAwsClients } from '../lib/aws/clients.ts';
import { powertoolsLog } from '../lib/aws/powertools-log.ts';
import { PowertoolsMetrics } from '../lib/aws/powertools-metrics.ts';
import { createRotatorHandler } from '../lib/aws/rotator-handler.ts';
import { readConfig } from '../lib/config/index.ts';

const config = readConfig(requiredEnv('SIGNET_CONFIG'), process.cwd());
const logger = new Logger({ serviceName: 'signet-rotator' });
const metrics = new Metrics({
  namespace: process.env.SIGNET_METRICS_NAMESPACE ?? 'Signet',
  serviceName: 'signet-rotator',
});
const clients = createAwsClients(config);

/** The schedule and custom resource handler. */
export const handler = middy(
  createRotatorHandler({
    config,
    secretsManager: clients.secretsManager,
    cloudfront: clients.cloudfront,
    log: powertoolsLog(logger),
    metrics: new PowertoolsMetrics(metrics),
  }),
).use(injectLambdaContext(logger));

function requiredEnv(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') {
    throw new Error(
      `Expected the ${name} environment variable: the Signet config as inline JSON or a file path.`,
    );
  }
  return value;
}
