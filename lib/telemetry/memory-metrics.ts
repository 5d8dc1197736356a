import type { Metrics } from './ports.ts';

/** Counts metrics in memory: for local runs (`npm start`) and tests. */
export class MemoryMetrics<Name extends string = string> implements Metrics<Name> {
  readonly counts = new Map<string, number>();

  count(name: Name, value: number, dimensions: Readonly<Record<string, string>>): void {
    const key = `${name}${Object.entries(dimensions)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `|${k}=${v}`)
      .join('')}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + value);
  }

  /** The total of a metric across dimensions, optionally only those matching `where`. */
  total(name: Name, where: Record<string, string> = {}): number {
    let sum = 0;
    for (const [key, value] of this.counts) {
      const [metric, ...dims] = key.split('|');
      if (metric !== name) continue;
      if (Object.entries(where).every(([k, v]) => dims.includes(`${k}=${v}`))) sum += value;
    }
    return sum;
  }
}
