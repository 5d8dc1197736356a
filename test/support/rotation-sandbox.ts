import { CloudFrontClient } from '@aws-sdk/client-cloudfront';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  type RunningCloudFront,
  type StartCloudFrontOptions,
  startCloudFront,
} from '../../infra/local/cloudfront-api.ts';
import { type RunningSecretsManager, startSecretsManager } from '../../infra/local/secrets-manager.ts';
import { CloudFrontKeyGroupRegistry } from '../../lib/aws/cloudfront-key-group-registry.ts';
import { SecretsManagerKeyRingStore } from '../../lib/aws/secrets-manager-key-ring-store.ts';
import type { KeyRing } from '../../lib/keys/ring.ts';
import type { KeyRingStore } from '../../lib/keys/store.ts';
import type {
  KeyGroupRegistry,
  RegisteredKeyGroup,
  RegisteredPublicKey,
} from '../../lib/rotation/registry.ts';

export { TIMINGS, testProfile } from './profiles.ts';

/** A clock moved by hand, shared by the rotator and the stand-ins. */
export class HandClock {
  #ms: number;
  constructor(start = Date.UTC(2026, 10, 22, 12, 0, 0)) {
    this.#ms = start;
  }
  readonly now = (): Date => new Date(this.#ms);
  readonly millis = (): number => this.#ms;
  advance(seconds: number): void {
    this.#ms += seconds * 1000;
  }
}

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

/** Real SDK clients as production builds them, pointed at the stand-ins; one attempt, so faults surface. */
export function sdkClients(urls: { secretsManager: string; cloudfront: string }) {
  return {
    secretsManager: new SecretsManagerClient({
      endpoint: urls.secretsManager,
      region: 'us-east-1',
      credentials,
      maxAttempts: 1,
    }),
    cloudfront: new CloudFrontClient({
      endpoint: urls.cloudfront,
      region: 'us-east-1',
      credentials,
      maxAttempts: 1,
    }),
  };
}

/** Secrets Manager and CloudFront stand-ins on loopback, with real SDK clients and adapters. */
export interface RotationSandbox {
  readonly clock: HandClock;
  readonly secretsManager: RunningSecretsManager;
  readonly cloudfront: RunningCloudFront;
  readonly clients: ReturnType<typeof sdkClients>;
  readonly registry: CloudFrontKeyGroupRegistry;
  /** Declares a ring secret with no value (as infrastructure does) and returns its store. */
  newStore(secretId: string): Promise<SecretsManagerKeyRingStore>;
  /** The most keys any key group held at any moment since start. */
  maxGroupSize(): number;
  close(): Promise<void>;
}

/** Starts the stand-ins; the CloudFront one stamps its changes with the hand-moved clock. */
export async function startRotationSandbox(
  options: {
    clock?: HandClock;
    cloudfront?: StartCloudFrontOptions;
    secretsManager?: RunningSecretsManager;
  } = {},
): Promise<RotationSandbox> {
  const clock = options.clock ?? new HandClock();
  const secretsManager = options.secretsManager ?? (await startSecretsManager({ port: 0, now: clock.now }));
  const cloudfront = await startCloudFront({ port: 0, now: clock.now, ...options.cloudfront });
  let maxGroupSize = 0;
  cloudfront.standIn.onChange((snapshot) => {
    for (const group of snapshot.keyGroups.values())
      maxGroupSize = Math.max(maxGroupSize, group.items.length);
  });
  const clients = sdkClients({ secretsManager: secretsManager.url, cloudfront: cloudfront.url });
  return {
    clock,
    secretsManager,
    cloudfront,
    clients,
    registry: new CloudFrontKeyGroupRegistry(clients.cloudfront),
    async newStore(secretId) {
      await clients.secretsManager.send(new CreateSecretCommand({ Name: secretId }));
      return new SecretsManagerKeyRingStore(clients.secretsManager, secretId);
    },
    maxGroupSize: () => maxGroupSize,
    async close() {
      clients.secretsManager.destroy();
      clients.cloudfront.destroy();
      await cloudfront.close();
      if (options.secretsManager === undefined) await secretsManager.close();
    },
  };
}

/** Everything a test asserts on: the ring as stored and what CloudFront holds. */
export interface ObservedRotation {
  readonly ring: KeyRing | undefined;
  readonly version: string | undefined;
  readonly group: RegisteredKeyGroup | undefined;
  readonly publicKeys: readonly RegisteredPublicKey[];
}

/** Reads the ring and, if it names one, its key group; and every public key. */
export async function observeRotation(
  store: KeyRingStore,
  registry: KeyGroupRegistry,
): Promise<ObservedRotation> {
  const loaded = await store.load();
  const group =
    loaded?.ring.keyGroupId === undefined ? undefined : await registry.getKeyGroup(loaded.ring.keyGroupId);
  return { ring: loaded?.ring, version: loaded?.version, group, publicKeys: await registry.listPublicKeys() };
}
