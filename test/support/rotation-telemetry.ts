import type { RotationMetricName, RotationMetrics } from '../../lib/rotation/telemetry.ts';
import type { Log } from '../../lib/telemetry/ports.ts';

/** One recorded log line. */
export interface LogLine {
  readonly level: 'info' | 'warn' | 'error';
  readonly message: string;
  readonly fields: Record<string, unknown>;
}

/** Keeps every log line, for assertions. */
export class RecordingLog implements Log {
  readonly lines: LogLine[] = [];
  info(message: string, fields: Record<string, unknown> = {}): void {
    this.lines.push({ level: 'info', message, fields });
  }
  warn(message: string, fields: Record<string, unknown> = {}): void {
    this.lines.push({ level: 'warn', message, fields });
  }
  error(message: string, fields: Record<string, unknown> = {}): void {
    this.lines.push({ level: 'error', message, fields });
  }
  /** Every line, as one string: to check that no key material was logged. */
  text(): string {
    return JSON.stringify(this.lines);
  }
}

/** One recorded metric value. */
export interface MetricPoint {
  readonly kind: 'count' | 'gauge';
  readonly name: RotationMetricName;
  readonly value: number;
  readonly dimensions: Readonly<Record<string, string>>;
}

/** Keeps every metric, for assertions. */
export class RecordingMetrics implements RotationMetrics {
  readonly points: MetricPoint[] = [];
  count(name: RotationMetricName, value: number, dimensions: Readonly<Record<string, string>>): void {
    this.points.push({ kind: 'count', name, value, dimensions });
  }
  gauge(name: RotationMetricName, value: number, dimensions: Readonly<Record<string, string>>): void {
    this.points.push({ kind: 'gauge', name, value, dimensions });
  }
  /** The points of one metric. */
  of(name: RotationMetricName): MetricPoint[] {
    return this.points.filter((point) => point.name === name);
  }
}
