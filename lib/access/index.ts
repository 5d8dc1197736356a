export { authorize } from './authorize.ts';
export { claimHolds, grantApplies } from './claims.ts';
export { AccessError, type AccessErrorCode, type RefusedItem } from './errors.ts';
export { pathAmbiguity } from './paths.ts';
export { encodeClaimSegment, globContains, interpolatePattern, patternContains } from './patterns.ts';
export type { AccessDecision, AuthorizeInput, Caller } from './types.ts';
