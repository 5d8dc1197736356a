import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startLocalService } from '../../infra/local/service.ts';
import type { Config } from '../config/index.ts';
import type { Log } from '../telemetry/ports.ts';
import { type CliIo, EnvironmentError, EXIT, UsageError } from './io.ts';
import { pathMatchingOption, portBaseOption, processSignal, untilAborted } from './sandbox.ts';
import { startUserConfig } from './start-config.ts';
import { serveStatus } from './status.ts';

export const START_HELP = `Usage: npm start [-- OPTIONS]      (or: signet start [OPTIONS])

Runs Signet locally with no AWS account: stand-ins for Secrets Manager, the CloudFront API and a
CloudFront edge, a development token issuer, the signing API, and the key rotator. On first start it
bootstraps a demo profile: a key ring, a key group, a distribution whose /private/* trusts it, and
demo files. State (and the config every signet command here uses) lives in .signet/. A demo page
at http://127.0.0.1:4603/demo/ uses the browser client (client/signet-client.js) to show a signed
download link, cookies, a protected image and fetch() in your browser (docs/frontends.md).

Ports (from --port-base, default 4600): Secrets Manager +0, CloudFront API +1, edge +2, API +3,
token issuer +4, the demo profile's status page +5 (signet status).

With --config FILE it runs your own profiles, grants, cookie and CORS settings instead of the demo:
each profile gets a local distribution whose aliases are its domains (the edge answers by Host),
and a local origin folder to put objects in. FILE (JSON or YAML) is only read, never written.

Options:
  --config FILE               run this Signet config (your profiles) instead of the demo profile
  --https                     with --config: serve the edge and the API over HTTPS with a certificate
                              made at start for the profiles' domains, api.publicOrigin's host and
                              localhost; prints the CA file for curl --cacert or a browser
  --port-base N               first port; 0 picks free ports
  --state-dir DIR             where state lives (default .signet)
  --edge-propagation SECONDS  how long key group changes take to reach the edge (default 2)
  --fast-rotation             rotate the demo key about every 30 s (expiries 10-30 s), to watch
                              rotation under load without a single 403
  --kms                       the demo profile signs through a KMS stand-in (+6; signer: kms): its
                              keys are KMS keys and the key ring holds no private key
  --edge-path-matching M      decoded (default) or raw: whether the edge picks a cache behaviour by
                              the path after decoding percent-escapes (as the origin reads it) or as
                              sent; which one CloudFront uses is not documented (UNCONFIRMED)
  --trust-forwarded-for       let the edge take the viewer's address from X-Forwarded-For (to try
                              IP-restricted URLs from this machine); off by default, as CloudFront
                              judges the address the request really came from
  --json                      print one line { "api", "edge", "secretsManager", "cloudfront", "demoUrl", "token",
                              "status" }
                              when ready, and log as JSON lines on stderr
Stops cleanly on Ctrl-C.
`;

/** `npm start`: the whole service on loopback. */
export async function start(
  args: string[],
  io: CliIo,
  signal: AbortSignal = processSignal(),
): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      'port-base': { type: 'string' },
      'state-dir': { type: 'string' },
      'edge-propagation': { type: 'string', default: '2' },
      'fast-rotation': { type: 'boolean', default: false },
      'trust-forwarded-for': { type: 'boolean', default: false },
      'edge-path-matching': { type: 'string', default: 'decoded' },
      json: { type: 'boolean', default: false },
      config: { type: 'string' },
      https: { type: 'boolean', default: false },
      kms: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values['fast-rotation'] && values.config !== undefined) {
    throw new UsageError("Expected --fast-rotation without --config: it sets the demo profile's timings.");
  }
  if (values.kms && values.config !== undefined) {
    throw new UsageError(
      'Expected --kms without --config: it makes the demo profile sign through the KMS stand-in (set signer: kms in your config instead).',
    );
  }
  if (values.https && values.config === undefined) {
    throw new UsageError(
      'Expected --config FILE with --https: HTTPS is for your own domains (the demo profile runs on 127.0.0.1).',
    );
  }
  const edgeSeconds = Number(values['edge-propagation']);
  if (!Number.isFinite(edgeSeconds) || edgeSeconds < 0) {
    throw new UsageError(
      `Expected --edge-propagation to be seconds, 0 or more; got ${values['edge-propagation']}.`,
    );
  }
  const stateDir = resolve(io.cwd, values['state-dir'] ?? '.signet');
  const log = lineLog(io, values.json);
  if (values.config !== undefined) {
    return startUserConfig(
      {
        configReference: values.config,
        https: values.https,
        stateDir,
        portBase: portBaseOption(values['port-base']),
        edgePropagationMs: edgeSeconds * 1000,
        trustForwardedFor: values['trust-forwarded-for'],
        edgePathMatching: pathMatchingOption(values['edge-path-matching']),
        json: values.json,
        log,
      },
      io,
      signal,
    );
  }
  let service: Awaited<ReturnType<typeof startLocalService>>;
  try {
    service = await startLocalService({
      stateDir,
      portBase: portBaseOption(values['port-base']),
      edgePropagationMs: edgeSeconds * 1000,
      fastRotation: values['fast-rotation'],
      kms: values.kms,
      trustForwardedFor: values['trust-forwarded-for'],
      edgePathMatching: pathMatchingOption(values['edge-path-matching']),
      log,
    });
  } catch (cause) {
    if (cause instanceof UsageError) throw cause;
    throw new EnvironmentError(`Could not start Signet locally: ${(cause as Error).message}`, { cause });
  }
  const token = await service.issuer.issue({
    sub: 'demo',
    scope: ['demo:read', 'demo:user'],
    expiresIn: 12 * 3600,
  });
  const { endpoints, demoUrl } = service;
  // The demo profile's status page (signet status), read every second so --fast-rotation shows live.
  const statusPage = await startDemoStatus(service.config, portBaseOption(values['port-base']), io, log);
  if (values.json) {
    io.stdout(
      `${JSON.stringify({ api: endpoints.api, edge: endpoints.edge, secretsManager: endpoints.secretsManager, cloudfront: endpoints.cloudfront, ...(service.sandbox.kms === undefined ? {} : { kms: service.sandbox.kms.url }), demoUrl, token, status: statusPage?.url ?? null })}\n`,
    );
  } else {
    io.stdout(`Signet is running locally (state in ${stateDir}).

  Signing API       ${endpoints.api}      (OpenAPI: ${endpoints.api}/openapi.json)
  Demo page         ${endpoints.api}/demo/     (signed URL, cookies, <img> and fetch() in a browser)
${statusPage === undefined ? '' : `  Status page       ${statusPage.url}     (keys, rotation, quotas, doctor: live)\n`}  CloudFront edge   ${endpoints.edge}
  Secrets Manager   ${endpoints.secretsManager}
  CloudFront API    ${endpoints.cloudfront}
  Token issuer      ${endpoints.tokenIssuer}/.well-known/jwks.json
${service.sandbox.kms === undefined ? '' : `  KMS               ${service.sandbox.kms.url}      (signer: kms: the demo's keys never leave it)\n`}${values['fast-rotation'] ? '  Rotation          fast: a new key about every 30 s\n' : ''}
Try it (a development token is made by: npx signet token):

  TOKEN=$(npx signet token)
  curl -s ${endpoints.api}/v1/signed-urls -H "Authorization: Bearer $TOKEN" \\
       -H 'Content-Type: application/json' -d '{"url":"${demoUrl}"}'
  curl -s "<the url from the answer>"        # 200 from the edge; without the signature: 403

Press Ctrl-C to stop.
`);
  }
  await untilAborted(signal);
  await statusPage?.close();
  await service.close();
  return EXIT.ok;
}

/**
 * The demo profile's status page on port base + 5 (a free port if that one is taken, or with
 * --port-base 0). A page that cannot start is logged, never a reason to stop the service.
 */
async function startDemoStatus(config: Config, portBase: number, io: CliIo, log: Log) {
  const profileName = config.defaultProfile ?? Object.keys(config.profiles)[0]!;
  const serve = (port: number) => serveStatus({ config, profileName, port, intervalSeconds: 1, io });
  try {
    return await serve(portBase === 0 ? 0 : portBase + 5).catch(() => serve(0));
  } catch (error) {
    log.warn('status page not started', { error: (error as Error).message });
    return undefined;
  }
}

/** Log lines on stderr: JSON lines with --json, short text otherwise. Never key material (the callers pass none). */
export function lineLog(io: CliIo, json: boolean): Log {
  const write =
    (level: string) =>
    (message: string, fields: Record<string, unknown> = {}) => {
      if (json) {
        io.stderr(`${JSON.stringify({ level, time: new Date().toISOString(), message, ...fields })}\n`);
      } else if (level !== 'info' || fields.audit === true || /rotation|key/.test(message)) {
        const detail = Object.entries(fields)
          .filter(([key]) => key !== 'audit')
          .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
          .join(' ');
        io.stderr(`[${level}] ${message}${detail === '' ? '' : ` ${detail}`}\n`);
      }
    };
  return { info: write('info'), warn: write('warn'), error: write('error') };
}
