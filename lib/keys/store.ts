import type { KeyRing } from './ring.ts';

/** A key ring with the storage version it was read at (the compare-and-swap token). */
export interface VersionedKeyRing {
  readonly ring: KeyRing;
  readonly version: string;
}

/**
 * Where a profile's key ring lives. `save` is a compare-and-swap: it succeeds only if the current
 * version is still `previousVersion`; otherwise it throws {@link KeyRingConflictError} and the caller
 * recomputes its change from a fresh `load()`.
 */
export interface KeyRingStore {
  /** The current ring, or `undefined` when the secret exists with no value yet (before bootstrap). */
  load(): Promise<VersionedKeyRing | undefined>;
  /**
   * Writes `ring` as the new current version. `transition` names the change (for example
   * `introduce:sha256:…`): the same change retried from the same version is a no-op, not a second write.
   */
  save(ring: KeyRing, previousVersion: string | undefined, transition: string): Promise<string>;
}

/** Another writer changed the ring first. */
export class KeyRingConflictError extends Error {
  readonly code = 'ERR_KEY_RING_CONFLICT';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KeyRingConflictError';
  }
}

/** The ring's storage could not be reached or refused the request. */
export class KeyRingUnavailableError extends Error {
  readonly code = 'ERR_KEY_RING_UNAVAILABLE';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KeyRingUnavailableError';
  }
}
