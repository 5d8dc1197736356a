import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type Config, ConfigError, readConfig } from '../config/index.ts';
import { type CliIo, EnvironmentError } from './io.ts';

/** The config a `signet` command uses, and where it came from. */
export interface CliConfig {
  readonly config: Config;
  readonly source: string;
}

/**
 * Finds the config (docs/design.md, "Contracts"): `--config`, else the `SIGNET_CONFIG` variable (a path or inline
 * JSON), else `.signet/config.json` where `npm start` has run. A missing or invalid config is an
 * environment error (exit 3) with every bad field listed.
 */
export function loadCliConfig(explicit: string | undefined, io: CliIo): CliConfig {
  const reference = explicit ?? io.env.SIGNET_CONFIG ?? defaultConfigPath(io.cwd);
  if (reference === undefined) {
    throw new EnvironmentError(
      'Expected a Signet config: pass --config FILE, set SIGNET_CONFIG, or run `npm start` here first (it writes .signet/config.json).',
    );
  }
  try {
    return {
      config: readConfig(reference, io.cwd),
      source: reference.trim().startsWith('{') ? 'SIGNET_CONFIG (inline)' : reference,
    };
  } catch (error) {
    if (error instanceof ConfigError) throw new EnvironmentError(error.message, { cause: error });
    throw error;
  }
}

function defaultConfigPath(cwd: string): string | undefined {
  const path = join(cwd, '.signet', 'config.json');
  return existsSync(path) ? path : undefined;
}
