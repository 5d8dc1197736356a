import * as z from 'zod';
import { PROBLEM_TYPES } from './problems.ts';
import {
  healthResponse,
  problemResponse,
  signedCookiesRequest,
  signedCookiesResponse,
  signedUrlsRequest,
  signedUrlsResponse,
} from './schemas.ts';

const schema = (s: z.ZodType) =>
  z.toJSONSchema(s, { target: 'draft-2020-12', io: 'input', unrepresentable: 'any' });
const output = (s: z.ZodType) =>
  z.toJSONSchema(s, { target: 'draft-2020-12', io: 'output', unrepresentable: 'any' });

const problem = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
});

const errors = {
  '400': problem(
    'invalid-request: the body is not valid, or a URL cannot be signed (see `code` and `errors`)',
  ),
  '401': problem('unauthenticated: no valid bearer token or API key'),
  '403': problem('resource-not-granted or origin-not-allowed'),
  '404': problem('unknown-profile'),
  '413': problem('payload-too-large'),
  '415': problem('unsupported-media-type: send Content-Type: application/json'),
  '422': problem('ttl-exceeded: the expiry is longer than the grant allows'),
  '503': problem('keys-unavailable: retry after the Retry-After header'),
};

/**
 * The OpenAPI 3.1 document, generated from the same zod schemas the routes validate with, so the
 * two cannot drift.
 */
export function openApiDocument(): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Signet',
      version: '1',
      description:
        'Hands out Amazon CloudFront signed URLs and signed cookies to authenticated callers. Authenticate with ' +
        '`Authorization: Bearer <JWT>` or `x-api-key`. Errors are application/problem+json; every answer carries ' +
        '`Cache-Control: no-store`.',
    },
    paths: {
      '/v1/signed-urls': {
        post: {
          operationId: 'signUrls',
          summary: 'Sign one URL or a batch of up to 100',
          security: [{ bearer: [] }, { apiKey: [] }],
          requestBody: {
            required: true,
            content: { 'application/json': { schema: schema(signedUrlsRequest) } },
          },
          responses: {
            '200': {
              description: 'The signed URLs',
              content: { 'application/json': { schema: output(signedUrlsResponse) } },
            },
            ...errors,
          },
        },
      },
      '/v1/signed-cookies': {
        post: {
          operationId: 'signCookies',
          summary:
            'Sign CloudFront cookies for a resource (Set-Cookie headers and the same cookies in the body)',
          description:
            'Browsers: call with credentials: "include" from an allowed origin on the CDN\'s site, and ask again ' +
            "after `refreshIn` seconds. Apps: put the body's cookies in the HTTP client's cookie store for the " +
            'CDN host. See docs/frontends.md.',
          security: [{ bearer: [] }, { apiKey: [] }],
          requestBody: {
            required: true,
            content: { 'application/json': { schema: schema(signedCookiesRequest) } },
          },
          responses: {
            '200': {
              description: 'The cookies',
              headers: {
                'Set-Cookie': {
                  schema: { type: 'string' },
                  description:
                    "One per cookie; Secure; HttpOnly; the profile's Domain, Path and SameSite. Session cookies, " +
                    "or with the profile's cookie.persistent, Max-Age and Expires at the policy's expiry",
                },
              },
              content: { 'application/json': { schema: output(signedCookiesResponse) } },
            },
            ...errors,
          },
        },
      },
      '/v1/health': {
        get: {
          operationId: 'health',
          summary: 'Whether each profile can sign now (no secrets)',
          responses: {
            '200': {
              description: 'At least one profile can sign',
              content: { 'application/json': { schema: output(healthResponse) } },
            },
            '503': {
              description: 'No profile can sign',
              content: { 'application/json': { schema: output(healthResponse) } },
            },
          },
        },
      },
    },
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
        apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key' },
      },
      schemas: { Problem: output(problemResponse) },
    },
    'x-problem-types': Object.fromEntries(
      Object.entries(PROBLEM_TYPES).map(([name, { status, title }]) => [
        `/problems/${name}`,
        { status, title },
      ]),
    ),
  };
}
