#!/usr/bin/env node
// The `signet` command. Runs the TypeScript sources directly through tsx, so `npx signet` works right
// after `npm install` with no build step.
import { register } from 'tsx/esm/api';

// The pinned AWS SDK runs on Node 20; its warning is about SDK releases after January 2027, which
// a dependency bump would meet together with `engines`. Printed on every command, it would bury
// the output a newcomer needs. An explicit setting in the environment still wins.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
register();
const { main } = await import('../lib/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
