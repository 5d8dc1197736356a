import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../support/cli.ts';

// `signet keygen --out DIR [--force]` as an attacker on the same machine would try it: the private
// key must never land in a file someone else owns or can read, never go through a symlink, and
// never sit in a file whose mode is not 0600, not even for a moment. CI runs as root, so a test
// can hand a file to `nobody` (uid 65534).

const NOBODY = 65534;
const mode = (path: string) => statSync(path).mode & 0o777;
const leftovers = (dir: string) => readdirSync(dir).filter((name) => name.endsWith('.tmp'));

describe('signet keygen writes keys safely', () => {
  it('refuses to overwrite a key file another user owns, even with --force, and leaves it as it was', async () => {
    const dir = tempDir();
    const target = join(dir, 'private.pem');
    writeFileSync(target, 'theirs');
    chmodSync(target, 0o666);
    chownSync(target, NOBODY, NOBODY);
    const run = await runCli(['keygen', '--out', dir, '--force']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('another user owns it');
    expect(readFileSync(target, 'utf8')).toBe('theirs');
    expect(statSync(target).uid).toBe(NOBODY);
    expect(existsSync(join(dir, 'public.pem'))).toBe(false);
  });

  it('never follows a private.pem symlink, with or without --force', async () => {
    const dir = tempDir();
    const elsewhere = join(tempDir(), 'victim.txt');
    writeFileSync(elsewhere, 'do not overwrite');
    symlinkSync(elsewhere, join(dir, 'private.pem'));
    for (const args of [['--force'], []]) {
      const run = await runCli(['keygen', '--out', dir, ...args]);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain('not to be a symbolic link');
    }
    expect(readFileSync(elsewhere, 'utf8')).toBe('do not overwrite');
  });

  it('refuses a dangling symlink instead of creating the key where it points', async () => {
    const dir = tempDir();
    const outside = join(tempDir(), 'stolen.pem');
    symlinkSync(outside, join(dir, 'private.pem'));
    const run = await runCli(['keygen', '--out', dir]);
    expect(run.code).toBe(2);
    expect(existsSync(outside)).toBe(false);
    expect(lstatSync(join(dir, 'private.pem')).isSymbolicLink()).toBe(true);
  });

  it('replaces its own key with --force in a new 0600 file, leaving no temporary file', async () => {
    const dir = tempDir();
    expect((await runCli(['keygen', '--out', dir])).code).toBe(0);
    const before = readFileSync(join(dir, 'private.pem'), 'utf8');
    chmodSync(join(dir, 'private.pem'), 0o644);
    expect((await runCli(['keygen', '--out', dir, '--force'])).code).toBe(0);
    expect(readFileSync(join(dir, 'private.pem'), 'utf8')).not.toBe(before);
    expect(mode(join(dir, 'private.pem'))).toBe(0o600);
    expect(mode(join(dir, 'public.pem'))).toBe(0o644);
    expect(leftovers(dir)).toEqual([]);
  });

  it('refuses an --out folder that others may write to or that another user owns', async () => {
    const open = tempDir();
    chmodSync(open, 0o777);
    const run = await runCli(['keygen', '--out', open]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('writable only by you');
    expect(readdirSync(open)).toEqual([]);
    const theirs = tempDir();
    chownSync(theirs, NOBODY, NOBODY);
    expect((await runCli(['keygen', '--out', theirs])).stderr).toContain('another user owns it');
    expect(readdirSync(theirs)).toEqual([]);
  });
});
