import { deepFreeze } from '../../../lib/config/deep-freeze.ts';
import {
  buildDistribution,
  buildDistributionSummary,
  readDistributionConfig,
} from './distribution-config.ts';
import { CloudFrontApiError } from './errors.ts';
import { newDistributionId, newDomainName, newETag, newKeyGroupId, newPublicKeyId } from './ids.ts';
import { checkIfMatch, checkName, type OperationInput, page, readComment } from './input.ts';
import type { OperationContext, OperationResult } from './operation.ts';
import { checkPublicKeyPem } from './pem.ts';
import type { CloudFrontRecords, DistributionRecord, KeyGroupRecord, PublicKeyRecord } from './records.ts';
import {
  itemsElement,
  keyGroupConfigXml,
  keyGroupXml,
  publicKeyConfigXml,
  publicKeyXml,
  type Reply,
  VERSION_PATH,
  xmlReply,
} from './replies.ts';
import { RESPONSE_HEADERS_POLICY_OPERATIONS } from './response-headers-policy.ts';
import {
  parseXmlDocument,
  readText,
  readTextItems,
  requireStructure,
  requireText,
  type XmlObject,
} from './xml.ts';

export type { OperationContext, OperationResult } from './operation.ts';

type Operation = (input: OperationInput, context: OperationContext) => OperationResult;

// --- lookups and record updates ---

function findPublicKey(context: OperationContext, id: string): PublicKeyRecord {
  const key = context.records.publicKeys.get(id);
  if (key === undefined)
    throw new CloudFrontApiError('NoSuchPublicKey', `The specified public key ${id} does not exist.`);
  return key;
}

function findKeyGroup(context: OperationContext, id: string): KeyGroupRecord {
  const group = context.records.keyGroups.get(id);
  if (group === undefined)
    throw new CloudFrontApiError('NoSuchResource', `The specified key group ${id} does not exist.`);
  return group;
}

function findDistribution(context: OperationContext, id: string): DistributionRecord {
  const distribution = context.records.distributions.get(id);
  if (distribution === undefined) {
    throw new CloudFrontApiError('NoSuchDistribution', `The specified distribution ${id} does not exist.`);
  }
  return distribution;
}

function withPublicKey(records: CloudFrontRecords, key: PublicKeyRecord): CloudFrontRecords {
  return { ...records, publicKeys: new Map(records.publicKeys).set(key.id, deepFreeze(key)) };
}

function withKeyGroup(records: CloudFrontRecords, group: KeyGroupRecord): CloudFrontRecords {
  return { ...records, keyGroups: new Map(records.keyGroups).set(group.id, deepFreeze(group)) };
}

function withDistribution(records: CloudFrontRecords, distribution: DistributionRecord): CloudFrontRecords {
  return {
    ...records,
    distributions: new Map(records.distributions).set(distribution.id, deepFreeze(distribution)),
  };
}

// --- public keys ---

function publicKeyCreated(key: PublicKeyRecord, baseUrl: string): Reply {
  return xmlReply(201, 'PublicKey', publicKeyXml(key), {
    ETag: key.etag,
    Location: `${baseUrl}${VERSION_PATH}/public-key/${key.id}`,
  });
}

function createPublicKey(input: OperationInput, context: OperationContext): OperationResult {
  const { records } = context;
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
    const same = replayed.name === name && replayed.encodedKey === encodedKey && replayed.comment === comment;
    if (same && context.callerReferenceReplay === 'return-existing') {
      return { reply: publicKeyCreated(replayed, input.baseUrl) };
    }
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
  const { maxPublicKeys } = context.quotas;
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
    createdTime: context.now().toISOString(),
    callerReference,
    name,
    encodedKey,
    ...(comment === undefined ? {} : { comment }),
  };
  return { records: withPublicKey(records, key), reply: publicKeyCreated(key, input.baseUrl) };
}

function getPublicKey(input: OperationInput, context: OperationContext): OperationResult {
  const key = findPublicKey(context, input.id);
  return { reply: xmlReply(200, 'PublicKey', publicKeyXml(key), { ETag: key.etag }) };
}

function getPublicKeyConfig(input: OperationInput, context: OperationContext): OperationResult {
  const key = findPublicKey(context, input.id);
  return { reply: xmlReply(200, 'PublicKeyConfig', publicKeyConfigXml(key), { ETag: key.etag }) };
}

function listPublicKeys(input: OperationInput, context: OperationContext): OperationResult {
  const { items, maxItems, nextMarker } = page(context.records.publicKeys.values(), input.query);
  const summaries = items.map((key) => ({
    Id: key.id,
    Name: key.name,
    CreatedTime: key.createdTime,
    EncodedKey: key.encodedKey,
    ...(key.comment === undefined ? {} : { Comment: key.comment }),
  }));
  return {
    reply: xmlReply(200, 'PublicKeyList', {
      ...(nextMarker === undefined ? {} : { NextMarker: nextMarker }),
      MaxItems: String(maxItems),
      Quantity: String(summaries.length),
      ...itemsElement('PublicKeySummary', summaries),
    }),
  };
}

function deletePublicKey(input: OperationInput, context: OperationContext): OperationResult {
  const { records } = context;
  const key = findPublicKey(context, input.id);
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
  return { records: { ...records, publicKeys }, reply: { status: 204 } };
}

// --- key groups ---

/** Checks a KeyGroupConfig against the quotas and the other groups; `self` is the group being updated. */
function checkKeyGroupConfig(
  context: OperationContext,
  config: XmlObject,
  self: string | undefined,
): { name: string; items: string[]; comment?: string } {
  const { records } = context;
  const { maxKeysPerGroup } = context.quotas;
  const path = 'KeyGroupConfig';
  const name = requireText(config, 'Name', path);
  checkName(name, `${path}.Name`);
  requireStructure(config, 'Items', path);
  const items = readTextItems(config, 'PublicKey', path);
  const { comment } = readComment(config, path);
  // UNCONFIRMED: whether CloudFront accepts a key group without keys; refusing is the safe side (a
  // rotator that never empties a group works on both).
  if (items.length === 0) {
    throw new CloudFrontApiError('InvalidArgument', `Expected ${path}.Items to hold at least one PublicKey.`);
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
  const sameName = [...records.keyGroups.values()].find((group) => group.name === name && group.id !== self);
  if (sameName !== undefined) {
    throw new CloudFrontApiError(
      'KeyGroupAlreadyExists',
      `A key group named "${name}" already exists (${sameName.id}).`,
    );
  }
  return { name, items, ...(comment === undefined ? {} : { comment }) };
}

function createKeyGroup(input: OperationInput, context: OperationContext): OperationResult {
  const { records } = context;
  const config = checkKeyGroupConfig(context, parseXmlDocument(input.body, 'KeyGroupConfig'), undefined);
  const { maxKeyGroups } = context.quotas;
  // The quota comes after the content checks: a bad config is refused as such even on a full account.
  if (records.keyGroups.size >= maxKeyGroups) {
    throw new CloudFrontApiError(
      'TooManyKeyGroups',
      `The account already has the maximum of ${maxKeyGroups} key groups; delete one first.`,
    );
  }
  let id: string;
  do id = newKeyGroupId();
  while (records.keyGroups.has(id));
  const group: KeyGroupRecord = {
    id,
    etag: newETag(),
    lastModifiedTime: context.now().toISOString(),
    ...config,
  };
  return {
    records: withKeyGroup(records, group),
    reply: xmlReply(201, 'KeyGroup', keyGroupXml(group), {
      ETag: group.etag,
      Location: `${input.baseUrl}${VERSION_PATH}/key-group/${group.id}`,
    }),
  };
}

function getKeyGroup(input: OperationInput, context: OperationContext): OperationResult {
  const group = findKeyGroup(context, input.id);
  return { reply: xmlReply(200, 'KeyGroup', keyGroupXml(group), { ETag: group.etag }) };
}

function getKeyGroupConfig(input: OperationInput, context: OperationContext): OperationResult {
  const group = findKeyGroup(context, input.id);
  return { reply: xmlReply(200, 'KeyGroupConfig', keyGroupConfigXml(group), { ETag: group.etag }) };
}

function updateKeyGroup(input: OperationInput, context: OperationContext): OperationResult {
  // Parse errors first (a request CloudFront cannot read), then existence, then the version, then
  // the content: racing writers with one ETag all get PreconditionFailed but the winner.
  const parsed = parseXmlDocument(input.body, 'KeyGroupConfig');
  const current = findKeyGroup(context, input.id);
  checkIfMatch(input.ifMatch, current.etag);
  const config = checkKeyGroupConfig(context, parsed, current.id);
  const group: KeyGroupRecord = {
    id: current.id,
    etag: newETag(current.etag),
    lastModifiedTime: context.now().toISOString(),
    ...config,
  };
  return {
    records: withKeyGroup(context.records, group),
    reply: xmlReply(200, 'KeyGroup', keyGroupXml(group), { ETag: group.etag }),
  };
}

function listKeyGroups(input: OperationInput, context: OperationContext): OperationResult {
  const { items, maxItems, nextMarker } = page(context.records.keyGroups.values(), input.query);
  return {
    reply: xmlReply(200, 'KeyGroupList', {
      ...(nextMarker === undefined ? {} : { NextMarker: nextMarker }),
      MaxItems: String(maxItems),
      Quantity: String(items.length),
      ...itemsElement(
        'KeyGroupSummary',
        items.map((group) => ({ KeyGroup: keyGroupXml(group) })),
      ),
    }),
  };
}

function deleteKeyGroup(input: OperationInput, context: OperationContext): OperationResult {
  const { records } = context;
  const group = findKeyGroup(context, input.id);
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
  return { records: { ...records, keyGroups }, reply: { status: 204 } };
}

// --- distributions ---

/**
 * Checks a DistributionConfig, including that every trusted key group exists and fits the quota;
 * returns its CallerReference.
 */
function checkDistributionConfig(context: OperationContext, config: XmlObject): string {
  const { maxKeyGroupsPerCacheBehavior } = context.quotas;
  const view = readDistributionConfig(config);
  for (const behavior of view.behaviors) {
    if (behavior.referencedKeyGroups.length > maxKeyGroupsPerCacheBehavior) {
      throw new CloudFrontApiError(
        'TooManyKeyGroupsAssociatedToDistribution',
        `A cache behaviour trusts at most ${maxKeyGroupsPerCacheBehavior} key groups; the one for ${behavior.pathPattern} names ${behavior.referencedKeyGroups.length}.`,
      );
    }
    if (
      behavior.responseHeadersPolicyId !== undefined &&
      !context.records.responseHeadersPolicies.has(behavior.responseHeadersPolicyId)
    ) {
      throw new CloudFrontApiError(
        'NoSuchResponseHeadersPolicy',
        `The response headers policy ${behavior.responseHeadersPolicyId} of the cache behaviour for ${behavior.pathPattern} does not exist.`,
      );
    }
    const unknown = behavior.referencedKeyGroups.filter((id) => !context.records.keyGroups.has(id));
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
  context: OperationContext,
  status: number,
  distribution: DistributionRecord,
  headers: Record<string, string>,
): Reply {
  // A distribution write leaves the key groups alone, so the groups before it are the ones after it.
  const element = buildDistribution(distribution, context.records.keyGroups, context.accountId);
  return xmlReply(status, 'Distribution', element, { ETag: distribution.etag, ...headers });
}

function createDistribution(input: OperationInput, context: OperationContext): OperationResult {
  const { records } = context;
  const config = parseXmlDocument(input.body, 'DistributionConfig');
  const callerReference = checkDistributionConfig(context, config);
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
  const { maxDistributions } = context.quotas;
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
    lastModifiedTime: context.now().toISOString(),
    domainName: newDomainName(),
    config,
  };
  return {
    records: withDistribution(records, distribution),
    reply: distributionReply(context, 201, distribution, {
      Location: `${input.baseUrl}${VERSION_PATH}/distribution/${id}`,
    }),
  };
}

function getDistribution(input: OperationInput, context: OperationContext): OperationResult {
  return { reply: distributionReply(context, 200, findDistribution(context, input.id), {}) };
}

function getDistributionConfig(input: OperationInput, context: OperationContext): OperationResult {
  const distribution = findDistribution(context, input.id);
  return {
    reply: xmlReply(200, 'DistributionConfig', distribution.config, { ETag: distribution.etag }),
  };
}

function updateDistribution(input: OperationInput, context: OperationContext): OperationResult {
  const config = parseXmlDocument(input.body, 'DistributionConfig');
  const current = findDistribution(context, input.id);
  checkIfMatch(input.ifMatch, current.etag);
  const callerReference = checkDistributionConfig(context, config);
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
    lastModifiedTime: context.now().toISOString(),
    config,
  };
  return {
    records: withDistribution(context.records, distribution),
    reply: distributionReply(context, 200, distribution, {}),
  };
}

function listDistributions(input: OperationInput, context: OperationContext): OperationResult {
  const { items, maxItems, marker, nextMarker } = page(context.records.distributions.values(), input.query);
  return {
    reply: xmlReply(200, 'DistributionList', {
      Marker: marker,
      ...(nextMarker === undefined ? {} : { NextMarker: nextMarker }),
      MaxItems: String(maxItems),
      IsTruncated: String(nextMarker !== undefined),
      Quantity: String(items.length),
      ...itemsElement(
        'DistributionSummary',
        items.map((distribution) => buildDistributionSummary(distribution, context.accountId)),
      ),
    }),
  };
}

/**
 * Every operation the stand-in serves, by its CloudFront API name. The order is the one
 * `calls` lists them in.
 */
export const OPERATIONS = {
  CreatePublicKey: createPublicKey,
  GetPublicKey: getPublicKey,
  GetPublicKeyConfig: getPublicKeyConfig,
  ListPublicKeys: listPublicKeys,
  DeletePublicKey: deletePublicKey,
  CreateKeyGroup: createKeyGroup,
  GetKeyGroup: getKeyGroup,
  GetKeyGroupConfig: getKeyGroupConfig,
  UpdateKeyGroup: updateKeyGroup,
  ListKeyGroups: listKeyGroups,
  DeleteKeyGroup: deleteKeyGroup,
  CreateDistribution: createDistribution,
  GetDistribution: getDistribution,
  GetDistributionConfig: getDistributionConfig,
  UpdateDistribution: updateDistribution,
  ListDistributions: listDistributions,
  ...RESPONSE_HEADERS_POLICY_OPERATIONS,
} satisfies Record<string, Operation>;

/** The name of an operation the stand-in serves. */
export type OperationName = keyof typeof OPERATIONS;
