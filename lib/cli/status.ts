import { parseArgs } from 'node:util';
import { createAwsClients } from '../aws/clients.ts';
import { CloudFrontKeyGroupRegistry } from '../aws/cloudfront-key-group-registry.ts';
import { SecretsManagerKeyRingStore } from '../aws/secrets-manager-key-ring-store.ts';
import type { Config } from '../config/index.ts';
import { readStatus } from '../status/read.ts';
import { type StatusServer, startStatusServer } from '../status/server.ts';
import { endpointsDescription } from './aws-errors.ts';
import { loadCliConfig } from './config.ts';
import { kmsPortFor, liveSources, requireProfile, withAwsErrors } from './doctor.ts';
import { type CliIo, EnvironmentError, EXIT, UsageError } from './io.ts';
import { processSignal, untilAborted } from './sandbox.ts';

/** `signet status --help`. */
export const STATUS_HELP = `Usage: signet status [--profile P] [--port N] [--interval SECONDS] [--json] [--config FILE]

Serves a status page for one profile on 127.0.0.1 and prints its URL: each key of the ring and its
recent history as a bar from creation through trusted, active and retiring to removal, with the
instant until which the URLs it signed can be valid (its recorded bounds), the propagation wait, the
next planned transition, the key group's 5 slots and the account's public key quota as gauges, and
doctor's findings. The page polls GET /status.json (the same data as JSON) and redraws itself when
anything changes. It reads what signet keys and signet doctor read, through the same config and
credentials, against the sandbox or AWS; it changes nothing, and shows no private key or API key.

Options:
  --profile P          the profile (default: the config's defaultProfile, or its only profile)
  --port N             the port on 127.0.0.1 (default 0: a free port)
  --interval SECONDS   read the live state at most this often; the page polls as often (default 5)
  --json               print one line { "url", "profile" } once serving, instead of the text
  --config FILE        the Signet config (default: SIGNET_CONFIG, else .signet/config.json)

npm start serves the demo profile's status page itself and prints its link.
Stops on Ctrl-C. Exit status: 0 stopped, 2 usage error, 3 environment error (AWS or the sandbox
unreachable on the first read, credentials refused, config invalid, port taken).
`;

/** `signet status`: the key timeline page on loopback, until Ctrl-C. */
export async function status(
  args: string[],
  io: CliIo,
  signal: AbortSignal = processSignal(),
): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      profile: { type: 'string' },
      port: { type: 'string', default: '0' },
      interval: { type: 'string', default: '5' },
      json: { type: 'boolean', default: false },
      config: { type: 'string' },
    },
    strict: true,
  });
  if (positionals.length > 0) throw new UsageError(`Expected no arguments; got ${positionals.join(' ')}.`);
  const port = Number(values.port);
  if (!/^\d+$/.test(values.port) || port > 65_535)
    throw new UsageError(
      `Expected --port to be a port number from 0 to 65535; got ${JSON.stringify(values.port)}.`,
    );
  const interval = Number(values.interval);
  if (!/^\d+$/.test(values.interval) || interval < 1 || interval > 3600)
    throw new UsageError(
      `Expected --interval to be a whole number of seconds from 1 to 3600; got ${JSON.stringify(values.interval)}.`,
    );
  const { config, source } = loadCliConfig(values.config, io);
  const profileName = requireProfile(config, values.profile);
  const page = await serveStatus({
    config,
    profileName,
    port,
    intervalSeconds: interval,
    io,
    firstRead: true,
  });
  if (values.json) io.stdout(`${JSON.stringify({ url: page.url, profile: profileName })}\n`);
  else
    io.stdout(
      `Status page for profile ${profileName}: ${page.url}\n` +
        `  reads ${endpointsDescription(config)} at most every ${interval} s (config: ${source}); Ctrl-C to stop\n`,
    );
  await untilAborted(signal);
  await page.close();
  return EXIT.ok;
}

/**
 * Starts a status server for one profile over the real SDK clients (what `signet status` and
 * `npm start` run). With `firstRead`, reads once before listening, so an unreachable endpoint or
 * refused credentials fail at start (exit 3) rather than on the page.
 */
export async function serveStatus(input: {
  readonly config: Config;
  readonly profileName: string;
  readonly port: number;
  readonly intervalSeconds: number;
  readonly io: Pick<CliIo, 'now' | 'stderr'>;
  readonly firstRead?: boolean;
}): Promise<StatusServer> {
  const { config, profileName, io } = input;
  const profile = config.profiles[profileName]!;
  const clients = createAwsClients(config);
  // signer: kms (or kms: retiring) profiles: their KMS keys' state, read-only (DescribeKey).
  const kms = kmsPortFor(config);
  const sources = {
    rotation: {
      store: new SecretsManagerKeyRingStore(clients.secretsManager, profile.keyRing.secretId),
      registry: new CloudFrontKeyGroupRegistry(clients.cloudfront),
      ...(profile.keyGroupId === undefined ? {} : { adoptKeyGroupId: profile.keyGroupId }),
    },
    doctor: liveSources(clients, kms),
    kms,
  };
  const read = () =>
    withAwsErrors(config, () =>
      readStatus({
        config,
        profileName,
        sources,
        now: new Date(io.now() * 1000),
        source: endpointsDescription(config),
        pollSeconds: input.intervalSeconds,
      }),
    );
  const release = () => {
    clients.secretsManager.destroy();
    clients.cloudfront.destroy();
  };
  try {
    if (input.firstRead === true) await read();
    const server = await startStatusServer({
      read,
      profile: profileName,
      port: input.port,
      minIntervalMs: input.intervalSeconds * 1000,
      describeError: (error) => {
        if (error instanceof EnvironmentError) return error.message;
        io.stderr(
          `signet status: unexpected error reading the live state: ${(error as Error)?.message ?? String(error)}\n`,
        );
        return 'an unexpected error (the terminal running signet status says which).';
      },
    });
    return {
      url: server.url,
      close: async () => {
        await server.close();
        release();
      },
    };
  } catch (error) {
    release();
    if (error instanceof EnvironmentError || error instanceof UsageError) throw error;
    throw new EnvironmentError(`Could not serve the status page: ${(error as Error).message}`, {
      cause: error,
    });
  }
}
