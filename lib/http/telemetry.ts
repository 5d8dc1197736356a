import type { ApiMetricName, CatalogueMetrics } from '../telemetry/catalogue.ts';

/** Every metric the API raises: the catalogue's `signet-api` metrics (lib/telemetry/catalogue.ts). */
export type MetricName = ApiMetricName;

/** The API's counters (the telemetry port, typed by the catalogue: each name takes exactly its dimensions). */
export type ApiMetrics = CatalogueMetrics<MetricName>;
