import { unitOf } from '../telemetry/catalogue.ts';
import type { Metrics } from '../telemetry/ports.ts';

/** Where {@link EmfMetrics} writes and what it names. */
export interface EmfMetricsOptions {
  readonly namespace: string;
  readonly serviceName: string;
  /** Default: standard output, which Lambda sends to CloudWatch Logs (where EMF becomes metrics). */
  readonly write?: (line: string) => void;
  /** Default: the environment, read as Powertools reads it ({@link metricsDisabled}). */
  readonly disabled?: boolean;
}

const TRUTHY = new Set(['1', 'y', 'yes', 't', 'true', 'on']);

/**
 * Whether Powertools would write no metrics: `POWERTOOLS_METRICS_DISABLED` when it is set, else
 * `POWERTOOLS_DEV` (each read as Powertools reads booleans: 1, y, yes, t, true, on).
 */
export function metricsDisabled(env: Readonly<Record<string, string | undefined>>): boolean {
  const value = env.POWERTOOLS_METRICS_DISABLED ?? env.POWERTOOLS_DEV;
  return value !== undefined && TRUTHY.has(value.toLowerCase());
}

/**
 * The API's metrics as CloudWatch EMF lines, the same lines {@link PowertoolsMetrics} writes (one per
 * count, `service` first among the dimensions; test/aws/emf-metrics.test.ts compares them), each
 * built from a template made once per metric name and dimension values, so a count on the signing
 * path costs one string concatenation and one write rather than a Powertools publish.
 */
export class EmfMetrics implements Metrics {
  readonly #options: EmfMetricsOptions;
  readonly #write: (line: string) => void;
  readonly #disabled: boolean;
  readonly #templates = new Map<string, { head: string; tail: string }>();

  constructor(options: EmfMetricsOptions) {
    this.#options = options;
    this.#write = options.write ?? ((line) => process.stdout.write(line));
    this.#disabled = options.disabled ?? metricsDisabled(process.env);
  }

  count(name: string, value: number, dimensions: Readonly<Record<string, string>>): void {
    this.#emit(name, 'Count', value, dimensions);
  }

  /** A gauge in the unit the catalogue gives it (lib/telemetry/catalogue.ts). */
  gauge(name: string, value: number, dimensions: Readonly<Record<string, string>>): void {
    this.#emit(name, unitOf(name), value, dimensions);
  }

  #emit(name: string, unit: string, value: number, dimensions: Readonly<Record<string, string>>): void {
    if (this.#disabled) return;
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new RangeError(`Expected a finite number for metric ${name}; got ${String(value)}.`);
    }
    let key = `${name}\u0000${unit}`;
    for (const dimension in dimensions) key += `\u0000${dimension}\u0001${dimensions[dimension]}`;
    let template = this.#templates.get(key);
    if (template === undefined) {
      const names = ['service', ...Object.keys(dimensions).filter((d) => d !== 'service')];
      const definition = JSON.stringify({
        Namespace: this.#options.namespace,
        Dimensions: [names],
        Metrics: [{ Name: name, Unit: unit }],
      });
      const values = JSON.stringify({ service: this.#options.serviceName, ...dimensions });
      template = {
        head: '{"_aws":{"Timestamp":',
        tail: `,"CloudWatchMetrics":[${definition}]},${values.slice(1, -1)},${JSON.stringify(name)}:`,
      };
      if (this.#templates.size >= 1000) this.#templates.clear();
      this.#templates.set(key, template);
    }
    this.#write(`${template.head}${Date.now()}${template.tail}${value}}\n`);
  }
}
