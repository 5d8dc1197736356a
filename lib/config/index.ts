import { load as loadYaml } from 'js-yaml';
import { readConfig as readConfigWith } from './load.ts';
import type { Config } from './schema.ts';

export {
  ConfigError,
  parseConfig,
  profileName,
  profileOf,
  readConfigFromEnvironment,
  type YamlParser,
} from './load.ts';
export { type AuthConfig, type Config, configSchema, duration, type Grant, type Profile } from './schema.ts';

/**
 * Reads the configuration named by `reference`: inline JSON (text starting with `{`), or the path of
 * a JSON or YAML file (by its extension: `.yaml` or `.yml`), relative to `cwd`. YAML is parsed with
 * js-yaml's default (safe) schema: no custom tags, nothing executed.
 *
 * Importing this module brings js-yaml: code on the Lambda functions' path imports lib/config/load.ts
 * instead (docs/operators.md, "Bundle size").
 */
export function readConfig(reference: string, cwd: string): Config {
  return readConfigWith(reference, cwd, loadYaml);
}
