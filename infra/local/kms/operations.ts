import { randomUUID } from 'node:crypto';
import { KmsError, validation } from './errors.ts';
import {
  generateKey,
  type KeySpec,
  publicKeyDerOf,
  SIGNING_ALGORITHMS,
  SUPPORTED_SIGNING,
  signDigest,
  signMessage,
} from './keys.ts';

/** A parsed request body: awsJson1_1 sends one JSON object per request. */
export type Input = Readonly<Record<string, unknown>>;

/** One key as the stand-in stores it. The private key never appears in any answer. */
export interface StoredKey {
  id: string;
  arn: string;
  spec: KeySpec;
  usage: 'SIGN_VERIFY';
  description: string;
  /** The key policy document as given to CreateKey (kept, not enforced). */
  policy?: string;
  state: 'Enabled' | 'Disabled' | 'PendingDeletion';
  createdAt: number;
  deletionAt?: number;
  pendingWindowDays?: number;
  tags: { TagKey: string; TagValue: string }[];
  privateKeyPem: string;
}

/** What an operation works on: the live keys (changed in place), the region and account, the time. */
export interface OperationContext {
  keys: StoredKey[];
  region: string;
  account: string;
  /** Epoch milliseconds. */
  now: number;
}

export interface OperationResult {
  output: Record<string, unknown>;
  changed: boolean;
}

type Operation = (input: Input, context: OperationContext) => OperationResult;

const DAY_MS = 86_400_000;
/** KMS refuses RAW messages longer than this; a longer message must be sent as its digest. */
export const MAX_RAW_MESSAGE_BYTES = 4096;
const KEY_SPECS: readonly KeySpec[] = ['RSA_2048', 'ECC_NIST_P256'];
const MAX_TAGS = 50;

/** Removes keys whose waiting period has passed, as KMS deletes them. Returns whether any went. */
export function purgeDeleted(context: OperationContext): boolean {
  const before = context.keys.length;
  const kept = context.keys.filter(
    (key) => key.state !== 'PendingDeletion' || (key.deletionAt ?? Infinity) > context.now,
  );
  context.keys.splice(0, context.keys.length, ...kept);
  return kept.length !== before;
}

function str(input: Input, field: string, required: true): string;
function str(input: Input, field: string, required?: false): string | undefined;
function str(input: Input, field: string, required = false): string | undefined {
  const value = input[field];
  if (value === undefined || value === null) {
    if (required) throw validation(`Expected ${field} to be set; it is missing.`);
    return undefined;
  }
  if (typeof value !== 'string') {
    throw new KmsError('SerializationException', `Expected ${field} to be a string, got ${typeof value}.`);
  }
  if (required && value.length === 0) throw validation(`Expected ${field} to be a non-empty string.`);
  return value;
}

function blob(input: Input, field: string): Buffer {
  const text = str(input, field, true);
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) {
    throw new KmsError('SerializationException', `Expected ${field} to be base64.`);
  }
  return Buffer.from(text, 'base64');
}

function readTags(input: Input): { TagKey: string; TagValue: string }[] {
  const value = input.Tags;
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new KmsError('SerializationException', 'Expected Tags to be a list.');
  if (value.length > MAX_TAGS) throw new KmsError('TagException', `Expected at most ${MAX_TAGS} tags.`);
  return value.map((tag: unknown, index) => {
    const { TagKey: key, TagValue: text } = (tag ?? {}) as Input;
    if (typeof key !== 'string' || key.length === 0 || key.length > 128) {
      throw new KmsError('TagException', `Expected Tags[${index}].TagKey of 1 to 128 characters.`);
    }
    if (typeof text !== 'string' || text.length > 256) {
      throw new KmsError('TagException', `Expected Tags[${index}].TagValue of at most 256 characters.`);
    }
    if (key.toLowerCase().startsWith('aws:')) {
      throw new KmsError('TagException', `Expected a tag key not starting with "aws:"; got ${key}.`);
    }
    return { TagKey: key, TagValue: text };
  });
}

/** Finds a key by id or ARN (aliases are not served: Signet records ARNs). */
function findKey(context: OperationContext, keyId: string): StoredKey {
  const key = context.keys.find((candidate) => candidate.id === keyId || candidate.arn === keyId);
  if (key === undefined) {
    const arn = keyId.startsWith('arn:')
      ? keyId
      : `arn:aws:kms:${context.region}:${context.account}:key/${keyId}`;
    throw new KmsError('NotFoundException', `Key '${arn}' does not exist`);
  }
  return key;
}

function pendingDeletion(key: StoredKey): KmsError {
  return new KmsError('KMSInvalidStateException', `${key.arn} is pending deletion.`);
}

/** A key that may be used to sign or give its public key: enabled, not pending deletion. */
function usableKey(context: OperationContext, keyId: string): StoredKey {
  const key = findKey(context, keyId);
  if (key.state === 'PendingDeletion') throw pendingDeletion(key);
  if (key.state === 'Disabled') throw new KmsError('DisabledException', `${key.arn} is disabled.`);
  return key;
}

function metadata(key: StoredKey, account: string): Record<string, unknown> {
  return {
    AWSAccountId: account,
    KeyId: key.id,
    Arn: key.arn,
    CreationDate: key.createdAt / 1000,
    Enabled: key.state === 'Enabled',
    Description: key.description,
    KeyUsage: key.usage,
    KeyState: key.state,
    ...(key.deletionAt === undefined ? {} : { DeletionDate: key.deletionAt / 1000 }),
    ...(key.pendingWindowDays === undefined ? {} : { PendingDeletionWindowInDays: key.pendingWindowDays }),
    Origin: 'AWS_KMS',
    KeyManager: 'CUSTOMER',
    CustomerMasterKeySpec: key.spec,
    KeySpec: key.spec,
    SigningAlgorithms: SIGNING_ALGORITHMS[key.spec],
    MultiRegion: false,
  };
}

const read = (output: Record<string, unknown>): OperationResult => ({ output, changed: false });
const write = (output: Record<string, unknown>): OperationResult => ({ output, changed: true });

export const OPERATIONS = {
  CreateKey(input, context) {
    const spec = str(input, 'KeySpec') ?? str(input, 'CustomerMasterKeySpec') ?? 'SYMMETRIC_DEFAULT';
    if (!KEY_SPECS.includes(spec as KeySpec)) {
      // UNCONFIRMED wording; KMS itself creates many more specs. The sandbox serves CloudFront's two.
      throw new KmsError(
        'UnsupportedOperationException',
        `The sandbox creates only ${KEY_SPECS.join(' and ')} keys (the specs CloudFront accepts); got ${spec}.`,
      );
    }
    const usage = str(input, 'KeyUsage') ?? (spec === 'ECC_NIST_P256' ? 'SIGN_VERIFY' : 'ENCRYPT_DECRYPT');
    if (usage !== 'SIGN_VERIFY') {
      throw validation(`Expected KeyUsage SIGN_VERIFY for a ${spec} signing key; got ${usage}.`);
    }
    const description = str(input, 'Description') ?? '';
    if (description.length > 8192) throw validation('Expected a Description of at most 8192 characters.');
    const policy = str(input, 'Policy');
    if (policy !== undefined) {
      try {
        JSON.parse(policy);
      } catch {
        throw new KmsError('ValidationException', 'Expected Policy to be a JSON policy document.');
      }
    }
    const tags = readTags(input);
    const id = randomUUID();
    const key: StoredKey = {
      id,
      arn: `arn:aws:kms:${context.region}:${context.account}:key/${id}`,
      spec: spec as KeySpec,
      usage: 'SIGN_VERIFY',
      description,
      ...(policy === undefined ? {} : { policy }),
      state: 'Enabled',
      createdAt: context.now,
      tags,
      privateKeyPem: generateKey(spec as KeySpec).privateKeyPem,
    };
    context.keys.push(key);
    return write({ KeyMetadata: metadata(key, context.account) });
  },

  DescribeKey(input, context) {
    return read({ KeyMetadata: metadata(findKey(context, str(input, 'KeyId', true)), context.account) });
  },

  ListKeys(input, context) {
    const limit = input.Limit === undefined || input.Limit === null ? 100 : Number(input.Limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
      throw validation(`Expected Limit between 1 and 1000, got ${String(input.Limit)}.`);
    }
    const marker = str(input, 'Marker');
    let start = 0;
    if (marker !== undefined) {
      start = Number(marker);
      if (!Number.isInteger(start) || start < 0 || start > context.keys.length) {
        throw new KmsError('InvalidMarkerException', 'Expected a Marker from an earlier ListKeys answer.');
      }
    }
    const page = context.keys.slice(start, start + limit);
    const next = start + page.length;
    return read({
      Keys: page.map((key) => ({ KeyId: key.id, KeyArn: key.arn })),
      Truncated: next < context.keys.length,
      ...(next < context.keys.length ? { NextMarker: String(next) } : {}),
    });
  },

  GetPublicKey(input, context) {
    const key = usableKey(context, str(input, 'KeyId', true));
    return read({
      KeyId: key.arn,
      PublicKey: publicKeyDerOf(key.privateKeyPem).toString('base64'),
      CustomerMasterKeySpec: key.spec,
      KeySpec: key.spec,
      KeyUsage: key.usage,
      SigningAlgorithms: SIGNING_ALGORITHMS[key.spec],
    });
  },

  Sign(input, context) {
    const key = usableKey(context, str(input, 'KeyId', true));
    const algorithm = str(input, 'SigningAlgorithm', true);
    const messageType = str(input, 'MessageType') ?? 'RAW';
    const message = blob(input, 'Message');
    if (messageType !== 'RAW' && messageType !== 'DIGEST') {
      throw validation(`Expected MessageType RAW or DIGEST; got ${messageType}.`);
    }
    if (!SIGNING_ALGORITHMS[key.spec].includes(algorithm)) {
      throw new KmsError(
        'InvalidKeyUsageException',
        `Expected a signing algorithm of ${key.spec} (${SIGNING_ALGORITHMS[key.spec].join(', ')}); got ${algorithm}.`,
      );
    }
    if (algorithm !== SUPPORTED_SIGNING[key.spec]) {
      throw new KmsError(
        'UnsupportedOperationException',
        `The sandbox signs ${key.spec} keys with ${SUPPORTED_SIGNING[key.spec]} only (what CloudFront verifies); got ${algorithm}.`,
      );
    }
    if (message.length === 0) throw validation('Expected a non-empty Message.');
    let signature: Buffer;
    if (messageType === 'RAW') {
      if (message.length > MAX_RAW_MESSAGE_BYTES) {
        throw validation(
          `1 validation error detected: Value at 'message' failed to satisfy constraint: Member must have length less than or equal to ${MAX_RAW_MESSAGE_BYTES}`,
        );
      }
      signature = signMessage(key.spec, key.privateKeyPem, message);
    } else {
      if (message.length !== 32) {
        throw validation(
          `Digest is invalid length for algorithm ${algorithm}: expected 32 bytes, got ${message.length}.`,
        );
      }
      signature = signDigest(key.spec, key.privateKeyPem, message);
    }
    return read({ KeyId: key.arn, Signature: signature.toString('base64'), SigningAlgorithm: algorithm });
  },

  ScheduleKeyDeletion(input, context) {
    const key = findKey(context, str(input, 'KeyId', true));
    const days = input.PendingWindowInDays ?? 30;
    if (typeof days !== 'number' || !Number.isInteger(days) || days < 7 || days > 30) {
      throw validation(`Expected PendingWindowInDays between 7 and 30, got ${String(days)}.`);
    }
    if (key.state === 'PendingDeletion') throw pendingDeletion(key);
    key.state = 'PendingDeletion';
    key.deletionAt = context.now + days * DAY_MS;
    key.pendingWindowDays = days;
    return write({
      KeyId: key.arn,
      DeletionDate: key.deletionAt / 1000,
      KeyState: 'PendingDeletion',
      PendingWindowInDays: days,
    });
  },

  CancelKeyDeletion(input, context) {
    const key = findKey(context, str(input, 'KeyId', true));
    if (key.state !== 'PendingDeletion') {
      throw new KmsError('KMSInvalidStateException', `${key.arn} is not pending deletion.`);
    }
    // As KMS does: a key whose deletion was cancelled comes back disabled.
    key.state = 'Disabled';
    delete key.deletionAt;
    delete key.pendingWindowDays;
    return write({ KeyId: key.arn });
  },

  DisableKey(input, context) {
    const key = findKey(context, str(input, 'KeyId', true));
    if (key.state === 'PendingDeletion') throw pendingDeletion(key);
    key.state = 'Disabled';
    return write({});
  },

  EnableKey(input, context) {
    const key = findKey(context, str(input, 'KeyId', true));
    if (key.state === 'PendingDeletion') throw pendingDeletion(key);
    key.state = 'Enabled';
    return write({});
  },

  TagResource(input, context) {
    const key = findKey(context, str(input, 'KeyId', true));
    if (key.state === 'PendingDeletion') throw pendingDeletion(key);
    for (const tag of readTags(input)) {
      const existing = key.tags.find((candidate) => candidate.TagKey === tag.TagKey);
      if (existing === undefined) key.tags.push(tag);
      else existing.TagValue = tag.TagValue;
    }
    if (key.tags.length > MAX_TAGS) throw new KmsError('TagException', `Expected at most ${MAX_TAGS} tags.`);
    return write({});
  },

  UntagResource(input, context) {
    const key = findKey(context, str(input, 'KeyId', true));
    if (key.state === 'PendingDeletion') throw pendingDeletion(key);
    const names = input.TagKeys;
    if (!Array.isArray(names)) throw validation('Expected TagKeys to be a list of tag keys.');
    key.tags = key.tags.filter((tag) => !names.includes(tag.TagKey));
    return write({});
  },

  ListResourceTags(input, context) {
    const key = findKey(context, str(input, 'KeyId', true));
    return read({ Tags: key.tags.map((tag) => ({ ...tag })), Truncated: false });
  },
} satisfies Record<string, Operation>;

export type OperationName = keyof typeof OPERATIONS;
