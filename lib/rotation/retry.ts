import { KeyRingConflictError } from '../keys/store.ts';
import {
  type KeyGroupRegistry,
  type RegisteredKeyGroup,
  RegistryConflictError,
  RegistryNotFoundError,
} from './registry.ts';

// The two retry loops every writer of the ring and the key group shares (docs/design.md, "The key
// ring document"): a whole change re-planned when another writer moved the ring or the group first,
// and one key group call retried with a fresh ETag.

/** How many times rotate, revoke and teardown plan and apply before giving up on other writers. */
export const CONFLICT_ATTEMPTS = 4;

/** How many times one key group update or delete is retried with a re-read ETag. */
export const ETAG_ATTEMPTS = 5;

/** A compare-and-swap that lost: the ring's (`KeyRingConflictError`) or a key group's ETag. */
export type WriteConflict = KeyRingConflictError | RegistryConflictError;

/** Whether an error means "another writer got there first: re-read and try again". */
export function isWriteConflict(error: unknown): error is WriteConflict {
  return error instanceof KeyRingConflictError || error instanceof RegistryConflictError;
}

/** Options of {@link retryOnConflict}. */
export interface ConflictRetryOptions {
  /** Default {@link CONFLICT_ATTEMPTS}. */
  readonly maxAttempts?: number | undefined;
  /** Told of each conflict that will be retried (to log it). */
  readonly onConflict?: (conflict: WriteConflict, attempt: number) => void;
  /** The error thrown once `maxAttempts` attempts all met a conflict; `cause` is the last one. */
  readonly exhausted: (maxAttempts: number, cause: WriteConflict) => Error;
}

/** What one attempt of {@link retryOnConflict} is told. */
export interface ConflictAttempt {
  /** 1 for the first attempt. */
  readonly number: number;
  /** The ring conflict that ended an earlier attempt, if any: another writer changed the ring during this run. */
  readonly ringConflicted: boolean;
}

/**
 * Runs `attempt` (read, plan, apply) until it returns, re-running it from a fresh read each time it
 * throws a write conflict, at most `maxAttempts` times. Other errors pass through at once.
 */
export async function retryOnConflict<T>(
  options: ConflictRetryOptions,
  attempt: (state: ConflictAttempt) => Promise<T>,
): Promise<T> {
  const maxAttempts = options.maxAttempts ?? CONFLICT_ATTEMPTS;
  let ringConflicted = false;
  for (let number = 1; ; number++) {
    try {
      return await attempt({ number, ringConflicted });
    } catch (error) {
      if (!isWriteConflict(error)) throw error;
      if (number >= maxAttempts) throw options.exhausted(maxAttempts, error);
      if (error instanceof KeyRingConflictError) ringConflicted = true;
      options.onConflict?.(error, number);
    }
  }
}

/** GetKeyGroup that answers `undefined` for a group that does not exist (any other error is thrown). */
export async function findKeyGroup(
  registry: Pick<KeyGroupRegistry, 'getKeyGroup'>,
  id: string,
): Promise<RegisteredKeyGroup | undefined> {
  try {
    return await registry.getKeyGroup(id);
  } catch (error) {
    if (error instanceof RegistryNotFoundError) return undefined;
    throw error;
  }
}

/**
 * Runs `call` (an UpdateKeyGroup or DeleteKeyGroup with If-Match) on `group`; when its ETag went
 * stale (`RegistryConflictError`), re-reads the group and runs `call` again on the fresh one, at
 * most `attempts` times. `call` decides from the group it is given, so a change another writer made
 * meanwhile is seen. Answers `undefined` when the group is gone on a re-read.
 */
export async function retryOnStaleETag<T>(
  registry: Pick<KeyGroupRegistry, 'getKeyGroup'>,
  group: RegisteredKeyGroup,
  call: (current: RegisteredKeyGroup) => Promise<T>,
  attempts: number = ETAG_ATTEMPTS,
): Promise<T | undefined> {
  let current: RegisteredKeyGroup | undefined = group;
  for (let tries = 1; current !== undefined; tries++) {
    try {
      return await call(current);
    } catch (error) {
      if (!(error instanceof RegistryConflictError) || tries >= attempts) throw error;
      current = await findKeyGroup(registry, group.id);
    }
  }
  return undefined;
}
