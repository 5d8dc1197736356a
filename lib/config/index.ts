export {
  ConfigError,
  parseConfig,
  profileName,
  profileOf,
  readConfig,
  readConfigFromEnvironment,
} from './load.ts';
export { type AuthConfig, type Config, configSchema, duration, type Grant, type Profile } from './schema.ts';
