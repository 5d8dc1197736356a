// CloudFront's default quotas that bound rotation, in one place: the planner, config validation,
// doctor and the sandbox's CloudFront stand-in all read them from here (docs/design.md,
// "Contracts"). Both can be raised per account in Service Quotas; their current values are
// UNCONFIRMED beyond CloudFront's documented defaults.

/** CloudFront's default quota of public keys per key group (`TooManyPublicKeysInKeyGroup`). */
export const MAX_KEYS_PER_GROUP = 5;

/** CloudFront's default quota of public keys per account, all profiles and stages together (`TooManyPublicKeys`). */
export const MAX_PUBLIC_KEYS_PER_ACCOUNT = 10;
