import {
  type CloudFrontClient,
  CreateResponseHeadersPolicyCommand,
  GetResponseHeadersPolicyConfigCommand,
  ListResponseHeadersPoliciesCommand,
  type ResponseHeadersPolicyConfig,
  UpdateResponseHeadersPolicyCommand,
} from '@aws-sdk/client-cloudfront';

/**
 * What the CORS response headers policy of a profile's distribution says, in the sandbox and in the
 * AWS demo distribution (infra/aws/demo-distribution.yml) alike:
 * - the profile's `cors.origins`, exactly (no `*`: credentials are allowed);
 * - credentials allowed, because signed cookies only travel with `credentials: 'include'`, and a
 *   browser hands such a response to the page only with `Access-Control-Allow-Credentials: true`;
 * - GET, HEAD and OPTIONS: media is read, never written, through the CDN;
 * - the request headers players send on ranged and conditional reads;
 * - `Content-Range`, `Accept-Ranges` and `ETag` exposed, which fetch-based players read;
 * - OriginOverride true: the distribution is the one place that decides CORS for signed content,
 *   so an origin's own CORS headers (an S3 bucket CORS rule, perhaps `*`) never widen it, and the
 *   headers are computed per viewer request rather than cached with the first viewer's `Origin`.
 */
export const CORS_POLICY = {
  allowHeaders: ['Range', 'If-None-Match', 'If-Modified-Since', 'If-Range'],
  allowMethods: ['GET', 'HEAD', 'OPTIONS'],
  exposeHeaders: ['Content-Range', 'Accept-Ranges', 'ETag'],
  maxAgeSec: 600,
  originOverride: true,
} as const;

/** The sandbox's own diagnostic header, exposed locally so a page can show why the edge said 403. */
const LOCAL_EXPOSE = ['X-Signet-Reason'];

/** The ResponseHeadersPolicyConfig of {@link CORS_POLICY} for `origins`. */
export function corsPolicyConfig(input: {
  name: string;
  origins: readonly string[];
  credentials: boolean;
}): ResponseHeadersPolicyConfig {
  const expose = [...CORS_POLICY.exposeHeaders, ...LOCAL_EXPOSE];
  return {
    Name: input.name,
    Comment: 'Signet: CORS for the profile cors.origins',
    CorsConfig: {
      AccessControlAllowOrigins: { Quantity: input.origins.length, Items: [...input.origins] },
      AccessControlAllowHeaders: {
        Quantity: CORS_POLICY.allowHeaders.length,
        Items: [...CORS_POLICY.allowHeaders],
      },
      AccessControlAllowMethods: {
        Quantity: CORS_POLICY.allowMethods.length,
        Items: [...CORS_POLICY.allowMethods],
      },
      AccessControlAllowCredentials: input.credentials,
      AccessControlExposeHeaders: { Quantity: expose.length, Items: expose },
      AccessControlMaxAgeSec: CORS_POLICY.maxAgeSec,
      OriginOverride: CORS_POLICY.originOverride,
    },
  };
}

/**
 * Creates the named CORS policy through the CloudFront API, or updates it when its origins or
 * settings changed. Returns its id.
 */
export async function ensureCorsPolicy(
  client: CloudFrontClient,
  input: { name: string; origins: readonly string[]; credentials: boolean },
): Promise<string> {
  const wanted = corsPolicyConfig(input);
  const list = await client.send(new ListResponseHeadersPoliciesCommand({ Type: 'custom' }));
  const existing = list.ResponseHeadersPolicyList?.Items?.find(
    (item) => item.ResponseHeadersPolicy?.ResponseHeadersPolicyConfig?.Name === input.name,
  )?.ResponseHeadersPolicy;
  if (existing?.Id === undefined) {
    const created = await client.send(
      new CreateResponseHeadersPolicyCommand({ ResponseHeadersPolicyConfig: wanted }),
    );
    return created.ResponseHeadersPolicy!.Id!;
  }
  const current = await client.send(new GetResponseHeadersPolicyConfigCommand({ Id: existing.Id }));
  const cors = current.ResponseHeadersPolicyConfig?.CorsConfig;
  const same =
    JSON.stringify(cors?.AccessControlAllowOrigins?.Items ?? []) === JSON.stringify(input.origins) &&
    cors?.AccessControlAllowCredentials === input.credentials &&
    JSON.stringify(cors?.AccessControlExposeHeaders?.Items ?? []) ===
      JSON.stringify(wanted.CorsConfig!.AccessControlExposeHeaders!.Items);
  if (!same) {
    await client.send(
      new UpdateResponseHeadersPolicyCommand({
        Id: existing.Id,
        IfMatch: current.ETag,
        ResponseHeadersPolicyConfig: wanted,
      }),
    );
  }
  return existing.Id;
}
