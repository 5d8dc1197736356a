export { type ApplyContext, applyAction, type Commit, type ObservedState } from './apply.ts';
export {
  CANARY_TTL_SECONDS,
  type CanaryProbe,
  type CanaryVerdict,
  checkCanary,
  fetchCanaryProbe,
} from './canary.ts';
export { RotationError, type RotationErrorCode, RotationInvariantError } from './errors.ts';
export { checkInvariants, type InvariantOptions, type Violation, type ViolationCode } from './invariants.ts';
export { type KeyListing, type KeyListingRow, listKeys } from './inventory.ts';
export { type GeneratedKeyPair, type GenerateKeyPair, generateKeyPair } from './keygen.ts';
export { callerReferenceFor, isSignetKeyNameOf, keyGroupNameFor, publicKeyNameFor } from './names.ts';
export {
  classifySignetKeys,
  type ForeignKey,
  findForeignKeys,
  findOrphans,
  fingerprintOfRegistered,
  knownToRing,
  type Orphan,
  ownKeyGroup,
  type SignetKeyOwnership,
} from './ownership.ts';
export {
  type BlockedReason,
  PHASE_KINDS,
  type PlanOptions,
  planRotation,
  type RotationAction,
  rotationDueAt,
} from './plan.ts';
export { MAX_KEYS_PER_GROUP, MAX_PUBLIC_KEYS_PER_ACCOUNT } from './quotas.ts';
export {
  type KeyGroupRegistry,
  type RegisteredKeyGroup,
  type RegisteredPublicKey,
  RegistryConflictError,
  RegistryInUseError,
  RegistryNotFoundError,
  RegistryQuotaError,
} from './registry.ts';
export {
  planRevoke,
  type RevokeExposure,
  type RevokeKeyOptions,
  type RevokePlan,
  type RevokeResult,
  revokeKey,
} from './revoke.ts';
export { observe, type RotationResult, type RunRotationOptions, runRotation, stateOf } from './rotator.ts';
export type { RotationState } from './state.ts';
export type { RotationMetricName, RotationMetrics } from './telemetry.ts';
export {
  type ProfileTimings,
  type RotationTimingOptions,
  removalDelaySeconds,
  validateRotationTimings,
} from './timings.ts';
