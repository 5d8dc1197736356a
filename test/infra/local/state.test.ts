import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileStateStore, MemoryStateStore } from '../../../infra/local/state.ts';
import { tempDir } from '../../support/cli.ts';

describe('sandbox state stores', () => {
  it('keeps the last complete document when a write was killed halfway (it only ever renames a finished file)', () => {
    const dir = tempDir();
    const store = new FileStateStore(dir, 'cloudfront');
    store.save({ generation: 1, keys: ['K1'] });
    // What a kill during the next save leaves behind: a half-written temporary file, never the document.
    writeFileSync(join(dir, `cloudfront.json.${process.pid + 1}.tmp`), '{"generation": 2, "keys": ["K1", "K');
    expect(new FileStateStore(dir, 'cloudfront').load()).toEqual({ generation: 1, keys: ['K1'] });
    store.save({ generation: 2, keys: ['K1', 'K2'] });
    expect(new FileStateStore(dir, 'cloudfront').load()).toEqual({ generation: 2, keys: ['K1', 'K2'] });
    expect(
      readdirSync(dir).filter((name) => name.endsWith('.tmp') && name.includes(String(process.pid))),
    ).toEqual([]);
  });

  it('writes state readable only by its owner, and says how to recover from a corrupt file', () => {
    const dir = tempDir();
    const store = new FileStateStore(dir, 'secrets-manager');
    expect(store.load()).toBeUndefined();
    store.save({ secrets: [] });
    expect(statSync(join(dir, 'secrets-manager.json')).mode & 0o777).toBe(0o600);
    writeFileSync(join(dir, 'secrets-manager.json'), 'not json');
    expect(() => store.load()).toThrow(/to be JSON; it is not \(delete it to start over\)/);
    expect(readFileSync(join(dir, 'secrets-manager.json'), 'utf8')).toBe('not json');
  });

  it('keeps a copy in memory, so a caller mutating what it saved changes nothing', () => {
    const store = new MemoryStateStore();
    const document = { keys: ['K1'] };
    store.save(document);
    document.keys.push('K2');
    expect(store.load()).toEqual({ keys: ['K1'] });
  });
});
