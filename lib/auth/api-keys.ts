import { createHash, timingSafeEqual } from 'node:crypto';
import * as z from 'zod';

/**
 * One API key as stored: its id, the SHA-256 of the key (never the key), and its lifecycle
 * (docs/operators.md, "API keys"). Documents written before the lifecycle fields existed hold only
 * `id`, `sha256` and maybe `description`; they are read as keys that never expire.
 */
export interface ApiKeyRecord {
  /** Unique per key; what `signet api-keys revoke` names. */
  readonly id: string;
  /** Lowercase hex SHA-256 of the key's UTF-8 bytes (64 characters). */
  readonly sha256: string;
  /** The name grants' `when.apiKeys` match (default: the id), so a caller's key can be replaced without a config change. */
  readonly principal?: string;
  /** Free text for operators (who holds the key); ignored by the service. */
  readonly description?: string;
  /** ISO 8601 instants. The API refuses a key from `expiresAt` on, and a key with `revokedAt` at all. */
  readonly createdAt?: string;
  readonly expiresAt?: string;
  readonly revokedAt?: string;
}

/** The name a key's caller goes by in grants and audit lines: its principal, else its id. */
export function principalOf(record: ApiKeyRecord): string {
  return record.principal ?? record.id;
}

/** Whether the API accepts a key at `nowSeconds` (epoch seconds): not revoked, not expired. */
export function isApiKeyLive(record: ApiKeyRecord, nowSeconds: number): boolean {
  if (record.revokedAt !== undefined) return false;
  if (record.expiresAt === undefined) return true;
  const expires = Date.parse(record.expiresAt);
  // A date that does not parse refuses the key rather than making it immortal.
  return Number.isFinite(expires) && nowSeconds * 1000 < expires;
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

/**
 * Another writer changed the API key secret between the read a change was computed from and its
 * write (compare-and-swap on the secret's AWSCURRENT version): reload and apply the change again.
 */
export class ApiKeysConflictError extends Error {
  readonly code = 'ERR_API_KEYS_CONFLICT';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ApiKeysConflictError';
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

const NAME = /^[\x21-\x7e]{1,128}$/;

/** An ISO 8601 instant with its time zone, as `Date.prototype.toISOString` writes it. */
const instant = z
  .string()
  .regex(
    /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?(Z|[+-]\d{2}:\d{2})$/,
    'Expected an ISO 8601 instant like 2027-01-31T00:00:00Z',
  )
  .refine((text) => Number.isFinite(Date.parse(text)), 'Expected a real date');

const apiKeyRecordSchema = z.strictObject({
  id: z.string().regex(NAME, 'Expected an id of 1 to 128 printable ASCII characters without spaces'),
  sha256: z
    .string()
    .regex(/^[0-9a-fA-F]{64}$/, 'Expected the hex SHA-256 of the key (64 hex digits), never the key itself')
    .transform((hex) => hex.toLowerCase()),
  principal: z
    .string()
    .regex(NAME, 'Expected a principal of 1 to 128 printable ASCII characters without spaces')
    .optional(),
  /** Free text for operators (who holds the key); ignored by the service. */
  description: z.string().optional(),
  createdAt: instant.optional(),
  expiresAt: instant.optional(),
  revokedAt: instant.optional(),
});

/**
 * The API key secret's document: `{"keys":[{"id":"mobile-app","sha256":"<64 hex>"}]}`, each key
 * optionally with `principal`, `description`, `createdAt`, `expiresAt` and `revokedAt` (what
 * `signet api-keys` writes). Ids are unique (revoke names them) and so are hashes (one key must not
 * stand for two callers).
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
  return Object.freeze(
    result.data.keys.map((record) => Object.freeze(withoutUndefined(record) as unknown as ApiKeyRecord)),
  );
}

/**
 * The document for `records`, as `signet api-keys` writes it: hashes and lifecycle fields only,
 * never a key. Each record's fields in a fixed order, so equal lists serialize equally.
 */
export function serializeApiKeyDocument(records: readonly ApiKeyRecord[]): string {
  const keys = records.map((record) =>
    withoutUndefined({
      id: record.id,
      sha256: record.sha256,
      principal: record.principal,
      description: record.description,
      createdAt: record.createdAt,
      expiresAt: record.expiresAt,
      revokedAt: record.revokedAt,
    }),
  );
  const text = JSON.stringify({ keys });
  parseApiKeyDocument(text); // never write what the API would refuse to read
  return text;
}

/** The same fields, without those that are `undefined` (so JSON and equality see only what is set). */
function withoutUndefined(value: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined));
}

/** The lowercase hex SHA-256 of an API key, as stored in the API key document. For operators and tests. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/**
 * The id of the live record whose hash is the presented key's, or `undefined`. See {@link findApiKey}.
 */
export function matchApiKey(
  records: readonly ApiKeyRecord[],
  presented: string,
  nowSeconds: number = Date.now() / 1000,
): string | undefined {
  return findApiKey(records, presented, nowSeconds)?.id;
}

/**
 * The record whose hash is the presented key's, if it is live at `nowSeconds` (not revoked, not
 * expired), else `undefined`: an expired or revoked key is refused exactly like an unknown one.
 * Compares the 32-byte digests with `timingSafeEqual` against every record, without stopping at a
 * match, so the time taken reveals neither whether a key matched nor which one. Hashing first also
 * makes every comparison the same length whatever the caller sent.
 */
export function findApiKey(
  records: readonly ApiKeyRecord[],
  presented: string,
  nowSeconds: number,
): ApiKeyRecord | undefined {
  const digest = createHash('sha256').update(presented, 'utf8').digest();
  let matched: ApiKeyRecord | undefined;
  for (const record of records) {
    const stored = Buffer.from(record.sha256, 'hex');
    // A record that bypassed parseApiKeyDocument with a bad hash must not throw (or match).
    const equal = stored.length === digest.length && timingSafeEqual(stored, digest);
    if (equal && matched === undefined) matched = record;
  }
  return matched !== undefined && isApiKeyLive(matched, nowSeconds) ? matched : undefined;
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
