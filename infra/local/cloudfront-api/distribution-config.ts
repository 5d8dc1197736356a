import { CloudFrontApiError } from './errors.ts';
import type { DistributionRecord, KeyGroupRecord } from './records.ts';
import {
  readBoolean,
  readInteger,
  readItems,
  readStructure,
  readText,
  readTextItems,
  requireStructure,
  requireText,
  type XmlObject,
  type XmlValue,
} from './xml.ts';

/** An origin of a distribution, as the edge needs it. */
export interface OriginView {
  readonly id: string;
  readonly domainName: string;
  readonly originPath: string;
}

/** A cache behaviour, as the edge needs it. */
export interface CacheBehaviorView {
  /** `*` for the default cache behaviour. */
  readonly pathPattern: string;
  readonly isDefault: boolean;
  readonly targetOriginId: string;
  /**
   * Key groups whose keys may sign for this behaviour: empty when `TrustedKeyGroups` is absent or
   * disabled (the behaviour then serves unsigned requests).
   */
  readonly trustedKeyGroups: readonly string[];
  /** Every key group named in `TrustedKeyGroups.Items`, enabled or not: what DeleteKeyGroup checks. */
  readonly referencedKeyGroups: readonly string[];
  /** `ResponseHeadersPolicyId`: the policy whose headers (the CORS part, at the edge) this behaviour adds. */
  readonly responseHeadersPolicyId?: string;
  /** `AllowedMethods.Items`; CloudFront's default when absent is GET and HEAD. */
  readonly allowedMethods: readonly string[];
}

/** The parts of a DistributionConfig the stand-in checks and the edge uses. */
export interface DistributionConfigView {
  readonly callerReference: string;
  readonly enabled: boolean;
  readonly origins: readonly OriginView[];
  /** In CloudFront's precedence order: `CacheBehaviors` as listed, then the default behaviour. */
  readonly behaviors: readonly CacheBehaviorView[];
}

const ROOT = 'DistributionConfig';

function structureOf(value: XmlValue, path: string): XmlObject {
  if (typeof value === 'string' && value.trim() === '') return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new CloudFrontApiError('MalformedInput', `Expected ${path} to hold elements.`);
  }
  return value as XmlObject;
}

/**
 * CloudFront checks that every `Quantity` equals the number of `Items` beside it
 * (`InconsistentQuantities`); this walks the whole config so any list the stand-in does not model
 * is checked too.
 */
function checkQuantities(node: XmlObject, path: string): void {
  if ('Quantity' in node) {
    const quantity = readInteger(node, 'Quantity', path);
    const items = readStructure(node, 'Items', path) ?? {};
    const count = Object.values(items).reduce<number>(
      (sum, members) => sum + (Array.isArray(members) ? members.length : 0),
      0,
    );
    if (quantity !== count) {
      throw new CloudFrontApiError(
        'InconsistentQuantities',
        `Expected ${path}.Quantity to equal the number of ${path}.Items; Quantity is ${quantity}, Items holds ${count}.`,
      );
    }
  }
  for (const [name, child] of Object.entries(node)) {
    const members: readonly XmlValue[] = Array.isArray(child) ? child : [child];
    for (const member of members) {
      if (typeof member === 'object') checkQuantities(member as XmlObject, `${path}.${name}`);
    }
  }
}

function readTrustedKeyGroups(
  behavior: XmlObject,
  path: string,
): { trusted: string[]; referenced: string[] } {
  const trusted = readStructure(behavior, 'TrustedKeyGroups', path);
  if (trusted === undefined) return { trusted: [], referenced: [] };
  const groupPath = `${path}.TrustedKeyGroups`;
  const enabled = readBoolean(trusted, 'Enabled', groupPath);
  if (enabled === undefined) throw missing(`${groupPath}.Enabled`);
  if (readInteger(trusted, 'Quantity', groupPath) === undefined) throw missing(`${groupPath}.Quantity`);
  const referenced = readTextItems(trusted, 'KeyGroup', groupPath);
  if (new Set(referenced).size !== referenced.length) {
    throw new CloudFrontApiError(
      'InvalidArgument',
      `Expected ${groupPath}.Items to name each key group once.`,
    );
  }
  return { trusted: enabled ? referenced : [], referenced };
}

function missing(path: string): CloudFrontApiError {
  return new CloudFrontApiError('MalformedInput', `Missing required field ${path}.`);
}

function readBehavior(node: XmlObject, path: string, isDefault: boolean): CacheBehaviorView {
  const pathPattern = isDefault ? '*' : requireText(node, 'PathPattern', path);
  const targetOriginId = requireText(node, 'TargetOriginId', path);
  requireText(node, 'ViewerProtocolPolicy', path);
  const { trusted, referenced } = readTrustedKeyGroups(node, path);
  const policyId = readText(node, 'ResponseHeadersPolicyId', path);
  const methodsNode = readStructure(node, 'AllowedMethods', path);
  const allowedMethods =
    methodsNode === undefined
      ? ['GET', 'HEAD']
      : readTextItems(methodsNode, 'Method', `${path}.AllowedMethods`);
  return {
    pathPattern,
    isDefault,
    targetOriginId,
    trustedKeyGroups: trusted,
    referencedKeyGroups: referenced,
    ...(policyId === undefined || policyId === '' ? {} : { responseHeadersPolicyId: policyId }),
    allowedMethods,
  };
}

/**
 * Checks the structure of a DistributionConfig (required fields, quantities, origins the behaviours
 * target) and extracts what the stand-in and the edge need. Checks that need other resources (do
 * the trusted key groups exist?) are the caller's.
 */
export function readDistributionConfig(config: XmlObject): DistributionConfigView {
  checkQuantities(config, ROOT);
  const callerReference = requireText(config, 'CallerReference', ROOT);
  // Comment is required by the model but may be empty (the SDK sends `<Comment></Comment>`).
  if (readText(config, 'Comment', ROOT) === undefined) throw missing(`${ROOT}.Comment`);
  const enabled = readBoolean(config, 'Enabled', ROOT);
  if (enabled === undefined) throw missing(`${ROOT}.Enabled`);

  const originsNode = requireStructure(config, 'Origins', ROOT);
  const origins = readItems(originsNode, 'Origin', `${ROOT}.Origins`).map((value, index) => {
    const path = `${ROOT}.Origins.Items.Origin[${index}]`;
    const origin = structureOf(value, path);
    return {
      id: requireText(origin, 'Id', path),
      domainName: requireText(origin, 'DomainName', path),
      originPath: readText(origin, 'OriginPath', path) ?? '',
    };
  });
  if (origins.length === 0) {
    throw new CloudFrontApiError('InvalidArgument', `Expected at least one origin in ${ROOT}.Origins.`);
  }
  if (new Set(origins.map((origin) => origin.id)).size !== origins.length) {
    throw new CloudFrontApiError(
      'InvalidArgument',
      `Expected each origin Id in ${ROOT}.Origins to be unique.`,
    );
  }

  const cacheBehaviors = readStructure(config, 'CacheBehaviors', ROOT);
  const behaviors = (
    cacheBehaviors === undefined ? [] : readItems(cacheBehaviors, 'CacheBehavior', `${ROOT}.CacheBehaviors`)
  ).map((value, index) => {
    const path = `${ROOT}.CacheBehaviors.Items.CacheBehavior[${index}]`;
    return readBehavior(structureOf(value, path), path, false);
  });
  behaviors.push(
    readBehavior(
      requireStructure(config, 'DefaultCacheBehavior', ROOT),
      `${ROOT}.DefaultCacheBehavior`,
      true,
    ),
  );

  const originIds = new Set(origins.map((origin) => origin.id));
  for (const behavior of behaviors) {
    if (!originIds.has(behavior.targetOriginId)) {
      throw new CloudFrontApiError(
        'NoSuchOrigin',
        `Expected TargetOriginId of the cache behaviour for ${behavior.pathPattern} to name an origin; no origin has Id "${behavior.targetOriginId}".`,
      );
    }
  }
  return { callerReference, enabled, origins, behaviors };
}

/** The ARN CloudFront gives a distribution. */
export function distributionArn(accountId: string, id: string): string {
  return `arn:aws:cloudfront::${accountId}:distribution/${id}`;
}

/**
 * `ActiveTrustedKeyGroups` of a Distribution: each key group some behaviour trusts, with the public
 * key ids it holds now.
 */
function activeTrustedKeyGroups(
  view: DistributionConfigView,
  keyGroups: ReadonlyMap<string, KeyGroupRecord>,
): XmlObject {
  const ids = [...new Set(view.behaviors.flatMap((behavior) => behavior.trustedKeyGroups))];
  const groups = ids.map((id) => {
    const items = keyGroups.get(id)?.items ?? [];
    return {
      KeyGroupId: id,
      KeyPairIds: {
        Quantity: String(items.length),
        ...(items.length > 0 ? { Items: { KeyPairId: [...items] } } : {}),
      },
    };
  });
  return {
    Enabled: String(groups.length > 0),
    Quantity: String(groups.length),
    ...(groups.length > 0 ? { Items: { KeyGroup: groups } } : {}),
  };
}

/** The `Distribution` element of Create/Get/UpdateDistribution answers. */
export function buildDistribution(
  record: DistributionRecord,
  keyGroups: ReadonlyMap<string, KeyGroupRecord>,
  accountId: string,
): XmlObject {
  const view = readDistributionConfig(record.config);
  return {
    Id: record.id,
    ARN: distributionArn(accountId, record.id),
    // The stand-in deploys at once; the edge models propagation delay separately.
    Status: 'Deployed',
    LastModifiedTime: record.lastModifiedTime,
    InProgressInvalidationBatches: '0',
    DomainName: record.domainName,
    ActiveTrustedSigners: { Enabled: 'false', Quantity: '0' },
    ActiveTrustedKeyGroups: activeTrustedKeyGroups(view, keyGroups),
    DistributionConfig: record.config,
  };
}

/** Summary fields copied from the config when present, with CloudFront's defaults when not. */
const SUMMARY_DEFAULTS: readonly (readonly [string, XmlValue])[] = [
  ['Aliases', { Quantity: '0' }],
  ['Origins', { Quantity: '0' }],
  ['OriginGroups', { Quantity: '0' }],
  ['DefaultCacheBehavior', {}],
  ['CacheBehaviors', { Quantity: '0' }],
  ['CustomErrorResponses', { Quantity: '0' }],
  ['Comment', ''],
  ['PriceClass', 'PriceClass_All'],
  ['Enabled', 'true'],
  ['ViewerCertificate', { CloudFrontDefaultCertificate: 'true' }],
  ['Restrictions', { GeoRestriction: { RestrictionType: 'none', Quantity: '0' } }],
  ['WebACLId', ''],
  ['HttpVersion', 'http2'],
  ['IsIPV6Enabled', 'false'],
  ['Staging', 'false'],
];

/** A `DistributionSummary` element of ListDistributions. */
export function buildDistributionSummary(record: DistributionRecord, accountId: string): XmlObject {
  const summary: Record<string, XmlValue> = {
    Id: record.id,
    ARN: distributionArn(accountId, record.id),
    ETag: record.etag,
    Status: 'Deployed',
    LastModifiedTime: record.lastModifiedTime,
    DomainName: record.domainName,
  };
  for (const [name, fallback] of SUMMARY_DEFAULTS) summary[name] = record.config[name] ?? fallback;
  return summary;
}
