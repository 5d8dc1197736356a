#!/usr/bin/env node
// The `signet` command. Runs the compiled CLI (dist/cli/main.mjs, built by `npm install` through
// `prepare`, and shipped by `npm pack`); in a checkout whose sources changed since that build, or
// where it was never built, runs the TypeScript sources through tsx instead, so the command never
// runs stale code.
import { compiledIsCurrent } from './compiled.mjs';

// The pinned AWS SDK runs on Node 20; its warning is about SDK releases after January 2027, which
// a dependency bump would meet together with `engines`. Printed on every command, it would bury
// the output a newcomer needs. An explicit setting in the environment still wins.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const COMPILED = new URL('../dist/cli/main.mjs', import.meta.url);

let main;
if (compiledIsCurrent()) {
  ({ main } = await import(COMPILED));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../lib/cli/main.ts'));
}
process.exitCode = await main(process.argv.slice(2));
