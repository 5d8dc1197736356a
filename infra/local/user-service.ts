import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createAdaptorServer } from '@hono/node-server';
import { createAwsClients } from '../../lib/aws/clients.ts';
import { CloudFrontKeyGroupRegistry } from '../../lib/aws/cloudfront-key-group-registry.ts';
import { createKmsClient, SdkKmsKeyPort } from '../../lib/aws/kms-key-port.ts';
// The local API signs for signer: kms profiles too.
import '../../lib/keys/kms-signers.ts';
import { SecretsManagerKeyRingStore } from '../../lib/aws/secrets-manager-key-ring-store.ts';
import { type Config, parseConfig } from '../../lib/config/index.ts';
import { createApp } from '../../lib/http/app.ts';
import { runRotation } from '../../lib/rotation/rotator.ts';
import { MemoryMetrics } from '../../lib/telemetry/memory-metrics.ts';
import type { Log } from '../../lib/telemetry/ports.ts';
import { buildApiDependencies } from '../../lib/wiring/api.ts';
import { close, listen } from './http.ts';
import { closeAll, startRotationTimer, untilActive } from './rotation-loop.ts';
import { PORT_OFFSETS, type Sandbox, startSandbox } from './sandbox.ts';
import { TOKEN_ISSUER_OFFSET } from './service.ts';
import { FileStateStore, MemoryStateStore } from './state.ts';
import { ensureLocalTls, type LocalTls } from './tls.ts';
import { createDevTokenIssuer, type DevTokenIssuer } from './token-issuer.ts';
import {
  aliasOf,
  ensureLocalApiKeys,
  ensureProfileDistribution,
  ensureRingSecret,
  localConfigOf,
  localOriginDomain,
  writeSampleObject,
} from './user-config.ts';

/** Options of {@link startUserService}. */
export interface UserServiceOptions {
  /** The user's config, parsed. Never written back. */
  readonly config: Config;
  /** Where it was read from (an absolute path), so the service never writes over it. */
  readonly configPath: string;
  /** Where state survives restarts; `null` keeps it in memory (tests). */
  readonly stateDir: string | null;
  readonly portBase: number;
  readonly edgePropagationMs?: number;
  /** Serve the edge and the API over HTTPS with a certificate made at start (`--https`). */
  readonly https?: boolean;
  readonly trustForwardedFor?: boolean;
  readonly edgePathMatching?: 'decoded' | 'raw';
  /**
   * Extra routes on the API's port, tried before the API (the demo page, for example). Returns
   * `undefined` for a request it does not serve.
   */
  readonly extraRoutes?: (request: Request) => Response | Promise<Response> | undefined;
  readonly log: Log;
}

/** One profile of the user's config, as the local service runs it. */
export interface LocalProfile {
  /** The local distribution whose aliases are the profile's domains. */
  readonly distributionId: string;
  readonly aliases: readonly string[];
  /** The folder the local origin serves: put objects here. */
  readonly originFolder: string;
  /** A sample object's URL to sign, when the first grant has a fixed folder. */
  readonly sampleUrl?: string;
}

/** The local service running a user's config. */
export interface UserService {
  readonly endpoints: {
    api: string;
    edge: string;
    secretsManager: string;
    cloudfront: string;
    tokenIssuer: string;
  };
  /** The config the local API runs (the user's, pointed at the sandbox). */
  readonly config: Config;
  readonly profiles: Readonly<Record<string, LocalProfile>>;
  /** The HTTPS material, with `https`. */
  readonly tls?: LocalTls;
  /** API keys made up for the ids the grants name (id → key), when the config has `auth.apiKeys`. */
  readonly apiKeys: Readonly<Record<string, string>>;
  /** What was changed of the user's config to run it locally, one line each. */
  readonly notes: readonly string[];
  /** Where the effective config was written for other `signet` commands, or `undefined`. */
  readonly writtenConfig?: string;
  readonly issuer: DevTokenIssuer;
  readonly sandbox: Sandbox;
  readonly metrics: MemoryMetrics;
  rotateNow(): Promise<void>;
  close(): Promise<void>;
}

/**
 * `signet start --config FILE`: the sandbox's stand-ins running the user's own profiles. Each
 * profile gets its key ring secret, a key group (the rotator bootstraps it), and a local
 * distribution whose aliases are the profile's domains, so the edge answers by `Host`; profiles that
 * allow browser origins get a CORS response headers policy on it. The API runs the user's grants,
 * cookie settings and CORS origins. The user's file is only read: the effective config (the user's,
 * with the sandbox's endpoints and ids) is written to `<stateDir>/config.json` for the other
 * `signet` commands, unless that is the user's own file.
 */
export async function startUserService(options: UserServiceOptions): Promise<UserService> {
  const edgeDelay = options.edgePropagationMs ?? 2000;
  const user = options.config;
  const tlsDir =
    options.https !== true
      ? undefined
      : options.stateDir === null
        ? mkdtempSync(join(tmpdir(), 'signet-tls-'))
        : join(options.stateDir, 'tls');
  const publicHost = user.api?.publicOrigin === undefined ? [] : [new URL(user.api.publicOrigin).hostname];
  const tls =
    tlsDir === undefined
      ? undefined
      : ensureLocalTls(tlsDir, [
          ...Object.values(user.profiles).flatMap((profile) => profile.domains.map(aliasOf)),
          ...publicHost,
        ]);
  const scratch = options.stateDir === null ? mkdtempSync(join(tmpdir(), 'signet-user-')) : undefined;
  const originsDir = join(options.stateDir ?? scratch!, 'origins');
  const sandbox = await startSandbox({
    stateDir: options.stateDir,
    originsDir,
    portBase: options.portBase,
    propagationDelayMs: edgeDelay,
    trustForwardedFor: options.trustForwardedFor ?? false,
    ...(options.edgePathMatching === undefined ? {} : { pathMatching: options.edgePathMatching }),
    ...(tls === undefined ? {} : { edgeTls: { cert: tls.cert, key: tls.key } }),
    // signer: kms profiles sign through the KMS stand-in (docs/operators.md, "KMS signing"); so do
    // the KMS keys left in the ring of a profile switched back (kms: retiring).
    ...(Object.values(user.profiles).some((profile) => profile.signer === 'kms' || profile.kms === 'retiring')
      ? { kms: true }
      : {}),
    // A raised quota in the config is the account's: the local CloudFront grants the same.
    ...(user.aws?.publicKeyQuota === undefined ? {} : { maxPublicKeys: user.aws.publicKeyQuota }),
  });
  const closers: (() => Promise<void>)[] = [() => sandbox.close()];
  if (scratch !== undefined) closers.unshift(async () => rmSync(scratch, { recursive: true, force: true }));
  if (options.stateDir === null && tlsDir !== undefined) {
    closers.unshift(async () => rmSync(tlsDir, { recursive: true, force: true }));
  }
  try {
    const port = (offset: number) => (options.portBase === 0 ? 0 : options.portBase + offset);
    const store = (name: string) =>
      options.stateDir === null ? new MemoryStateStore() : new FileStateStore(options.stateDir, name);

    let issuer: DevTokenIssuer | undefined;
    const issuerServer = createServer((request, response) => issuer!.handleJwks(request, response));
    const issuerUrl = await listen(issuerServer, port(TOKEN_ISSUER_OFFSET), 'development token issuer');
    closers.push(() => close(issuerServer));

    const local = localConfigOf(user, {
      secretsManager: sandbox.endpoints.secretsManager,
      cloudfront: sandbox.endpoints.cloudfront,
      ...(sandbox.kms === undefined ? {} : { kms: sandbox.kms.url }),
      issuerUrl,
      edgeDelaySeconds: Math.ceil(edgeDelay / 1000),
    });
    const draft = parseConfig(local.document, `the local copy of ${options.configPath}`);
    const jwt = draft.auth.jwt!;
    issuer = createDevTokenIssuer({
      store: store('token-issuer'),
      issuer: issuerUrl,
      audience: [jwt.audience].flat()[0]!,
    });

    const clients = createAwsClients(draft);
    const registry = new CloudFrontKeyGroupRegistry(clients.cloudfront);
    const kmsClient = sandbox.kms === undefined ? undefined : createKmsClient(draft);
    if (kmsClient !== undefined) closers.push(async () => kmsClient.destroy());
    const kms = kmsClient === undefined ? undefined : new SdkKmsKeyPort(kmsClient);
    const rotations: (() => ReturnType<typeof runRotation>)[] = [];
    const ids: Record<string, { keyGroupId: string; distributionId: string }> = {};
    const profiles: Record<string, LocalProfile> = {};
    for (const [name, profile] of Object.entries(draft.profiles)) {
      await ensureRingSecret(clients.secretsManager, profile.keyRing.secretId);
      const ringStore = new SecretsManagerKeyRingStore(clients.secretsManager, profile.keyRing.secretId);
      const rotate = () =>
        runRotation({
          profileName: name,
          profile,
          store: ringStore,
          registry,
          ...(kms === undefined ? {} : { kms }),
          now: () => new Date(),
          log: options.log,
        });
      const result = await rotate();
      if (result.keyGroupId === undefined) {
        throw new Error(`The rotator did not create or adopt a key group for profile ${name}.`);
      }
      const distributionId = await ensureProfileDistribution(
        clients.cloudfront,
        name,
        profile,
        result.keyGroupId,
      );
      ids[name] = { keyGroupId: result.keyGroupId, distributionId };
      rotations.push(rotate);
      const sampleUrl = writeSampleObject(originsDir, name, profile);
      profiles[name] = {
        distributionId,
        aliases: [...new Set(profile.domains.map(aliasOf))],
        originFolder: join(originsDir, localOriginDomain(name)),
        ...(sampleUrl === undefined ? {} : { sampleUrl }),
      };
    }
    const apiKeys = await ensureLocalApiKeys(
      clients.secretsManager,
      draft,
      options.stateDir === null ? null : join(options.stateDir, 'local-api-keys.json'),
    );
    const document = {
      ...local.document,
      profiles: Object.fromEntries(
        Object.entries(local.document.profiles as Record<string, Record<string, unknown>>).map(
          ([name, p]) => [name, { ...p, ...ids[name] }],
        ),
      ),
    };
    const config = parseConfig(document, `the local copy of ${options.configPath}`);
    let writtenConfig: string | undefined;
    if (options.stateDir !== null) {
      const target = join(options.stateDir, 'config.json');
      if (!samePath(target, options.configPath)) {
        writeFileSync(target, `${JSON.stringify(document, null, 2)}\n`, { mode: 0o600 });
        writtenConfig = target;
      }
    }

    // Until each profile's first key has propagated there is nothing to sign with.
    for (const rotate of rotations) await untilActive(rotate);

    const metrics = new MemoryMetrics();
    const app = createApp(
      buildApiDependencies({ config, secretsManager: clients.secretsManager, log: options.log, metrics }),
    );
    const fetch = async (request: Request, env: unknown) =>
      (await options.extraRoutes?.(request)) ?? app.fetch(request, env as never);
    const apiServer =
      tls === undefined
        ? createAdaptorServer({ fetch })
        : createAdaptorServer({
            fetch,
            createServer: createHttpsServer,
            serverOptions: { cert: tls.cert, key: tls.key },
          });
    const apiUrl = await listen(
      apiServer as ReturnType<typeof createServer>,
      port(PORT_OFFSETS.api),
      'signing API',
    );
    closers.push(() => close(apiServer as ReturnType<typeof createServer>));

    const timer = startRotationTimer(
      async () => {
        for (const rotate of rotations) await rotate();
      },
      10_000,
      options.log,
    );
    closers.push(() => timer.close());

    return {
      endpoints: {
        api: tls === undefined ? apiUrl : apiUrl.replace(/^http:/, 'https:'),
        edge: sandbox.endpoints.edge,
        secretsManager: sandbox.endpoints.secretsManager,
        cloudfront: sandbox.endpoints.cloudfront,
        tokenIssuer: issuerUrl,
      },
      config,
      profiles,
      ...(tls === undefined ? {} : { tls }),
      apiKeys,
      notes: local.adjustments.notes,
      ...(writtenConfig === undefined ? {} : { writtenConfig }),
      issuer,
      sandbox,
      metrics,
      rotateNow: async () => {
        await timer.tick();
      },
      close: () => closeAll(closers),
    };
  } catch (error) {
    await closeAll(closers);
    throw error;
  }
}

/** Whether two paths name one file (the second may not exist yet: then compared as resolved). */
function samePath(a: string, b: string): boolean {
  const real = (path: string) => {
    try {
      return realpathSync(path);
    } catch {
      return resolve(path);
    }
  };
  return real(a) === real(b);
}
