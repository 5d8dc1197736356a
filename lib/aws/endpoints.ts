import type { Config } from '../config/index.ts';

/** Client settings shared by every SDK client Signet builds. */
export interface ClientSettings {
  readonly region?: string;
  readonly endpoint?: string;
  readonly credentials?: { accessKeyId: string; secretAccessKey: string };
}

/**
 * Settings for one service's client: endpoints come from the config's `aws` section when set
 * (sandbox, LocalStack), else from the SDK's own resolution (AWS_ENDPOINT_URL_* variables, then AWS).
 * The sandbox accepts any credentials; dummy ones keep a laptop with no AWS profile working.
 */
export function clientSettings(
  config: Config,
  service: 'secretsManager' | 'cloudfront' | 'kms',
): ClientSettings {
  const endpoint = config.aws?.endpoints?.[service];
  const region = service === 'cloudfront' ? 'us-east-1' : config.aws?.region;
  const loopback = endpoint !== undefined && isLoopback(endpoint);
  return {
    ...(region === undefined ? {} : { region }),
    ...(endpoint === undefined ? {} : { endpoint }),
    ...(loopback
      ? { credentials: { accessKeyId: 'sandbox', secretAccessKey: 'sandbox' }, region: region ?? 'us-east-1' }
      : {}),
  };
}

function isLoopback(url: string): boolean {
  const host = new URL(url).hostname;
  return host === 'localhost' || host === '[::1]' || host.startsWith('127.');
}
