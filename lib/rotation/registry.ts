/** A CloudFront public key as the registry reports it. */
export interface RegisteredPublicKey {
  readonly id: string;
  readonly name: string;
  /** SPKI PEM. */
  readonly encodedKey: string;
  readonly createdTime: string;
  /**
   * The comment it was created with. Signet's name the key ring that owns the key
   * (`publicKeyCommentFor`), which is how two rings sharing one account tell their keys apart.
   */
  readonly comment?: string;
}

/** A key group as CloudFront reports it, with the ETag an update must match. */
export interface RegisteredKeyGroup {
  readonly id: string;
  readonly name: string;
  readonly items: readonly string[];
  readonly etag: string;
}

/** A key group as ListKeyGroups reports it: no ETag (a Get gives the one an update needs). */
export type ListedKeyGroup = Omit<RegisteredKeyGroup, 'etag'>;

/** Which key groups one distribution's cache behaviours trust, as ListDistributions reports it. */
export interface DistributionTrust {
  readonly id: string;
  /** `Deployed` once every edge has the distribution's current config; `InProgress` before. */
  readonly status: string;
  /** Each cache behaviour (`*` for the default): the key groups its `TrustedKeyGroups` lists. */
  readonly behaviors: readonly {
    readonly pathPattern: string;
    readonly trustedKeyGroups: readonly string[];
  }[];
}

/**
 * Every distribution of the account with the key groups it trusts: what proves that moving a ring
 * to another key group breaks no link (lib/rotation/move-key-group.ts). The adapter over the real
 * SDK client is `CloudFrontKeyGroupRegistry` (ListDistributions).
 */
export interface DistributionTrustReader {
  listDistributionTrust(): Promise<readonly DistributionTrust[]>;
}

/**
 * The CloudFront control plane as rotation needs it: public keys and one key group. Named by what
 * it does; the adapter over the real SDK client is `CloudFrontKeyGroupRegistry`.
 */
export interface KeyGroupRegistry {
  /** The key group with this id; throws {@link RegistryNotFoundError} when there is none. */
  getKeyGroup(id: string): Promise<RegisteredKeyGroup>;
  /** The key group with this name, if any (names are unique per account). */
  findKeyGroupByName(name: string): Promise<RegisteredKeyGroup | undefined>;
  /**
   * Every key group of the account (all pages), so rotation can tell a key another group holds
   * (another stage's, another tool's) from one of its own.
   */
  listKeyGroups(): Promise<readonly ListedKeyGroup[]>;
  /**
   * Creates a key group. A group of that name already existing throws {@link RegistryConflictError}
   * (find it by name and adopt it); a quota throws {@link RegistryQuotaError}.
   */
  createKeyGroup(name: string, items: readonly string[]): Promise<RegisteredKeyGroup>;
  /** Replaces the group's keys if its ETag is still `etag`; else throws {@link RegistryConflictError}. */
  updateKeyGroup(group: RegisteredKeyGroup, items: readonly string[]): Promise<RegisteredKeyGroup>;
  /**
   * Deletes the key group if its ETag is still `group.etag` (else {@link RegistryConflictError}: re-read
   * and retry). A group that a distribution still trusts throws {@link RegistryInUseError}, whose message
   * carries CloudFront's (which names the distribution where CloudFront does). A group already gone is
   * not an error: a retried teardown finds it so.
   */
  deleteKeyGroup(group: RegisteredKeyGroup): Promise<void>;
  listPublicKeys(): Promise<readonly RegisteredPublicKey[]>;
  getPublicKey(id: string): Promise<RegisteredPublicKey | undefined>;
  /**
   * Creates a public key. If a key with this name already exists with the same PEM (a retry after a
   * crash), returns that key instead of failing: the name is derived from the key's fingerprint.
   */
  createPublicKey(input: {
    name: string;
    callerReference: string;
    encodedKey: string;
    comment: string;
  }): Promise<RegisteredPublicKey>;
  /**
   * Deletes a public key (no key group may hold it: else {@link RegistryInUseError}). A key already
   * gone is not an error.
   */
  deletePublicKey(id: string): Promise<void>;
}

/** Someone else changed the key group since it was read: re-read and retry. */
export class RegistryConflictError extends Error {
  readonly code = 'ERR_REGISTRY_CONFLICT';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RegistryConflictError';
  }
}

/** CloudFront refused a change for a quota (5 keys per group, 10 per account). */
export class RegistryQuotaError extends Error {
  readonly code = 'ERR_REGISTRY_QUOTA';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RegistryQuotaError';
  }
}

/** The key group named does not exist (deleted, or the id is wrong). */
export class RegistryNotFoundError extends Error {
  readonly code = 'ERR_REGISTRY_NOT_FOUND';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RegistryNotFoundError';
  }
}

/** A public key cannot be deleted while a key group holds it, nor a key group while a distribution trusts it. */
export class RegistryInUseError extends Error {
  readonly code = 'ERR_REGISTRY_IN_USE';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RegistryInUseError';
  }
}
