import { createHash, timingSafeEqual } from 'node:crypto';
import * as z from 'zod';

/** One API key as stored: its id (what grants name) and the SHA-256 of the key, never the key. */
export interface ApiKeyRecord {
  readonly id: string;
  /** Lowercase hex SHA-256 of the key's UTF-8 bytes (64 characters). */
  readonly sha256: string;
}

/** Where the API key hashes come from (a Secrets Manager secret in production). */
export interface ApiKeySource {
  /**
   * The current list of keys. Throws {@link ApiKeysUnavailableError} when it cannot be read and
   * {@link ApiKeysInvalidError} when what was read is not a valid document.
   */
  load(): Promise<readonly ApiKeyRecord[]>;
}

/** The API key document could not be read from its store. The HTTP layer answers 503. */
export class ApiKeysUnavailableError extends Error {
  readonly code = 'ERR_API_KEYS_UNAVAILABLE';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ApiKeysUnavailableError';
  }
}

/** The API key document was read but is not valid; the message lists every bad field. */
export class ApiKeysInvalidError extends Error {
  readonly code = 'ERR_API_KEYS_INVALID';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ApiKeysInvalidError';
  }
}

const apiKeyRecordSchema = z.strictObject({
  id: z
    .string()
    .regex(/^[\x21-\x7e]{1,128}$/, 'Expected an id of 1 to 128 printable ASCII characters without spaces'),
  sha256: z
    .string()
    .regex(/^[0-9a-fA-F]{64}$/, 'Expected the hex SHA-256 of the key (64 hex digits), never the key itself')
    .transform((hex) => hex.toLowerCase()),
  /** Free text for operators (who holds the key); ignored by the service. */
  description: z.string().optional(),
});

/**
 * The API key secret's document: `{"keys":[{"id":"mobile-app","sha256":"<64 hex>"}]}`. Ids are unique
 * (grants name them) and so are hashes (one key must not stand for two callers).
 */
export const apiKeyDocumentSchema = z
  .strictObject({ keys: z.array(apiKeyRecordSchema) })
  .superRefine((document, ctx) => {
    const ids = new Set<string>();
    const hashes = new Set<string>();
    for (const [index, record] of document.keys.entries()) {
      if (ids.has(record.id)) {
        ctx.addIssue({
          code: 'custom',
          path: ['keys', index, 'id'],
          message: `Expected unique ids; ${record.id} appears twice`,
        });
      }
      if (hashes.has(record.sha256)) {
        ctx.addIssue({
          code: 'custom',
          path: ['keys', index, 'sha256'],
          message: `Expected unique hashes; the hash of ${record.id} is also another key's`,
        });
      }
      ids.add(record.id);
      hashes.add(record.sha256);
    }
  });

/**
 * Parses and validates the API key document (JSON text). Throws {@link ApiKeysInvalidError} listing
 * every bad field; the message never quotes a hash.
 */
export function parseApiKeyDocument(text: string): readonly ApiKeyRecord[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new ApiKeysInvalidError('Expected the API key document to be JSON; it is not.', { cause });
  }
  const result = apiKeyDocumentSchema.safeParse(value);
  if (!result.success) {
    const problems = result.error.issues.map(
      (issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`,
    );
    throw new ApiKeysInvalidError(
      `Expected {"keys":[{"id":"…","sha256":"<64 hex>"}]} in the API key document: ${problems.join('; ')}.`,
    );
  }
  return Object.freeze(result.data.keys.map(({ id, sha256 }) => Object.freeze({ id, sha256 })));
}

/** The lowercase hex SHA-256 of an API key, as stored in the API key document. For operators and tests. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/**
 * The id of the record whose hash is the presented key's, or `undefined`. Compares the 32-byte
 * digests with `timingSafeEqual` against every record, without stopping at a match, so the time
 * taken reveals neither whether a key matched nor which one. Hashing first also makes every
 * comparison the same length whatever the caller sent.
 */
export function matchApiKey(records: readonly ApiKeyRecord[], presented: string): string | undefined {
  const digest = createHash('sha256').update(presented, 'utf8').digest();
  let matched: string | undefined;
  for (const record of records) {
    const stored = Buffer.from(record.sha256, 'hex');
    // A record that bypassed parseApiKeyDocument with a bad hash must not throw (or match).
    const equal = stored.length === digest.length && timingSafeEqual(stored, digest);
    if (equal && matched === undefined) matched = record.id;
  }
  return matched;
}

/** Events of a {@link CachedApiKeySource}, for logs and metrics. Never holds a key or hash. */
export type ApiKeyCacheEvent =
  | { readonly type: 'refreshed'; readonly count: number }
  | { readonly type: 'refresh-failed'; readonly error: unknown; readonly ageSeconds: number | null }
  | { readonly type: 'served-stale'; readonly ageSeconds: number };

/** Options of {@link CachedApiKeySource}. */
export interface CachedApiKeySourceOptions {
  /** A list younger than this is served without asking the source. Seconds; default 300. */
  readonly ttlSeconds?: number;
  /** After a failed refresh, the stale list serves this long before the next attempt. Seconds; default min(ttl, 10). */
  readonly retryAfterFailureSeconds?: number;
  /** Epoch milliseconds; `Date.now` when omitted. */
  readonly now?: () => number;
  readonly onEvent?: (event: ApiKeyCacheEvent) => void;
}

/**
 * Caches another {@link ApiKeySource} per process: fresh for `ttlSeconds` (a revoked key stops working
 * within that time); then the next call reloads, with at most one load in flight however many
 * requests wait on it. When a reload fails the last good list keeps serving (Secrets Manager being
 * down must not lock every API key caller out), and the source is asked again only after
 * `retryAfterFailureSeconds`, so an outage is not hammered once per request. With no list yet, a
 * failure is thrown.
 */
export class CachedApiKeySource implements ApiKeySource {
  readonly #source: ApiKeySource;
  readonly #ttlMs: number;
  readonly #retryMs: number;
  readonly #now: () => number;
  readonly #onEvent: ((event: ApiKeyCacheEvent) => void) | undefined;
  #records: readonly ApiKeyRecord[] | undefined;
  #loadedAt = 0;
  #lastFailureAt: number | undefined;
  #inFlight: Promise<readonly ApiKeyRecord[]> | undefined;

  constructor(source: ApiKeySource, options: CachedApiKeySourceOptions = {}) {
    const ttl = options.ttlSeconds ?? 300;
    this.#source = source;
    this.#ttlMs = ttl * 1000;
    this.#retryMs = (options.retryAfterFailureSeconds ?? Math.min(ttl, 10)) * 1000;
    this.#now = options.now ?? Date.now;
    this.#onEvent = options.onEvent;
  }

  async load(): Promise<readonly ApiKeyRecord[]> {
    const records = this.#records;
    if (records === undefined) return this.#refresh();
    const now = this.#now();
    if (now - this.#loadedAt < this.#ttlMs) return records;
    const waitingOutFailure = this.#lastFailureAt !== undefined && now - this.#lastFailureAt < this.#retryMs;
    if (!waitingOutFailure) {
      try {
        return await this.#refresh();
      } catch {
        // Reported through onEvent in #load; the last good list keeps serving.
      }
    }
    this.#onEvent?.({ type: 'served-stale', ageSeconds: Math.floor((this.#now() - this.#loadedAt) / 1000) });
    return records;
  }

  #refresh(): Promise<readonly ApiKeyRecord[]> {
    this.#inFlight ??= this.#load().finally(() => {
      this.#inFlight = undefined;
    });
    return this.#inFlight;
  }

  async #load(): Promise<readonly ApiKeyRecord[]> {
    let records: readonly ApiKeyRecord[];
    try {
      records = await this.#source.load();
    } catch (error) {
      this.#lastFailureAt = this.#now();
      const ageSeconds =
        this.#records === undefined ? null : Math.floor((this.#now() - this.#loadedAt) / 1000);
      this.#onEvent?.({ type: 'refresh-failed', error, ageSeconds });
      throw error;
    }
    this.#records = records;
    this.#loadedAt = this.#now();
    this.#lastFailureAt = undefined;
    this.#onEvent?.({ type: 'refreshed', count: records.length });
    return records;
  }
}
