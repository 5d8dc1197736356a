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

/**
 * Bounds for an SDK client on the signing path (the API's Secrets Manager and KMS clients). The SDK's
 * own default lets a silent connection hang for 300 s, far past the API function's 10 s timeout: the
 * caller would get the gateway's bare 500 and no audit line. With these, a hung call fails after
 * `requestTimeout` and is tried once more, and the caller gets a 503 with Retry-After well inside
 * the function's timeout (docs/operators.md, "Cold starts"). A Secrets Manager read or a KMS Sign
 * normally answers in tens of milliseconds.
 */
export const SIGNING_PATH_CLIENT = {
  maxAttempts: 2,
  requestHandler: { connectionTimeout: 1000, requestTimeout: 1500, throwOnRequestTimeout: true },
} as const;
