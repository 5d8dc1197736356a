/**
 * Where the rotator writes its structured log lines. The Powertools Logger and the API's `Log`
 * satisfy it; a line never holds key material (fingerprints and public key ids are not secret).
 */
export interface RotationLog {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** Every metric the rotator raises. */
export type RotationMetricName =
  /** One per committed phase change or repair; dimensions `profile`, `action`. */
  | 'RotationTransitions'
  /** A run that threw; dimensions `profile`, `code`. */
  | 'RotationFailures'
  /** A run that could not advance (quota, missing key group); dimensions `profile`, `reason`. */
  | 'RotationBlocked'
  /**
   * One per invariant broken after a run, warnings included, every run it persists; dimensions
   * `profile`, `code`. For dashboards: alarm on `RotationInvariantErrors` instead.
   */
  | 'RotationInvariantViolations'
  /**
   * Error-severity invariant violations counted once, by the run that first saw each (the ring's
   * `incidents` remembers them); dimension `profile` only, so one alarm covers every code.
   */
  | 'RotationInvariantErrors'
  /**
   * A config change the rotator will not carry out (a lowered `rotation.propagation` without a
   * canary); it keeps the safe value and fails the run. Dimension `profile`.
   */
  | 'RotationConfigRefused'
  /** Seconds since the active key was activated (a gauge); dimension `profile`. */
  | 'ActiveKeyAgeSeconds'
  /** A canary fetch with the pending key did not answer 200, so activation waits; dimension `profile`. */
  | 'RotationCanaryFailures'
  /** An operator revoked a key (`signet revoke`); dimensions `profile`, `state` (what the key was). */
  | 'RotationRevocations';

/** Counters (and an optional gauge) for the rotator: CloudWatch EMF in Lambda, memory in tests. */
export interface RotationMetrics {
  count(name: RotationMetricName, value: number, dimensions: Readonly<Record<string, string>>): void;
  /** A value that is set, not summed. Without it, gauges are sent through {@link count}. */
  gauge?(name: RotationMetricName, value: number, dimensions: Readonly<Record<string, string>>): void;
}

/** Drops log lines. */
export const silentRotationLog: RotationLog = { info() {}, warn() {}, error() {} };

/** Drops metrics. */
export const noRotationMetrics: RotationMetrics = { count() {} };
