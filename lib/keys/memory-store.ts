import { createHash } from 'node:crypto';
import { type KeyRing, parseKeyRing, serializeKeyRing } from './ring.ts';
import { KeyRingConflictError, type KeyRingStore, type VersionedKeyRing } from './store.ts';

/**
 * A {@link KeyRingStore} in memory with the same compare-and-swap and retry semantics as the
 * Secrets Manager adapter (the contract tests run one suite against both).
 */
export class MemoryKeyRingStore implements KeyRingStore {
  #current: { text: string; version: string } | undefined;
  readonly #written = new Map<string, string>();
  /** Calls made, for tests that count them. */
  readonly calls = { load: 0, save: 0 };

  async load(): Promise<VersionedKeyRing | undefined> {
    this.calls.load++;
    if (this.#current === undefined) return undefined;
    return { ring: parseKeyRing(this.#current.text), version: this.#current.version };
  }

  async save(ring: KeyRing, previousVersion: string | undefined, transition: string): Promise<string> {
    this.calls.save++;
    const text = serializeKeyRing(ring);
    const version = createHash('sha256')
      .update(`${previousVersion ?? 'bootstrap'}\n${transition}`)
      .digest('hex');
    const earlier = this.#written.get(version);
    if (earlier !== undefined && earlier !== text) {
      throw new KeyRingConflictError(`The transition ${transition} was already written with other content.`);
    }
    if (this.#current?.version === version) return version; // a retry of the write that succeeded
    if (this.#current?.version !== previousVersion) {
      throw new KeyRingConflictError(`Another writer changed the key ring after version ${previousVersion}.`);
    }
    this.#written.set(version, text);
    this.#current = { text, version };
    return version;
  }
}
