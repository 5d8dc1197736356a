// The telemetry ports every part writes to: the API, the rotator, the CLI and the sandbox. The
// Powertools adapters (lib/aws) implement them in Lambda; tests and `npm start` use the in-memory
// ones. Every metric, with its dimensions and their bounds, is in lib/telemetry/catalogue.ts; each
// part's port is typed by it (lib/http/telemetry.ts, lib/rotation/telemetry.ts).

/**
 * Where structured log lines go. The Powertools Logger satisfies it through `powertoolsLog`; a line
 * never holds key material or a whole token.
 */
export interface Log {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** Counters (and an optional gauge) named by `Name`: CloudWatch EMF in Lambda, memory locally. */
export interface Metrics<Name extends string = string> {
  count(name: Name, value: number, dimensions: Readonly<Record<string, string>>): void;
  /** A value that is set, not summed. Without it, gauges are sent through {@link count}. */
  gauge?(name: Name, value: number, dimensions: Readonly<Record<string, string>>): void;
}

/** Drops log lines: for runs and tests that do not read them. */
export const silentLog: Log = { info() {}, warn() {}, error() {} };

/** Drops metrics. */
export const noMetrics: Metrics = { count() {} };
