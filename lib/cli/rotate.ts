import { parseArgs } from 'node:util';
import { createAwsClients } from '../aws/clients.ts';
import { CloudFrontKeyGroupRegistry } from '../aws/cloudfront-key-group-registry.ts';
import { createKmsClient, SdkKmsKeyPort } from '../aws/kms-key-port.ts';
import { SecretsManagerKeyRingStore } from '../aws/secrets-manager-key-ring-store.ts';
import type { Config, Profile } from '../config/index.ts';
import type { KeyRingStore } from '../keys/store.ts';
import { RotationError } from '../rotation/errors.ts';
import type { KmsKeyPort } from '../rotation/kms-keys.ts';
import {
  type KeyGroupRegistry,
  RegistryConflictError,
  RegistryInUseError,
  RegistryQuotaError,
} from '../rotation/registry.ts';
import { type RotationResult, runRotation } from '../rotation/rotator.ts';
import type { Log } from '../telemetry/ports.ts';
import { endpointsDescription, rootCause } from './aws-errors.ts';
import { loadCliConfig } from './config.ts';
import { requireProfile } from './doctor.ts';
import { type CliIo, EnvironmentError, EXIT, UsageError } from './io.ts';

/** `signet rotate --help`. */
export const ROTATE_HELP = `Usage: signet rotate [--profile P] [--start] [--json] [--config FILE]

Runs one rotation step for a profile now, exactly as the scheduled rotator does (docs/design.md, "Rotation"): at most
one phase (introduce, activate, remove) or the repair of an interrupted one, then the invariant
check. Prints what it did, the key ids, and when the next phase falls due.

Options:
  --profile P     the profile (default: the config's defaultProfile, or its only profile)
  --start         begin a rotation early: introduce a new pending key even though the active key is
                  younger than rotation.rotateEvery (never while a pending key exists, never past
                  the 5-keys-per-group or 10-keys-per-account quotas; a due activation or removal
                  goes first: run again)
  --json          print one document { "profile", "ok", "action", "transitioned", "commits",
                  "activeKeyId", "pendingKeyId", "nextAt", "violations" }
  --config FILE   the Signet config (default: SIGNET_CONFIG, else .signet/config.json)

Exit status: 0 done (or nothing due), 1 blocked or an invariant violated, 2 usage error,
3 environment error (AWS or the sandbox unreachable, credentials refused, config invalid).
`;

/** What a rotation command needs for one profile: the same adapters the rotator Lambda builds. */
export interface RotationPorts {
  readonly config: Config;
  readonly profileName: string;
  readonly profile: Profile;
  readonly store: KeyRingStore;
  readonly registry: KeyGroupRegistry;
  /** KMS, for `signer: kms` profiles. */
  readonly kms?: KmsKeyPort | undefined;
  /** Releases the SDK clients' sockets. */
  close(): void;
}

/** Loads the config and builds the key ring store and key group registry for `--profile`. */
export function rotationPorts(values: { config?: string; profile?: string }, io: CliIo): RotationPorts {
  const { config } = loadCliConfig(values.config, io);
  const profileName = requireProfile(config, values.profile);
  const profile = config.profiles[profileName]!;
  const clients = createAwsClients(config);
  // Also for a profile switched back from signer: kms: its ring may still hold KMS keys.
  const kms = createKmsClient(config);
  return {
    config,
    profileName,
    profile,
    store: new SecretsManagerKeyRingStore(clients.secretsManager, profile.keyRing.secretId),
    registry: new CloudFrontKeyGroupRegistry(clients.cloudfront),
    kms: new SdkKmsKeyPort(kms),
    close() {
      clients.secretsManager.destroy();
      clients.cloudfront.destroy();
      kms.destroy();
    },
  };
}

/** A rotation step that could not be made (a quota, other writers, a key Signet does not know): exit 1. */
export class RotationCommandError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RotationCommandError';
    this.code = code;
  }
}

/**
 * Runs a rotation command's AWS work. Rotation's own refusals become {@link RotationCommandError}
 * (exit 1); anything else from AWS (unreachable, credentials refused) an environment error (exit 3)
 * that says where the calls went.
 */
export async function withRotationErrors<T>(config: Config, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof UsageError || error instanceof EnvironmentError) throw error;
    if (
      error instanceof RotationError ||
      error instanceof RegistryConflictError ||
      error instanceof RegistryQuotaError ||
      error instanceof RegistryInUseError
    ) {
      throw new RotationCommandError(error.code, error.message, { cause: error });
    }
    const where = endpointsDescription(config);
    throw new EnvironmentError(
      `Expected to reach ${where}; ${rootCause(error)}. Check the endpoint (for the sandbox: is \`npm start\` running?) ` +
        'and that the credentials may read and write the ring secret and the key group.',
      { cause: error },
    );
  }
}

/** Log lines of a command run go to stderr, one JSON object each, so stdout stays the answer. */
export function stderrLog(io: CliIo): Log {
  const line =
    (level: string) =>
    (message: string, fields: Record<string, unknown> = {}) =>
      io.stderr(`${JSON.stringify({ level, event: message, ...fields })}\n`);
  return { info() {}, warn: line('warn'), error: line('error') };
}

/** `signet rotate`: one rotation step now, as the scheduled rotator would make it. */
export async function rotate(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      profile: { type: 'string' },
      start: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      config: { type: 'string' },
    },
    strict: true,
  });
  if (positionals.length > 0) throw new UsageError(`Expected no arguments; got ${positionals.join(' ')}.`);
  const ports = rotationPorts(values, io);
  return runRotationCommand('rotate', ports, io, async () => {
    const result = await runStep(ports, values.start, io);
    if (values.json) io.stdout(`${JSON.stringify(rotationJson(result))}\n`);
    else io.stdout(formatRotation(result, values.start));
    return result.ok ? EXIT.ok : EXIT.denied;
  });
}

function runStep(ports: RotationPorts, start: boolean, io: CliIo): Promise<RotationResult> {
  return withRotationErrors(ports.config, () =>
    runRotation({
      profileName: ports.profileName,
      profile: ports.profile,
      store: ports.store,
      registry: ports.registry,
      kms: ports.kms,
      now: () => new Date(io.now() * 1000),
      log: stderrLog(io),
      forceIntroduce: start,
      ...(ports.profile.keyGroupId === undefined ? {} : { adoptKeyGroupId: ports.profile.keyGroupId }),
    }),
  );
}

/**
 * Runs a rotation command body; a {@link RotationCommandError} is printed with its code and exits 1
 * (a refusal, not a crash). Always releases the clients.
 */
export async function runRotationCommand(
  name: string,
  ports: RotationPorts,
  io: CliIo,
  body: () => Promise<number>,
): Promise<number> {
  try {
    return await body();
  } catch (error) {
    if (!(error instanceof RotationCommandError)) throw error;
    io.stderr(`signet ${name}: ${error.message} (${error.code})\n`);
    return EXIT.denied;
  } finally {
    ports.close();
  }
}

/** The `--json` document of a rotation step. */
export function rotationJson(result: RotationResult) {
  return {
    profile: result.profile,
    ok: result.ok,
    action: result.action,
    transitioned: result.transitioned,
    commits: result.commits.map(({ step, keyId, keyFingerprint }) => ({ step, keyId, keyFingerprint })),
    activeKeyId: result.activeKeyId ?? null,
    pendingKeyId: result.pendingKeyId ?? null,
    keyGroupId: result.keyGroupId ?? null,
    nextAt: result.nextAt?.toISOString() ?? null,
    ...(result.deferred === undefined ? {} : { deferred: result.deferred.kind }),
    violations: result.violations,
  };
}

/** What a rotation step did, for people. */
export function formatRotation(result: RotationResult, start: boolean): string {
  const { action } = result;
  const lines: string[] = [];
  const what =
    action.kind === 'introduce'
      ? `introduce (${action.reason})`
      : action.kind === 'blocked'
        ? `blocked (${action.reason})`
        : action.kind;
  lines.push(`profile ${result.profile}: ${what}`);
  if (action.kind === 'blocked') lines.push(`  ${action.message}`);
  for (const commit of result.commits) {
    lines.push(`  committed ${commit.step}${commit.keyId === undefined ? '' : ` ${commit.keyId}`}`);
  }
  if (result.deferred !== undefined) {
    lines.push(
      `  ${result.deferred.kind} deferred: another writer changed the ring during this run; run again`,
    );
  }
  if (start && action.kind !== 'introduce') {
    lines.push(
      result.pendingKeyId !== undefined || action.kind === 'activate'
        ? '  --start: a rotation is already under way (a pending key exists); nothing new introduced'
        : '  --start: another step was due first; run again to introduce the new key',
    );
  }
  lines.push(`  active key: ${result.activeKeyId ?? 'none (signing stopped until a key is activated)'}`);
  if (result.activeKeyAgeSeconds !== undefined)
    lines.push(`  active key age: ${result.activeKeyAgeSeconds}s`);
  if (result.pendingKeyId !== undefined) lines.push(`  pending key: ${result.pendingKeyId}`);
  lines.push(`  next due: ${result.nextAt?.toISOString() ?? 'nothing scheduled'}`);
  for (const violation of result.violations) {
    lines.push(`  ${violation.severity}: ${violation.code}: ${violation.message}`);
  }
  lines.push(result.ok ? 'OK' : 'FAILED');
  return `${lines.join('\n')}\n`;
}
