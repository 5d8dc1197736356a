import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');

/** `signet --help` wall time in a fresh process (fastest of five), as `bin/signet.mjs` runs it. */
export function benchCli(): { helpSeconds: number; compiled: boolean } {
  const bin = join(ROOT, 'bin', 'signet.mjs');
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const start = performance.now();
    execFileSync(process.execPath, [bin, '--help'], { stdio: 'ignore' });
    times.push((performance.now() - start) / 1000);
  }
  return { helpSeconds: Math.min(...times), compiled: existsSync(join(ROOT, 'dist', 'cli', 'main.mjs')) };
}
