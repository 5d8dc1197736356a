import { readFileSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import type * as z from 'zod';
import { deepFreeze } from './deep-freeze.ts';
import { type Config, configSchema, type Profile } from './schema.ts';

/** A configuration that cannot be used. The message lists every bad field at once. */
export class ConfigError extends Error {
  readonly code = 'ERR_CONFIG_INVALID';
  readonly problems: readonly string[];
  constructor(message: string, problems: readonly string[] = [], options?: { cause?: unknown }) {
    super(
      problems.length === 0 ? message : `${message}\n${problems.map((p) => `  - ${p}`).join('\n')}`,
      options,
    );
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/**
 * Parses and validates a configuration document (already read as JSON or YAML) into a frozen
 * {@link Config}. Throws one {@link ConfigError} that lists every bad field.
 */
export function parseConfig(document: unknown, source = 'the configuration'): Config {
  const result = configSchema.safeParse(document);
  if (!result.success) {
    const problems = result.error.issues.map(describeIssue);
    throw new ConfigError(
      `Expected a valid Signet configuration in ${source}; found ${problems.length} problem(s):`,
      problems,
    );
  }
  return deepFreeze(result.data);
}

/**
 * Parses YAML text into a document. The caller brings it (lib/config/index.ts passes js-yaml's), so
 * that the Lambda functions, which read the config as JSON, bundle no YAML parser (46 KB of the API
 * bundle; docs/operators.md, "Bundle size").
 */
export type YamlParser = (text: string) => unknown;

/**
 * Reads the configuration named by `reference`: inline JSON (text starting with `{`), or the path of
 * a JSON or YAML file (by its extension: `.yaml` or `.yml`), relative to `cwd`. A YAML file needs
 * `parseYaml`; without it, it is refused with a clear error.
 */
export function readConfig(reference: string, cwd: string, parseYaml?: YamlParser): Config {
  const trimmed = reference.trim();
  if (trimmed.startsWith('{'))
    return parseConfig(parseText(trimmed, 'json', 'the inline configuration'), 'the inline configuration');
  const path = resolve(cwd, trimmed);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new ConfigError(`Could not read the configuration file ${path}: ${(cause as Error).message}`, [], {
      cause,
    });
  }
  const format = ['.yaml', '.yml'].includes(extname(path).toLowerCase()) ? 'yaml' : 'json';
  if (format === 'yaml' && parseYaml === undefined) {
    throw new ConfigError(
      `Expected a JSON configuration (inline, or a .json file); got the YAML file ${path}. This program ` +
        'reads no YAML: serverless.yml renders the YAML config to JSON for the Lambda functions.',
    );
  }
  return parseConfig(parseText(text, format, path, parseYaml), path);
}

/**
 * The configuration of a Lambda function: `SIGNET_CONFIG` holds inline JSON (what serverless.yml
 * renders from the YAML config) or the path of a JSON file; a YAML file is refused (the functions
 * bundle no YAML parser). Called once per cold start; a missing or invalid config fails the cold
 * start with one error.
 */
export function readConfigFromEnvironment(
  env: Readonly<Record<string, string | undefined>>,
  cwd: string,
): Config {
  const reference = env.SIGNET_CONFIG;
  if (reference === undefined || reference.trim() === '') {
    throw new ConfigError(
      'Expected the SIGNET_CONFIG environment variable: the Signet config as inline JSON or a JSON file path.',
    );
  }
  return readConfig(reference, cwd);
}

/** The profile a request names, or the default one (the config's `defaultProfile`, or its only profile). */
export function profileName(config: Config, requested: string | undefined): string | undefined {
  if (requested !== undefined) return Object.hasOwn(config.profiles, requested) ? requested : undefined;
  if (config.defaultProfile !== undefined) return config.defaultProfile;
  const names = Object.keys(config.profiles);
  return names.length === 1 ? names[0] : undefined;
}

/** The profile by name; `undefined` when there is none by that name. */
export function profileOf(config: Config, name: string): Profile | undefined {
  return Object.hasOwn(config.profiles, name) ? config.profiles[name] : undefined;
}

/** One validation problem as a line a person can act on: where, what was expected, what came. */
function describeIssue(issue: z.core.$ZodIssue): string {
  const where = issue.path.join('.') || '(root)';
  if (issue.code === 'invalid_key') {
    const inner = issue.issues[0]?.message ?? 'Expected a different key';
    return `${where}: ${inner}; got ${JSON.stringify(String(issue.path.at(-1)))}`;
  }
  if (issue.code === 'invalid_type' && /received undefined/.test(issue.message)) {
    return `${where}: Expected ${issue.expected === 'object' ? 'a section' : `a ${issue.expected}`} here; it is missing`;
  }
  return `${where}: ${issue.message}`;
}

function parseText(
  text: string,
  format: 'json' | 'yaml',
  source: string,
  parseYaml: YamlParser | undefined = undefined,
): unknown {
  try {
    return format === 'json' || parseYaml === undefined ? JSON.parse(text) : parseYaml(text);
  } catch (cause) {
    throw new ConfigError(`Expected ${format.toUpperCase()} in ${source}: ${(cause as Error).message}`, [], {
      cause,
    });
  }
}
