#!/usr/bin/env node
// The `signet` command. Runs the TypeScript sources directly through tsx, so `npx signet` works right
// after `npm install` with no build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../lib/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
