/**
 * `npm run mutation [-- FILE|GROUP ...]`: mutation testing of the rule-carrying code (README,
 * "Tests"). Runs Stryker through its API (its CLI wants a newer Node than the one Signet supports),
 * one Stryker run per group of stryker/targets.ts, each with only that group's tests; prints one
 * score per file and exits 1 when any file scores below THRESHOLD. A survivor listed in
 * stryker/equivalents.json (same file, mutator, original code and replacement) is equivalent: it
 * counts neither for nor against the score. The survivors left are also written to
 * reports/mutation-survivors.json, in the shape of stryker/equivalents.json.
 *
 *   npm run mutation                              every group
 *   npm run mutation -- lib/signing/url.ts        one file, with its group's tests
 *   npm run mutation -- rotation                  one group
 *
 * SIGNET_MUTATION_CONCURRENCY sets the number of test runner processes (default: CPU count).
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';
import type { LogLevel, MutantResult, PartialStrykerOptions } from '@stryker-mutator/api/core';
import { Stryker } from '@stryker-mutator/core';
import { GROUPS, type MutationGroup, THRESHOLD } from './targets.ts';

const ROOT = resolve(import.meta.dirname, '..');

/** One equivalent mutant: what it changes, and why no test can tell it from the original. */
interface Equivalent {
  readonly file: string;
  /** 1-based line of the mutated code; only consulted when several mutants share the rest. */
  readonly line: number;
  readonly mutator: string;
  /** The code Stryker replaces, exactly as in the file (whitespace runs count as one space). */
  readonly original: string;
  readonly replacement: string;
  readonly reason: string;
}

interface FileScore {
  readonly file: string;
  readonly killed: number;
  readonly survived: number;
  readonly noCoverage: number;
  readonly equivalent: number;
  readonly invalid: number;
  readonly score: number;
}

/** Expands `dir/*.ts`-style patterns (a `*` in the last segment only), sorted. */
function expand(pattern: string): string[] {
  if (!pattern.includes('*')) return [pattern];
  const dir = dirname(pattern);
  if (dir.includes('*')) throw new Error(`pattern ${pattern}: only the last segment may hold '*'`);
  const name = new RegExp(
    `^${basename(pattern)
      .split('*')
      .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('[^/]*')}$`,
  );
  return readdirSync(join(ROOT, dir))
    .filter((entry) => name.test(entry))
    .map((entry) => `${dir}/${entry}`)
    .sort();
}

function readEquivalents(): Equivalent[] {
  const path = join(ROOT, 'stryker', 'equivalents.json');
  const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
  if (!Array.isArray(parsed)) throw new Error(`${path}: expected a JSON array of equivalent mutants`);
  return parsed.map((entry: Partial<Equivalent>, index) => {
    for (const field of ['file', 'mutator', 'original', 'replacement', 'reason'] as const) {
      if (typeof entry[field] !== 'string' || entry[field] === '') {
        throw new Error(`${path}[${index}]: expected a non-empty string "${field}"`);
      }
    }
    if (typeof entry.line !== 'number' || !Number.isInteger(entry.line) || entry.line < 1) {
      throw new Error(`${path}[${index}]: expected "line", a positive integer`);
    }
    return entry as Equivalent;
  });
}

const squash = (code: string) => code.replace(/\s+/g, ' ').trim();

/** The source text a mutant replaces (Stryker's locations: 1-based lines and columns, end exclusive). */
function originalOf(mutant: MutantResult, sources: Map<string, string[]>): string {
  let lines = sources.get(mutant.fileName);
  if (lines === undefined) {
    lines = readFileSync(mutant.fileName, 'utf8').split('\n');
    sources.set(mutant.fileName, lines);
  }
  const { start, end } = mutant.location;
  if (start.line === end.line) return lines[start.line - 1]!.slice(start.column - 1, end.column - 1);
  return [
    lines[start.line - 1]!.slice(start.column - 1),
    ...lines.slice(start.line, end.line - 1),
    lines[end.line - 1]!.slice(0, end.column - 1),
  ].join('\n');
}

/** Which surviving mutants are listed as equivalent; each listed entry matches at most one mutant. */
function matchEquivalents(
  survivors: readonly MutantResult[],
  equivalents: readonly Equivalent[],
  sources: Map<string, string[]>,
): { readonly matched: Set<MutantResult>; readonly unused: Equivalent[] } {
  const matched = new Set<MutantResult>();
  const unused: Equivalent[] = [];
  for (const entry of equivalents) {
    const candidates = survivors.filter(
      (mutant) =>
        !matched.has(mutant) &&
        relative(ROOT, mutant.fileName) === entry.file &&
        mutant.mutatorName === entry.mutator &&
        squash(mutant.replacement) === squash(entry.replacement) &&
        squash(originalOf(mutant, sources)) === squash(entry.original),
    );
    const pick =
      candidates.length === 1 ? candidates[0] : candidates.find((m) => m.location.start.line === entry.line);
    if (pick === undefined) unused.push(entry);
    else matched.add(pick);
  }
  return { matched, unused };
}

function strykerOptions(mutate: readonly string[]): PartialStrykerOptions {
  const concurrency = Number(process.env.SIGNET_MUTATION_CONCURRENCY ?? availableParallelism());
  return {
    testRunner: 'vitest',
    plugins: ['@stryker-mutator/vitest-runner'],
    // The group's tests are the include of stryker/vitest.config.ts (SIGNET_MUTATION_TESTS, set
    // by main), not Stryker's `testFiles`: with `testFiles`, a mutant in code that runs when a module
    // loads (a constant) is switched on only after the module loaded, so it could never be killed.
    // Without them, Stryker runs such a mutant with every test of the group, switched on before any
    // module loads (each test file has a fresh module graph). vitest's "related" mode would add every
    // suite that reaches the file through an import, the slow end-to-end ones included.
    vitest: { configFile: 'stryker/vitest.config.ts', related: false },
    mutate: [...mutate],
    coverageAnalysis: 'perTest',
    // A mutant counts as killed when its tests run past their dry-run time by this much: generous,
    // so that a busy machine does not pass a slow survivor off as a timeout.
    timeoutMS: 10_000,
    // No type checker, no tsconfig rewrite (TypeScript 7 has no JavaScript API for either), and
    // no `// @ts-nocheck` preprocessing: vitest strips types without checking them.
    checkers: [],
    tsconfigFile: '',
    disableTypeChecks: false,
    incremental: false,
    concurrency: Number.isInteger(concurrency) && concurrency > 0 ? concurrency : 2,
    reporters: [process.stdout.isTTY ? 'progress' : 'progress-append-only'],
    thresholds: { high: 100, low: THRESHOLD, break: null },
    tempDirName: '.stryker-tmp',
    cleanTempDir: true,
    ignorePatterns: ['.signet', '.serverless', '.esbuild', 'dist', 'coverage', 'reports'],
    logLevel: 'warn' as LogLevel,
    fileLogLevel: 'off' as LogLevel,
  };
}

function describeMutant(mutant: MutantResult, sources: Map<string, string[]>): string {
  const where = `${relative(ROOT, mutant.fileName)}:${mutant.location.start.line}:${mutant.location.start.column}`;
  const original = squash(originalOf(mutant, sources));
  const shown = (code: string) => (code.length > 100 ? `${code.slice(0, 97)}...` : code);
  return `  ${mutant.status === 'NoCoverage' ? 'no coverage' : 'survived'}  ${where}  ${mutant.mutatorName}: ${shown(original)}  ->  ${shown(squash(mutant.replacement))}`;
}

function scoreFiles(
  files: readonly string[],
  results: readonly MutantResult[],
  matched: Set<MutantResult>,
): FileScore[] {
  return files.map((file) => {
    const mine = results.filter((mutant) => relative(ROOT, mutant.fileName) === file);
    const count = (statuses: readonly string[]) =>
      mine.filter((mutant) => !matched.has(mutant) && statuses.includes(mutant.status)).length;
    const killed = count(['Killed', 'Timeout']);
    const survived = count(['Survived']);
    const noCoverage = count(['NoCoverage']);
    const total = killed + survived + noCoverage;
    return {
      file,
      killed,
      survived,
      noCoverage,
      equivalent: mine.filter((mutant) => matched.has(mutant)).length,
      invalid: count(['CompileError', 'RuntimeError']),
      score: total === 0 ? 100 : (100 * killed) / total,
    };
  });
}

/** The groups to run and, in each, the files to mutate: every group, or those the arguments name. */
function selection(args: readonly string[]): Array<{ group: MutationGroup; files: string[] }> {
  const all = GROUPS.map((group) => ({
    group,
    files: group.mutate.flatMap(expand).filter((file) => group.exclude?.[file] === undefined),
  }));
  if (args.length === 0) return all;
  const chosen = all.map(({ group, files }) => ({
    group,
    files: args.includes(group.name) ? files : files.filter((file) => args.includes(file)),
  }));
  const known = new Set(all.flatMap(({ group, files }) => [group.name, ...files]));
  const unknown = args.filter((arg) => !known.has(arg));
  if (unknown.length > 0) {
    throw new Error(
      `not a mutated file or group: ${unknown.join(', ')}. Expected one of the groups (${GROUPS.map((g) => g.name).join(', ')}) or files of stryker/targets.ts`,
    );
  }
  return chosen.filter(({ files }) => files.length > 0);
}

async function main(): Promise<number> {
  process.chdir(ROOT);
  const equivalents = readEquivalents();
  const sources = new Map<string, string[]>();
  const scores: FileScore[] = [];
  const unusedEquivalents: Equivalent[] = [];
  const survivorsFound: object[] = [];
  const started = Date.now();
  for (const { group, files } of selection(process.argv.slice(2))) {
    const groupStarted = Date.now();
    console.log(`\n== ${group.name}: ${files.join(', ')}`);
    // The code as Stryker reads it now: the file may change while the run lasts.
    for (const file of files)
      sources.set(resolve(ROOT, file), readFileSync(join(ROOT, file), 'utf8').split('\n'));
    // Read by stryker/vitest.config.ts in the test runner processes this Stryker run starts.
    process.env.SIGNET_MUTATION_TESTS = group.tests.flatMap(expand).join(',');
    const results = await new Stryker(strykerOptions(files)).runMutationTest();
    const mine = equivalents.filter((entry) => files.includes(entry.file));
    const survivors = results.filter(
      (mutant) => mutant.status === 'Survived' || mutant.status === 'NoCoverage',
    );
    const { matched, unused } = matchEquivalents(survivors, mine, sources);
    unusedEquivalents.push(...unused);
    const remaining = survivors
      .filter((mutant) => !matched.has(mutant))
      .sort(
        (a, b) =>
          a.fileName.localeCompare(b.fileName) ||
          a.location.start.line - b.location.start.line ||
          a.location.start.column - b.location.start.column,
      );
    for (const mutant of remaining) console.log(describeMutant(mutant, sources));
    survivorsFound.push(
      ...remaining.map((mutant) => ({
        file: relative(ROOT, mutant.fileName),
        line: mutant.location.start.line,
        mutator: mutant.mutatorName,
        original: squash(originalOf(mutant, sources)),
        replacement: squash(mutant.replacement),
        status: mutant.status,
      })),
    );
    scores.push(...scoreFiles(files, results, matched));
    console.log(
      `   (${group.name}: ${results.length} mutants, ${Math.round((Date.now() - groupStarted) / 1000)} s)`,
    );
  }
  for (const group of GROUPS) {
    for (const [file, reason] of Object.entries(group.exclude ?? {}))
      console.log(`not mutated: ${file}: ${reason}`);
  }
  for (const entry of unusedEquivalents) {
    console.log(
      `note: stryker/equivalents.json lists a mutant that no longer survives or no longer exists: ${entry.file}:${entry.line} ${entry.mutator} -> ${entry.replacement}`,
    );
  }
  console.log(`\nfile                                          score  killed  survived  no-cov  equivalent`);
  for (const s of scores) {
    console.log(
      `${s.file.padEnd(44)} ${`${s.score.toFixed(1)}%`.padStart(7)} ${String(s.killed).padStart(7)} ${String(s.survived).padStart(9)} ${String(s.noCoverage).padStart(7)} ${String(s.equivalent).padStart(11)}`,
    );
  }
  // The survivors in the shape of stryker/equivalents.json (add a "reason" to list one there).
  mkdirSync(join(ROOT, 'reports'), { recursive: true });
  writeFileSync(
    join(ROOT, 'reports', 'mutation-survivors.json'),
    `${JSON.stringify(survivorsFound, null, 2)}\n`,
  );
  const below = scores.filter((s) => s.score < THRESHOLD);
  console.log(`\nmutation testing took ${Math.round((Date.now() - started) / 1000)} s`);
  if (below.length > 0) {
    console.log(`FAILED: below ${THRESHOLD}%: ${below.map((s) => s.file).join(', ')}`);
    return 1;
  }
  console.log(`every file scores at least ${THRESHOLD}%`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(2);
  },
);
