import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import {
  type ApiKeyRecord,
  ApiKeysConflictError,
  ApiKeysInvalidError,
  ApiKeysUnavailableError,
  hashApiKey,
  isApiKeyLive,
  principalOf,
  serializeApiKeyDocument,
} from '../auth/api-keys.ts';
import { SecretsManagerApiKeyStore, type VersionedApiKeys } from '../aws/api-key-store.ts';
import { createSecretsManagerClient } from '../aws/secrets-manager-client.ts';
import { duration } from '../config/schema.ts';
import { loadCliConfig } from './config.ts';
import { type CliIo, EnvironmentError, EXIT, UsageError } from './io.ts';

/** `signet api-keys --help`. */
export const API_KEYS_HELP = `Usage: signet api-keys create --id ID [--principal NAME] [--description TEXT]
                           [--expires-in DURATION | --expires-at ISO] [--json] [--config FILE]
       signet api-keys list [--json] [--config FILE]
       signet api-keys revoke ID [--config FILE]
       signet api-keys prune [--older-than DURATION] [--config FILE]

Manages the API keys in the secret named by auth.apiKeys.secretId. Only the SHA-256 of each key is
stored; every change is a compare-and-swap on the secret (a change that meets another writer's is
applied again on the new list, so neither is lost). The API picks changes up within its API key
cache (5 minutes): a new key may be refused, and a revoked one accepted, until then.

  create   makes a new random key and prints it ONCE on stdout (the id and expiry go to stderr):
           give it to its holder now, it cannot be shown again. Creates the secret when it does not
           exist yet. Grants name the key's principal in when.apiKeys (default: its id), so to
           replace a caller's key: create one with --principal of the old, switch, revoke the old.
  list     each key's id, principal, state (active, expired, revoked), created, expires and
           description; never a key or a hash.
  revoke   marks the key revoked: the API answers 401 for it, exactly as for an unknown key.
           Revoked keys stay listed (their ids are not reused).
  prune    removes the keys revoked or expired longer ago than --older-than (default 90d), so the
           secret stays far under Secrets Manager's 65,536-byte limit (about 200 keys); their ids
           can then be used again.

Options:
  --id ID              the key's id: 1 to 128 printable ASCII characters, no spaces, unique
  --principal NAME     the name grants' when.apiKeys match (default: the id)
  --description TEXT   who holds the key, for operators
  --expires-in D       the key expires after D ("90d", "12h", or seconds)
  --expires-at ISO     the key expires at this instant (2027-01-31T00:00:00Z)
  --older-than D       prune: how long ago a key must have been revoked or expired (default 90d)
  --json               create: { "id", "key", "principal", "createdAt", "expiresAt" };
                       list: { "secretId", "keys": [{ "id", "principal", "state", "createdAt",
                       "expiresAt", "revokedAt", "description" }] }
  --config FILE        the Signet config (default: SIGNET_CONFIG, else .signet/config.json)

Exit status: 0 done, 2 usage error (an unknown id, an id taken, a bad expiry), 3 environment error
(Secrets Manager unreachable or refusing, the secret invalid, other writers kept winning).
`;

/** Secrets Manager's limit on a secret value, in bytes. */
const SECRET_VALUE_LIMIT = 65_536;

/** How many times a change is applied again after another writer changed the list first. */
const CHANGE_ATTEMPTS = 5;

/** `signet api-keys create|list|revoke`. */
export async function apiKeys(args: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'create') return create(rest, io);
  if (sub === 'list') return list(rest, io);
  if (sub === 'revoke') return revoke(rest, io);
  if (sub === 'prune') return prune(rest, io);
  throw new UsageError(
    `Expected a subcommand: create, list, revoke or prune; got ${sub === undefined ? 'none' : JSON.stringify(sub)}.`,
  );
}

async function create(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      id: { type: 'string' },
      principal: { type: 'string' },
      description: { type: 'string' },
      'expires-in': { type: 'string' },
      'expires-at': { type: 'string' },
      json: { type: 'boolean', default: false },
      config: { type: 'string' },
    },
    strict: true,
  });
  noPositionals(positionals);
  const id = nameOption(values.id, 'id');
  if (id === undefined)
    throw new UsageError('Expected --id: the new key needs an id (for example mobile-app).');
  const principal = nameOption(values.principal, 'principal');
  const now = io.now();
  const expiresAt = expiryOption(values['expires-in'], values['expires-at'], now);
  const key = newApiKey();
  const record: ApiKeyRecord = {
    id,
    sha256: hashApiKey(key),
    ...(principal === undefined ? {} : { principal }),
    ...(values.description === undefined ? {} : { description: values.description }),
    createdAt: isoOf(now),
    ...(expiresAt === undefined ? {} : { expiresAt }),
  };
  const store = storeFor(values.config, io);
  await runApiKeyChange(store, (records) => {
    if (records.some((existing) => existing.id === id)) {
      throw new UsageError(
        `Expected a new id; an API key with id ${JSON.stringify(id)} already exists (revoked ids stay reserved). Run "signet api-keys list".`,
      );
    }
    return [...records, record];
  });
  if (values.json) {
    io.stdout(
      `${JSON.stringify({ id, key, principal: principalOf(record), createdAt: record.createdAt, expiresAt: expiresAt ?? null })}\n`,
    );
  } else {
    io.stdout(`${key}\n`);
  }
  io.stderr(
    `Created API key ${id} (principal ${principalOf(record)}, ${expiresAt === undefined ? 'no expiry' : `expires ${expiresAt}`}) in ${store.secretId}.\n` +
      'The key above is shown once: give it to its holder now. Only its SHA-256 is stored.\n' +
      'The API accepts it once its cached API key list has refreshed (within 5 minutes).\n',
  );
  return EXIT.ok;
}

async function list(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { json: { type: 'boolean', default: false }, config: { type: 'string' } },
    strict: true,
  });
  noPositionals(positionals);
  const store = storeFor(values.config, io);
  const { records, exists } = await withApiKeyErrors(store, () => store.load());
  const now = io.now();
  const rows = records.map((record) => ({
    id: record.id,
    principal: principalOf(record),
    state: stateOf(record, now),
    createdAt: record.createdAt ?? null,
    expiresAt: record.expiresAt ?? null,
    revokedAt: record.revokedAt ?? null,
    description: record.description ?? null,
  }));
  if (values.json) {
    io.stdout(`${JSON.stringify({ secretId: store.secretId, keys: rows })}\n`);
    return EXIT.ok;
  }
  if (rows.length === 0) {
    io.stdout(
      `No API keys in ${store.secretId}${exists ? '' : ' (the secret does not exist yet: "signet api-keys create" makes it)'}.\n`,
    );
    return EXIT.ok;
  }
  const header = ['ID', 'PRINCIPAL', 'STATE', 'CREATED', 'EXPIRES', 'DESCRIPTION'];
  const cells = rows.map((row) => [
    row.id,
    row.principal,
    row.state === 'revoked' ? `revoked ${row.revokedAt}` : row.state,
    row.createdAt ?? '-',
    row.expiresAt ?? 'never',
    row.description ?? '',
  ]);
  const widths = header.map((title, column) =>
    Math.max(title.length, ...cells.map((row) => row[column]!.length)),
  );
  const line = (row: string[]) =>
    row
      .map((cell, column) => cell.padEnd(widths[column]!))
      .join('  ')
      .trimEnd();
  io.stdout(`${[`API keys in ${store.secretId}`, line(header), ...cells.map(line)].join('\n')}\n`);
  return EXIT.ok;
}

async function revoke(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { config: { type: 'string' } },
    strict: true,
  });
  if (positionals.length !== 1) {
    throw new UsageError(
      `Expected one API key id to revoke; got ${positionals.length === 0 ? 'none' : positionals.join(' ')}.`,
    );
  }
  const id = positionals[0]!;
  const store = storeFor(values.config, io);
  const now = io.now();
  let already: string | undefined;
  await runApiKeyChange(store, (records) => {
    const found = records.find((record) => record.id === id);
    if (found === undefined) {
      const known = records.map((record) => record.id);
      throw new UsageError(
        `Expected the id of an API key in ${store.secretId} (${known.length === 0 ? 'it holds none' : known.join(', ')}); got ${JSON.stringify(id)}.`,
      );
    }
    already = found.revokedAt;
    if (already !== undefined) return undefined;
    return records.map((record) => (record.id === id ? { ...record, revokedAt: isoOf(now) } : record));
  });
  io.stdout(
    already === undefined
      ? `Revoked API key ${id}. The API refuses it (401) once its cached API key list has refreshed (within 5 minutes).\n`
      : `API key ${id} was already revoked at ${already}; nothing changed.\n`,
  );
  return EXIT.ok;
}

async function prune(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { 'older-than': { type: 'string', default: '90d' }, config: { type: 'string' } },
    strict: true,
  });
  noPositionals(positionals);
  const age = durationOption(values['older-than'], 'older-than', true);
  const store = storeFor(values.config, io);
  const cutoff = (io.now() - age) * 1000;
  let removed: string[] = [];
  await runApiKeyChange(store, (records) => {
    const ended = (record: ApiKeyRecord) => {
      const end = record.revokedAt ?? (isApiKeyLive(record, io.now()) ? undefined : record.expiresAt);
      return end !== undefined && Date.parse(end) <= cutoff;
    };
    removed = records.filter(ended).map((record) => record.id);
    return removed.length === 0 ? undefined : records.filter((record) => !ended(record));
  });
  io.stdout(
    removed.length === 0
      ? `No API key in ${store.secretId} was revoked or expired before ${isoOf(cutoff / 1000)}; nothing changed.\n`
      : `Removed ${removed.length} API key(s) revoked or expired before ${isoOf(cutoff / 1000)}: ${removed.join(', ')}.\n`,
  );
  return EXIT.ok;
}

/**
 * Applies `change` to the current list and writes the result by compare-and-swap. When another
 * writer changed the list first, reloads and applies `change` again to what it wrote, so neither
 * change is lost; after {@link CHANGE_ATTEMPTS} lost races, gives up with an environment error.
 * `change` answers `undefined` when there is nothing to write, and may throw a {@link UsageError}.
 */
export async function runApiKeyChange(
  store: SecretsManagerApiKeyStore,
  change: (records: readonly ApiKeyRecord[]) => readonly ApiKeyRecord[] | undefined,
): Promise<{ readonly attempts: number; readonly written: boolean }> {
  for (let attempt = 1; attempt <= CHANGE_ATTEMPTS; attempt += 1) {
    const current: VersionedApiKeys = await withApiKeyErrors(store, () => store.load());
    const next = change(current.records);
    if (next === undefined) return { attempts: attempt, written: false };
    const size = Buffer.byteLength(serializeApiKeyDocument(next), 'utf8');
    if (size > SECRET_VALUE_LIMIT) {
      throw new UsageError(
        `The API key list would take ${size} bytes, over Secrets Manager's ${SECRET_VALUE_LIMIT}-byte limit for a secret value; remove old keys with "signet api-keys prune" first.`,
      );
    }
    try {
      await withApiKeyErrors(store, () => store.save(next, current));
      return { attempts: attempt, written: true };
    } catch (error) {
      if (!(error instanceof ApiKeysConflictError)) throw error;
    }
  }
  throw new EnvironmentError(
    `Other writers changed the API key secret ${store.secretId} ${CHANGE_ATTEMPTS} times while this change was being made; nothing was written. Run the command again.`,
  );
}

/** A new API key: 32 random bytes, base64url, with a prefix that says what it is (`sgk_`). */
export function newApiKey(): string {
  return `sgk_${randomBytes(32).toString('base64url')}`;
}

function stateOf(record: ApiKeyRecord, now: number): 'active' | 'expired' | 'revoked' {
  if (record.revokedAt !== undefined) return 'revoked';
  return isApiKeyLive(record, now) ? 'active' : 'expired';
}

function storeFor(configOption: string | undefined, io: CliIo): SecretsManagerApiKeyStore {
  const { config, source } = loadCliConfig(configOption, io);
  const secretId = config.auth.apiKeys?.secretId;
  if (secretId === undefined) {
    throw new UsageError(
      `Expected auth.apiKeys.secretId in the config (${source}): the name of the secret that holds the API key hashes, for example signet/prod/api-keys.`,
    );
  }
  return new SecretsManagerApiKeyStore(createSecretsManagerClient(config), secretId);
}

/** Store errors as environment errors (exit 3); conflicts and usage errors pass through. */
async function withApiKeyErrors<T>(store: SecretsManagerApiKeyStore, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof ApiKeysUnavailableError) {
      throw new EnvironmentError(
        `${error.message} Check the endpoint and the credentials (secretsmanager:GetSecretValue, PutSecretValue, UpdateSecretVersionStage, DescribeSecret, CreateSecret on ${store.secretId}).`,
        { cause: error },
      );
    }
    if (error instanceof ApiKeysInvalidError) {
      throw new EnvironmentError(`${error.message} Fix the secret's value; nothing was written.`, {
        cause: error,
      });
    }
    throw error;
  }
}

const NAME = /^[\x21-\x7e]{1,128}$/;

function nameOption(value: string | undefined, option: string): string | undefined {
  if (value === undefined) return undefined;
  if (!NAME.test(value)) {
    throw new UsageError(
      `Expected --${option} of 1 to 128 printable ASCII characters without spaces; got ${JSON.stringify(value)}.`,
    );
  }
  return value;
}

function expiryOption(
  expiresIn: string | undefined,
  expiresAt: string | undefined,
  now: number,
): string | undefined {
  if (expiresIn !== undefined && expiresAt !== undefined) {
    throw new UsageError('Expected --expires-in or --expires-at, not both.');
  }
  if (expiresIn !== undefined) return isoOf(now + durationOption(expiresIn, 'expires-in', false));
  if (expiresAt !== undefined) {
    const when = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/.test(expiresAt)
      ? Date.parse(expiresAt)
      : Number.NaN;
    if (!Number.isFinite(when)) {
      throw new UsageError(
        `Expected --expires-at to be an ISO 8601 instant with a time zone, like 2027-01-31T00:00:00Z; got ${JSON.stringify(expiresAt)}.`,
      );
    }
    if (when <= now * 1000) {
      throw new UsageError(`Expected --expires-at in the future; ${expiresAt} has passed.`);
    }
    return new Date(when).toISOString();
  }
  return undefined;
}

function durationOption(value: string, option: string, zeroAllowed: boolean): number {
  const seconds = duration.safeParse(/^\d+$/.test(value) ? Number(value) : value);
  if (!seconds.success || seconds.data < (zeroAllowed ? 0 : 1)) {
    throw new UsageError(
      `Expected --${option} to be a duration like "90d", "12h" or a number of seconds${zeroAllowed ? '' : ' above 0'}; got ${JSON.stringify(value)}.`,
    );
  }
  return seconds.data;
}

function noPositionals(positionals: string[]): void {
  if (positionals.length > 0) throw new UsageError(`Expected no arguments; got ${positionals.join(' ')}.`);
}

function isoOf(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString();
}
