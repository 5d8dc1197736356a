import * as z from 'zod';

/** The most URLs one request may sign. */
export const MAX_BATCH = 100;

const instant = z
  .union([z.number().int().nonnegative(), z.iso.datetime({ offset: true })])
  .describe('ISO 8601 (2026-11-22T12:00:00Z) or epoch seconds');

const signingFields = {
  profile: z
    .string()
    .min(1)
    .optional()
    .describe('The signing profile; default: the configured default profile'),
  expiresIn: z.number().int().positive().optional().describe('Seconds from now until the signature expires'),
  expiresAt: instant.optional().describe('When the signature expires (instead of expiresIn)'),
  notBefore: instant.optional().describe('Not valid before this time (makes the policy custom)'),
  ipAddress: z.string().min(1).optional().describe('IPv4 address or CIDR the viewer must come from'),
};

/** `POST /v1/signed-urls` body. */
export const signedUrlsRequest = z
  .strictObject({
    url: z.string().min(1).optional().describe('One URL to sign'),
    urls: z
      .array(z.string().min(1))
      .min(1)
      .max(MAX_BATCH)
      .optional()
      .describe(`Up to ${MAX_BATCH} URLs, all or nothing`),
    resource: z
      .string()
      .min(1)
      .optional()
      .describe('A wildcard resource the URLs fall under (custom policy, one signature for the batch)'),
    ...signingFields,
  })
  .refine((body) => (body.url === undefined) !== (body.urls === undefined), {
    message: 'Expected exactly one of `url` or `urls`',
  })
  .refine((body) => body.expiresIn === undefined || body.expiresAt === undefined, {
    message: 'Expected at most one of `expiresIn` or `expiresAt`',
  });

/** `POST /v1/signed-cookies` body. */
export const signedCookiesRequest = z
  .strictObject({
    resource: z.string().min(1).optional().describe('What the cookies cover; may be a wildcard'),
    url: z.string().min(1).optional().describe('Or: one exact object'),
    ...signingFields,
  })
  .refine((body) => body.resource !== undefined || body.url !== undefined, {
    message: 'Expected `resource` (may be a wildcard) or `url`',
  })
  .refine((body) => body.expiresIn === undefined || body.expiresAt === undefined, {
    message: 'Expected at most one of `expiresIn` or `expiresAt`',
  });

const expiry = {
  expires: z.number().int().describe('Expiry, epoch seconds'),
  expiresAt: z.string().describe('Expiry, ISO 8601 UTC'),
  keyId: z.string().describe('The CloudFront public key id that signed (Key-Pair-Id)'),
  profile: z.string(),
};

/** `POST /v1/signed-urls` answer. */
export const signedUrlsResponse = z.object({
  urls: z.array(z.object({ url: z.string(), expires: z.number().int(), expiresAt: z.string() })),
  ...expiry,
});

/** `POST /v1/signed-cookies` answer (the same cookies are also sent as Set-Cookie headers). */
export const signedCookiesResponse = z.object({
  cookies: z.array(
    z.object({
      name: z.string(),
      value: z.string(),
      domain: z.string().nullable(),
      path: z.string(),
      sameSite: z.enum(['Strict', 'Lax', 'None']),
      secure: z.literal(true),
      httpOnly: z.literal(true),
      maxAge: z
        .number()
        .int()
        .optional()
        .describe(
          'Persistent cookies only (profile cookie.persistent): seconds until the browser forgets it',
        ),
      expiresAt: z
        .string()
        .optional()
        .describe('Persistent cookies only: when the browser forgets it (Expires), ISO 8601 UTC'),
    }),
  ),
  ...expiry,
  expiresIn: z.number().int().describe('Seconds from this answer until the policy expires'),
  refreshIn: z
    .number()
    .int()
    .describe(
      'Seconds from this answer after which to ask for new cookies: a margin before expiry so no request ' +
        'reaches the CDN with an expired policy. Relative, so a client with a wrong clock still refreshes on time',
    ),
  refreshAt: z.string().describe('The same moment as refreshIn, ISO 8601 UTC (by the server clock)'),
  persistent: z
    .boolean()
    .describe('Whether the Set-Cookie headers carry Max-Age/Expires (else session cookies)'),
});

/** `GET /v1/health` answer. */
export const healthResponse = z.object({
  status: z.enum(['ok', 'degraded', 'unavailable']),
  profiles: z.record(
    z.string(),
    z.object({
      canSign: z.boolean(),
      activeKeyId: z.string().nullable(),
      ringAgeSeconds: z.number().int().nullable(),
      stale: z.boolean(),
      signingStartsAt: z
        .string()
        .optional()
        .describe(
          'Before the first key is active: when it will have propagated and signing starts (ISO 8601)',
        ),
    }),
  ),
});

/** An RFC 9457 problem. */
export const problemResponse = z.object({
  type: z.string().describe('/problems/<code>'),
  title: z.string(),
  status: z.number().int(),
  detail: z.string(),
  code: z.string().optional().describe('The stable error code (ERR_…) when there is one'),
  signingStartsAt: z
    .string()
    .optional()
    .describe('keys-unavailable before the first key is active: when signing starts (ISO 8601)'),
  errors: z
    .array(
      z.object({
        index: z.number().int().optional(),
        path: z.string().optional(),
        code: z.string().optional(),
        message: z.string(),
      }),
    )
    .optional()
    .describe('Each problem with the request, for a batch or a body that fails validation'),
});

/** A parsed `POST /v1/signed-urls` body. */
export type SignedUrlsRequest = z.output<typeof signedUrlsRequest>;
/** A parsed `POST /v1/signed-cookies` body. */
export type SignedCookiesRequest = z.output<typeof signedCookiesRequest>;
