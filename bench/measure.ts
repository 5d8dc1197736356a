import { execFileSync } from 'node:child_process';

/** Operations per second of `fn`, run repeatedly for about `seconds` after a short warm-up. */
export function opsPerSecond(fn: () => unknown, seconds = 2): number {
  const warmUntil = performance.now() + 200;
  while (performance.now() < warmUntil) fn();
  let count = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  let now = start;
  while (now < end) {
    for (let i = 0; i < 20; i++) fn();
    count += 20;
    now = performance.now();
  }
  return count / ((now - start) / 1000);
}

/**
 * Operations per CPU second of each function, measured in alternating slices of about 20 ms over about
 * `seconds` in all (after a warm-up): counted against this process's CPU time, not the clock, and
 * interleaved, so that time spent waiting for a core and changes in the machine's load while the
 * figures are taken fall out of the ratios between them.
 */
export function interleavedOpsPerSecond(fns: readonly (() => unknown)[], seconds = 2): number[] {
  for (const fn of fns) {
    const warmUntil = performance.now() + 100;
    while (performance.now() < warmUntil) fn();
  }
  const counts = fns.map(() => 0);
  const times = fns.map(() => 0);
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    for (const [index, fn] of fns.entries()) {
      const cpuBefore = process.cpuUsage();
      const sliceEnd = performance.now() + 20;
      let count = 0;
      while (performance.now() < sliceEnd) {
        for (let i = 0; i < 5; i++) fn();
        count += 5;
      }
      const cpu = process.cpuUsage(cpuBefore);
      counts[index]! += count;
      times[index]! += (cpu.user + cpu.system) / 1000;
    }
  }
  return counts.map((count, index) => count / (times[index]! / 1000));
}

/**
 * Sign operations per second that `openssl speed` reports for one algorithm (`rsa2048`, `ecdsap256`),
 * on one core or, with `multi`, on that many processes.
 */
export function opensslSignRate(algorithm: 'rsa2048' | 'ecdsap256', seconds = 2, multi = 1): number {
  const args = [
    'speed',
    '-seconds',
    String(seconds),
    ...(multi > 1 ? ['-multi', String(multi)] : []),
    algorithm,
  ];
  const output = execFileSync('openssl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return parseOpensslSpeed(output, algorithm);
}

/** Reads the sign/s column from `openssl speed` output (single or -multi form). */
export function parseOpensslSpeed(output: string, algorithm: 'rsa2048' | 'ecdsap256'): number {
  const lines = output.split('\n');
  const line =
    algorithm === 'rsa2048'
      ? lines.findLast((l) => /^rsa 2048 bits/.test(l.trim()))
      : lines.findLast((l) => /256 bits ecdsa|ecdsa \(nistp256\)/.test(l));
  if (line === undefined)
    throw new Error(`Could not find the ${algorithm} line in openssl speed output:\n${output}`);
  const numbers = line.match(/\d+(\.\d+)?(?!\S*s\b)/g) ?? [];
  // The last two numbers are sign/s and verify/s.
  const signPerSecond = Number(numbers.at(-2));
  if (!Number.isFinite(signPerSecond)) throw new Error(`Could not read sign/s from: ${line}`);
  return signPerSecond;
}

/** Rounds a ratio for printing. */
export function ratio(a: number, b: number): number {
  return Math.round((a / b) * 1000) / 1000;
}
