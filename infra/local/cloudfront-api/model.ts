import { MAX_KEYS_PER_GROUP, MAX_PUBLIC_KEYS_PER_ACCOUNT } from '../../../lib/rotation/quotas.ts';
import type { StateStore } from '../state.ts';
import { type CloudFrontRecords, recordsFromDocument, recordsToDocument } from './records.ts';
import { buildSnapshotParts, type CloudFrontSnapshot, type SnapshotParts, snapshotOf } from './snapshot.ts';

/** Options of the CloudFront stand-in. Quotas default to CloudFront's documented defaults. */
export interface CloudFrontStandInOptions {
  /** Where state survives restarts; without one the state lives in memory only. */
  readonly store?: StateStore;
  /** The clock for CreatedTime, LastModifiedTime and snapshot times. Default: the system clock. */
  readonly now?: () => Date;
  /** Public keys per key group (`TooManyPublicKeysInKeyGroup`). Default 5. */
  readonly maxKeysPerGroup?: number;
  /** Public keys per account (`TooManyPublicKeys`). Default 10. */
  readonly maxPublicKeys?: number;
  /** Key groups per account (`TooManyKeyGroups`). Default 10. */
  readonly maxKeyGroups?: number;
  /** Key groups one cache behaviour may trust (`TooManyKeyGroupsAssociatedToDistribution`). Default 4. */
  readonly maxKeyGroupsPerCacheBehavior?: number;
  /** Distributions per account (`TooManyDistributions`). Default 200. */
  readonly maxDistributions?: number;
  /**
   * What CreatePublicKey does with a CallerReference that was used before, for the same name, key
   * and comment. UNCONFIRMED: the CreatePublicKey docs do not say, and CloudFront dropped the
   * "identical request returns the original answer" rule from the 2020-05-31 CreateDistribution
   * docs. `'conflict'` (default, the stricter reading) answers `PublicKeyAlreadyExists`;
   * `'return-existing'` answers 201 with the existing key. A reused CallerReference with different
   * content is `PublicKeyAlreadyExists` either way.
   */
  readonly callerReferenceReplay?: 'conflict' | 'return-existing';
  /** The account in distribution ARNs. Default `000000000000`. */
  readonly accountId?: string;
}

/** The account quotas the stand-in enforces, each named after its option. */
export interface CloudFrontQuotas {
  readonly maxKeysPerGroup: number;
  readonly maxPublicKeys: number;
  readonly maxKeyGroups: number;
  readonly maxKeyGroupsPerCacheBehavior: number;
  readonly maxDistributions: number;
}

/**
 * The CloudFront stand-in's state: the records, the quotas and settings they are checked against,
 * and the store and listeners every write goes to (docs/design.md, "The sandbox").
 *
 * Operations only read it; a write hands {@link CloudFrontModel.commit} a whole new set of records,
 * so a write the store refuses never shows.
 */
export class CloudFrontModel {
  readonly quotas: CloudFrontQuotas;
  /** See {@link CloudFrontStandInOptions.callerReferenceReplay}. */
  readonly callerReferenceReplay: 'conflict' | 'return-existing';
  /** The account in distribution ARNs. */
  readonly accountId: string;
  /** The stand-in's clock. */
  readonly now: () => Date;
  readonly #store: StateStore | undefined;
  #records: CloudFrontRecords;
  #parts: SnapshotParts;
  readonly #listeners = new Set<(snapshot: CloudFrontSnapshot) => void>();

  /** Loads what `options.store` holds; a saved state that does not parse fails here. */
  constructor(options: CloudFrontStandInOptions = {}) {
    this.#store = options.store;
    this.now = options.now ?? (() => new Date());
    this.quotas = {
      maxKeysPerGroup: options.maxKeysPerGroup ?? MAX_KEYS_PER_GROUP,
      maxPublicKeys: options.maxPublicKeys ?? MAX_PUBLIC_KEYS_PER_ACCOUNT,
      maxKeyGroups: options.maxKeyGroups ?? 10,
      maxKeyGroupsPerCacheBehavior: options.maxKeyGroupsPerCacheBehavior ?? 4,
      maxDistributions: options.maxDistributions ?? 200,
    };
    this.callerReferenceReplay = options.callerReferenceReplay ?? 'conflict';
    this.accountId = options.accountId ?? '000000000000';
    this.#records = recordsFromDocument(this.#store?.load());
    // Also validates stored distribution configs: a bad saved file fails here, not on a later read.
    this.#parts = buildSnapshotParts(this.#records, this.now().getTime());
  }

  /** The records now. Immutable: a write replaces them whole. */
  get records(): CloudFrontRecords {
    return this.#records;
  }

  /**
   * Makes `next` the state: saves first, then swaps it in, then tells the listeners. A failed save
   * throws and leaves the previous state in force; a listener that throws is logged and the write
   * stands.
   */
  commit(next: CloudFrontRecords): void {
    const nextParts = buildSnapshotParts(next, this.now().getTime());
    this.#store?.save(recordsToDocument(next));
    this.#records = next;
    this.#parts = nextParts;
    for (const listener of this.#listeners) {
      try {
        listener(snapshotOf(this.#parts));
      } catch (error) {
        console.error('CloudFront stand-in: an onChange listener threw; the write stands.', error);
      }
    }
  }

  /** The current state, deeply frozen, in fresh maps. */
  snapshot(): CloudFrontSnapshot {
    return snapshotOf(this.#parts);
  }

  /** Calls `listener` after every commit; returns a function that unsubscribes. */
  onChange(listener: (snapshot: CloudFrontSnapshot) => void): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }
}
