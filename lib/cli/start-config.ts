import { resolve } from 'node:path';
import { type UserDemoPage, userDemoPage } from '../../infra/local/demo-page.ts';
import { startUserService, type UserService } from '../../infra/local/user-service.ts';
import { type Config, ConfigError, readConfig } from '../config/index.ts';
import type { Log } from '../telemetry/ports.ts';
import { type CliIo, EnvironmentError, EXIT, UsageError } from './io.ts';
import { untilAborted } from './sandbox.ts';
import { serveStatus } from './status.ts';

/** What `signet start --config FILE` was asked for. */
export interface StartConfigOptions {
  /** `--config` as given: a path, relative to where the user ran the command. */
  readonly configReference: string;
  readonly https: boolean;
  readonly stateDir: string;
  readonly portBase: number;
  readonly edgePropagationMs: number;
  readonly trustForwardedFor: boolean;
  readonly edgePathMatching: 'decoded' | 'raw';
  readonly json: boolean;
  readonly log: Log;
}

/**
 * `signet start --config FILE`: reads and validates FILE first (a bad file is an error naming each
 * bad field, exit 3, and nothing is started), then runs it on the sandbox until interrupted. The
 * file is only read. Under `npm start -- --config FILE` a relative FILE is taken from the folder
 * npm was run in (`INIT_CWD`), as the user typed it there.
 */
export async function startUserConfig(
  options: StartConfigOptions,
  io: CliIo,
  signal: AbortSignal,
): Promise<number> {
  const reference = options.configReference.trim();
  if (reference === '' || reference.startsWith('{')) {
    throw new UsageError(
      'Expected --config to name a config file (JSON or YAML); got inline text or nothing.',
    );
  }
  const base =
    io.env.npm_lifecycle_event === 'start' && io.env.INIT_CWD !== undefined && io.env.INIT_CWD !== ''
      ? io.env.INIT_CWD
      : io.cwd;
  const path = resolve(base, reference);
  let config: Config;
  try {
    config = readConfig(path, base);
  } catch (error) {
    if (error instanceof ConfigError) throw new EnvironmentError(error.message, { cause: error });
    throw error;
  }
  let service: UserService;
  // The demo page (docs/frontends.md) for one of the user's profiles, built once the service knows
  // its sample objects; served by the API's port under the name of an allowed origin.
  let demo: UserDemoPage | undefined;
  try {
    service = await startUserService({
      config,
      configPath: path,
      extraRoutes: (request) => demo?.handler(request),
      stateDir: options.stateDir,
      portBase: options.portBase,
      edgePropagationMs: options.edgePropagationMs,
      https: options.https,
      trustForwardedFor: options.trustForwardedFor,
      edgePathMatching: options.edgePathMatching,
      log: options.log,
    });
  } catch (cause) {
    throw new EnvironmentError(`Could not start Signet locally with ${path}: ${(cause as Error).message}`, {
      cause,
    });
  }
  const scopes = [
    ...new Set(
      Object.values(config.profiles).flatMap((profile) =>
        profile.grants.flatMap((grant) => [grant.when.claims?.scope ?? []].flat()),
      ),
    ),
  ];
  const token = await service.issuer.issue({ sub: 'demo', scope: scopes, expiresIn: 12 * 3600 });
  const running = service;
  demo = userDemoPage({
    config: running.config,
    profiles: running.profiles,
    endpoints: running.endpoints,
    token: () => running.issuer.issue({ sub: 'demo', scope: scopes, expiresIn: 3600 }),
  });
  const statusPages = await startStatusPages(running.config, options.portBase, io, options.log);
  const status = Object.fromEntries(statusPages.map(({ profile, server }) => [profile, server.url]));
  if (options.json) {
    io.stdout(
      `${JSON.stringify({
        ...service.endpoints,
        token,
        status,
        profiles: service.profiles,
        ...(service.tls === undefined
          ? {}
          : { caFile: service.tls.caFile, spkiSha256: service.tls.spkiSha256 }),
        apiKeys: service.apiKeys,
        ...(service.writtenConfig === undefined ? {} : { config: service.writtenConfig }),
        ...(demo === undefined ? {} : { demoPage: demo.url, hostResolverRules: demo.hostResolverRules }),
      })}\n`,
    );
  } else {
    const text = describe(service, path, options.stateDir, scopes);
    const pages =
      statusPages.length === 0
        ? ''
        : `Status pages (keys, rotation, quotas, doctor: live):\n${statusPages
            .map(({ profile, server }) => `  ${profile.padEnd(16)} ${server.url}\n`)
            .join('')}\n`;
    const demoText = demo === undefined ? '' : `${describeDemoPage(demo, service)}\n`;
    io.stdout(text.replace(/Press Ctrl-C to stop\.\n*$/, `${pages}${demoText}Press Ctrl-C to stop.\n`));
  }
  await untilAborted(signal);
  for (const { server } of statusPages) await server.close();
  await service.close();
  return EXIT.ok;
}

/**
 * A status page (signet status) per profile, read every 2 seconds so that rotations show live: the
 * default profile's on port base + 5, as npm start's, the others on free ports (base + 6 is KMS's).
 * A page that cannot start is logged, never a reason to stop the service.
 */
async function startStatusPages(
  config: Config,
  portBase: number,
  io: CliIo,
  log: Log,
): Promise<
  { readonly profile: string; readonly server: { readonly url: string; close(): Promise<void> } }[]
> {
  const first = config.defaultProfile ?? Object.keys(config.profiles)[0]!;
  const names = [first, ...Object.keys(config.profiles).filter((name) => name !== first)];
  const pages = [];
  for (const [index, profileName] of names.entries()) {
    const serve = (port: number) => serveStatus({ config, profileName, port, intervalSeconds: 2, io });
    try {
      const server = await serve(index === 0 && portBase !== 0 ? portBase + 5 : 0).catch(() => serve(0));
      pages.push({ profile: profileName, server });
    } catch (error) {
      log.warn('status page not started', { profile: profileName, error: (error as Error).message });
    }
  }
  return pages;
}

/** The instructions printed at start: endpoints, profiles, how to reach the hosts, a first request. */
export function describe(
  service: UserService,
  path: string,
  stateDir: string,
  scopes: readonly string[],
): string {
  const { endpoints, tls } = service;
  const edgePort = new URL(endpoints.edge).port;
  const apiPort = new URL(endpoints.api).port;
  const scheme = tls === undefined ? 'http' : 'https';
  const hosts = [...new Set(Object.values(service.profiles).flatMap((profile) => profile.aliases))];
  const publicOrigin = service.config.api?.publicOrigin;
  const apiHost = publicOrigin === undefined ? undefined : new URL(publicOrigin).hostname;
  const firstHost = hosts[0] ?? 'media.example.com';
  const sample = Object.values(service.profiles).find(
    (profile) => profile.sampleUrl !== undefined,
  )?.sampleUrl;
  const cacert = tls === undefined ? '' : `--cacert ${tls.caFile} `;
  const lines: string[] = [
    `Signet is running your config locally (${path}: only read, never written; state in ${stateDir}).`,
    '',
    `  Signing API       ${endpoints.api}${apiHost === undefined ? '' : `   (also as ${scheme}://${apiHost}:${apiPort})`}`,
    `  CloudFront edge   ${endpoints.edge}   (answers by Host: ${hosts.join(', ')})`,
    `  Secrets Manager   ${endpoints.secretsManager}`,
    `  CloudFront API    ${endpoints.cloudfront}`,
    `  Token issuer      ${endpoints.tokenIssuer}/.well-known/jwks.json`,
    '',
    'Profiles (put objects in the origin folder; the edge serves them to signed requests):',
  ];
  for (const [name, profile] of Object.entries(service.profiles)) {
    lines.push(`  ${name}: distribution ${profile.distributionId} for ${profile.aliases.join(', ')}`);
    lines.push(`    origin folder  ${profile.originFolder}`);
    if (profile.sampleUrl !== undefined) lines.push(`    sample object  ${profile.sampleUrl}`);
  }
  const httpsGrants = Object.values(service.config.profiles).some((profile) =>
    profile.grants.some((grant) => grant.resources.some((resource) => resource.startsWith('https://'))),
  );
  if (tls === undefined && httpsGrants) {
    lines.push(
      '',
      'Note: your grants name https:// URLs and the edge serves http:// now. A URL signed for https:// is',
      'refused over http:// (the scheme is part of what is signed): start with --https to try them.',
    );
  }
  if (service.notes.length > 0) {
    lines.push(
      '',
      'Changed for local use (your file is unchanged):',
      ...service.notes.map((note) => `  - ${note}`),
    );
  }
  if (Object.keys(service.apiKeys).length > 0) {
    lines.push('', 'Local API keys for the ids your grants name (x-api-key; local only):');
    for (const [id, key] of Object.entries(service.apiKeys)) lines.push(`  ${id}: ${key}`);
  }
  if (service.writtenConfig !== undefined) {
    lines.push(
      '',
      `signet commands run here use ${service.writtenConfig} (your profiles, pointed at the sandbox).`,
    );
  }
  const resolveHosts = [...hosts.map((h) => `--resolve ${h}:${edgePort}:127.0.0.1`)];
  if (apiHost !== undefined) resolveHosts.push(`--resolve ${apiHost}:${apiPort}:127.0.0.1`);
  const mapRules = [...hosts, ...(apiHost === undefined ? [] : [apiHost])]
    .map((h) => `MAP ${h} 127.0.0.1`)
    .join(', ');
  lines.push(
    '',
    `Reaching your hosts: the names resolve to 127.0.0.1 and keep the local ports (edge ${edgePort}, API ${apiPort}).`,
    `Signed URLs name ${scheme}://${firstHost}/...; request them with :${edgePort} after the host (the edge judges`,
    'the URL as CloudFront would on its standard port, so the signature holds). Cookies ignore ports.',
    `  curl ${cacert}--resolve ${firstHost}:${edgePort}:127.0.0.1 "${scheme}://${firstHost}:${edgePort}/<path>?<signed query>"`,
    `  curl ${cacert}--connect-to ${firstHost}:${scheme === 'https' ? 443 : 80}:127.0.0.1:${edgePort} "<the signed URL as given>"`,
  );
  if (tls !== undefined) {
    lines.push(
      '',
      `HTTPS: a certificate for ${tls.names.join(', ')}, signed by a local CA.`,
      `  CA file   ${tls.caFile}   (curl --cacert; or import it into a browser as a trusted authority)`,
      `  Chromium  chromium --user-data-dir="$(mktemp -d)" --host-resolver-rules="${mapRules}" \\`,
      `              --ignore-certificate-errors-spki-list=${tls.spkiSha256} https://${firstHost}:${edgePort}/`,
      '            (Chromium honours the SPKI list only with --user-data-dir)',
    );
  } else {
    lines.push(`  Chromium  chromium --host-resolver-rules="${mapRules}" http://${firstHost}:${edgePort}/`);
  }
  const scopeArgs = scopes.map((scope) => ` --scope ${scope}`).join('');
  lines.push(
    '',
    'Try it (tokens from the local issuer carry the claims you give):',
    '',
    `  TOKEN=$(npx signet token --sub demo${scopeArgs})`,
    `  curl -s ${cacert}${endpoints.api}/v1/signed-urls -H "Authorization: Bearer $TOKEN" \\`,
    `       -H 'Content-Type: application/json' -d '{"url":"${sample ?? `${scheme}://${firstHost}/<a path your grants allow>`}"}'`,
    '',
    'Press Ctrl-C to stop.',
    '',
  );
  return lines.join('\n');
}

/** How to open the demo page for the user's profile in Chromium. */
function describeDemoPage(demo: UserDemoPage, service: UserService): string {
  const trust =
    service.tls === undefined
      ? ''
      : ` \\\n    --ignore-certificate-errors-spki-list=${service.tls.spkiSha256}`;
  return [
    'Demo page: the browser client (client/signet-client.js) against your profile, on your first allowed',
    'origin (docs/frontends.md; cookies are Secure, so a non-localhost page needs --https):',
    `  chromium --user-data-dir="$(mktemp -d)" --host-resolver-rules="${demo.hostResolverRules}"${trust} \\`,
    `    ${demo.url}`,
    '',
  ].join('\n');
}
