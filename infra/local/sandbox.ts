import { type RunningCloudFront, startCloudFront } from './cloudfront-api.ts';
import { startEdge } from './edge.ts';
import { type RunningKms, startKms } from './kms.ts';
import { type RunningSecretsManager, startSecretsManager } from './secrets-manager.ts';
import { FileStateStore, MemoryStateStore, type StateStore } from './state.ts';

/** Where each service listens, relative to `--port-base` (docs/design.md, "Contracts"). */
export const PORT_OFFSETS = { secretsManager: 0, cloudfront: 1, edge: 2, api: 3, kms: 6 } as const;

/** The default port base of `npm start` and `signet sandbox`. */
export const DEFAULT_PORT_BASE = 4600;

/** Options of {@link startSandbox}. */
export interface SandboxOptions {
  /** Folder for state that survives restarts; `null` keeps everything in memory (tests). */
  readonly stateDir: string | null;
  /** Ports are base+0 (Secrets Manager), +1 (CloudFront API), +2 (edge); 0 picks free ports. */
  readonly portBase: number;
  /** How long a key group or distribution change takes to reach the edge. */
  readonly propagationDelayMs: number;
  /** Folder holding each origin's objects, by origin DomainName. Default `<stateDir>/origins`. */
  readonly originsDir?: string;
  /** Honour X-Forwarded-For at the edge (IP-condition tests on loopback). */
  readonly trustForwardedFor?: boolean;
  /** Which spelling of a path picks the edge's cache behaviour (UNCONFIRMED for CloudFront; see `EdgeOptions`). */
  readonly pathMatching?: 'decoded' | 'raw';
  /** Serve the edge over HTTPS only, with this certificate and key (PEM): `signet start --https`. */
  readonly edgeTls?: { readonly cert: string; readonly key: string };
  /** Also start the KMS stand-in (base+6), for `signer: kms` profiles: `npm start -- --kms`. */
  readonly kms?: boolean;
  /** The CloudFront stand-in's public key quota (a config's `aws.publicKeyQuota`); default 10. */
  readonly maxPublicKeys?: number;
}

/** The three AWS stand-ins, running. */
export interface Sandbox {
  readonly endpoints: { readonly secretsManager: string; readonly cloudfront: string; readonly edge: string };
  readonly secretsManager: RunningSecretsManager;
  readonly cloudfront: RunningCloudFront;
  /** The KMS stand-in, when asked for ({@link SandboxOptions.kms}). */
  readonly kms?: RunningKms;
  readonly propagationDelayMs: number;
  close(): Promise<void>;
}

/**
 * Starts the Secrets Manager, CloudFront API and CloudFront edge stand-ins on loopback. If one
 * cannot start (a port is taken), the ones already started are stopped before the error is thrown.
 */
export async function startSandbox(options: SandboxOptions): Promise<Sandbox> {
  const store = (name: string): StateStore =>
    options.stateDir === null ? new MemoryStateStore() : new FileStateStore(options.stateDir, name);
  const port = (offset: number) => (options.portBase === 0 ? 0 : options.portBase + offset);
  const started: { close(): Promise<void> }[] = [];
  try {
    const secretsManager = await startSecretsManager({
      port: port(PORT_OFFSETS.secretsManager),
      store: store('secrets-manager'),
    });
    started.push(secretsManager);
    const cloudfront = await startCloudFront({
      port: port(PORT_OFFSETS.cloudfront),
      store: store('cloudfront'),
      ...(options.maxPublicKeys === undefined ? {} : { maxPublicKeys: options.maxPublicKeys }),
    });
    started.push(cloudfront);
    const edge = await startEdge({
      port: port(PORT_OFFSETS.edge),
      control: cloudfront.standIn,
      propagationDelayMs: options.propagationDelayMs,
      originsDir: options.originsDir ?? `${options.stateDir ?? '.signet'}/origins`,
      trustForwardedFor: options.trustForwardedFor ?? false,
      ...(options.pathMatching === undefined ? {} : { pathMatching: options.pathMatching }),
      ...(options.edgeTls === undefined ? {} : { tls: options.edgeTls }),
    });
    started.push(edge);
    const kms =
      options.kms === true
        ? await startKms({ port: port(PORT_OFFSETS.kms), store: store('kms') })
        : undefined;
    if (kms !== undefined) started.push(kms);
    return {
      endpoints: { secretsManager: secretsManager.url, cloudfront: cloudfront.url, edge: edge.url },
      secretsManager,
      cloudfront,
      ...(kms === undefined ? {} : { kms }),
      propagationDelayMs: options.propagationDelayMs,
      close: () => closeAll(started),
    };
  } catch (error) {
    await closeAll(started);
    throw error;
  }
}

async function closeAll(services: { close(): Promise<void> }[]): Promise<void> {
  await Promise.all(services.reverse().map((service) => service.close()));
}
