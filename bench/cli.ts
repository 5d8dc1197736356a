import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');

/** Writes the process's CPU time (ms) to fd 3 at exit: preloaded into the timed command. */
const CPU_REPORTER = `data:text/javascript,${encodeURIComponent(
  "import { writeSync } from 'node:fs'; process.on('exit', () => { const u = process.cpuUsage(); writeSync(3, String((u.user + u.system) / 1000)); });",
)}`;

/** CPU and wall time of a fresh `node <args>`, the fastest of `runs`. */
function timeNode(args: readonly string[], runs = 5): { cpuMs: number; wallMs: number } {
  let cpuMs = Number.POSITIVE_INFINITY;
  let wallMs = Number.POSITIVE_INFINITY;
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    const child = spawnSync(process.execPath, ['--import', CPU_REPORTER, ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'inherit', 'pipe'],
    });
    wallMs = Math.min(wallMs, performance.now() - start);
    if (child.status !== 0) throw new Error(`node ${args.join(' ')} exited with ${child.status}.`);
    cpuMs = Math.min(cpuMs, Number(child.output[3]!.toString()));
  }
  return { cpuMs, wallMs };
}

/**
 * `signet --help` as bin/signet.mjs runs it, in a fresh process: its CPU time (what it costs, whatever
 * else the machine is doing) and wall time, beside a bare `node -e 0` for scale.
 */
export async function benchCli(): Promise<{
  helpSeconds: number;
  helpWallSeconds: number;
  bareNodeSeconds: number;
  compiled: boolean;
}> {
  // @ts-expect-error: plain JavaScript without declarations.
  const { compiledIsCurrent } = (await import('../bin/compiled.mjs')) as { compiledIsCurrent(): boolean };
  // What `npm install` would have built, built again if a source changed since.
  if (!compiledIsCurrent()) {
    spawnSync(process.execPath, [join(ROOT, 'bin', 'build-cli.mjs')], { cwd: ROOT, stdio: 'inherit' });
  }
  const compiled = compiledIsCurrent();
  const help = timeNode([join(ROOT, 'bin', 'signet.mjs'), '--help']);
  const bare = timeNode(['-e', '0']);
  return {
    helpSeconds: help.cpuMs / 1000,
    helpWallSeconds: help.wallMs / 1000,
    bareNodeSeconds: bare.cpuMs / 1000,
    // Whether the compiled CLI was current as the timing began (a source edited meanwhile makes
    // bin/signet.mjs fall back to tsx).
    compiled: compiled && compiledIsCurrent(),
  };
}
