import type { Metrics } from '../telemetry/ports.ts';

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

/** The rotator's counters and gauge (the telemetry port, with the rotator's metric names). */
export type RotationMetrics = Metrics<RotationMetricName>;
