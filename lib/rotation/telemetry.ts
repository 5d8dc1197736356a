import type { CatalogueMetrics, RotatorMetricName } from '../telemetry/catalogue.ts';

/**
 * Every metric the rotator raises: the catalogue's `signet-rotator` metrics, each described there
 * with its dimensions (lib/telemetry/catalogue.ts).
 */
export type RotationMetricName = RotatorMetricName;

/** The rotator's counters and gauges (the telemetry port, typed by the catalogue). */
export type RotationMetrics = CatalogueMetrics<RotationMetricName>;
