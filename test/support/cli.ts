import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CliIo } from '../../lib/cli/io.ts';
import { main } from '../../lib/cli/main.ts';

/** The outcome of one in-process `signet` run. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `signet` in-process with captured output, a fixed clock and a working directory of its own. */
export async function runCli(
  argv: string[],
  options: { cwd?: string; now?: number; env?: Record<string, string | undefined> } = {},
): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    env: options.env ?? {},
    cwd: options.cwd ?? process.cwd(),
    now: () => options.now ?? Math.floor(Date.now() / 1000),
  };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}

/** A fresh temporary directory. */
export function tempDir(prefix = 'signet-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}
