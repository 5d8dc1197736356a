import { type HashAlgorithm, parseSigningKey, type SigningKey } from '../signing/index.ts';
import type { RemoteSigner } from '../signing/remote.ts';
import { isKmsRingKey, type RemoteSignerFactory } from './kms.ts';
import type { KeyRing } from './ring.ts';
import type { KeyRingStore } from './store.ts';

/**
 * The key a signer uses now, parsed once per ring version: a private key here (`key`), or a KMS key
 * that signs remotely (`remote`, `signer: kms`).
 */
export type ActiveKey = {
  /** The CloudFront public key id, sent as Key-Pair-Id. */
  readonly id: string;
  readonly hash: HashAlgorithm;
} & (
  | { readonly key: SigningKey; readonly remote?: undefined }
  | { readonly key?: undefined; readonly remote: RemoteSigner; readonly kmsKeyArn: string }
);

/** A loaded ring, ready to sign with. */
export interface LoadedRing {
  readonly ring: KeyRing;
  readonly version: string;
  /** `undefined` when the ring has no active key (before bootstrap completes). */
  readonly active: ActiveKey | undefined;
  /** Epoch milliseconds of the load. */
  readonly loadedAt: number;
}

/** What the cache reports for health checks and metrics: nothing secret. */
export interface CacheStatus {
  readonly loaded: boolean;
  readonly activeKeyId: string | null;
  readonly ringAgeSeconds: number | null;
  /** The ring is past its freshness and the last refresh failed: it is being served stale. */
  readonly stale: boolean;
  /** The service can sign right now without a Secrets Manager call. */
  readonly canSign: boolean;
  /** Before the first key is active: when signing starts (ISO 8601), once its first key has propagated. */
  readonly signingStartsAt: string | null;
}

/** Events for logs and metrics. */
export type CacheEvent =
  | { readonly type: 'refreshed'; readonly version: string; readonly changed: boolean }
  | { readonly type: 'refresh-failed'; readonly error: unknown; readonly ringAgeSeconds: number | null }
  | { readonly type: 'served-stale'; readonly ringAgeSeconds: number };

/** No ring can be signed with: never loaded, no active key, or older than `maxStale`. Answer 503. */
export class KeysUnavailableError extends Error {
  readonly code = 'ERR_KEYS_UNAVAILABLE';
  readonly retryAfterSeconds: number;
  /** Before the first key is active: when signing starts (ISO 8601). Safe to tell a caller. */
  readonly signingStartsAt: string | undefined;
  constructor(
    message: string,
    retryAfterSeconds: number,
    options?: { cause?: unknown; signingStartsAt?: string },
  ) {
    super(message, options);
    this.name = 'KeysUnavailableError';
    this.retryAfterSeconds = retryAfterSeconds;
    this.signingStartsAt = options?.signingStartsAt;
  }
}

/** Options of {@link KeyRingCache}. */
export interface KeyRingCacheOptions {
  readonly store: KeyRingStore;
  /** A ring younger than this is served without asking the store. Seconds. */
  readonly ttlSeconds: number;
  /** Past this age a ring is no longer served when the store cannot be reached. Seconds. */
  readonly maxStaleSeconds: number;
  /** Epoch milliseconds. */
  readonly now: () => number;
  /**
   * The profile's `rotation.propagation`, seconds: before the first key is active, signing starts
   * once the pending key has been in the key group this long (and the rotator's next run activates
   * it). Used only to say when; without it, callers are told to retry in 30 s.
   */
  readonly propagationSeconds?: number;
  /** After a failed refresh, the next attempt waits at least this long. Default min(ttl, 10) seconds. */
  readonly retryAfterFailureSeconds?: number;
  readonly onEvent?: (event: CacheEvent) => void;
  /** Builds the signer of a KMS ring key; without it, a ring whose active key is in KMS cannot sign. */
  readonly remoteSigner?: RemoteSignerFactory;
}

/**
 * The in-memory key ring of one profile in one process (docs/design.md, "The key ring cache"). Fresh for `ttlSeconds`; then
 * refreshed in the background while the cached ring keeps serving, with at most one refresh in flight;
 * when the store fails, the cached ring serves until it is `maxStaleSeconds` old, and after that
 * {@link current} throws {@link KeysUnavailableError} rather than sign with a ring that may have
 * been rotated away. The private key is parsed once per ring version, never per request.
 */
export class KeyRingCache {
  readonly #options: KeyRingCacheOptions;
  #loaded: LoadedRing | undefined;
  #inFlight: Promise<LoadedRing> | undefined;
  #lastFailureAt: number | undefined;

  constructor(options: KeyRingCacheOptions) {
    this.#options = options;
  }

  /** The ring to sign with now. Makes a store call only when the ring is missing or too old. */
  async current(): Promise<LoadedRing> {
    const loaded = this.#loaded;
    const now = this.#options.now();
    if (loaded === undefined) return this.#refreshOrThrow();
    const age = (now - loaded.loadedAt) / 1000;
    if (age < this.#options.ttlSeconds) return loaded;
    if (age < this.#options.maxStaleSeconds) {
      if (this.#mayRetry(now)) {
        this.#refresh().catch(() => {
          // Reported through onEvent; the cached ring keeps serving.
        });
      }
      if (this.#lastFailureAt !== undefined) {
        this.#options.onEvent?.({ type: 'served-stale', ringAgeSeconds: Math.floor(age) });
      }
      return loaded;
    }
    return this.#refreshOrThrow();
  }

  /** The ring to sign with and its active key; throws when there is no active key. */
  async active(): Promise<{ ring: LoadedRing; active: ActiveKey }> {
    const ring = await this.current();
    if (ring.active === undefined) {
      const startsAt = this.#signingStartsAt(ring);
      if (startsAt === undefined) {
        throw new KeysUnavailableError(
          'The key ring has no active key yet: the rotator has not finished bootstrapping it.',
          30,
        );
      }
      const wait = Math.max(1, Math.ceil((startsAt - this.#options.now()) / 1000));
      throw new KeysUnavailableError(
        `The key ring has no active key yet: its first key is waiting to reach CloudFront's edges (rotation.propagation); signing starts at about ${new Date(startsAt).toISOString()}, when the rotator's next run activates it.`,
        wait,
        { signingStartsAt: new Date(startsAt).toISOString() },
      );
    }
    return { ring, active: ring.active };
  }

  /** Loads now, whatever the age (for start-up warming and tests). */
  refresh(): Promise<LoadedRing> {
    return this.#refresh();
  }

  /** What health checks report. */
  status(): CacheStatus {
    const loaded = this.#loaded;
    if (loaded === undefined)
      return {
        loaded: false,
        activeKeyId: null,
        ringAgeSeconds: null,
        stale: false,
        canSign: false,
        signingStartsAt: null,
      };
    const age = (this.#options.now() - loaded.loadedAt) / 1000;
    const startsAt = loaded.active === undefined ? this.#signingStartsAt(loaded) : undefined;
    return {
      loaded: true,
      signingStartsAt: startsAt === undefined ? null : new Date(startsAt).toISOString(),
      activeKeyId: loaded.active?.id ?? null,
      ringAgeSeconds: Math.floor(age),
      stale: age >= this.#options.ttlSeconds && this.#lastFailureAt !== undefined,
      canSign: loaded.active !== undefined && age < this.#options.maxStaleSeconds,
    };
  }

  /** Before the first activation: when the trusted pending key will have propagated (epoch ms). */
  #signingStartsAt(loaded: LoadedRing): number | undefined {
    const propagation = this.#options.propagationSeconds;
    if (propagation === undefined) return undefined;
    const pending = loaded.ring.keys.find((key) => key.state === 'pending' && key.trustedAt !== undefined);
    return pending === undefined ? undefined : Date.parse(pending.trustedAt!) + propagation * 1000;
  }

  #mayRetry(now: number): boolean {
    if (this.#inFlight !== undefined) return false;
    const wait = this.#options.retryAfterFailureSeconds ?? Math.min(this.#options.ttlSeconds, 10);
    return this.#lastFailureAt === undefined || now - this.#lastFailureAt >= wait * 1000;
  }

  async #refreshOrThrow(): Promise<LoadedRing> {
    try {
      return await this.#refresh();
    } catch (cause) {
      const age =
        this.#loaded === undefined ? null : Math.floor((this.#options.now() - this.#loaded.loadedAt) / 1000);
      throw new KeysUnavailableError(
        age === null
          ? 'The key ring could not be loaded from its store.'
          : `The key ring could not be refreshed and the cached one is ${age} s old, past maxStale (${this.#options.maxStaleSeconds} s).`,
        Math.max(1, Math.min(this.#options.ttlSeconds, 30)),
        { cause },
      );
    }
  }

  #refresh(): Promise<LoadedRing> {
    this.#inFlight ??= this.#load().finally(() => {
      this.#inFlight = undefined;
    });
    return this.#inFlight;
  }

  async #load(): Promise<LoadedRing> {
    let result: LoadedRing;
    try {
      const stored = await this.#options.store.load();
      if (stored === undefined)
        throw new KeysUnavailableError(
          'The key ring secret has no value yet: run the rotator to bootstrap it.',
          30,
        );
      const previous = this.#loaded;
      // Same version: keep the parsed key (parsing costs more than signing).
      const active =
        previous !== undefined && previous.version === stored.version
          ? previous.active
          : activeKeyOf(stored.ring, this.#options.remoteSigner, previous?.active);
      result = { ring: stored.ring, version: stored.version, active, loadedAt: this.#options.now() };
      this.#options.onEvent?.({
        type: 'refreshed',
        version: stored.version,
        changed: previous?.version !== stored.version,
      });
    } catch (error) {
      this.#lastFailureAt = this.#options.now();
      const age =
        this.#loaded === undefined ? null : Math.floor((this.#options.now() - this.#loaded.loadedAt) / 1000);
      this.#options.onEvent?.({ type: 'refresh-failed', error, ringAgeSeconds: age });
      throw error;
    }
    this.#lastFailureAt = undefined;
    this.#loaded = result;
    return result;
  }
}

function activeKeyOf(
  ring: KeyRing,
  remoteSigner: RemoteSignerFactory | undefined,
  previous: ActiveKey | undefined,
): ActiveKey | undefined {
  const active = ring.keys.find((key) => key.state === 'active');
  if (active?.id === undefined) return undefined;
  if (isKmsRingKey(active)) {
    // The same KMS key as before keeps its signer, and so its cached signatures.
    if (
      previous?.remote !== undefined &&
      previous.id === active.id &&
      previous.kmsKeyArn === active.kmsKeyArn
    ) {
      return previous;
    }
    if (remoteSigner === undefined) {
      throw new KeysUnavailableError(
        `The active key ${active.id} signs through KMS (${active.kmsKeyArn}), but this process was built without a KMS signer.`,
        60,
      );
    }
    return { id: active.id, hash: active.hash, remote: remoteSigner(active), kmsKeyArn: active.kmsKeyArn };
  }
  if (active.privateKey === undefined) {
    throw new KeysUnavailableError(
      `The active key ${active.id} has neither a private key nor a KMS key.`,
      60,
    );
  }
  return { id: active.id, key: parseSigningKey(active.privateKey), hash: active.hash };
}
