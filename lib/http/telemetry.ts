/**
 * Where the API writes its audit lines and logs. The Powertools Logger satisfies it; a log line
 * never holds key material or a whole token.
 */
export interface Log {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** Counters the API raises (CloudWatch EMF in Lambda, an in-memory tally locally and in tests). */
export interface Metrics {
  count(name: MetricName, value: number, dimensions: Readonly<Record<string, string>>): void;
}

/** Every metric the API raises. */
export type MetricName =
  | 'SignaturesIssued'
  | 'Denials'
  | 'KeyRingRefreshes'
  | 'KeyRingRefreshFailures'
  | 'KeyRingStaleServes';

/** Counts metrics in memory: for local runs and tests. */
export class MemoryMetrics implements Metrics {
  readonly counts = new Map<string, number>();

  count(name: MetricName, value: number, dimensions: Readonly<Record<string, string>>): void {
    const key = `${name}${Object.entries(dimensions)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `|${k}=${v}`)
      .join('')}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + value);
  }

  /** The total of a metric across dimensions, optionally only those matching `where`. */
  total(name: MetricName, where: Record<string, string> = {}): number {
    let sum = 0;
    for (const [key, value] of this.counts) {
      const [metric, ...dims] = key.split('|');
      if (metric !== name) continue;
      if (Object.entries(where).every(([k, v]) => dims.includes(`${k}=${v}`))) sum += value;
    }
    return sum;
  }
}

/** Drops log lines: for tests that do not read them. */
export const silentLog: Log = { info() {}, warn() {}, error() {} };
