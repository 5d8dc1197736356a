import { randomUUID } from 'node:crypto';
import { deepFreeze } from '../../../lib/config/deep-freeze.ts';
import { CloudFrontApiError } from './errors.ts';
import { newETag } from './ids.ts';
import { checkIfMatch, type OperationInput, page } from './input.ts';
import type { OperationContext, OperationResult } from './operations.ts';
import type { CloudFrontRecords, ResponseHeadersPolicyRecord } from './records.ts';
import { itemsElement, VERSION_PATH, xmlReply } from './replies.ts';
import {
  parseXmlDocument,
  readBoolean,
  readInteger,
  readStructure,
  readTextItems,
  requireStructure,
  requireText,
  type XmlObject,
} from './xml.ts';

/**
 * The CORS part of a response headers policy, as the edge applies it (docs/design.md, "The
 * sandbox"). Only this subset of a policy is modelled: security, custom and server-timing headers
 * are stored and echoed but not added by the edge.
 */
export interface CorsView {
  /** Exact origins (`https://app.example.com`), or `*`. */
  readonly allowOrigins: readonly string[];
  readonly allowHeaders: readonly string[];
  /** `GET`, `HEAD`, `OPTIONS`, `PUT`, `POST`, `PATCH`, `DELETE`, or `ALL`. */
  readonly allowMethods: readonly string[];
  readonly allowCredentials: boolean;
  readonly exposeHeaders: readonly string[];
  readonly maxAgeSec?: number;
  /** Whether the policy's headers replace CORS headers the origin sent (else the origin's win). */
  readonly originOverride: boolean;
}

/** A response headers policy as the edge sees it. */
export interface ResponseHeadersPolicyView {
  readonly id: string;
  readonly name: string;
  readonly cors?: CorsView;
}

const METHODS = new Set(['GET', 'POST', 'OPTIONS', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'ALL']);
const ROOT = 'ResponseHeadersPolicyConfig';

/**
 * Checks a ResponseHeadersPolicyConfig (the fields CloudFront requires, the CORS lists and values)
 * and extracts the view. A policy without `CorsConfig` adds no CORS headers.
 */
export function readResponseHeadersPolicyConfig(config: XmlObject): { name: string; cors?: CorsView } {
  const name = requireText(config, 'Name', ROOT);
  if (!/^[A-Za-z0-9_-]{1,128}$/.test(name)) {
    throw new CloudFrontApiError(
      'InvalidArgument',
      `Expected ${ROOT}.Name to be 1 to 128 letters, digits, hyphens or underscores; got "${name}".`,
    );
  }
  const node = readStructure(config, 'CorsConfig', ROOT);
  if (node === undefined) return { name };
  const path = `${ROOT}.CorsConfig`;
  const list = (field: string, member: string, required: boolean): string[] => {
    const structure = required ? requireStructure(node, field, path) : readStructure(node, field, path);
    if (structure === undefined) return [];
    if (readInteger(structure, 'Quantity', `${path}.${field}`) === undefined) {
      throw new CloudFrontApiError('MalformedInput', `Missing required field ${path}.${field}.Quantity.`);
    }
    return readTextItems(structure, member, `${path}.${field}`);
  };
  const allowOrigins = list('AccessControlAllowOrigins', 'Origin', true);
  const allowHeaders = list('AccessControlAllowHeaders', 'Header', true);
  const allowMethods = list('AccessControlAllowMethods', 'Method', true);
  const exposeHeaders = list('AccessControlExposeHeaders', 'Header', false);
  const allowCredentials = readBoolean(node, 'AccessControlAllowCredentials', path);
  const originOverride = readBoolean(node, 'OriginOverride', path);
  if (allowCredentials === undefined || originOverride === undefined) {
    throw new CloudFrontApiError(
      'MalformedInput',
      `Missing required field ${path}.${allowCredentials === undefined ? 'AccessControlAllowCredentials' : 'OriginOverride'}.`,
    );
  }
  if (allowOrigins.length === 0) {
    throw new CloudFrontApiError(
      'InvalidArgument',
      `Expected at least one origin in ${path}.AccessControlAllowOrigins.`,
    );
  }
  const badMethod = allowMethods.find((method) => !METHODS.has(method));
  if (badMethod !== undefined) {
    throw new CloudFrontApiError(
      'InvalidArgument',
      `Expected ${path}.AccessControlAllowMethods to hold ${[...METHODS].join(', ')}; got "${badMethod}".`,
    );
  }
  // The CORS protocol forbids a wildcard origin with credentials; UNCONFIRMED that CloudFront refuses
  // the combination at write time, but a browser would refuse every such answer, so the stand-in does.
  if (allowCredentials && allowOrigins.includes('*')) {
    throw new CloudFrontApiError(
      'InvalidArgument',
      `Expected exact origins in ${path}.AccessControlAllowOrigins with AccessControlAllowCredentials true; got *.`,
    );
  }
  const maxAgeSec = readInteger(node, 'AccessControlMaxAgeSec', path);
  return {
    name,
    cors: {
      allowOrigins,
      allowHeaders,
      allowMethods,
      allowCredentials,
      exposeHeaders,
      ...(maxAgeSec === undefined ? {} : { maxAgeSec }),
      originOverride,
    },
  };
}

function findPolicy(context: OperationContext, id: string): ResponseHeadersPolicyRecord {
  const policy = context.records.responseHeadersPolicies.get(id);
  if (policy === undefined) {
    throw new CloudFrontApiError(
      'NoSuchResponseHeadersPolicy',
      `The specified response headers policy ${id} does not exist.`,
    );
  }
  return policy;
}

function withPolicy(records: CloudFrontRecords, policy: ResponseHeadersPolicyRecord): CloudFrontRecords {
  return {
    ...records,
    responseHeadersPolicies: new Map(records.responseHeadersPolicies).set(policy.id, deepFreeze(policy)),
  };
}

function policyXml(policy: ResponseHeadersPolicyRecord): XmlObject {
  return {
    Id: policy.id,
    LastModifiedTime: policy.lastModifiedTime,
    ResponseHeadersPolicyConfig: policy.config,
  };
}

function checkNameFree(context: OperationContext, name: string, self: string | undefined): void {
  const taken = [...context.records.responseHeadersPolicies.values()].find(
    (policy) => policy.id !== self && readResponseHeadersPolicyConfig(policy.config).name === name,
  );
  if (taken !== undefined) {
    throw new CloudFrontApiError(
      'ResponseHeadersPolicyAlreadyExists',
      `A response headers policy named "${name}" already exists (${taken.id}).`,
    );
  }
}

function createResponseHeadersPolicy(input: OperationInput, context: OperationContext): OperationResult {
  const config = parseXmlDocument(input.body, ROOT);
  const { name } = readResponseHeadersPolicyConfig(config);
  checkNameFree(context, name, undefined);
  let id: string;
  do id = randomUUID();
  while (context.records.responseHeadersPolicies.has(id));
  const policy: ResponseHeadersPolicyRecord = {
    id,
    etag: newETag(),
    lastModifiedTime: context.now().toISOString(),
    config,
  };
  return {
    records: withPolicy(context.records, policy),
    reply: xmlReply(201, 'ResponseHeadersPolicy', policyXml(policy), {
      ETag: policy.etag,
      Location: `${input.baseUrl}${VERSION_PATH}/response-headers-policy/${id}`,
    }),
  };
}

function getResponseHeadersPolicy(input: OperationInput, context: OperationContext): OperationResult {
  const policy = findPolicy(context, input.id);
  return { reply: xmlReply(200, 'ResponseHeadersPolicy', policyXml(policy), { ETag: policy.etag }) };
}

function getResponseHeadersPolicyConfig(input: OperationInput, context: OperationContext): OperationResult {
  const policy = findPolicy(context, input.id);
  return { reply: xmlReply(200, ROOT, policy.config, { ETag: policy.etag }) };
}

function updateResponseHeadersPolicy(input: OperationInput, context: OperationContext): OperationResult {
  const config = parseXmlDocument(input.body, ROOT);
  const current = findPolicy(context, input.id);
  checkIfMatch(input.ifMatch, current.etag);
  const { name } = readResponseHeadersPolicyConfig(config);
  checkNameFree(context, name, current.id);
  const policy: ResponseHeadersPolicyRecord = {
    ...current,
    etag: newETag(current.etag),
    lastModifiedTime: context.now().toISOString(),
    config,
  };
  return {
    records: withPolicy(context.records, policy),
    reply: xmlReply(200, 'ResponseHeadersPolicy', policyXml(policy), { ETag: policy.etag }),
  };
}

function deleteResponseHeadersPolicy(input: OperationInput, context: OperationContext): OperationResult {
  const policy = findPolicy(context, input.id);
  checkIfMatch(input.ifMatch, policy.etag);
  const users = [...context.records.distributions.values()].filter((distribution) =>
    JSON.stringify(distribution.config).includes(`"ResponseHeadersPolicyId":"${policy.id}"`),
  );
  if (users.length > 0) {
    throw new CloudFrontApiError(
      'ResponseHeadersPolicyInUse',
      `Response headers policy ${policy.id} is attached to distribution(s) ${users.map((d) => d.id).join(', ')}.`,
    );
  }
  const responseHeadersPolicies = new Map(context.records.responseHeadersPolicies);
  responseHeadersPolicies.delete(policy.id);
  return { records: { ...context.records, responseHeadersPolicies }, reply: { status: 204 } };
}

function listResponseHeadersPolicies(input: OperationInput, context: OperationContext): OperationResult {
  // Only custom policies exist in the stand-in; `Type=managed` lists none (UNCONFIRMED ids of
  // CloudFront's managed policies are not modelled).
  const type = input.query.get('Type');
  const all = type === 'managed' ? [] : [...context.records.responseHeadersPolicies.values()];
  const { items, maxItems, nextMarker } = page(all, input.query);
  return {
    reply: xmlReply(200, 'ResponseHeadersPolicyList', {
      ...(nextMarker === undefined ? {} : { NextMarker: nextMarker }),
      MaxItems: String(maxItems),
      Quantity: String(items.length),
      ...itemsElement(
        'ResponseHeadersPolicySummary',
        items.map((policy) => ({ Type: 'custom', ResponseHeadersPolicy: policyXml(policy) })),
      ),
    }),
  };
}

/** The response headers policy operations, by CloudFront API name. */
export const RESPONSE_HEADERS_POLICY_OPERATIONS = {
  CreateResponseHeadersPolicy: createResponseHeadersPolicy,
  GetResponseHeadersPolicy: getResponseHeadersPolicy,
  GetResponseHeadersPolicyConfig: getResponseHeadersPolicyConfig,
  UpdateResponseHeadersPolicy: updateResponseHeadersPolicy,
  DeleteResponseHeadersPolicy: deleteResponseHeadersPolicy,
  ListResponseHeadersPolicies: listResponseHeadersPolicies,
} as const;
