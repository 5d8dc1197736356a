import { parseArgs } from 'node:util';
import { type AwsClients, createAwsClients } from '../aws/clients.ts';
import { CloudFrontDistributionReader } from '../aws/cloudfront-distribution-reader.ts';
import { CloudFrontKeyGroupRegistry } from '../aws/cloudfront-key-group-registry.ts';
import { createKmsClient, SdkKmsKeyPort } from '../aws/kms-key-port.ts';
import { SecretsManagerKeyRingStore } from '../aws/secrets-manager-key-ring-store.ts';
import { type Config, profileName } from '../config/index.ts';
import { diagnose } from '../doctor/diagnose.ts';
import type { Finding } from '../doctor/findings.ts';
import { type DoctorSources, keyIdsIn, readSnapshot } from '../doctor/read-snapshot.ts';
import type { KmsKeyPort } from '../rotation/kms-keys.ts';
import { causeChainText, endpointsDescription, rootCause } from './aws-errors.ts';
import { loadCliConfig } from './config.ts';
import { type CliIo, EnvironmentError, EXIT, UsageError } from './io.ts';

/** `signet doctor --help`. */
export const DOCTOR_HELP = `Usage: signet doctor [--profile P] [--json] [--config FILE]

Checks each profile's live configuration through the AWS APIs (Secrets Manager and CloudFront, or
the sandbox): the key ring parses; each key's public key exists in CloudFront and matches its
private key; the active key is in the key group and has been long enough to have propagated; the
distribution's cache behaviours trust the key group; the key group's size; key ages; rotations
stuck half-way; keys removed while URLs they signed were valid; Signet keys in no ring; SHA-1 keys;
the account's public key headroom. Each finding says why it matters and one remedy.

Options:
  --profile P     check this profile only (default: every profile)
  --json          print one document { "ok", "findings": [{ "severity", "code", "profile",
                  "keyId", "message", "remedy" }] }
  --config FILE   the Signet config (default: SIGNET_CONFIG, else .signet/config.json)

Exit status: 0 no errors (warnings allowed), 1 at least one error, 2 usage error,
3 environment error (AWS or the sandbox unreachable, credentials refused, config invalid).
`;

/** `signet doctor`: find the configuration drift that makes CloudFront answer 403, before users do. */
export async function doctor(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      profile: { type: 'string' },
      json: { type: 'boolean', default: false },
      config: { type: 'string' },
    },
    strict: true,
  });
  if (positionals.length > 0) throw new UsageError(`Expected no arguments; got ${positionals.join(' ')}.`);
  const { config } = loadCliConfig(values.config, io);
  const names =
    values.profile === undefined ? Object.keys(config.profiles) : [requireProfile(config, values.profile)];
  const clients = createAwsClients(config);
  const kms = kmsPortFor(config);
  const snapshot = await withAwsErrors(config, () => readSnapshot(config, names, liveSources(clients, kms)));
  const findings = diagnose(snapshot, new Date(io.now() * 1000));
  const ok = !findings.some((finding) => finding.severity === 'error');
  if (values.json) io.stdout(`${JSON.stringify({ ok, findings })}\n`);
  else io.stdout(formatFindings(findings, names));
  return ok ? EXIT.ok : EXIT.denied;
}

/**
 * KMS for the doctor when a profile signs through it (signer: kms, or still may: kms: retiring): the
 * keys' state and public key.
 */
export function kmsPortFor(config: Config): KmsKeyPort | undefined {
  const usesKms = Object.values(config.profiles).some(
    (profile) => profile.signer === 'kms' || profile.kms === 'retiring',
  );
  return usesKms ? new SdkKmsKeyPort(createKmsClient(config)) : undefined;
}

/** The profile named by `--profile`, or a usage error listing the configured ones. */
export function requireProfile(config: Config, requested: string | undefined): string {
  const name = profileName(config, requested);
  if (name === undefined) {
    const known = Object.keys(config.profiles).join(', ');
    throw new UsageError(
      requested === undefined
        ? `Expected --profile: the config has several profiles (${known}) and no defaultProfile.`
        : `Expected --profile to name a configured profile (${known}); got ${JSON.stringify(requested)}.`,
    );
  }
  return name;
}

/**
 * The doctor's ports over the real SDK clients. Each ring source also remembers the key ids of the
 * last document it read, so a ring that fails validation because a key group id sits where a public
 * key id belongs can still be named as such (the ring's own error never echoes values).
 */
export function liveSources(clients: AwsClients, kms?: KmsKeyPort): DoctorSources {
  return {
    ...(kms === undefined ? {} : { kms }),
    registry: new CloudFrontKeyGroupRegistry(clients.cloudfront),
    distributions: new CloudFrontDistributionReader(clients.cloudfront),
    ringSourceFor: (_name, profile) => {
      let lastText: string | undefined;
      const tapped = new Proxy(clients.secretsManager, {
        get(target, property, receiver) {
          if (property !== 'send') return Reflect.get(target, property, receiver);
          return async (...args: Parameters<AwsClients['secretsManager']['send']>) => {
            const output = (await target.send(...args)) as { SecretString?: unknown } | undefined;
            if (typeof output?.SecretString === 'string') lastText = output.SecretString;
            return output;
          };
        },
      });
      const store = new SecretsManagerKeyRingStore(tapped, profile.keyRing.secretId);
      return { load: () => store.load(), keyIdsOfLastDocument: () => keyIdsIn(lastText) };
    },
  };
}

/**
 * Runs reads against AWS, turning what is not a finding (an endpoint that does not answer,
 * credentials refused) into an environment error (exit 3) that says where the call went.
 */
export async function withAwsErrors<T>(config: Config, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (error instanceof UsageError || error instanceof EnvironmentError) throw error;
    const where = endpointsDescription(config);
    const denied =
      /AccessDenied|UnrecognizedClient|InvalidClientTokenId|ExpiredToken|SignatureDoesNotMatch|CredentialsProviderError/.test(
        causeChainText(error),
      );
    throw new EnvironmentError(
      `Could not read the live configuration from ${where}: ${rootCause(error)}. ${
        denied
          ? 'Check the credentials and their permissions (secretsmanager:GetSecretValue, cloudfront:Get*/List*).'
          : 'Check that the endpoint is reachable (for the sandbox: is `npm start` running?).'
      }`,
      { cause: error },
    );
  }
}

/** The findings as a table: one row per finding, its message and remedy indented below. */
export function formatFindings(findings: readonly Finding[], profiles: readonly string[]): string {
  const rows = findings.map((finding) => [
    finding.severity,
    finding.code,
    finding.profile ?? '(account)',
    finding.keyId ?? '-',
  ]);
  const header = ['SEVERITY', 'CODE', 'PROFILE', 'KEY'];
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => row[column]!.length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column]!))
      .join('  ')
      .trimEnd();
  const lines: string[] = [line(header)];
  for (const [index, finding] of findings.entries()) {
    lines.push(line(rows[index]!));
    lines.push(`    ${finding.message}`);
    lines.push(`    remedy: ${finding.remedy}`);
  }
  const count = (severity: Finding['severity']) => findings.filter((f) => f.severity === severity).length;
  const errors = count('error');
  const warnings = count('warning');
  lines.push(
    '',
    `${errors === 0 ? 'OK' : 'FAILED'}: ${errors} error(s), ${warnings} warning(s), ${count('info')} info; profiles checked: ${profiles.join(', ')}`,
  );
  return `${lines.join('\n')}\n`;
}
