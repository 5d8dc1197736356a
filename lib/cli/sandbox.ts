import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_PORT_BASE, startSandbox } from '../../infra/local/sandbox.ts';
import { type CliIo, EnvironmentError, EXIT, UsageError } from './io.ts';

export const SANDBOX_HELP = `Usage: signet sandbox [--state-dir DIR | --memory] [--port-base N] [--propagation-delay SECONDS]
                      [--trust-forwarded-for] [--edge-path-matching decoded|raw] [--json]

Starts local stand-ins for the AWS services Signet uses, on 127.0.0.1, with no AWS account:
  Secrets Manager   port base + 0   (awsJson1_1, as the AWS SDK and CLI speak it)
  CloudFront API    port base + 1   (public keys, key groups, distributions)
  CloudFront edge   port base + 2   (serves origins, enforces signed URLs and cookies)
Point any AWS SDK or tool at them with an endpoint URL and dummy credentials, for example
  AWS_ENDPOINT_URL_SECRETS_MANAGER=http://127.0.0.1:4600 AWS_ENDPOINT_URL_CLOUDFRONT=http://127.0.0.1:4601 \\
  AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1 aws secretsmanager list-secrets

Options:
  --state-dir DIR            where state survives restarts (default .signet); origins' files are in DIR/origins/<origin domain>
  --memory                   keep state in memory only
  --port-base N              first port (default ${DEFAULT_PORT_BASE}); 0 picks free ports
  --propagation-delay S      seconds before a key group or distribution change reaches the edge (default 5)
  --trust-forwarded-for      take the viewer IP from X-Forwarded-For (to test IP conditions on loopback)
  --edge-path-matching M     decoded (default) or raw: which spelling of a path picks the cache
                             behaviour (CloudFront's choice is UNCONFIRMED)
  --json                     print one line { "secretsManager", "cloudfront", "edge" } once they accept connections

Stops cleanly on Ctrl-C (SIGINT) or SIGTERM.
`;

/** `signet sandbox`: runs the AWS stand-ins until interrupted. */
export async function sandbox(
  args: string[],
  io: CliIo,
  signal: AbortSignal = processSignal(),
): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      'state-dir': { type: 'string' },
      memory: { type: 'boolean', default: false },
      'port-base': { type: 'string' },
      'propagation-delay': { type: 'string', default: '5' },
      'trust-forwarded-for': { type: 'boolean', default: false },
      'edge-path-matching': { type: 'string', default: 'decoded' },
      json: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.memory && values['state-dir'] !== undefined)
    throw new UsageError('Expected --state-dir or --memory, not both.');
  const portBase = portBaseOption(values['port-base']);
  const delay = Number(values['propagation-delay']);
  if (!Number.isFinite(delay) || delay < 0) {
    throw new UsageError(
      `Expected --propagation-delay to be seconds, 0 or more; got ${values['propagation-delay']}.`,
    );
  }
  const stateDir = values.memory ? null : resolve(io.cwd, values['state-dir'] ?? '.signet');
  let running: Awaited<ReturnType<typeof startSandbox>>;
  try {
    running = await startSandbox({
      stateDir,
      portBase,
      propagationDelayMs: delay * 1000,
      trustForwardedFor: values['trust-forwarded-for'],
      pathMatching: pathMatchingOption(values['edge-path-matching']),
    });
  } catch (cause) {
    throw new EnvironmentError(`Could not start the sandbox: ${(cause as Error).message}`, { cause });
  }
  if (values.json) {
    io.stdout(`${JSON.stringify(running.endpoints)}\n`);
  } else {
    io.stdout(
      `Signet sandbox running (state: ${stateDir ?? 'in memory'}, edge propagation delay ${delay} s)\n` +
        `  Secrets Manager  ${running.endpoints.secretsManager}\n` +
        `  CloudFront API   ${running.endpoints.cloudfront}\n` +
        `  CloudFront edge  ${running.endpoints.edge}\n` +
        'Press Ctrl-C to stop.\n',
    );
  }
  await untilAborted(signal);
  await running.close();
  return EXIT.ok;
}

/** Parses `--port-base`: 0, or a port with room for the services above it. */
export function portBaseOption(value: string | undefined): number {
  if (value === undefined) return DEFAULT_PORT_BASE;
  const base = Number(value);
  if (!/^\d+$/.test(value) || (base !== 0 && (base < 1024 || base > 65_530))) {
    throw new UsageError(
      `Expected --port-base to be 0 (free ports) or a port from 1024 to 65530; got ${value}.`,
    );
  }
  return base;
}

/** Resolves once `signal` is aborted (at once if it already is). */
export function untilAborted(signal: AbortSignal): Promise<void> {
  return new Promise((done) => {
    if (signal.aborted) done();
    signal.addEventListener('abort', () => done(), { once: true });
  });
}

/** Aborts on the first SIGINT or SIGTERM. */
export function processSignal(): AbortSignal {
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return controller.signal;
}

/** `--edge-path-matching`: decoded or raw. */
export function pathMatchingOption(value: string | undefined): 'decoded' | 'raw' {
  if (value === undefined || value === 'decoded' || value === 'raw') return value ?? 'decoded';
  throw new UsageError(`Expected --edge-path-matching decoded or raw; got ${JSON.stringify(value)}.`);
}
