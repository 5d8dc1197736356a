// Whether bin/signet.mjs can run the compiled CLI: dist/cli/main.mjs was built (bin/build-cli.mjs)
// and, in a checkout, no source changed since. An installed package has no sources (package.json
// `files`: no lib/), so there the build is all there is.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');

/** Whether dist/cli/main.mjs is built and, in a checkout, newer than every file under lib/, infra/ and client/. */
export function compiledIsCurrent() {
  let builtAt;
  try {
    builtAt = Number(readFileSync(join(ROOT, 'dist', 'cli', 'built-at'), 'utf8'));
  } catch {
    return false;
  }
  if (!Number.isFinite(builtAt) || !existsSync(join(ROOT, 'dist', 'cli', 'main.mjs'))) return false;
  if (!existsSync(join(ROOT, 'lib', 'cli', 'main.ts'))) return true;
  for (const folder of ['lib', 'infra', 'client']) {
    const base = join(ROOT, folder);
    if (!existsSync(base)) continue;
    for (const entry of readdirSync(base, { recursive: true, withFileTypes: true })) {
      if (entry.isFile() && statSync(join(entry.parentPath ?? entry.path, entry.name)).mtimeMs > builtAt) {
        return false;
      }
    }
  }
  return true;
}
