import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Where a sandbox stand-in keeps its state between restarts. Each stand-in owns one named
 * document; a stand-in that was given no store keeps its state in memory only.
 */
export interface StateStore {
  /** Returns the saved document, or `undefined` when nothing has been saved yet. */
  load(): unknown;
  /** Replaces the saved document. Must leave either the old or the new document, never a torn one. */
  save(document: unknown): void;
}

/** Keeps state in memory only: for tests that want a clean stand-in each time. */
export class MemoryStateStore implements StateStore {
  #document: string | undefined;

  load(): unknown {
    return this.#document === undefined ? undefined : JSON.parse(this.#document);
  }

  save(document: unknown): void {
    this.#document = JSON.stringify(document);
  }
}

/**
 * Keeps one JSON document per stand-in in a directory (default `.signet/`).
 * Writes go to a temporary file that is fsynced and then renamed over the old one, so a kill at
 * any moment leaves the previous or the new document, never a half-written one.
 */
export class FileStateStore implements StateStore {
  readonly #path: string;
  readonly #dir: string;

  constructor(dir: string, name: string) {
    this.#dir = dir;
    this.#path = join(dir, `${name}.json`);
  }

  load(): unknown {
    let text: string;
    try {
      text = readFileSync(this.#path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    try {
      return JSON.parse(text);
    } catch (cause) {
      throw new Error(
        `Expected sandbox state in ${this.#path} to be JSON; it is not (delete it to start over).`,
        {
          cause,
        },
      );
    }
  }

  save(document: unknown): void {
    mkdirSync(this.#dir, { recursive: true, mode: 0o700 });
    const temporary = `${this.#path}.${process.pid}.tmp`;
    const fd = openSync(temporary, 'w', 0o600);
    try {
      writeSync(fd, `${JSON.stringify(document, null, 2)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, this.#path);
  }
}
