import type { Metrics } from '../telemetry/ports.ts';

/** Every metric the API raises. */
export type MetricName =
  | 'SignaturesIssued'
  | 'Denials'
  | 'KeyRingRefreshes'
  | 'KeyRingRefreshFailures'
  | 'KeyRingStaleServes';

/** The API's counters (the telemetry port, with the API's metric names). */
export type ApiMetrics = Metrics<MetricName>;
