#!/usr/bin/env node
// Builds the compiled `signet` CLI (dist/cli/main.mjs: lib/cli and everything it imports, dependencies
// included, as one minified ESM file) so that `signet` starts without compiling TypeScript.
// `npm install` and `npm ci` run it as `prepare`, and so does `npm pack`, which ships the result; the
// output is gitignored and never committed. Without esbuild (an install without dev dependencies) it
// builds nothing and says so: bin/signet.mjs then runs the sources through tsx, as before.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');
const OUT = join(ROOT, 'dist', 'cli', 'main.mjs');

let esbuild;
try {
  esbuild = await import('esbuild');
} catch {
  process.stderr.write('signet: esbuild is not installed (no dev dependencies); the CLI runs through tsx.\n');
  process.exit(0);
}

/**
 * `@hono/node-server` (the local servers of `signet start` and `sandbox`) reads the runtime's
 * Request, Response and Headers when it is imported, which makes Node load its fetch implementation:
 * most of the start-up time of every command, `signet --help` included. In the compiled CLI it is
 * loaded on first use instead: its imports go to a stand-in whose `createAdaptorServer` require()s
 * it, which esbuild bundles as a module evaluated on that first call.
 */
const lazyNodeServer = {
  name: 'signet-lazy-node-server',
  setup(build) {
    build.onResolve({ filter: /^@hono\/node-server$/ }, (args) =>
      args.kind === 'require-call' ? undefined : { path: '@hono/node-server', namespace: 'signet-lazy' },
    );
    build.onLoad({ filter: /.*/, namespace: 'signet-lazy' }, () => ({
      contents:
        "export function createAdaptorServer(options) { return require('@hono/node-server').createAdaptorServer(options); }",
      resolveDir: ROOT,
      loader: 'js',
    }));
  },
};

// The sources as they were when the build started: one changed during it makes the build stale.
const startedAt = Date.now();
mkdirSync(dirname(OUT), { recursive: true });
// Written beside and renamed into place: a `signet` starting meanwhile runs the old build or the new.
const temporary = `${OUT}.${process.pid}.tmp`;
await esbuild.build({
  entryPoints: [join(ROOT, 'lib', 'cli', 'main.ts')],
  outfile: temporary,
  bundle: true,
  minify: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  // As for the Lambda bundles (serverless.yml): ESM builds first, and require() for CommonJS dependencies.
  mainFields: ['module', 'main'],
  banner: {
    js: "import { createRequire as __signetCreateRequire } from 'node:module'; const require = __signetCreateRequire(import.meta.url);",
  },
  legalComments: 'none',
  logLevel: 'warning',
  plugins: [lazyNodeServer],
});
renameSync(temporary, OUT);
// In a checkout, bin/signet.mjs runs the sources instead when one of them is newer than the build.
const stamp = join(dirname(OUT), 'built-at');
writeFileSync(`${stamp}.${process.pid}.tmp`, String(startedAt));
renameSync(`${stamp}.${process.pid}.tmp`, stamp);
