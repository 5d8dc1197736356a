import { CloudFrontApiError } from './errors.ts';
import {
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
/** The XML root of a policy's configuration. */
export const ROOT = 'ResponseHeadersPolicyConfig';

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
