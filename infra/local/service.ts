import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { createAdaptorServer } from '@hono/node-server';
import { createAwsClients } from '../../lib/aws/clients.ts';
import { CloudFrontKeyGroupRegistry } from '../../lib/aws/cloudfront-key-group-registry.ts';
import { createKmsClient, SdkKmsKeyPort } from '../../lib/aws/kms-key-port.ts';
// The local API signs for signer: kms profiles too (npm start -- --kms).
import '../../lib/keys/kms-signers.ts';
import { SecretsManagerKeyRingStore } from '../../lib/aws/secrets-manager-key-ring-store.ts';
import { type Config, parseConfig } from '../../lib/config/index.ts';
import { createApp } from '../../lib/http/app.ts';

import { runRotation } from '../../lib/rotation/rotator.ts';
import { MemoryMetrics } from '../../lib/telemetry/memory-metrics.ts';
import type { Log } from '../../lib/telemetry/ports.ts';
import { buildApiDependencies } from '../../lib/wiring/api.ts';
import { DEMO, ensureDemoDistribution, ensureDemoSecret, writeDemoOrigin } from './demo.ts';
import { demoPageHandler } from './demo-page.ts';
import { close, listen } from './http.ts';
import { ensureCorsPolicy } from './response-headers.ts';
import { closeAll, startRotationTimer, untilActive } from './rotation-loop.ts';
import { PORT_OFFSETS, type Sandbox, startSandbox } from './sandbox.ts';
import { FileStateStore, MemoryStateStore } from './state.ts';
import { createDevTokenIssuer, type DevTokenIssuer } from './token-issuer.ts';

/** The token issuer's port, after the four of docs/design.md, "Contracts". */
export const TOKEN_ISSUER_OFFSET = 4;

/** Options of {@link startLocalService}. */
export interface LocalServiceOptions {
  /** Where state survives restarts; `null` keeps it in memory (tests). */
  readonly stateDir: string | null;
  /** See docs/design.md, "Contracts"; 0 picks free ports. */
  readonly portBase: number;
  /** How long key group changes take to reach the edge. Default 2 s. */
  readonly edgePropagationMs?: number;
  /**
   * Rotate the demo profile about every 30 s, with 10 to 30 s expiries, a propagation wait longer
   * than the edge's delay, and the rotator ticking every second (issue 5's rotation-under-load mode).
   */
  readonly fastRotation?: boolean;
  /**
   * Overrides of the demo profile's timings (seconds), over the fast or default ones: lets a test
   * run several rotations in less time. Config load still checks them against the rotation
   * invariants (`validateRotationTimings`), so an unsafe combination fails at start.
   */
  readonly rotation?: LocalRotationTimings;
  /**
   * Test-only: activate keys without waiting for propagation, to show the end-to-end test catches
   * the 403s that causes. Never exposed on the command line.
   */
  readonly activateWithoutPropagation?: boolean;
  /**
   * Take the viewer's address from `X-Forwarded-For` at the edge (to try IP-restricted URLs on
   * loopback). Off by default: CloudFront judges the viewer's own address, and a header anyone can
   * send must not satisfy an IP condition.
   */
  readonly trustForwardedFor?: boolean;
  /** Which spelling of a path picks the edge's cache behaviour (UNCONFIRMED for CloudFront; see `EdgeOptions`). */
  readonly edgePathMatching?: 'decoded' | 'raw';
  /**
   * The demo profile signs through the KMS stand-in (`signer: kms`, `npm start -- --kms`): its keys
   * are KMS keys, the ring holds none. State made with it needs it on later starts too.
   */
  readonly kms?: boolean;
  /** Where log lines go. */
  readonly log: Log;
}

/** Timings of the demo profile a caller of {@link startLocalService} may override (seconds). */
export interface LocalRotationTimings {
  readonly rotateEvery?: number;
  readonly propagation?: number;
  readonly clockSkew?: number;
  readonly ttl?: { readonly default: number; readonly max: number };
  readonly cache?: { readonly ttl: number; readonly maxStale: number };
}

/** The running local service. */
export interface LocalService {
  readonly endpoints: {
    api: string;
    edge: string;
    secretsManager: string;
    cloudfront: string;
    tokenIssuer: string;
  };
  readonly config: Config;
  readonly issuer: DevTokenIssuer;
  readonly sandbox: Sandbox;
  readonly metrics: MemoryMetrics;
  /** A protected object on the edge the demo token may sign. */
  readonly demoUrl: string;
  /** Runs the rotator once now (also runs on a timer). */
  rotateNow(): Promise<void>;
  close(): Promise<void>;
}

/**
 * `npm start`: the sandbox's AWS stand-ins, the demo profile bootstrapped on first start (key ring,
 * key group, a distribution whose `/private/*` trusts it, demo files), a development token issuer,
 * the signing API, and the rotator on a timer. Writes `<stateDir>/config.json` so every `signet`
 * command run in that directory uses this service.
 */
export async function startLocalService(options: LocalServiceOptions): Promise<LocalService> {
  const edgeDelay = options.edgePropagationMs ?? 2000;
  const sandbox = await startSandbox({
    stateDir: options.stateDir,
    portBase: options.portBase,
    propagationDelayMs: edgeDelay,
    trustForwardedFor: options.trustForwardedFor ?? false,
    ...(options.edgePathMatching === undefined ? {} : { pathMatching: options.edgePathMatching }),
    ...(options.kms === true ? { kms: true } : {}),
  });
  const closers: (() => Promise<void>)[] = [() => sandbox.close()];
  try {
    const port = (offset: number) => (options.portBase === 0 ? 0 : options.portBase + offset);
    const store = (name: string) =>
      options.stateDir === null ? new MemoryStateStore() : new FileStateStore(options.stateDir, name);

    // The token issuer listens first: its URL is the tokens' `iss`.
    let issuer: DevTokenIssuer | undefined;
    const issuerServer = createServer((request, response) => issuer!.handleJwks(request, response));
    const issuerUrl = await listen(issuerServer, port(TOKEN_ISSUER_OFFSET), 'development token issuer');
    closers.push(() => close(issuerServer));
    issuer = createDevTokenIssuer({
      store: store('token-issuer'),
      issuer: issuerUrl,
      audience: DEMO.audience,
    });

    // The API listens before the config is made: its origin serves the demo page (GET /demo/),
    // so it is one of the demo profile's CORS origins. It answers 503 until the first key is active.
    let apiFetch: (request: Request, env: unknown) => Response | Promise<Response> = () =>
      new Response('{"title":"starting"}', { status: 503, headers: { 'Retry-After': '1' } });
    const apiServer = createAdaptorServer({ fetch: (request, env) => apiFetch(request, env) });
    const api = await listen(
      apiServer as ReturnType<typeof createServer>,
      port(PORT_OFFSETS.api),
      'signing API',
    );
    closers.push(() => close(apiServer as ReturnType<typeof createServer>));
    const edgeHost = new URL(sandbox.endpoints.edge).host;
    const draft = demoConfig({
      sandbox,
      issuerUrl,
      apiOrigin: api,
      edgeHost,
      fast: options.fastRotation ?? false,
      edgeDelaySeconds: Math.ceil(edgeDelay / 1000),
      overrides: options.rotation ?? {},
    });
    const clients = createAwsClients(draft);
    await ensureDemoSecret(clients.secretsManager);
    if (options.stateDir !== null) writeDemoOrigin(join(options.stateDir, 'origins'));

    const profile = draft.profiles[DEMO.profile]!;
    const rotationStore = new SecretsManagerKeyRingStore(clients.secretsManager, DEMO.secretId);
    const registry = new CloudFrontKeyGroupRegistry(clients.cloudfront);
    const kmsClient = sandbox.kms === undefined ? undefined : createKmsClient(draft);
    if (kmsClient !== undefined) closers.push(async () => kmsClient.destroy());
    const kms = kmsClient === undefined ? undefined : new SdkKmsKeyPort(kmsClient);
    const rotate = () =>
      runRotation({
        profileName: DEMO.profile,
        profile,
        store: rotationStore,
        registry,
        ...(kms === undefined ? {} : { kms }),
        now: () => new Date(),
        log: options.log,
        ...(options.activateWithoutPropagation ? { testOnly: { activateWithoutPropagation: true } } : {}),
      });
    // Bootstrap on first start; later starts find the ring and go on from where it was.
    const bootstrapped = await rotate();
    const keyGroupId = bootstrapped.keyGroupId;
    if (keyGroupId === undefined) throw new Error('The rotator did not create or adopt the demo key group.');
    const corsPolicyId = await ensureCorsPolicy(clients.cloudfront, {
      name: 'signet-demo-cors',
      origins: profile.cors.origins,
      credentials: true,
    });
    const distributionId = await ensureDemoDistribution(clients.cloudfront, keyGroupId, corsPolicyId);
    const config = parseConfig({
      ...draft,
      profiles: { [DEMO.profile]: { ...draft.profiles[DEMO.profile], keyGroupId, distributionId } },
    });
    if (options.stateDir !== null) {
      writeFileSync(join(options.stateDir, 'config.json'), `${JSON.stringify(config, null, 2)}\n`, {
        mode: 0o600,
      });
    }

    // Until the first key has propagated there is nothing to sign with: wait for its activation.
    await untilActive(rotate, bootstrapped);

    const metrics = new MemoryMetrics();
    const app = createApp(
      buildApiDependencies({ config, secretsManager: clients.secretsManager, log: options.log, metrics }),
    );
    const edge = sandbox.endpoints.edge;
    const demoPage = demoPageHandler({
      api,
      profile: DEMO.profile,
      resource: `${edge}/private/*`,
      image: `${edge}/private/signet.svg`,
      download: `${edge}/private/hello.txt`,
      fetchUrl: `${edge}/private/hello.txt`,
      probe: `${edge}/private/probe.txt`,
      token: () => issuer!.issue({ sub: 'demo', scope: ['demo:read', 'demo:user'], expiresIn: 3600 }),
    });
    apiFetch = (request, env) => demoPage(request) ?? app.fetch(request, env as never);

    const rotations = startRotationTimer(rotate, options.fastRotation ? 1000 : 10_000, options.log);
    closers.push(() => rotations.close());

    return {
      endpoints: {
        api,
        edge: sandbox.endpoints.edge,
        secretsManager: sandbox.endpoints.secretsManager,
        cloudfront: sandbox.endpoints.cloudfront,
        tokenIssuer: issuerUrl,
      },
      config,
      issuer,
      sandbox,
      metrics,
      demoUrl: `${sandbox.endpoints.edge}/private/hello.txt`,
      rotateNow: async () => {
        await rotations.tick();
      },
      close: () => closeAll(closers),
    };
  } catch (error) {
    await closeAll(closers);
    throw error;
  }
}

function demoConfig(input: {
  sandbox: Sandbox;
  issuerUrl: string;
  /** The API's origin, where the demo page is served. */
  apiOrigin: string;
  edgeHost: string;
  fast: boolean;
  edgeDelaySeconds: number;
  overrides: LocalRotationTimings;
}): Config {
  const edge = `http://${input.edgeHost}`;
  const { overrides } = input;
  // Fast rotation: expiries of 10-30 s, a ring refreshed every 2 s, a key rotated every 30 s. The
  // propagation wait always exceeds the edge's delay, so no URL is signed with a key the edge lacks.
  const timings = input.fast
    ? {
        ttl: { default: 20, max: 30 },
        cache: { ttl: 2, maxStale: 5 },
        rotation: { rotateEvery: 30, propagation: input.edgeDelaySeconds + 2, clockSkew: 2 },
      }
    : {
        ttl: { default: 300, max: 3600 },
        cache: { ttl: 5, maxStale: 60 },
        rotation: { rotateEvery: 86_400, propagation: input.edgeDelaySeconds + 2, clockSkew: 5 },
      };
  return parseConfig({
    // The local service is a stage of its own: its key group is signet-local-demo (docs/operators.md).
    stage: 'local',
    defaultProfile: DEMO.profile,
    // The API's origin as pages reach it: doctor checks the demo's browser topology against it.
    api: { publicOrigin: input.apiOrigin },
    aws: {
      region: 'us-east-1',
      endpoints: {
        secretsManager: input.sandbox.endpoints.secretsManager,
        cloudfront: input.sandbox.endpoints.cloudfront,
        ...(input.sandbox.kms === undefined ? {} : { kms: input.sandbox.kms.url }),
      },
    },
    auth: {
      jwt: {
        issuer: input.issuerUrl,
        audience: DEMO.audience,
        jwksUrl: `${input.issuerUrl}/.well-known/jwks.json`,
        algorithms: ['ES256'],
        clockTolerance: 5,
      },
    },
    profiles: {
      [DEMO.profile]: {
        domains: [input.edgeHost],
        keyRing: { secretId: DEMO.secretId },
        algorithm: 'ecdsa-p256',
        // npm start -- --kms: the demo's keys are KMS keys; identical requests within a minute share
        // one KMS signature (not with fast rotation, whose expiries are shorter than the grid).
        ...(input.sandbox.kms === undefined
          ? {}
          : { signer: 'kms', ...(input.fast ? {} : { expiryRounding: 60 }) }),
        // No Domain: on 127.0.0.1 a host-only cookie set by the API reaches the edge on another port.
        cookie: { path: '/', sameSite: 'Lax' },
        // Pages on the edge's site only: the demo page on the API's origin, and a dev server on
        // 127.0.0.1:5173 (vite --host 127.0.0.1). From http://localhost:5173 the browser would treat
        // the cookies as third-party and drop them (docs/frontends.md).
        cors: { origins: [input.apiOrigin, 'http://127.0.0.1:5173'] },
        grants: [
          { when: { claims: { scope: 'demo:read' } }, resources: [`${edge}/private/*`] },
          { when: { claims: { scope: 'demo:user' } }, resources: [`${edge}/private/users/{sub}/*`] },
        ],
        ...timings,
        ...(overrides.ttl === undefined ? {} : { ttl: overrides.ttl }),
        ...(overrides.cache === undefined ? {} : { cache: overrides.cache }),
        rotation: {
          ...timings.rotation,
          ...(overrides.rotateEvery === undefined ? {} : { rotateEvery: overrides.rotateEvery }),
          ...(overrides.propagation === undefined ? {} : { propagation: overrides.propagation }),
          ...(overrides.clockSkew === undefined ? {} : { clockSkew: overrides.clockSkew }),
        },
      },
    },
  });
}
