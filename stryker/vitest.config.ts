import { defineConfig, mergeConfig } from 'vitest/config';
import base from '../vitest.config.ts';

// The vitest config of `npm run mutation`: the project's, with test files sharing one module graph
// (Stryker switches mutants at run time, so nothing needs re-importing between mutant runs).
export default mergeConfig(base, defineConfig({ test: { isolate: false } }));
