import type { Logger } from '@aws-lambda-powertools/logger';
import type { Log } from '../telemetry/ports.ts';

/** Adapts the Powertools Logger (structured JSON lines in CloudWatch) to the API's {@link Log}. */
export function powertoolsLog(logger: Logger): Log {
  return {
    info: (message, fields) => logger.info(message, { ...fields }),
    warn: (message, fields) => logger.warn(message, { ...fields }),
    error: (message, fields) => logger.error(message, { ...fields }),
  };
}
