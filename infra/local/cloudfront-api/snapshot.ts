import { deepFreeze } from '../../../lib/config/deep-freeze.ts';
import { type CacheBehaviorView, type OriginView, readDistributionConfig } from './distribution-config.ts';
import type { CloudFrontRecords } from './records.ts';
import {
  type ResponseHeadersPolicyView,
  readResponseHeadersPolicyConfig,
} from './response-headers-policy-config.ts';
import type { XmlObject } from './xml.ts';

/** A public key as the edge sees it. */
export interface PublicKeySnapshot {
  readonly id: string;
  readonly name: string;
  /** The SPKI PEM as uploaded. */
  readonly encodedKey: string;
  /** ISO 8601. */
  readonly createdTime: string;
}

/** A key group as the edge sees it: the public key ids it trusts. */
export interface KeyGroupSnapshot {
  readonly id: string;
  readonly name: string;
  readonly items: readonly string[];
}

/** A distribution as the edge sees it. */
export interface DistributionSnapshot {
  readonly id: string;
  /** `dXXXXXXXXXXXXX.cloudfront.net`. */
  readonly domainName: string;
  readonly enabled: boolean;
  /** The whole DistributionConfig as parsed (text leaves; lists under `Items` are arrays). */
  readonly config: XmlObject;
  readonly origins: readonly OriginView[];
  /** Cache behaviours in precedence order, the default (`*`) last. */
  readonly behaviors: readonly CacheBehaviorView[];
}

/**
 * The control plane's state at one moment, deeply frozen. The edge keeps these and applies each one
 * a propagation delay after `takenAt`, the way CloudFront's edges lag behind its API.
 */
export interface CloudFrontSnapshot {
  /** Epoch milliseconds by the stand-in's clock when this state was committed. */
  readonly takenAt: number;
  readonly publicKeys: ReadonlyMap<string, PublicKeySnapshot>;
  readonly keyGroups: ReadonlyMap<string, KeyGroupSnapshot>;
  readonly distributions: ReadonlyMap<string, DistributionSnapshot>;
  /** Response headers policies by id: the edge applies the CORS part of a behaviour's policy. */
  readonly responseHeadersPolicies: ReadonlyMap<string, ResponseHeadersPolicyView>;
}

/** The values of a snapshot, built once per write and shared (they are frozen). */
export interface SnapshotParts {
  readonly takenAt: number;
  readonly publicKeys: readonly PublicKeySnapshot[];
  readonly keyGroups: readonly KeyGroupSnapshot[];
  readonly distributions: readonly DistributionSnapshot[];
  readonly responseHeadersPolicies: readonly ResponseHeadersPolicyView[];
}

/** Projects the records onto what the edge needs; throws if a stored distribution config is invalid. */
export function buildSnapshotParts(records: CloudFrontRecords, takenAt: number): SnapshotParts {
  return deepFreeze({
    takenAt,
    publicKeys: [...records.publicKeys.values()].map(({ id, name, encodedKey, createdTime }) => ({
      id,
      name,
      encodedKey,
      createdTime,
    })),
    keyGroups: [...records.keyGroups.values()].map(({ id, name, items }) => ({ id, name, items })),
    distributions: [...records.distributions.values()].map(({ id, domainName, config }) => {
      const view = readDistributionConfig(config);
      return {
        id,
        domainName,
        enabled: view.enabled,
        config,
        origins: view.origins,
        behaviors: view.behaviors,
      };
    }),
    responseHeadersPolicies: [...records.responseHeadersPolicies.values()].map(({ id, config }) => ({
      id,
      ...readResponseHeadersPolicyConfig(config),
    })),
  });
}

/**
 * A fresh snapshot over shared frozen parts. The maps are new on every call, so a consumer that
 * casts away `ReadonlyMap` and mutates one cannot change what anyone else sees.
 */
export function snapshotOf(parts: SnapshotParts): CloudFrontSnapshot {
  return Object.freeze({
    takenAt: parts.takenAt,
    publicKeys: new Map(parts.publicKeys.map((key) => [key.id, key])),
    keyGroups: new Map(parts.keyGroups.map((group) => [group.id, group])),
    distributions: new Map(parts.distributions.map((distribution) => [distribution.id, distribution])),
    responseHeadersPolicies: new Map(parts.responseHeadersPolicies.map((policy) => [policy.id, policy])),
  });
}
