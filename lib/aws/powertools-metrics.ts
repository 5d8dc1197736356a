import { MetricUnit, type Metrics as PowertoolsMetricsClient } from '@aws-lambda-powertools/metrics';
import type { MetricName, Metrics } from '../http/telemetry.ts';
import type { RotationMetricName, RotationMetrics } from '../rotation/telemetry.ts';

/**
 * Publishes each count as its own CloudWatch EMF record with its dimensions (Powertools'
 * `singleMetric`), since one request's metrics carry different dimension sets.
 */
export class PowertoolsMetrics implements Metrics, RotationMetrics {
  readonly #metrics: PowertoolsMetricsClient;

  constructor(metrics: PowertoolsMetricsClient) {
    this.#metrics = metrics;
  }

  count(
    name: MetricName | RotationMetricName,
    value: number,
    dimensions: Readonly<Record<string, string>>,
  ): void {
    const single = this.#metrics.singleMetric();
    for (const [key, dimension] of Object.entries(dimensions)) single.addDimension(key, dimension);
    single.addMetric(name, MetricUnit.Count, value);
  }

  gauge(name: RotationMetricName, value: number, dimensions: Readonly<Record<string, string>>): void {
    const single = this.#metrics.singleMetric();
    for (const [key, dimension] of Object.entries(dimensions)) single.addDimension(key, dimension);
    single.addMetric(name, MetricUnit.Seconds, value);
  }
}
