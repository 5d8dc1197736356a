import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { deepFreeze } from '../../lib/config/deep-freeze.ts';
import { MAX_KEYS_PER_GROUP, MAX_PUBLIC_KEYS_PER_ACCOUNT } from '../../lib/rotation/quotas.ts';
import {
  buildDistribution,
  buildDistributionSummary,
  readDistributionConfig,
} from './cloudfront-api/distribution-config.ts';
import { CloudFrontApiError, renderErrorBody } from './cloudfront-api/errors.ts';
import {
  newDistributionId,
  newDomainName,
  newETag,
  newKeyGroupId,
  newPublicKeyId,
  newRequestId,
} from './cloudfront-api/ids.ts';
import { checkPublicKeyPem } from './cloudfront-api/pem.ts';
import {
  type CloudFrontRecords,
  type DistributionRecord,
  type KeyGroupRecord,
  type PublicKeyRecord,
  recordsFromDocument,
  recordsToDocument,
} from './cloudfront-api/records.ts';
import {
  buildSnapshotParts,
  type CloudFrontSnapshot,
  type SnapshotParts,
  snapshotOf,
} from './cloudfront-api/snapshot.ts';
import {
  buildXmlDocument,
  parseXmlDocument,
  readText,
  readTextItems,
  requireStructure,
  requireText,
  type XmlObject,
} from './cloudfront-api/xml.ts';
import { BodyTooLargeError, close, listen, readBody } from './http.ts';
import type { StateStore } from './state.ts';

export type { CacheBehaviorView, OriginView } from './cloudfront-api/distribution-config.ts';
export {
  CLOUDFRONT_NAMESPACE,
  CloudFrontApiError,
  type CloudFrontErrorCode,
} from './cloudfront-api/errors.ts';
export type {
  CloudFrontSnapshot,
  DistributionSnapshot,
  KeyGroupSnapshot,
  PublicKeySnapshot,
} from './cloudfront-api/snapshot.ts';
export type { XmlObject, XmlValue } from './cloudfront-api/xml.ts';

/** The CloudFront operations the stand-in serves. */
export const CLOUDFRONT_OPERATIONS = [
  'CreatePublicKey',
  'GetPublicKey',
  'GetPublicKeyConfig',
  'ListPublicKeys',
  'DeletePublicKey',
  'CreateKeyGroup',
  'GetKeyGroup',
  'GetKeyGroupConfig',
  'UpdateKeyGroup',
  'ListKeyGroups',
  'DeleteKeyGroup',
  'CreateDistribution',
  'GetDistribution',
  'GetDistributionConfig',
  'UpdateDistribution',
  'ListDistributions',
] as const;

/** One of {@link CLOUDFRONT_OPERATIONS}. */
export type CloudFrontOperation = (typeof CLOUDFRONT_OPERATIONS)[number];

/** Options of {@link createCloudFrontStandIn}. Quotas default to CloudFront's documented defaults. */
export interface CloudFrontStandInOptions {
  /** Where state survives restarts; without one the state lives in memory only. */
  readonly store?: StateStore;
  /** The clock for CreatedTime, LastModifiedTime and snapshot times. Default: the system clock. */
  readonly now?: () => Date;
  /** Public keys per key group (`TooManyPublicKeysInKeyGroup`). Default 5. */
  readonly maxKeysPerGroup?: number;
  /** Public keys per account (`TooManyPublicKeys`). Default 10. */
  readonly maxPublicKeys?: number;
  /** Key groups per account (`TooManyKeyGroups`). Default 10. */
  readonly maxKeyGroups?: number;
  /** Key groups one cache behaviour may trust (`TooManyKeyGroupsAssociatedToDistribution`). Default 4. */
  readonly maxKeyGroupsPerCacheBehavior?: number;
  /** Distributions per account (`TooManyDistributions`). Default 200. */
  readonly maxDistributions?: number;
  /**
   * What CreatePublicKey does with a CallerReference that was used before, for the same name, key
   * and comment. UNCONFIRMED: the CreatePublicKey docs do not say, and CloudFront dropped the
   * "identical request returns the original answer" rule from the 2020-05-31 CreateDistribution
   * docs. `'conflict'` (default, the stricter reading) answers `PublicKeyAlreadyExists`;
   * `'return-existing'` answers 201 with the existing key. A reused CallerReference with different
   * content is `PublicKeyAlreadyExists` either way.
   */
  readonly callerReferenceReplay?: 'conflict' | 'return-existing';
  /** The account in distribution ARNs. Default `000000000000`. */
  readonly accountId?: string;
}

/** A local CloudFront control plane: a node:http listener plus hooks for the sandbox edge. */
export interface CloudFrontStandIn {
  /** The node:http request listener. Never rejects: every failure becomes a CloudFront error body. */
  handle(request: IncomingMessage, response: ServerResponse): Promise<void>;
  /** The current state, deeply frozen, in fresh maps. */
  snapshot(): CloudFrontSnapshot;
  /**
   * Calls `listener` with the new snapshot after every successful write (after it is saved).
   * Returns a function that unsubscribes. A listener that throws is reported, never fails the write.
   */
  onChange(listener: (snapshot: CloudFrontSnapshot) => void): () => void;
  /** Requests routed to each operation since construction, failed ones included. */
  readonly calls: Readonly<Record<CloudFrontOperation, number>>;
}

/** A request after routing: what an operation needs to run. */
interface OperationInput {
  readonly id: string;
  readonly query: URLSearchParams;
  readonly body: Buffer;
  readonly ifMatch: string | undefined;
  readonly baseUrl: string;
}

/** What an operation answers. */
interface Reply {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
}

const VERSION_PATH = '/2020-05-31';

/** Path shapes, and which operation each method reaches there. `{id}` is the first capture. */
const ROUTES: readonly {
  readonly pattern: RegExp;
  readonly methods: Readonly<Record<string, CloudFrontOperation>>;
}[] = [
  { pattern: /^\/public-key$/, methods: { POST: 'CreatePublicKey', GET: 'ListPublicKeys' } },
  { pattern: /^\/public-key\/([^/]+)$/, methods: { GET: 'GetPublicKey', DELETE: 'DeletePublicKey' } },
  { pattern: /^\/public-key\/([^/]+)\/config$/, methods: { GET: 'GetPublicKeyConfig' } },
  { pattern: /^\/key-group$/, methods: { POST: 'CreateKeyGroup', GET: 'ListKeyGroups' } },
  {
    pattern: /^\/key-group\/([^/]+)$/,
    methods: { GET: 'GetKeyGroup', PUT: 'UpdateKeyGroup', DELETE: 'DeleteKeyGroup' },
  },
  { pattern: /^\/key-group\/([^/]+)\/config$/, methods: { GET: 'GetKeyGroupConfig' } },
  { pattern: /^\/distribution$/, methods: { POST: 'CreateDistribution', GET: 'ListDistributions' } },
  { pattern: /^\/distribution\/([^/]+)$/, methods: { GET: 'GetDistribution' } },
  {
    pattern: /^\/distribution\/([^/]+)\/config$/,
    methods: { GET: 'GetDistributionConfig', PUT: 'UpdateDistribution' },
  },
];

const WITH_BODY: ReadonlySet<CloudFrontOperation> = new Set([
  'CreatePublicKey',
  'CreateKeyGroup',
  'UpdateKeyGroup',
  'CreateDistribution',
  'UpdateDistribution',
]);

/** Key and key group names: CloudFront's console rule (UNCONFIRMED for the API), up to 128 characters. */
const NAME = /^[A-Za-z0-9_-]{1,128}$/;
const MAX_COMMENT = 128;
const DEFAULT_MAX_ITEMS = 100;

function routeOf(method: string, pathname: string): { operation: CloudFrontOperation; id: string } {
  const path = pathname.startsWith(`${VERSION_PATH}/`) ? pathname.slice(VERSION_PATH.length) : '';
  for (const route of ROUTES) {
    const match = route.pattern.exec(path);
    if (match === null) continue;
    const operation = route.methods[method];
    if (operation === undefined) {
      const allowed = Object.keys(route.methods).join(', ');
      throw new CloudFrontApiError('MethodNotAllowed', `Expected ${allowed} on ${pathname}; got ${method}.`, {
        headers: { Allow: allowed },
      });
    }
    return { operation, id: decodeId(match[1]) };
  }
  throw new CloudFrontApiError('NotFound', `No CloudFront 2020-05-31 operation at ${method} ${pathname}.`);
}

function decodeId(raw: string | undefined): string {
  if (raw === undefined) return '';
  try {
    return decodeURIComponent(raw);
  } catch {
    // Not valid percent-encoding: no resource has such an id, so the lookup answers NoSuch*.
    return raw;
  }
}

function checkName(name: string, path: string): void {
  if (!NAME.test(name)) {
    throw new CloudFrontApiError(
      'InvalidArgument',
      `Expected ${path} to be 1 to 128 letters, digits, hyphens or underscores; got "${name}".`,
    );
  }
}

function readComment(node: XmlObject, path: string): { comment?: string } {
  const comment = readText(node, 'Comment', path);
  if (comment === undefined) return {};
  if (comment.length > MAX_COMMENT) {
    throw new CloudFrontApiError(
      'InvalidArgument',
      `Expected ${path}.Comment to be at most ${MAX_COMMENT} characters; got ${comment.length}.`,
    );
  }
  return { comment };
}

/**
 * Every Update and Delete needs the current ETag in If-Match: missing is InvalidIfMatchVersion,
 * stale is PreconditionFailed (the messages are CloudFront's).
 */
function checkIfMatch(ifMatch: string | undefined, current: string): void {
  if (ifMatch === undefined || ifMatch === '') {
    throw new CloudFrontApiError(
      'InvalidIfMatchVersion',
      'The If-Match version is missing or not valid for the resource.',
    );
  }
  if (ifMatch !== current) {
    throw new CloudFrontApiError(
      'PreconditionFailed',
      'The precondition given in one or more of the request header fields evaluated to false.',
    );
  }
}

/** Marker is the id to start after sorting by id, so deleting the marker's item between pages is harmless. */
function page<T extends { readonly id: string }>(
  items: Iterable<T>,
  query: URLSearchParams,
): { items: T[]; maxItems: number; marker: string; nextMarker: string | undefined } {
  const rawMax = query.get('MaxItems');
  let maxItems = DEFAULT_MAX_ITEMS;
  if (rawMax !== null) {
    if (!/^\d{1,4}$/.test(rawMax) || Number(rawMax) < 1 || Number(rawMax) > 1000) {
      throw new CloudFrontApiError(
        'InvalidArgument',
        `Expected MaxItems between 1 and 1000; got "${rawMax}".`,
      );
    }
    maxItems = Number(rawMax);
  }
  const marker = query.get('Marker') ?? '';
  const sorted = [...items].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const rest = marker === '' ? sorted : sorted.filter((item) => item.id >= marker);
  return { items: rest.slice(0, maxItems), maxItems, marker, nextMarker: rest[maxItems]?.id };
}

function itemsElement(member: string, values: readonly (string | XmlObject)[]): XmlObject {
  // CloudFront leaves out an empty list's Items element.
  return values.length === 0 ? {} : { Items: { [member]: [...values] } };
}

function publicKeyConfigXml(key: PublicKeyRecord): XmlObject {
  return {
    CallerReference: key.callerReference,
    Name: key.name,
    EncodedKey: key.encodedKey,
    ...(key.comment === undefined ? {} : { Comment: key.comment }),
  };
}

function publicKeyXml(key: PublicKeyRecord): XmlObject {
  return { Id: key.id, CreatedTime: key.createdTime, PublicKeyConfig: publicKeyConfigXml(key) };
}

function keyGroupConfigXml(group: KeyGroupRecord): XmlObject {
  return {
    Name: group.name,
    // Unlike every other CloudFront list, KeyGroupConfig.Items has no Quantity and is always present.
    Items: { PublicKey: [...group.items] },
    ...(group.comment === undefined ? {} : { Comment: group.comment }),
  };
}

function keyGroupXml(group: KeyGroupRecord): XmlObject {
  return { Id: group.id, LastModifiedTime: group.lastModifiedTime, KeyGroupConfig: keyGroupConfigXml(group) };
}

function xmlReply(
  status: number,
  root: string,
  body: XmlObject,
  headers: Record<string, string> = {},
): Reply {
  return { status, headers, body: buildXmlDocument(root, body) };
}

/**
 * Builds a CloudFront control-plane stand-in over `options.store`, reloading what the store holds.
 *
 * Each request's read-check-write runs synchronously once its body is read (the store's `save` is
 * synchronous too), so two requests never interleave between checking an ETag and writing: of N
 * concurrent updates with one ETag, exactly one wins.
 */
export function createCloudFrontStandIn(options: CloudFrontStandInOptions = {}): CloudFrontStandIn {
  const store = options.store;
  const now = options.now ?? (() => new Date());
  const maxKeysPerGroup = options.maxKeysPerGroup ?? MAX_KEYS_PER_GROUP;
  const maxPublicKeys = options.maxPublicKeys ?? MAX_PUBLIC_KEYS_PER_ACCOUNT;
  const maxKeyGroups = options.maxKeyGroups ?? 10;
  const maxKeyGroupsPerCacheBehavior = options.maxKeyGroupsPerCacheBehavior ?? 4;
  const maxDistributions = options.maxDistributions ?? 200;
  const callerReferenceReplay = options.callerReferenceReplay ?? 'conflict';
  const accountId = options.accountId ?? '000000000000';

  let records: CloudFrontRecords = recordsFromDocument(store?.load());
  // Also validates stored distribution configs: a bad saved file fails here, not on a later read.
  let parts: SnapshotParts = buildSnapshotParts(records, now().getTime());
  const listeners = new Set<(snapshot: CloudFrontSnapshot) => void>();
  const calls = Object.fromEntries(CLOUDFRONT_OPERATIONS.map((operation) => [operation, 0])) as Record<
    CloudFrontOperation,
    number
  >;

  /** Saves first, then swaps in the new state: a failed save leaves the previous state in force. */
  function commit(next: CloudFrontRecords): void {
    const nextParts = buildSnapshotParts(next, now().getTime());
    store?.save(recordsToDocument(next));
    records = next;
    parts = nextParts;
    for (const listener of listeners) {
      try {
        listener(snapshotOf(parts));
      } catch (error) {
        console.error('CloudFront stand-in: an onChange listener threw; the write stands.', error);
      }
    }
  }

  function withPublicKey(key: PublicKeyRecord): void {
    commit({ ...records, publicKeys: new Map(records.publicKeys).set(key.id, deepFreeze(key)) });
  }

  function withKeyGroup(group: KeyGroupRecord): void {
    commit({ ...records, keyGroups: new Map(records.keyGroups).set(group.id, deepFreeze(group)) });
  }

  function withDistribution(distribution: DistributionRecord): void {
    commit({
      ...records,
      distributions: new Map(records.distributions).set(distribution.id, deepFreeze(distribution)),
    });
  }

  function getPublicKey(id: string): PublicKeyRecord {
    const key = records.publicKeys.get(id);
    if (key === undefined)
      throw new CloudFrontApiError('NoSuchPublicKey', `The specified public key ${id} does not exist.`);
    return key;
  }

  function getKeyGroup(id: string): KeyGroupRecord {
    const group = records.keyGroups.get(id);
    if (group === undefined)
      throw new CloudFrontApiError('NoSuchResource', `The specified key group ${id} does not exist.`);
    return group;
  }

  function getDistribution(id: string): DistributionRecord {
    const distribution = records.distributions.get(id);
    if (distribution === undefined) {
      throw new CloudFrontApiError('NoSuchDistribution', `The specified distribution ${id} does not exist.`);
    }
    return distribution;
  }

  // --- public keys ---

  function createPublicKey(input: OperationInput): Reply {
    const path = 'PublicKeyConfig';
    const config = parseXmlDocument(input.body, path);
    const callerReference = requireText(config, 'CallerReference', path);
    const name = requireText(config, 'Name', path);
    checkName(name, `${path}.Name`);
    const encodedKey = requireText(config, 'EncodedKey', path);
    checkPublicKeyPem(encodedKey);
    const { comment } = readComment(config, path);

    const replayed = [...records.publicKeys.values()].find((key) => key.callerReference === callerReference);
    if (replayed !== undefined) {
      const same =
        replayed.name === name && replayed.encodedKey === encodedKey && replayed.comment === comment;
      if (same && callerReferenceReplay === 'return-existing')
        return publicKeyCreated(replayed, input.baseUrl);
      throw new CloudFrontApiError(
        'PublicKeyAlreadyExists',
        `CallerReference "${callerReference}" was already used to create public key ${replayed.id}.`,
      );
    }
    const sameName = [...records.publicKeys.values()].find((key) => key.name === name);
    if (sameName !== undefined) {
      throw new CloudFrontApiError(
        'PublicKeyAlreadyExists',
        `A public key named "${name}" already exists (${sameName.id}).`,
      );
    }
    if (records.publicKeys.size >= maxPublicKeys) {
      throw new CloudFrontApiError(
        'TooManyPublicKeys',
        `The account already has the maximum of ${maxPublicKeys} public keys; delete one first.`,
      );
    }
    let id: string;
    do id = newPublicKeyId();
    while (records.publicKeys.has(id));
    const key: PublicKeyRecord = {
      id,
      etag: newETag(),
      createdTime: now().toISOString(),
      callerReference,
      name,
      encodedKey,
      ...(comment === undefined ? {} : { comment }),
    };
    withPublicKey(key);
    return publicKeyCreated(key, input.baseUrl);
  }

  function publicKeyCreated(key: PublicKeyRecord, baseUrl: string): Reply {
    return xmlReply(201, 'PublicKey', publicKeyXml(key), {
      ETag: key.etag,
      Location: `${baseUrl}${VERSION_PATH}/public-key/${key.id}`,
    });
  }

  function deletePublicKey(input: OperationInput): Reply {
    const key = getPublicKey(input.id);
    checkIfMatch(input.ifMatch, key.etag);
    const groups = [...records.keyGroups.values()].filter((group) => group.items.includes(key.id));
    if (groups.length > 0) {
      throw new CloudFrontApiError(
        'PublicKeyInUse',
        `Public key ${key.id} is in key group(s) ${groups.map((group) => group.id).join(', ')}; remove it from them first.`,
      );
    }
    const publicKeys = new Map(records.publicKeys);
    publicKeys.delete(key.id);
    commit({ ...records, publicKeys });
    return { status: 204 };
  }

  function listPublicKeys(input: OperationInput): Reply {
    const { items, maxItems, nextMarker } = page(records.publicKeys.values(), input.query);
    const summaries = items.map((key) => ({
      Id: key.id,
      Name: key.name,
      CreatedTime: key.createdTime,
      EncodedKey: key.encodedKey,
      ...(key.comment === undefined ? {} : { Comment: key.comment }),
    }));
    return xmlReply(200, 'PublicKeyList', {
      ...(nextMarker === undefined ? {} : { NextMarker: nextMarker }),
      MaxItems: String(maxItems),
      Quantity: String(summaries.length),
      ...itemsElement('PublicKeySummary', summaries),
    });
  }

  // --- key groups ---

  /** Checks a KeyGroupConfig against the quotas and the other groups; `self` is the group being updated. */
  function checkKeyGroupConfig(
    config: XmlObject,
    self: string | undefined,
  ): { name: string; items: string[]; comment?: string } {
    const path = 'KeyGroupConfig';
    const name = requireText(config, 'Name', path);
    checkName(name, `${path}.Name`);
    requireStructure(config, 'Items', path);
    const items = readTextItems(config, 'PublicKey', path);
    const { comment } = readComment(config, path);
    // UNCONFIRMED: whether CloudFront accepts a key group without keys; refusing is the safe side (a
    // rotator that never empties a group works on both).
    if (items.length === 0) {
      throw new CloudFrontApiError(
        'InvalidArgument',
        `Expected ${path}.Items to hold at least one PublicKey.`,
      );
    }
    if (new Set(items).size !== items.length) {
      throw new CloudFrontApiError('InvalidArgument', `Expected each public key id in ${path}.Items once.`);
    }
    if (items.length > maxKeysPerGroup) {
      throw new CloudFrontApiError(
        'TooManyPublicKeysInKeyGroup',
        `A key group holds at most ${maxKeysPerGroup} public keys; ${path}.Items has ${items.length}.`,
      );
    }
    // UNCONFIRMED which code CloudFront gives an unknown key id here: the SDK model declares
    // InvalidArgument for Create/UpdateKeyGroup and not NoSuchPublicKey, so InvalidArgument it is.
    const unknown = items.filter((id) => !records.publicKeys.has(id));
    if (unknown.length > 0) {
      throw new CloudFrontApiError(
        'InvalidArgument',
        `Public key(s) ${unknown.join(', ')} in ${path}.Items do not exist.`,
      );
    }
    const sameName = [...records.keyGroups.values()].find(
      (group) => group.name === name && group.id !== self,
    );
    if (sameName !== undefined) {
      throw new CloudFrontApiError(
        'KeyGroupAlreadyExists',
        `A key group named "${name}" already exists (${sameName.id}).`,
      );
    }
    return { name, items, ...(comment === undefined ? {} : { comment }) };
  }

  function createKeyGroup(input: OperationInput): Reply {
    const config = checkKeyGroupConfig(parseXmlDocument(input.body, 'KeyGroupConfig'), undefined);
    if (records.keyGroups.size >= maxKeyGroups) {
      throw new CloudFrontApiError(
        'TooManyKeyGroups',
        `The account already has the maximum of ${maxKeyGroups} key groups; delete one first.`,
      );
    }
    let id: string;
    do id = newKeyGroupId();
    while (records.keyGroups.has(id));
    const group: KeyGroupRecord = { id, etag: newETag(), lastModifiedTime: now().toISOString(), ...config };
    withKeyGroup(group);
    return xmlReply(201, 'KeyGroup', keyGroupXml(group), {
      ETag: group.etag,
      Location: `${input.baseUrl}${VERSION_PATH}/key-group/${group.id}`,
    });
  }

  function updateKeyGroup(input: OperationInput): Reply {
    // Parse errors first (a request CloudFront cannot read), then existence, then the version, then
    // the content: racing writers with one ETag all get PreconditionFailed but the winner.
    const parsed = parseXmlDocument(input.body, 'KeyGroupConfig');
    const current = getKeyGroup(input.id);
    checkIfMatch(input.ifMatch, current.etag);
    const config = checkKeyGroupConfig(parsed, current.id);
    const group: KeyGroupRecord = {
      id: current.id,
      etag: newETag(current.etag),
      lastModifiedTime: now().toISOString(),
      ...config,
    };
    withKeyGroup(group);
    return xmlReply(200, 'KeyGroup', keyGroupXml(group), { ETag: group.etag });
  }

  function deleteKeyGroup(input: OperationInput): Reply {
    const group = getKeyGroup(input.id);
    checkIfMatch(input.ifMatch, group.etag);
    const users = [...records.distributions.values()].filter((distribution) =>
      readDistributionConfig(distribution.config).behaviors.some((behavior) =>
        behavior.referencedKeyGroups.includes(group.id),
      ),
    );
    if (users.length > 0) {
      throw new CloudFrontApiError(
        'ResourceInUse',
        `Key group ${group.id} is trusted by distribution(s) ${users.map((d) => d.id).join(', ')}; remove it from their cache behaviours first.`,
      );
    }
    const keyGroups = new Map(records.keyGroups);
    keyGroups.delete(group.id);
    commit({ ...records, keyGroups });
    return { status: 204 };
  }

  function listKeyGroups(input: OperationInput): Reply {
    const { items, maxItems, nextMarker } = page(records.keyGroups.values(), input.query);
    return xmlReply(200, 'KeyGroupList', {
      ...(nextMarker === undefined ? {} : { NextMarker: nextMarker }),
      MaxItems: String(maxItems),
      Quantity: String(items.length),
      ...itemsElement(
        'KeyGroupSummary',
        items.map((group) => ({ KeyGroup: keyGroupXml(group) })),
      ),
    });
  }

  // --- distributions ---

  /**
   * Checks a DistributionConfig, including that every trusted key group exists and fits the quota;
   * returns its CallerReference.
   */
  function checkDistributionConfig(config: XmlObject): string {
    const view = readDistributionConfig(config);
    for (const behavior of view.behaviors) {
      if (behavior.referencedKeyGroups.length > maxKeyGroupsPerCacheBehavior) {
        throw new CloudFrontApiError(
          'TooManyKeyGroupsAssociatedToDistribution',
          `A cache behaviour trusts at most ${maxKeyGroupsPerCacheBehavior} key groups; the one for ${behavior.pathPattern} names ${behavior.referencedKeyGroups.length}.`,
        );
      }
      const unknown = behavior.referencedKeyGroups.filter((id) => !records.keyGroups.has(id));
      if (unknown.length > 0) {
        throw new CloudFrontApiError(
          'TrustedKeyGroupDoesNotExist',
          `Key group(s) ${unknown.join(', ')} trusted by the cache behaviour for ${behavior.pathPattern} do not exist.`,
        );
      }
    }
    return view.callerReference;
  }

  function distributionReply(
    status: number,
    distribution: DistributionRecord,
    headers: Record<string, string>,
  ): Reply {
    return xmlReply(status, 'Distribution', buildDistribution(distribution, records.keyGroups, accountId), {
      ETag: distribution.etag,
      ...headers,
    });
  }

  function createDistribution(input: OperationInput): Reply {
    const config = parseXmlDocument(input.body, 'DistributionConfig');
    const callerReference = checkDistributionConfig(config);
    // The 2020-05-31 docs: a CallerReference sent before gives DistributionAlreadyExists.
    const reused = [...records.distributions.values()].find(
      (distribution) =>
        readText(distribution.config, 'CallerReference', 'DistributionConfig') === callerReference,
    );
    if (reused !== undefined) {
      throw new CloudFrontApiError(
        'DistributionAlreadyExists',
        `CallerReference "${callerReference}" was already used to create distribution ${reused.id}.`,
      );
    }
    if (records.distributions.size >= maxDistributions) {
      throw new CloudFrontApiError(
        'TooManyDistributions',
        `The account already has ${maxDistributions} distributions.`,
      );
    }
    let id: string;
    do id = newDistributionId();
    while (records.distributions.has(id));
    const distribution: DistributionRecord = {
      id,
      etag: newETag(),
      lastModifiedTime: now().toISOString(),
      domainName: newDomainName(),
      config,
    };
    withDistribution(distribution);
    return distributionReply(201, distribution, {
      Location: `${input.baseUrl}${VERSION_PATH}/distribution/${id}`,
    });
  }

  function updateDistribution(input: OperationInput): Reply {
    const config = parseXmlDocument(input.body, 'DistributionConfig');
    const current = getDistribution(input.id);
    checkIfMatch(input.ifMatch, current.etag);
    const callerReference = checkDistributionConfig(config);
    const original = readText(current.config, 'CallerReference', 'DistributionConfig');
    if (callerReference !== original) {
      throw new CloudFrontApiError(
        'IllegalUpdate',
        `Expected DistributionConfig.CallerReference to stay "${original}"; it cannot change (got "${callerReference}").`,
      );
    }
    const distribution: DistributionRecord = {
      ...current,
      etag: newETag(current.etag),
      lastModifiedTime: now().toISOString(),
      config,
    };
    withDistribution(distribution);
    return distributionReply(200, distribution, {});
  }

  function listDistributions(input: OperationInput): Reply {
    const { items, maxItems, marker, nextMarker } = page(records.distributions.values(), input.query);
    return xmlReply(200, 'DistributionList', {
      Marker: marker,
      ...(nextMarker === undefined ? {} : { NextMarker: nextMarker }),
      MaxItems: String(maxItems),
      IsTruncated: String(nextMarker !== undefined),
      Quantity: String(items.length),
      ...itemsElement(
        'DistributionSummary',
        items.map((distribution) => buildDistributionSummary(distribution, accountId)),
      ),
    });
  }

  function run(operation: CloudFrontOperation, input: OperationInput): Reply {
    switch (operation) {
      case 'CreatePublicKey':
        return createPublicKey(input);
      case 'GetPublicKey': {
        const key = getPublicKey(input.id);
        return xmlReply(200, 'PublicKey', publicKeyXml(key), { ETag: key.etag });
      }
      case 'GetPublicKeyConfig': {
        const key = getPublicKey(input.id);
        return xmlReply(200, 'PublicKeyConfig', publicKeyConfigXml(key), { ETag: key.etag });
      }
      case 'ListPublicKeys':
        return listPublicKeys(input);
      case 'DeletePublicKey':
        return deletePublicKey(input);
      case 'CreateKeyGroup':
        return createKeyGroup(input);
      case 'GetKeyGroup': {
        const group = getKeyGroup(input.id);
        return xmlReply(200, 'KeyGroup', keyGroupXml(group), { ETag: group.etag });
      }
      case 'GetKeyGroupConfig': {
        const group = getKeyGroup(input.id);
        return xmlReply(200, 'KeyGroupConfig', keyGroupConfigXml(group), { ETag: group.etag });
      }
      case 'UpdateKeyGroup':
        return updateKeyGroup(input);
      case 'ListKeyGroups':
        return listKeyGroups(input);
      case 'DeleteKeyGroup':
        return deleteKeyGroup(input);
      case 'CreateDistribution':
        return createDistribution(input);
      case 'GetDistribution':
        return distributionReply(200, getDistribution(input.id), {});
      case 'GetDistributionConfig': {
        const distribution = getDistribution(input.id);
        return xmlReply(200, 'DistributionConfig', distribution.config, { ETag: distribution.etag });
      }
      case 'UpdateDistribution':
        return updateDistribution(input);
      case 'ListDistributions':
        return listDistributions(input);
    }
  }

  function send(response: ServerResponse, requestId: string, reply: Reply): void {
    // A client that hung up (or a request destroyed for being too large) gets nothing; writing to a
    // destroyed socket must not throw out of the listener.
    if (response.headersSent || response.destroyed) return;
    response.statusCode = reply.status;
    response.setHeader('x-amz-request-id', requestId);
    for (const [name, value] of Object.entries(reply.headers ?? {})) response.setHeader(name, value);
    if (reply.body === undefined) {
      response.end();
      return;
    }
    response.setHeader('Content-Type', 'text/xml');
    response.setHeader('Content-Length', Buffer.byteLength(reply.body));
    response.end(reply.body);
  }

  function toApiError(error: unknown): CloudFrontApiError {
    if (error instanceof CloudFrontApiError) return error;
    if (error instanceof BodyTooLargeError) {
      return new CloudFrontApiError('RequestEntityTooLarge', error.message, {
        cause: error,
        // The rest of the body is never read: close the connection rather than parse it as a request.
        headers: { Connection: 'close' },
      });
    }
    console.error('CloudFront stand-in: unexpected failure', error);
    return new CloudFrontApiError('InternalError', 'The CloudFront stand-in failed; see its log.', {
      cause: error,
    });
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const requestId = newRequestId();
    try {
      const url = new URL(request.url ?? '/', 'http://stand-in');
      const { operation, id } = routeOf(request.method ?? 'GET', url.pathname);
      calls[operation] += 1;
      const body = WITH_BODY.has(operation) ? await readBody(request) : Buffer.alloc(0);
      // From here to the reply nothing awaits: check and write are atomic with respect to other requests.
      const ifMatch = request.headers['if-match'];
      const reply = run(operation, {
        id,
        query: url.searchParams,
        body,
        ifMatch,
        baseUrl: `http://${request.headers.host ?? 'localhost'}`,
      });
      send(response, requestId, reply);
    } catch (error) {
      const apiError = toApiError(error);
      send(response, requestId, {
        status: apiError.status,
        headers: apiError.headers,
        body: renderErrorBody(apiError, requestId),
      });
    }
  }

  return {
    handle,
    snapshot: () => snapshotOf(parts),
    onChange(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    get calls() {
      return Object.freeze({ ...calls });
    },
  };
}

/** Options of {@link startCloudFront}. */
export interface StartCloudFrontOptions extends CloudFrontStandInOptions {
  /** Loopback port; 0 (default) picks a free one. */
  readonly port?: number;
}

/** A running CloudFront stand-in. */
export interface RunningCloudFront {
  /** Base URL for `new CloudFrontClient({ endpoint: url })`. */
  readonly url: string;
  readonly standIn: CloudFrontStandIn;
  close(): Promise<void>;
}

/** Starts a CloudFront stand-in on 127.0.0.1. */
export async function startCloudFront(options: StartCloudFrontOptions = {}): Promise<RunningCloudFront> {
  const { port = 0, ...standInOptions } = options;
  const standIn = createCloudFrontStandIn(standInOptions);
  const server = createServer((request, response) => {
    void standIn.handle(request, response);
  });
  // A client that stalls mid-body must not hold a connection for Node's default 5 minutes.
  server.requestTimeout = 30_000;
  const url = await listen(server, port, 'CloudFront API stand-in');
  return { url, standIn, close: () => close(server) };
}
