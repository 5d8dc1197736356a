import { z } from 'zod';
import { deepFreeze } from '../../../lib/config/deep-freeze.ts';
import type { XmlObject, XmlValue } from './xml.ts';

/** A stored public key: what CreatePublicKey was given, plus the id, version and time it got. */
export interface PublicKeyRecord {
  readonly id: string;
  readonly etag: string;
  readonly createdTime: string;
  readonly callerReference: string;
  readonly name: string;
  readonly encodedKey: string;
  readonly comment?: string;
}

/** A stored key group. `items` are public key ids, in the order the caller gave them. */
export interface KeyGroupRecord {
  readonly id: string;
  readonly etag: string;
  readonly lastModifiedTime: string;
  readonly name: string;
  readonly items: readonly string[];
  readonly comment?: string;
}

/** A stored distribution: its whole DistributionConfig as parsed, echoed back on every read. */
export interface DistributionRecord {
  readonly id: string;
  readonly etag: string;
  readonly lastModifiedTime: string;
  readonly domainName: string;
  readonly config: XmlObject;
}

/** A stored response headers policy: its whole ResponseHeadersPolicyConfig as parsed. */
export interface ResponseHeadersPolicyRecord {
  readonly id: string;
  readonly etag: string;
  readonly lastModifiedTime: string;
  readonly config: XmlObject;
}

/**
 * Everything the stand-in knows, as immutable records in maps that are replaced (never mutated) on
 * each write, so a failed save leaves the previous state untouched. Map order is creation order.
 */
export interface CloudFrontRecords {
  readonly publicKeys: ReadonlyMap<string, PublicKeyRecord>;
  readonly keyGroups: ReadonlyMap<string, KeyGroupRecord>;
  readonly distributions: ReadonlyMap<string, DistributionRecord>;
  readonly responseHeadersPolicies: ReadonlyMap<string, ResponseHeadersPolicyRecord>;
}

/** The state of a stand-in that has never been written to. */
export const EMPTY_RECORDS: CloudFrontRecords = {
  publicKeys: new Map(),
  keyGroups: new Map(),
  distributions: new Map(),
  responseHeadersPolicies: new Map(),
};

const DOCUMENT_VERSION = 1;

const xmlValueSchema: z.ZodType<XmlValue> = z.lazy(() =>
  z.union([z.string(), z.array(xmlValueSchema), z.record(z.string(), xmlValueSchema)]),
);

const documentSchema = z.object({
  version: z.literal(DOCUMENT_VERSION),
  publicKeys: z.array(
    z.object({
      id: z.string(),
      etag: z.string(),
      createdTime: z.string(),
      callerReference: z.string(),
      name: z.string(),
      encodedKey: z.string(),
      comment: z.string().optional(),
    }),
  ),
  keyGroups: z.array(
    z.object({
      id: z.string(),
      etag: z.string(),
      lastModifiedTime: z.string(),
      name: z.string(),
      items: z.array(z.string()),
      comment: z.string().optional(),
    }),
  ),
  distributions: z.array(
    z.object({
      id: z.string(),
      etag: z.string(),
      lastModifiedTime: z.string(),
      domainName: z.string(),
      config: z.record(z.string(), xmlValueSchema),
    }),
  ),
  // Added after version 1 was first saved: a document without it has no policies.
  responseHeadersPolicies: z
    .array(
      z.object({
        id: z.string(),
        etag: z.string(),
        lastModifiedTime: z.string(),
        config: z.record(z.string(), xmlValueSchema),
      }),
    )
    .default([]),
});

/** The JSON document a {@link StateStore} keeps for the CloudFront stand-in. */
export function recordsToDocument(records: CloudFrontRecords): unknown {
  return {
    version: DOCUMENT_VERSION,
    publicKeys: [...records.publicKeys.values()],
    keyGroups: [...records.keyGroups.values()],
    distributions: [...records.distributions.values()],
    responseHeadersPolicies: [...records.responseHeadersPolicies.values()],
  };
}

/**
 * Reads back what {@link recordsToDocument} saved; `undefined` (nothing saved yet) is the empty
 * state. A document of another shape fails loudly rather than starting from a half-read state.
 */
export function recordsFromDocument(document: unknown): CloudFrontRecords {
  if (document === undefined) return EMPTY_RECORDS;
  const parsed = documentSchema.safeParse(document);
  if (!parsed.success) {
    throw new Error(
      `Expected saved CloudFront stand-in state (version ${DOCUMENT_VERSION}); it does not match: ${z.prettifyError(parsed.error)}`,
      { cause: parsed.error },
    );
  }
  const { publicKeys, keyGroups, distributions, responseHeadersPolicies } = parsed.data;
  return {
    publicKeys: new Map(
      publicKeys.map(({ comment, ...key }) => [
        key.id,
        deepFreeze<PublicKeyRecord>({ ...key, ...(comment === undefined ? {} : { comment }) }),
      ]),
    ),
    keyGroups: new Map(
      keyGroups.map(({ comment, ...group }) => [
        group.id,
        deepFreeze<KeyGroupRecord>({ ...group, ...(comment === undefined ? {} : { comment }) }),
      ]),
    ),
    distributions: new Map(distributions.map((distribution) => [distribution.id, deepFreeze(distribution)])),
    responseHeadersPolicies: new Map(
      responseHeadersPolicies.map((policy) => [policy.id, deepFreeze(policy)]),
    ),
  };
}
