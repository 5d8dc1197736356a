import { CloudFrontApiError } from './errors.ts';
import type { OperationName } from './operations.ts';
import { VERSION_PATH } from './replies.ts';

/** Which operation a request reaches, and the resource id its path names (empty for collections). */
export interface Route {
  readonly operation: OperationName;
  readonly id: string;
}

/** Path shapes, and which operation each method reaches there. `{id}` is the first capture. */
const ROUTES: readonly {
  readonly pattern: RegExp;
  readonly methods: Readonly<Record<string, OperationName>>;
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
  {
    pattern: /^\/response-headers-policy$/,
    methods: { POST: 'CreateResponseHeadersPolicy', GET: 'ListResponseHeadersPolicies' },
  },
  {
    pattern: /^\/response-headers-policy\/([^/]+)$/,
    methods: {
      GET: 'GetResponseHeadersPolicy',
      PUT: 'UpdateResponseHeadersPolicy',
      DELETE: 'DeleteResponseHeadersPolicy',
    },
  },
  {
    pattern: /^\/response-headers-policy\/([^/]+)\/config$/,
    methods: { GET: 'GetResponseHeadersPolicyConfig' },
  },
];

/** The operations whose request carries an XML document; the others' bodies are never read. */
const WITH_BODY: ReadonlySet<OperationName> = new Set([
  'CreatePublicKey',
  'CreateKeyGroup',
  'UpdateKeyGroup',
  'CreateDistribution',
  'UpdateDistribution',
  'CreateResponseHeadersPolicy',
  'UpdateResponseHeadersPolicy',
]);

/**
 * The operation `method` reaches at `pathname`. A known path with another method is
 * `MethodNotAllowed` (with `Allow`); any other path is `NotFound`.
 */
export function routeOf(method: string, pathname: string): Route {
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

/** Whether `operation` takes a request body. */
export function takesBody(operation: OperationName): boolean {
  return WITH_BODY.has(operation);
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
