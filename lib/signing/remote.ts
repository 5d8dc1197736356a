import { createHash, type KeyObject, verify } from 'node:crypto';
import { SigningError } from './errors.ts';
import type { KeyAlgorithm } from './keys.ts';
import {
  type ExternalKey,
  type SignCookiesOptions,
  type SignedCookies,
  type SignedUrl,
  type SignUrlOptions,
  signCookies,
  signUrls,
} from './sign.ts';

/** Signs a SHA-256 digest with a key held elsewhere (KMS `Sign`, `MessageType: DIGEST`); the raw signature. */
export type DigestSigner = (digest: Buffer) => Promise<Buffer>;

/** Why a remote signature could not be had: each maps to a 503 that says so without internals. */
export type RemoteSigningFailure = 'throttled' | 'disabled' | 'denied' | 'unavailable' | 'mismatch';

/**
 * The remote signer could not sign. Never turned into a URL: the caller gets a 503 problem (with
 * `Retry-After`), never a signature that would fail at the edge. `message` is for logs only.
 */
export class RemoteSigningError extends Error {
  readonly code = 'ERR_REMOTE_SIGNING';
  readonly failure: RemoteSigningFailure;
  readonly retryAfterSeconds: number;
  constructor(
    failure: RemoteSigningFailure,
    message: string,
    options?: { cause?: unknown; retryAfterSeconds?: number },
  ) {
    super(message, options);
    this.name = 'RemoteSigningError';
    this.failure = failure;
    this.retryAfterSeconds = options?.retryAfterSeconds ?? (failure === 'throttled' ? 1 : 30);
  }
}

/** Options of {@link RemoteSigner}. */
export interface RemoteSignerOptions {
  readonly algorithm: KeyAlgorithm;
  /** The public key the ring recorded: every remote signature is checked against it before use. */
  readonly publicKey: KeyObject;
  readonly signDigest: DigestSigner;
  /** Signatures kept per policy text until the policy expires; omit for none. */
  readonly cache?: SignatureCache;
}

/** Signs with only SHA-256: KMS offers no SHA-1 signing, and CloudFront's SHA-256 needs none. */
type RemoteSignUrlOptions = Omit<SignUrlOptions, 'url' | 'key'>;
type RemoteSignCookiesOptions = Omit<SignCookiesOptions, 'key'>;

/**
 * Signs URLs and cookies with a key that never reaches this process (docs/operators.md, "KMS
 * signing"). The URLs, policies and checks are exactly those of `signUrls`/`signCookies`: a first pass
 * collects the distinct policies, each is signed once remotely (a wildcard batch is one policy, so one
 * call), and a second pass attaches the signatures.
 */
export class RemoteSigner {
  readonly algorithm: KeyAlgorithm;
  readonly #options: RemoteSignerOptions;

  constructor(options: RemoteSignerOptions) {
    this.algorithm = options.algorithm;
    this.#options = options;
  }

  /** `onRemoteCall`: called once per remote signature this request makes (a cache miss), for metrics. */
  signUrls(
    urls: readonly string[],
    options: RemoteSignUrlOptions,
    onRemoteCall?: () => void,
  ): Promise<SignedUrl[]> {
    return this.#run(options.hash, (key) => signUrls(urls, { ...options, key }), onRemoteCall);
  }

  /** `onRemoteCall`: as for {@link signUrls}. */
  signCookies(options: RemoteSignCookiesOptions, onRemoteCall?: () => void): Promise<SignedCookies> {
    return this.#run(options.hash, (key) => signCookies({ ...options, key }), onRemoteCall);
  }

  async #run<T>(
    hash: string | undefined,
    build: (key: ExternalKey) => T,
    onRemoteCall: (() => void) | undefined,
  ): Promise<T> {
    if (hash !== undefined && hash !== 'sha256') {
      throw new SigningError(
        'ERR_UNSUPPORTED_HASH',
        `Expected sha256 with a KMS key; got ${JSON.stringify(hash)}. KMS signs CloudFront policies with SHA-256 only.`,
      );
    }
    const policies = new Map<string, Buffer>();
    // Pass 1: every check runs and every policy is collected; a refused request costs no remote call.
    build({
      algorithm: this.algorithm,
      sign: (bytes) => {
        policies.set(bytes.toString('utf8'), bytes);
        return EMPTY;
      },
    });
    const signatures = new Map<string, Buffer>();
    await Promise.all(
      [...policies].map(async ([text, bytes]) => {
        signatures.set(text, await this.#signature(text, bytes, onRemoteCall));
      }),
    );
    // Pass 2: the same (deterministic) build, now with the signatures.
    return build({
      algorithm: this.algorithm,
      sign: (bytes) => {
        const signature = signatures.get(bytes.toString('utf8'));
        if (signature === undefined) throw new Error('A policy appeared that the first pass did not sign.');
        return signature;
      },
    });
  }

  #signature(text: string, bytes: Buffer, onRemoteCall: (() => void) | undefined): Promise<Buffer> {
    const cache = this.#options.cache;
    const cached = cache?.get(text);
    if (cached !== undefined) return cached;
    onRemoteCall?.();
    const pending = this.#signRemotely(bytes);
    cache?.set(text, pending, expiryOf(text));
    return pending;
  }

  async #signRemotely(bytes: Buffer): Promise<Buffer> {
    const digest = createHash('sha256').update(bytes).digest();
    const signature = await this.#options.signDigest(digest);
    // A signature the recorded public key does not verify would 403 at the edge: refuse it here.
    if (!verify('sha256', bytes, this.#options.publicKey, signature)) {
      throw new RemoteSigningError(
        'mismatch',
        'The KMS key returned a signature that the public key recorded in the ring does not verify: the ring names the wrong KMS key, or its key changed.',
      );
    }
    return signature;
  }
}

const EMPTY = Buffer.alloc(0);

/** The policy's `AWS:EpochTime` expiry (epoch seconds), read back from its JSON. */
function expiryOf(policy: string): number {
  const match = /"DateLessThan":\{"AWS:EpochTime":(\d+)\}/.exec(policy);
  return match === null ? 0 : Number(match[1]);
}

/**
 * Signatures of one key by policy text, each kept until its policy expires (a signature is reusable
 * for exactly the policy it signed, never longer than that policy is valid). Bounded in entries and
 * in the characters of the policies it holds (a custom policy for a long URL is several KB): past
 * either, expired entries go first, then the oldest. A signing still in flight is shared, so
 * concurrent identical requests make one remote call; a failed one is forgotten at once.
 */
export class SignatureCache {
  readonly #entries = new Map<string, { signature: Promise<Buffer>; expires: number }>();
  readonly #maxEntries: number;
  readonly #maxChars: number;
  readonly #now: () => number;
  #chars = 0;
  hits = 0;
  misses = 0;

  /** `now` in epoch milliseconds. Defaults: 10,000 entries, 4 million policy characters (about 8 MB). */
  constructor(options: { maxEntries?: number; maxChars?: number; now: () => number }) {
    this.#maxEntries = options.maxEntries ?? 10_000;
    this.#maxChars = options.maxChars ?? 4_000_000;
    this.#now = options.now;
  }

  get size(): number {
    return this.#entries.size;
  }

  get(policy: string): Promise<Buffer> | undefined {
    const entry = this.#entries.get(policy);
    if (entry === undefined || entry.expires * 1000 <= this.#now()) {
      if (entry !== undefined) this.#delete(policy);
      this.misses++;
      return undefined;
    }
    this.hits++;
    return entry.signature;
  }

  set(policy: string, signature: Promise<Buffer>, expires: number): void {
    if (policy.length > this.#maxChars) return;
    this.#delete(policy);
    if (this.#entries.size >= this.#maxEntries || this.#chars + policy.length > this.#maxChars) {
      this.#evict(policy.length);
    }
    const entry = { signature, expires };
    this.#entries.set(policy, entry);
    this.#chars += policy.length;
    signature.catch(() => {
      if (this.#entries.get(policy) === entry) this.#delete(policy);
    });
  }

  /** The characters of the policies held (what bounds its memory). */
  get chars(): number {
    return this.#chars;
  }

  #delete(policy: string): void {
    if (this.#entries.delete(policy)) this.#chars -= policy.length;
  }

  #evict(room: number): void {
    const now = this.#now();
    for (const [policy, entry] of this.#entries) {
      if (entry.expires * 1000 <= now) this.#delete(policy);
    }
    while (this.#entries.size >= this.#maxEntries || this.#chars + room > this.#maxChars) {
      const oldest = this.#entries.keys().next().value;
      if (oldest === undefined) break;
      this.#delete(oldest);
    }
  }
}
