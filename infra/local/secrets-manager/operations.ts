import { randomUUID } from 'node:crypto';
import { invalidParameter, SecretsManagerError } from './errors.ts';
import {
  type Input,
  optionalBoolean,
  optionalInteger,
  optionalString,
  optionalStringList,
  optionalTags,
  requireString,
} from './input.ts';
import {
  AWSCURRENT,
  makeArn,
  matchesSecretId,
  moveStage,
  pruneDeprecated,
  removeStage,
  type StoredSecret,
  type StoredVersion,
  startOfDay,
  versionById,
  versionWithStage,
} from './model.ts';

/** What an operation works on: the live list of secrets (changed in place) and the request's time. */
export interface OperationContext {
  secrets: StoredSecret[];
  /** Epoch milliseconds, from the stand-in's clock. */
  now: number;
}

/**
 * What kind of change an operation made: `write` must be saved or the call fails; `bookkeeping`
 * (LastAccessedDate, purging expired secrets) is saved when possible, because AWS keeps such
 * records on a best-effort basis and a read must not fail over them.
 */
export type Change = 'none' | 'write' | 'bookkeeping';

/** An operation's answer, and what it changed (the stand-in then persists it). */
export interface OperationResult {
  output: Record<string, unknown>;
  change: Change;
}

type Operation = (input: Input, context: OperationContext) => OperationResult;

/** The staging labels and version ids AWS allows, from the API reference's length constraints. */
const STAGE_MAX_LENGTH = 256;
const MAX_STAGES_PER_CALL = 20;
const TOKEN_MIN_LENGTH = 32;
const TOKEN_MAX_LENGTH = 64;
/** SecretString and SecretBinary are each at most 65,536 bytes. */
const MAX_SECRET_BYTES = 65_536;
const NAME_PATTERN = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
const BASE64_PATTERN = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const DAY_MS = 86_400_000;

/** A secret value as stored: exactly one of the two members is set. */
type SecretValue = { secretString: string } | { secretBinary: string };

const seconds = (epochMs: number): number => epochMs / 1000;

function notFound(): SecretsManagerError {
  return new SecretsManagerError(
    'ResourceNotFoundException',
    "Secrets Manager can't find the specified secret.",
  );
}

/** Finds a secret by name or ARN, including one marked for deletion. */
function findSecret(context: OperationContext, secretId: string): StoredSecret {
  const secret = context.secrets.find((candidate) => matchesSecretId(candidate, secretId));
  if (secret === undefined) throw notFound();
  return secret;
}

/** Finds a secret that may be read or written: AWS refuses both once DeleteSecret has marked it. */
function findLiveSecret(context: OperationContext, secretId: string): StoredSecret {
  const secret = findSecret(context, secretId);
  if (secret.deletedAt !== undefined) {
    throw new SecretsManagerError(
      'InvalidRequestException',
      "You can't perform this operation on the secret because it was marked for deletion.",
    );
  }
  return secret;
}

function readSecretValue(input: Input): SecretValue | undefined {
  const secretString = optionalString(input, 'SecretString');
  const secretBinary = optionalString(input, 'SecretBinary');
  if (secretString !== undefined && secretBinary !== undefined) {
    throw invalidParameter(
      "You can't specify both a binary secret value and a string secret value in the same secret.",
    );
  }
  if (secretString !== undefined) {
    const bytes = Buffer.byteLength(secretString, 'utf8');
    if (bytes > MAX_SECRET_BYTES) {
      // UNCONFIRMED: AWS may report this as a ValidationException rather than InvalidParameterException.
      throw invalidParameter(`Expected SecretString of at most ${MAX_SECRET_BYTES} bytes, got ${bytes}.`);
    }
    return { secretString };
  }
  if (secretBinary !== undefined) {
    if (!BASE64_PATTERN.test(secretBinary)) {
      throw new SecretsManagerError(
        'SerializationException',
        'Expected SecretBinary to be base64, got other text.',
      );
    }
    const bytes = Buffer.from(secretBinary, 'base64').length;
    if (bytes > MAX_SECRET_BYTES) {
      throw invalidParameter(`Expected SecretBinary of at most ${MAX_SECRET_BYTES} bytes, got ${bytes}.`);
    }
    return { secretBinary };
  }
  return undefined;
}

function sameValue(version: StoredVersion, value: SecretValue): boolean {
  return 'secretString' in value
    ? version.secretString === value.secretString && version.secretBinary === undefined
    : version.secretBinary === value.secretBinary && version.secretString === undefined;
}

/**
 * Reads ClientRequestToken, which becomes the VersionId. AWS bounds it to 32..64 characters; the
 * SDK fills a random UUID (36) when the caller gives none, and a raw caller gets one made here.
 * UNCONFIRMED: AWS may report a bad length as a ValidationException.
 */
function readClientRequestToken(input: Input): string {
  const token = optionalString(input, 'ClientRequestToken');
  if (token === undefined) return randomUUID();
  if (token.length < TOKEN_MIN_LENGTH || token.length > TOKEN_MAX_LENGTH) {
    throw invalidParameter(
      `Expected ClientRequestToken of ${TOKEN_MIN_LENGTH} to ${TOKEN_MAX_LENGTH} characters, got ${token.length}.`,
    );
  }
  return token;
}

function checkStage(stage: string, field: string): void {
  if (stage.length === 0 || stage.length > STAGE_MAX_LENGTH) {
    throw invalidParameter(`Expected ${field} of 1 to ${STAGE_MAX_LENGTH} characters, got ${stage.length}.`);
  }
}

function readVersionStages(input: Input): string[] | undefined {
  const stages = optionalStringList(input, 'VersionStages');
  if (stages === undefined) return undefined;
  if (stages.length === 0 || stages.length > MAX_STAGES_PER_CALL) {
    throw invalidParameter(
      `Expected VersionStages to list 1 to ${MAX_STAGES_PER_CALL} labels, got ${stages.length}.`,
    );
  }
  for (const [index, stage] of stages.entries()) checkStage(stage, `VersionStages[${index}]`);
  return [...new Set(stages)];
}

/**
 * Handles a ClientRequestToken that already names a version: the same value is a retry and
 * succeeds without change; a different value would rewrite a version, which AWS never allows.
 */
function replayVersion(secret: StoredSecret, token: string, value: SecretValue): StoredVersion | undefined {
  const existing = versionById(secret, token);
  if (existing === undefined) return undefined;
  if (!sameValue(existing, value)) {
    throw new SecretsManagerError(
      'ResourceExistsException',
      `Expected ClientRequestToken ${token} to carry the value of the existing version ${token}, ` +
        "got a different value: you can't modify an existing version, you can only create a new one.",
    );
  }
  return existing;
}

function addVersion(secret: StoredSecret, id: string, value: SecretValue, now: number): StoredVersion {
  const version: StoredVersion = { id, createdAt: now, stages: [], ...value };
  secret.versions.push(version);
  return version;
}

function createSecret(input: Input, context: OperationContext): OperationResult {
  const name = requireString(input, 'Name');
  if (!NAME_PATTERN.test(name)) {
    throw invalidParameter(
      `Invalid name. Expected 1 to 512 letters, digits or any of /_+=.@- ; got "${name.slice(0, 80)}".`,
    );
  }
  const value = readSecretValue(input);
  const token = readClientRequestToken(input);
  const description = optionalString(input, 'Description');
  const tags = optionalTags(input);
  optionalString(input, 'KmsKeyId'); // accepted for compatibility; the sandbox encrypts nothing

  const existing = context.secrets.find((secret) => secret.name === name);
  if (existing?.deletedAt !== undefined) {
    throw new SecretsManagerError(
      'InvalidRequestException',
      "You can't create this secret because a secret with this name is already scheduled for deletion.",
    );
  }
  if (existing !== undefined) {
    // The SDK retries CreateSecret with the same token; AWS documents that a token naming a version
    // with the same value is ignored, so a retry after a lost answer succeeds.
    const replayed = value === undefined ? undefined : replayVersion(existing, token, value);
    if (replayed === undefined) {
      throw new SecretsManagerError(
        'ResourceExistsException',
        `The operation failed because the secret ${name} already exists.`,
      );
    }
    return { output: { ARN: existing.arn, Name: existing.name, VersionId: replayed.id }, change: 'none' };
  }

  const secret: StoredSecret = {
    arn: makeArn(name),
    name,
    createdAt: context.now,
    lastChangedAt: context.now,
    versions: [],
    ...(description === undefined ? {} : { description }),
    ...(tags === undefined ? {} : { tags }),
  };
  // Without a value AWS creates the secret with no version at all; the first PutSecretValue makes one.
  const version = value === undefined ? undefined : addVersion(secret, token, value, context.now);
  if (version !== undefined) moveStage(secret, AWSCURRENT, version);
  context.secrets.push(secret);
  return { output: { ARN: secret.arn, Name: secret.name, VersionId: version?.id }, change: 'write' };
}

function getSecretValue(input: Input, context: OperationContext): OperationResult {
  const secret = findLiveSecret(context, requireString(input, 'SecretId'));
  const versionId = optionalString(input, 'VersionId');
  const stage = optionalString(input, 'VersionStage');
  const version = selectVersion(secret, versionId, stage);

  // AWS keeps LastAccessedDate to the day, so only the first read of a day is a change to persist.
  const today = startOfDay(context.now);
  const change = secret.lastAccessedAt !== today || version.lastAccessedAt !== today ? 'bookkeeping' : 'none';
  secret.lastAccessedAt = today;
  version.lastAccessedAt = today;
  return {
    output: {
      ARN: secret.arn,
      Name: secret.name,
      VersionId: version.id,
      SecretString: version.secretString,
      SecretBinary: version.secretBinary,
      VersionStages: [...version.stages],
      CreatedDate: seconds(version.createdAt),
    },
    change,
  };
}

/** Picks the version GetSecretValue reads: by id, by label, or AWSCURRENT when neither is given. */
function selectVersion(
  secret: StoredSecret,
  versionId: string | undefined,
  stage: string | undefined,
): StoredVersion {
  if (versionId !== undefined) {
    const version = versionById(secret, versionId);
    if (version === undefined) {
      throw new SecretsManagerError(
        'ResourceNotFoundException',
        `Secrets Manager can't find the specified secret value for VersionId: ${versionId}`,
      );
    }
    if (stage !== undefined && !version.stages.includes(stage)) {
      // UNCONFIRMED: the error type and wording AWS uses when VersionId and VersionStage disagree.
      throw new SecretsManagerError(
        'ResourceNotFoundException',
        `Secrets Manager can't find the specified secret value for VersionId: ${versionId} ` +
          `and staging label: ${stage} (that version carries ${version.stages.join(', ') || 'no labels'}).`,
      );
    }
    return version;
  }
  const label = stage ?? AWSCURRENT;
  const version = versionWithStage(secret, label);
  if (version === undefined) {
    throw new SecretsManagerError(
      'ResourceNotFoundException',
      `Secrets Manager can't find the specified secret value for staging label: ${label}`,
    );
  }
  return version;
}

function putSecretValue(input: Input, context: OperationContext): OperationResult {
  const secret = findLiveSecret(context, requireString(input, 'SecretId'));
  const value = readSecretValue(input);
  if (value === undefined) {
    throw invalidParameter('Expected SecretString or SecretBinary to be set; both are missing.');
  }
  const token = readClientRequestToken(input);
  const stages = readVersionStages(input);

  const replayed = replayVersion(secret, token, value);
  if (replayed !== undefined) {
    // A retry: AWS ignores it entirely, labels included.
    return { output: versionOutput(secret, replayed), change: 'none' };
  }

  const version = addVersion(secret, token, value, context.now);
  const labels = stages ?? [AWSCURRENT];
  // AWS puts AWSCURRENT on a secret's first version whatever labels the call asked for.
  if (versionWithStage(secret, AWSCURRENT) === undefined && !labels.includes(AWSCURRENT))
    labels.push(AWSCURRENT);
  // UNCONFIRMED: an explicit AWSCURRENT in VersionStages moves AWSPREVIOUS just as the default does.
  for (const label of labels) moveStage(secret, label, version);
  pruneDeprecated(secret);
  secret.lastChangedAt = context.now;
  return { output: versionOutput(secret, version), change: 'write' };
}

function versionOutput(secret: StoredSecret, version: StoredVersion): Record<string, unknown> {
  return { ARN: secret.arn, Name: secret.name, VersionId: version.id, VersionStages: [...version.stages] };
}

function describeSecret(input: Input, context: OperationContext): OperationResult {
  // DescribeSecret still answers for a secret marked for deletion: that is how callers see DeletedDate.
  const secret = findSecret(context, requireString(input, 'SecretId'));
  const labelled = secret.versions.filter((version) => version.stages.length > 0);
  return {
    output: {
      ARN: secret.arn,
      Name: secret.name,
      Description: secret.description,
      RotationEnabled: false,
      CreatedDate: seconds(secret.createdAt),
      LastChangedDate: seconds(secret.lastChangedAt),
      LastAccessedDate: secret.lastAccessedAt === undefined ? undefined : seconds(secret.lastAccessedAt),
      // UNCONFIRMED: DeletedDate here is when DeleteSecret was called (as ListSecrets documents it),
      // not when the recovery window ends; the latter is DeleteSecret's DeletionDate.
      DeletedDate: secret.deletedAt === undefined ? undefined : seconds(secret.deletedAt),
      Tags: secret.tags,
      // Only labelled versions: AWS treats unlabelled ones as deprecated and leaves them out.
      VersionIdsToStages:
        labelled.length === 0
          ? undefined
          : Object.fromEntries(labelled.map((version) => [version.id, [...version.stages]])),
    },
    change: 'none',
  };
}

function updateSecretVersionStage(input: Input, context: OperationContext): OperationResult {
  const secret = findLiveSecret(context, requireString(input, 'SecretId'));
  const stage = requireString(input, 'VersionStage');
  checkStage(stage, 'VersionStage');
  const moveToId = optionalString(input, 'MoveToVersionId');
  const removeFromId = optionalString(input, 'RemoveFromVersionId');
  if (moveToId === undefined && removeFromId === undefined) {
    // UNCONFIRMED: AWS's wording; a call that names neither version can only be a mistake.
    throw invalidParameter('Expected MoveToVersionId, RemoveFromVersionId or both; got neither.');
  }
  const target = moveToId === undefined ? undefined : requireVersion(secret, moveToId, 'MoveToVersionId');
  if (removeFromId !== undefined) requireVersion(secret, removeFromId, 'RemoveFromVersionId');
  const holder = versionWithStage(secret, stage);

  // The compare-and-swap Signet relies on: a label that sits on another version moves only when the
  // caller names that version, so a writer that computed its change from a stale version fails.
  if (removeFromId !== undefined && holder?.id !== removeFromId) {
    throw invalidParameter(
      `Expected RemoveFromVersionId to name the version that carries ${stage} ` +
        `(${holder?.id ?? 'none does'}), got ${removeFromId}.`,
    );
  }
  if (target !== undefined && holder !== undefined && holder !== target && removeFromId === undefined) {
    throw invalidParameter(
      `The parameter RemoveFromVersionId can't be empty. Staging label ${stage} is currently attached to ` +
        `version ${holder.id}, so you must explicitly reference that version in RemoveFromVersionId.`,
    );
  }

  if (target !== undefined) {
    moveStage(secret, stage, target);
  } else if (holder !== undefined) {
    if (stage === AWSCURRENT) {
      // UNCONFIRMED: AWS's exact answer; a secret with versions must keep a current one, so AWSCURRENT
      // can only be moved, never just removed.
      throw invalidParameter(`Expected MoveToVersionId when removing ${AWSCURRENT}: it can only be moved.`);
    }
    removeStage(holder, stage);
  }
  pruneDeprecated(secret);
  secret.lastChangedAt = context.now;
  return { output: { ARN: secret.arn, Name: secret.name }, change: 'write' };
}

function requireVersion(secret: StoredSecret, versionId: string, field: string): StoredVersion {
  const version = versionById(secret, versionId);
  if (version === undefined) {
    // UNCONFIRMED: AWS may answer ResourceNotFoundException for an unknown version id here.
    throw invalidParameter(
      `Expected ${field} to name a version of ${secret.name}, got ${versionId}: no such version.`,
    );
  }
  return version;
}

function listSecretVersionIds(input: Input, context: OperationContext): OperationResult {
  // UNCONFIRMED: whether AWS lists the versions of a secret marked for deletion; like DescribeSecret,
  // this only reads metadata, so the sandbox allows it.
  const secret = findSecret(context, requireString(input, 'SecretId'));
  const maxResults = optionalInteger(input, 'MaxResults', 1, 100) ?? 100;
  const includeDeprecated = optionalBoolean(input, 'IncludeDeprecated') ?? false;
  const start = readNextToken(optionalString(input, 'NextToken'));

  // UNCONFIRMED: AWS documents no order; the sandbox lists newest first.
  const versions = secret.versions
    .filter((version) => includeDeprecated || version.stages.length > 0)
    .toReversed();
  const page = versions.slice(start, start + maxResults);
  const next = start + maxResults;
  return {
    output: {
      ARN: secret.arn,
      Name: secret.name,
      Versions: page.map((version) => ({
        VersionId: version.id,
        VersionStages: [...version.stages],
        CreatedDate: seconds(version.createdAt),
        LastAccessedDate: version.lastAccessedAt === undefined ? undefined : seconds(version.lastAccessedAt),
      })),
      NextToken: next < versions.length ? Buffer.from(String(next)).toString('base64') : undefined,
    },
    change: 'none',
  };
}

/** NextToken is opaque to callers; here it is the base64 of the next offset. */
function readNextToken(token: string | undefined): number {
  if (token === undefined) return 0;
  const decoded = Buffer.from(token, 'base64').toString('utf8');
  const offset = Number(decoded);
  if (!/^\d{1,9}$/.test(decoded) || Buffer.from(decoded).toString('base64') !== token) {
    throw new SecretsManagerError(
      'InvalidNextTokenException',
      'Expected NextToken from a previous ListSecretVersionIds answer, got another value.',
    );
  }
  return offset;
}

function deleteSecret(input: Input, context: OperationContext): OperationResult {
  const secretId = requireString(input, 'SecretId');
  const force = optionalBoolean(input, 'ForceDeleteWithoutRecovery') ?? false;
  const windowDays = optionalInteger(input, 'RecoveryWindowInDays', 7, 30);
  if (force && windowDays !== undefined) {
    throw invalidParameter(
      "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.",
    );
  }
  const index = context.secrets.findIndex((candidate) => matchesSecretId(candidate, secretId));
  const secret = context.secrets[index];
  if (secret === undefined) {
    // AWS documents that a forced delete of a missing secret does not fail, so retries are safe.
    // UNCONFIRMED: which members its answer then carries.
    if (force) return { output: deletedOutput(secretId, context.now), change: 'none' };
    throw notFound();
  }
  if (force) {
    context.secrets.splice(index, 1);
    return {
      output: { ARN: secret.arn, Name: secret.name, DeletionDate: seconds(context.now) },
      change: 'write',
    };
  }
  if (secret.deletedAt !== undefined) {
    // UNCONFIRMED: AWS's exact wording for deleting a secret already marked for deletion.
    throw new SecretsManagerError(
      'InvalidRequestException',
      "You can't perform this operation on the secret because it was already scheduled for deletion.",
    );
  }
  secret.deletedAt = context.now;
  secret.deletionAt = context.now + (windowDays ?? 30) * DAY_MS;
  secret.lastChangedAt = context.now;
  return {
    output: { ARN: secret.arn, Name: secret.name, DeletionDate: seconds(secret.deletionAt) },
    change: 'write',
  };
}

function deletedOutput(secretId: string, now: number): Record<string, unknown> {
  return secretId.startsWith('arn:')
    ? { ARN: secretId, DeletionDate: seconds(now) }
    : { Name: secretId, DeletionDate: seconds(now) };
}

function restoreSecret(input: Input, context: OperationContext): OperationResult {
  const secret = findSecret(context, requireString(input, 'SecretId'));
  if (secret.deletedAt === undefined)
    return { output: { ARN: secret.arn, Name: secret.name }, change: 'none' };
  delete secret.deletedAt;
  delete secret.deletionAt;
  secret.lastChangedAt = context.now;
  return { output: { ARN: secret.arn, Name: secret.name }, change: 'write' };
}

/**
 * Drops secrets whose recovery window has ended, as AWS does in the background. Called before
 * every operation with the stand-in's clock, so a fake clock moving past DeletionDate purges them.
 */
export function purgeExpired(context: OperationContext): boolean {
  const before = context.secrets.length;
  const kept = context.secrets.filter(
    (secret) => secret.deletionAt === undefined || secret.deletionAt > context.now,
  );
  context.secrets.splice(0, context.secrets.length, ...kept);
  return kept.length !== before;
}

/** Every operation the stand-in serves, by its X-Amz-Target name. */
export const OPERATIONS = {
  CreateSecret: createSecret,
  GetSecretValue: getSecretValue,
  PutSecretValue: putSecretValue,
  DescribeSecret: describeSecret,
  UpdateSecretVersionStage: updateSecretVersionStage,
  ListSecretVersionIds: listSecretVersionIds,
  DeleteSecret: deleteSecret,
  RestoreSecret: restoreSecret,
} satisfies Record<string, Operation>;

/** The name of an operation the stand-in serves. */
export type OperationName = keyof typeof OPERATIONS;
