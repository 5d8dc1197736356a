import { defineConfig } from 'vitest/config';
import base from '../vitest.config.ts';

/**
 * The vitest config of `npm run mutation` (stryker/run.ts): the project's, with only the tests of
 * the group being mutated, whose globs stryker/run.ts passes in SIGNET_MUTATION_TESTS (comma
 * separated). The tests are chosen here rather than with Stryker's `testFiles`: with `testFiles`,
 * Stryker runs a mutant in code that runs when a module loads (a constant) with the mutant switched
 * on only once the tests start, after the module has loaded, so no test could ever kill it. Without
 * `testFiles`, such a mutant is switched on before any module loads and every test of the group runs
 * against it.
 */
const globs = (process.env.SIGNET_MUTATION_TESTS ?? '')
  .split(',')
  .map((glob) => glob.trim())
  .filter((glob) => glob !== '');
if (globs.length === 0) {
  throw new Error(
    'stryker/vitest.config.ts: expected SIGNET_MUTATION_TESTS, the comma-separated test globs of the mutated group (npm run mutation sets it)',
  );
}

// Replaces the project's include (mergeConfig would add to it).
export default defineConfig({ ...base, test: { ...base.test, include: globs } });
