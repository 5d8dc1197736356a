import { type ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';

/** The package's `signet` executable. */
export const SIGNET_BIN = resolve(import.meta.dirname, '../../bin/signet.mjs');

/** A `signet` process started by a test, with the first JSON line it printed. */
export interface StartedProcess<T> {
  child: ChildProcess;
  ready: T;
  /** Everything printed to stderr so far. */
  stderr(): string;
  /** Sends a signal and resolves with the exit code and how long the exit took, in milliseconds. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; ms: number }>;
}

/**
 * Starts `signet ARGS` (which must print a JSON ready line) and resolves once that line arrives.
 * Rejects with the process's stderr if it exits first or takes longer than `timeoutMs`.
 */
export function startSignet<T>(
  args: string[],
  options: { cwd?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<StartedProcess<T>> {
  const child = spawn(process.execPath, [SIGNET_BIN, ...args], {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (chunk) => {
    stderr += chunk;
  });
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`signet ${args.join(' ')} printed no ready line in time. stderr:\n${stderr}`));
    }, options.timeoutMs ?? 20_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(
        new Error(`signet ${args.join(' ')} exited with ${code} before it was ready. stderr:\n${stderr}`),
      );
    });
    child.stdout!.on('data', (chunk) => {
      stdout += chunk;
      const line = stdout.split('\n').find((l) => l.startsWith('{') && stdout.includes(`${l}\n`));
      if (line === undefined) return;
      clearTimeout(timer);
      child.stdout!.removeAllListeners('data');
      child.stdout!.resume();
      resolvePromise({
        child,
        ready: JSON.parse(line) as T,
        stderr: () => stderr,
        stop: async (signal = 'SIGINT') => {
          const started = performance.now();
          if (child.exitCode === null) child.kill(signal);
          const code = await exited;
          return { code, ms: performance.now() - started };
        },
      });
    });
  });
}
