import { randomUUID } from 'node:crypto';
import { deepFreeze } from '../../../lib/config/deep-freeze.ts';
import { CloudFrontApiError } from './errors.ts';
import { newETag } from './ids.ts';
import { checkIfMatch, type OperationInput, page } from './input.ts';
import type { OperationContext, OperationResult } from './operation.ts';
import type { CloudFrontRecords, ResponseHeadersPolicyRecord } from './records.ts';
import { itemsElement, VERSION_PATH, xmlReply } from './replies.ts';
import { ROOT, readResponseHeadersPolicyConfig } from './response-headers-policy-config.ts';
import { parseXmlDocument, type XmlObject } from './xml.ts';

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
