import { randomInt } from 'node:crypto';

/** The label AWS reads by default and moves on every plain PutSecretValue. */
export const AWSCURRENT = 'AWSCURRENT';
/** The label AWS moves, unasked, to the version AWSCURRENT has just left. */
export const AWSPREVIOUS = 'AWSPREVIOUS';

/** The region every sandbox ARN names. */
export const REGION = 'us-east-1';
/** The account every sandbox ARN names: there is no real account behind the sandbox. */
export const ACCOUNT_ID = '000000000000';

/**
 * How many versions a secret keeps. AWS removes deprecated (unlabeled) versions once a secret has
 * more than 100. UNCONFIRMED: AWS also spares versions younger than 24 hours and refuses new ones
 * instead; the sandbox always prunes the oldest deprecated ones, so a burst of writes never fails.
 */
export const MAX_VERSIONS = 100;

/** One version of a secret. Times are epoch milliseconds; they become epoch seconds on the wire. */
export interface StoredVersion {
  id: string;
  createdAt: number;
  /** Staging labels on this version; each label is on at most one version of the secret. */
  stages: string[];
  secretString?: string;
  /** Base64, exactly as it travels on the wire. */
  secretBinary?: string;
  lastAccessedAt?: number;
}

/** One secret with all its kept versions, oldest first. */
export interface StoredSecret {
  arn: string;
  name: string;
  description?: string;
  tags?: { Key: string; Value: string }[];
  createdAt: number;
  lastChangedAt: number;
  lastAccessedAt?: number;
  /** When DeleteSecret marked it; from then on only DescribeSecret, Restore and Delete see it. */
  deletedAt?: number;
  /** When a marked secret is purged for good (DeletedDate + recovery window). */
  deletionAt?: number;
  versions: StoredVersion[];
}

/** The identifier of the document format, so a future change can tell an old file from a new one. */
export const STATE_SCHEMA = 'signet.sandbox.secrets-manager/1';

/** What the stand-in hands its {@link StateStore}. */
export interface SecretsDocument {
  schema: typeof STATE_SCHEMA;
  secrets: StoredSecret[];
}

const ARN_SUFFIX_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** Builds an ARN the way AWS does: the name, a hyphen and six random characters. */
export function makeArn(name: string): string {
  let suffix = '';
  for (let i = 0; i < 6; i++) suffix += ARN_SUFFIX_ALPHABET[randomInt(ARN_SUFFIX_ALPHABET.length)];
  return `arn:aws:secretsmanager:${REGION}:${ACCOUNT_ID}:secret:${name}-${suffix}`;
}

/**
 * Whether `secretId` names this secret: by name, by complete ARN, or by partial ARN (the ARN
 * without its `-XXXXXX` suffix), the three forms AWS accepts.
 */
export function matchesSecretId(secret: StoredSecret, secretId: string): boolean {
  if (!secretId.startsWith('arn:')) return secret.name === secretId;
  return secret.arn === secretId || secret.arn.slice(0, -7) === secretId;
}

/** The version carrying `stage`, if any. */
export function versionWithStage(secret: StoredSecret, stage: string): StoredVersion | undefined {
  return secret.versions.find((version) => version.stages.includes(stage));
}

/** The version with this id, if it is still kept. */
export function versionById(secret: StoredSecret, versionId: string): StoredVersion | undefined {
  return secret.versions.find((version) => version.id === versionId);
}

/** Takes `stage` off `version` (nothing happens if it was not there). */
export function removeStage(version: StoredVersion, stage: string): void {
  version.stages = version.stages.filter((label) => label !== stage);
}

/**
 * Puts `stage` on `target`, taking it off whichever version had it, so a label is never on two
 * versions. Moving AWSCURRENT also moves AWSPREVIOUS to the version AWSCURRENT left, as AWS does
 * for both PutSecretValue and UpdateSecretVersionStage.
 */
export function moveStage(secret: StoredSecret, stage: string, target: StoredVersion): void {
  const holder = versionWithStage(secret, stage);
  if (holder === target) return;
  if (holder !== undefined) removeStage(holder, stage);
  target.stages.push(stage);
  if (stage === AWSCURRENT && holder !== undefined) moveStage(secret, AWSPREVIOUS, holder);
}

/** Drops the oldest deprecated (unlabeled) versions while the secret keeps more than {@link MAX_VERSIONS}. */
export function pruneDeprecated(secret: StoredSecret): void {
  let excess = secret.versions.length - MAX_VERSIONS;
  if (excess <= 0) return;
  secret.versions = secret.versions.filter((version) => {
    if (excess > 0 && version.stages.length === 0) {
      excess--;
      return false;
    }
    return true;
  });
}

/** Rounds a time down to midnight UTC: AWS reports LastAccessedDate to the day only. */
export function startOfDay(epochMs: number): number {
  return epochMs - (epochMs % 86_400_000);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isStoredVersion(value: unknown): value is StoredVersion {
  return (
    isRecord(value) &&
    typeof value.id === 'string' &&
    typeof value.createdAt === 'number' &&
    Array.isArray(value.stages) &&
    value.stages.every((stage) => typeof stage === 'string') &&
    (typeof value.secretString === 'string' || typeof value.secretBinary === 'string')
  );
}

function isStoredSecret(value: unknown): value is StoredSecret {
  return (
    isRecord(value) &&
    typeof value.arn === 'string' &&
    typeof value.name === 'string' &&
    typeof value.createdAt === 'number' &&
    typeof value.lastChangedAt === 'number' &&
    Array.isArray(value.versions) &&
    value.versions.every(isStoredVersion)
  );
}

/**
 * Turns what a {@link StateStore} loaded back into secrets. Nothing saved yet means no secrets; a
 * document of another shape is refused at start-up rather than half-read, so a stale or hand-edited
 * file cannot surface later as a confusing protocol error.
 */
export function parseDocument(document: unknown): StoredSecret[] {
  if (document === undefined) return [];
  if (!isRecord(document) || document.schema !== STATE_SCHEMA || !Array.isArray(document.secrets)) {
    throw new Error(
      `Expected Secrets Manager sandbox state with schema "${STATE_SCHEMA}" and a secrets list; ` +
        'got something else (delete the state file to start over).',
    );
  }
  const bad = document.secrets.findIndex((secret) => !isStoredSecret(secret));
  if (bad !== -1) {
    throw new Error(
      `Expected every secret in the Secrets Manager sandbox state to have arn, name, dates and versions; ` +
        `secrets[${bad}] does not (delete the state file to start over).`,
    );
  }
  return document.secrets as StoredSecret[];
}
