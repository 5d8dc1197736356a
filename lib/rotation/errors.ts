import type { Violation } from './invariants.ts';

/** Stable codes of the rotator's own errors. */
export type RotationErrorCode =
  | 'ERR_ROTATION_INVARIANT'
  | 'ERR_ROTATION_KEY_MISMATCH'
  | 'ERR_ROTATION_STATE_CHANGED'
  | 'ERR_ROTATION_RETRIES_EXHAUSTED'
  /** The key group named `signet-<stage>-<profile>` appeared during the run and holds none of the ring's keys. */
  | 'ERR_ROTATION_KEY_GROUP_NOT_OURS'
  /** A custom resource asked to move the ring to another key group, and the move could break links. */
  | 'ERR_ROTATION_KEY_GROUP_MOVE_REFUSED'
  /** A `signer: kms` profile, and the rotator was built without a KMS client. */
  | 'ERR_ROTATION_KMS_MISSING'
  | 'ERR_REVOKE_NO_RING'
  | 'ERR_REVOKE_UNKNOWN_KEY';

/** A rotation run that could not complete, with a stable {@link RotationErrorCode}. */
export class RotationError extends Error {
  readonly code: RotationErrorCode;
  constructor(code: RotationErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RotationError';
    this.code = code;
  }
}

/** A run ended with the key ring, key group or public keys breaking a rotation invariant (docs/design.md, "Invariants"). */
export class RotationInvariantError extends RotationError {
  readonly violations: readonly Violation[];
  constructor(profileName: string, violations: readonly Violation[]) {
    super(
      'ERR_ROTATION_INVARIANT',
      `Expected profile ${profileName} to satisfy the rotation invariants after the run; ` +
        `got ${violations.map((violation) => `${violation.code} (${violation.message})`).join('; ')}.`,
    );
    this.name = 'RotationInvariantError';
    this.violations = violations;
  }
}
