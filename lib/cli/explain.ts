import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parseVerifyingKey, type Verdict, type VerifyingKey, verifyRequest } from '../signing/index.ts';
import { type CliIo, EnvironmentError, EXIT, integerOption, UsageError } from './io.ts';

export const EXPLAIN_HELP = `Usage: signet explain URL [--cookie HEADER] (--public-key-file PEM --key-pair-id ID)...
                      [--at EPOCH] [--ip ADDR] [--json]

Says what CloudFront would answer for a request, and why: allowed, or MissingKey, InvalidKey,
MalformedSignature, MalformedPolicy or AccessDenied with a reason (expired 12 minutes ago,
resource mismatch, IP not in range, key not trusted), and prints the decoded policy.

Options:
  URL                     the request URL, signed or not
  --cookie HEADER         the Cookie header sent with it (a signed URL takes precedence)
  --public-key-file PEM   a public key the distribution trusts; repeat, each followed by
  --key-pair-id ID        its CloudFront public key id
  --at EPOCH              the time of the request (default now)
  --ip ADDR               the client's IPv4 address, for a policy with an IP condition
  --json                  print { "allowed", "code", "reason", "keyPairId", "policy" }

Exit status: 0 allowed, 1 denied, 2 usage error.
`;

/** `signet explain`: what CloudFront would answer for a request, with keys given as files. */
export function explain(args: string[], io: CliIo): number {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      cookie: { type: 'string' },
      'public-key-file': { type: 'string', multiple: true },
      'key-pair-id': { type: 'string', multiple: true },
      at: { type: 'string' },
      ip: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (positionals.length !== 1) throw new UsageError('Expected exactly one URL to explain.');
  const files = values['public-key-file'] ?? [];
  const ids = values['key-pair-id'] ?? [];
  if (files.length === 0 || files.length !== ids.length) {
    throw new UsageError(
      `Expected each --public-key-file to come with a --key-pair-id; got ${files.length} files and ${ids.length} ids.`,
    );
  }
  // The nth --public-key-file pairs with the nth --key-pair-id, in the order they were written.
  const trustedKeys = new Map<string, VerifyingKey>();
  for (const [index, file] of files.entries()) {
    trustedKeys.set(ids[index]!, readVerifyingKey(resolve(io.cwd, file)));
  }
  const verdict = verifyRequest({
    url: positionals[0]!,
    cookie: values.cookie,
    clientIp: values.ip,
    now: integerOption(values.at, 'at') ?? io.now(),
    trustedKeys,
  });
  printVerdict(verdict, io, values.json);
  return verdict.allowed ? EXIT.ok : EXIT.denied;
}

/** Prints a verdict as text (verdict, reason, decoded policy) or as the `--json` object. */
export function printVerdict(
  verdict: Verdict,
  io: CliIo,
  json: boolean,
  extra: Record<string, unknown> = {},
): void {
  const code = verdict.allowed ? null : verdict.code;
  if (json) {
    io.stdout(
      `${JSON.stringify({ allowed: verdict.allowed, code, reason: verdict.reason, keyPairId: verdict.keyPairId ?? null, policy: verdict.policy ?? null, ...extra })}\n`,
    );
    return;
  }
  io.stdout(verdict.allowed ? 'ALLOWED\n' : `DENIED  ${verdict.code} (CloudFront: "${verdict.message}")\n`);
  io.stdout(`reason: ${verdict.reason}\n`);
  io.stdout(`resource: ${verdict.resource}\n`);
  if (verdict.keyPairId !== undefined) io.stdout(`key: ${verdict.keyPairId}\n`);
  if (verdict.policy !== undefined) {
    io.stdout(
      `policy (${verdict.kind}${verdict.hash === undefined ? '' : `, ${verdict.hash}`}):\n${prettyPolicy(verdict.policy)}\n`,
    );
  }
}

function prettyPolicy(policy: string): string {
  try {
    return JSON.stringify(JSON.parse(policy), null, 2);
  } catch {
    return policy;
  }
}

function readVerifyingKey(file: string): VerifyingKey {
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new EnvironmentError(`Could not read the public key file ${file}: ${(cause as Error).message}`, {
      cause,
    });
  }
  return parseVerifyingKey(pem);
}
