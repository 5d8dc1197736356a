import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createAwsClients } from '../aws/clients.ts';
import type { Config } from '../config/index.ts';
import { behaviorFor } from '../doctor/distribution.ts';
import { explainKey, type KeyExplanation } from '../doctor/explain-key.ts';
import { readKmsKeys, readRing } from '../doctor/read-snapshot.ts';
import { RegistryNotFoundError } from '../rotation/registry.ts';
import { parseVerifyingKey, type Verdict, type VerifyingKey, verifyRequest } from '../signing/index.ts';
import { loadCliConfig } from './config.ts';
import { kmsPortFor, liveSources, requireProfile, withAwsErrors } from './doctor.ts';
import { type CliIo, EnvironmentError, EXIT, integerOption, UsageError } from './io.ts';

export const EXPLAIN_HELP = `Usage: signet explain URL [--cookie HEADER] (--public-key-file PEM --key-pair-id ID)...
                      [--at EPOCH] [--ip ADDR] [--json]
       signet explain URL [--cookie HEADER] --profile P [--config FILE] [--at EPOCH] [--ip ADDR] [--json]

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

Live mode (--profile, or --config): the trusted keys are the public keys CloudFront holds now in the
key groups that serve the URL (the profile's key group; with a distributionId, the groups its
matching cache behaviour trusts), and the profile's key ring says whether the key was ever
Signet's: which key signed it, whether CloudFront trusts it now, when it left the key group
(removed or revoked), and whether a key group id was used as the Key-Pair-Id.
  --profile P             the signing profile (default: the config's defaultProfile)
  --config FILE           the Signet config (default: SIGNET_CONFIG, else .signet/config.json)
  --json                  adds "profile", "keyStatus" (trusted, in-ring-not-in-group, removed,
                          revoked, unknown), "keyGroupIdAsKeyId", "trustedKeyGroups", "notes"

Exit status: 0 allowed, 1 denied, 2 usage error, 3 environment error (live mode: AWS unreachable).
`;

/** `signet explain`: what CloudFront would answer for a request, with keys from files or live. */
export function explain(args: string[], io: CliIo): number | Promise<number> {
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
      profile: { type: 'string' },
      config: { type: 'string' },
    },
    strict: true,
  });
  if (positionals.length !== 1) throw new UsageError('Expected exactly one URL to explain.');
  const files = values['public-key-file'] ?? [];
  const ids = values['key-pair-id'] ?? [];
  const live = values.profile !== undefined || values.config !== undefined;
  if (live) {
    if (files.length > 0 || ids.length > 0) {
      throw new UsageError(
        'Expected either --profile (keys from the live key group) or --public-key-file/--key-pair-id, not both.',
      );
    }
    return explainLive(
      {
        url: positionals[0]!,
        cookie: values.cookie,
        ip: values.ip,
        at: integerOption(values.at, 'at') ?? io.now(),
        json: values.json,
        profile: values.profile,
        config: values.config,
      },
      io,
    );
  }
  if (files.length === 0 || files.length !== ids.length) {
    throw new UsageError(
      `Expected each --public-key-file to come with a --key-pair-id; got ${files.length} files and ${ids.length} ids (or pass --profile P to use the live key group).`,
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

interface LiveOptions {
  readonly url: string;
  readonly cookie: string | undefined;
  readonly ip: string | undefined;
  readonly at: number;
  readonly json: boolean;
  readonly profile: string | undefined;
  readonly config: string | undefined;
}

/** What live explain read: the keys the edge trusts for the URL, and what the ring says. */
interface LiveTrust {
  readonly trustedKeys: Map<string, VerifyingKey>;
  readonly explanation: (keyPairId: string | undefined) => KeyExplanation;
  readonly trustedGroupIds: readonly string[];
}

async function explainLive(options: LiveOptions, io: CliIo): Promise<number> {
  const { config } = loadCliConfig(options.config, io);
  const name = requireProfile(config, options.profile);
  const trust = await withAwsErrors(config, () => readLiveTrust(config, name, options.url));
  const verdict = verifyRequest({
    url: options.url,
    cookie: options.cookie,
    clientIp: options.ip,
    now: options.at,
    trustedKeys: trust.trustedKeys,
  });
  const explanation = trust.explanation(verdict.keyPairId);
  if (options.json) {
    printVerdict(verdict, io, true, {
      profile: name,
      keyStatus: explanation.keyStatus,
      keyGroupIdAsKeyId: explanation.keyGroupIdAsKeyId,
      trustedKeyGroups: trust.trustedGroupIds,
      notes: explanation.notes,
    });
  } else {
    for (const note of explanation.notes) io.stdout(`- ${note}\n`);
    printVerdict(verdict, io, false);
  }
  return verdict.allowed ? EXIT.ok : EXIT.denied;
}

async function readLiveTrust(config: Config, name: string, url: string): Promise<LiveTrust> {
  const profile = config.profiles[name]!;
  const sources = liveSources(createAwsClients(config), kmsPortFor(config));
  const publicKeys = await sources.registry.listPublicKeys();
  const ringRead = await readRing(sources.ringSourceFor(name, profile));
  const ring = ringRead.status === 'ok' ? ringRead.ring : undefined;
  const kmsKeys =
    ring === undefined || sources.kms === undefined ? undefined : await readKmsKeys(sources.kms, ring);
  const keyGroupId = ring?.keyGroupId ?? profile.keyGroupId;

  // Which key groups the edge checks: those the cache behaviour serving this path trusts, when the
  // distribution is known; otherwise the profile's own key group.
  let trustedGroupIds: string[] = keyGroupId === undefined ? [] : [keyGroupId];
  let trustSource = keyGroupId === undefined ? 'no key group configured' : `profile ${name}'s key group`;
  if (profile.distributionId !== undefined) {
    const distribution = await sources.distributions.getDistribution(profile.distributionId);
    const behavior = distribution === undefined ? undefined : behaviorFor(distribution, pathOf(url));
    if (behavior !== undefined) {
      trustedGroupIds = [...behavior.trustedKeyGroups];
      trustSource = `${behavior.isDefault ? 'the default cache behaviour' : `cache behaviour ${behavior.pathPattern}`} of distribution ${profile.distributionId}`;
    }
  }
  const trustedGroups = new Map<string, readonly string[]>();
  for (const id of trustedGroupIds) {
    try {
      trustedGroups.set(id, (await sources.registry.getKeyGroup(id)).items);
    } catch (error) {
      if (!(error instanceof RegistryNotFoundError)) throw error;
      trustedGroups.set(id, []);
    }
  }
  const byId = new Map(publicKeys.map((key) => [key.id, key]));
  const trustedKeys = new Map<string, VerifyingKey>();
  for (const items of trustedGroups.values()) {
    for (const id of items) {
      const publicKey = byId.get(id);
      if (publicKey !== undefined) trustedKeys.set(id, parseVerifyingKey(publicKey.encodedKey));
    }
  }
  const names = new Map(publicKeys.map((key) => [key.id, key.name]));
  return {
    trustedKeys,
    trustedGroupIds,
    explanation: (keyPairId) =>
      explainKey({
        keyPairId,
        profileName: name,
        ring,
        keyGroupId,
        trustedGroups,
        publicKeys: names,
        trustSource,
        ...(kmsKeys === undefined ? {} : { kmsKeys }),
      }),
  };
}

function pathOf(url: string): string {
  try {
    return new URL(url).pathname;
  } catch {
    return '/';
  }
}
