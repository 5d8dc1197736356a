import { createHash } from 'node:crypto';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  type RunningSecretsManager,
  type StartSecretsManagerOptions,
  startSecretsManager,
} from '../../infra/local/secrets-manager.ts';

/** A running stand-in with a real SDK client pointed at it. */
export interface SecretsManagerFixture extends RunningSecretsManager {
  client: SecretsManagerClient;
  stop(): Promise<void>;
}

/** Builds an SDK client exactly as production code would, only with the sandbox endpoint. */
export function sdkClient(url: string): SecretsManagerClient {
  return new SecretsManagerClient({
    endpoint: url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    // One attempt, so a 500 from the stand-in reaches the test instead of being retried away.
    maxAttempts: 1,
  });
}

/** Starts a stand-in on a free port with an SDK client for it. */
export async function startFixture(options: StartSecretsManagerOptions = {}): Promise<SecretsManagerFixture> {
  const running = await startSecretsManager({ ...options, port: 0 });
  const client = sdkClient(running.url);
  return {
    ...running,
    client,
    async stop() {
      client.destroy();
      await running.close();
    },
  };
}

/** A clock the test moves by hand. */
export class ManualClock {
  #time: number;

  constructor(start: string) {
    this.#time = Date.parse(start);
  }

  readonly now = (): Date => new Date(this.#time);

  advance(ms: number): void {
    this.#time += ms;
  }
}

/**
 * A ClientRequestToken derived from the version a change was computed from and the change itself,
 * as docs/design.md, "The key ring document", prescribes: a retry of the same change reuses the same token (and version).
 */
export function deriveToken(priorVersionId: string, transition: string): string {
  return createHash('sha256').update(`${priorVersionId}\n${transition}`).digest('hex');
}

/** Sends one raw awsJson1_1 request, for what the SDK cannot be made to send. */
export function rawRequest(
  url: string,
  body: string,
  headers: Record<string, string> = {},
  method = 'POST',
): Promise<Response> {
  return fetch(url, {
    method,
    headers: { 'content-type': 'application/x-amz-json-1.1', ...headers },
    ...(method === 'GET' ? {} : { body }),
  });
}
