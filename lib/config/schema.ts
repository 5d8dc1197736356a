import * as z from 'zod';
import { STAGE } from '../rotation/names.ts';
import { validateRotationTimings } from '../rotation/timings.ts';
import { describeCookies } from '../signing/cookies.ts';

/**
 * A length of time in whole seconds: a number of seconds, or text like "90s", "5m", "1h", "30d".
 * Config files are read by people: "30d" is clearer than 2592000.
 */
export const duration = z.union([z.number().int().nonnegative(), z.string()]).transform((value, ctx) => {
  if (typeof value === 'number') return value;
  const match = /^(\d+)\s*(s|m|h|d)$/.exec(value.trim());
  if (match === null) {
    ctx.addIssue({
      code: 'custom',
      message: `Expected seconds or a duration like "90s", "5m", "1h", "30d"; got ${JSON.stringify(value)}`,
    });
    return z.NEVER;
  }
  const unit = { s: 1, m: 60, h: 3600, d: 86_400 }[match[2] as 's' | 'm' | 'h' | 'd'];
  return Number(match[1]) * unit;
});

const hostname = z
  .string()
  .regex(
    /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(:\d{1,5})?$/,
    'Expected a lowercase host name like media.example.com (optionally with :port)',
  );

const origin = z
  .string()
  .regex(
    /^https?:\/\/[^/\s]+$/,
    'Expected an origin like https://app.example.com (scheme and host, no path)',
  );

/**
 * When a grant applies. `claims`: every named claim must hold the value (a claim that is an array,
 * or a space-separated string such as `scope`, holds each of its items). `apiKeys`: the caller used
 * an API key of one of these principals (a key's id unless its record names a principal: see
 * docs/operators.md, "API keys"). Both given: either may match.
 */
export const grantWhen = z
  .strictObject({
    claims: z.record(z.string(), z.union([z.string(), z.array(z.string()).min(1)])).optional(),
    apiKeys: z.array(z.string().min(1)).min(1).optional(),
  })
  .refine((when) => when.claims !== undefined || when.apiKeys !== undefined, {
    message: 'Expected `claims` or `apiKeys`: a grant that names neither would apply to no one',
  });

/**
 * One grant: who (`when`) may sign what (`resources`, URL patterns on the profile's domains; `*` a
 * run of characters inside one path segment or more, `{claim}` the caller's claim) for how long.
 */
export const grantSchema = z.strictObject({
  when: grantWhen,
  resources: z
    .array(z.string().regex(/^https?:\/\//, 'Expected an https:// (or http://) URL pattern'))
    .min(1),
  /** The longest expiry this grant allows, seconds; at most the profile's `ttl.max`. */
  maxTtl: duration.optional(),
});

export const profileSchema = z.strictObject({
  /** The CDN host names this profile signs for (the distribution's domain and aliases). */
  domains: z.array(hostname).min(1),
  keyRing: z.strictObject({
    /** The Secrets Manager secret that holds the key ring (name or ARN). */
    secretId: z.string().min(1),
  }),
  /** The CloudFront key group the distribution trusts; the ring records it too. */
  keyGroupId: z.string().min(1).optional(),
  /**
   * The config's top-level `stage`, copied here when the config is parsed (so a parsed config
   * written out reads back the same); set at the top level, not here.
   */
  stage: z.string().regex(STAGE).optional(),
  /**
   * The config's `aws.publicKeyQuota`, copied here when the config is parsed, as `stage` is: the
   * planner judges one profile at a time. Set it under `aws`, not here.
   */
  publicKeyQuota: z.number().int().positive().optional(),
  /** A distribution whose cache behaviours should trust the key group (checked by `signet doctor`). */
  distributionId: z.string().min(1).optional(),
  /** The algorithm of keys the rotator creates. */
  algorithm: z.enum(['ecdsa-p256', 'rsa-2048']).default('ecdsa-p256'),
  /** RSA keys may sign with SHA-1 (classic) or SHA-256; ECDSA always signs with SHA-256. */
  hash: z.enum(['sha1', 'sha256']).optional(),
  /**
   * Where the private key lives: `secrets-manager` (in the key ring secret) or `kms` (an asymmetric
   * AWS KMS key that signs each policy; the ring holds only its ARN). docs/operators.md, "KMS signing".
   */
  signer: z.enum(['secrets-manager', 'kms']).default('secrets-manager'),
  /**
   * `retiring`: a profile switched back from `signer: kms` whose ring may still hold KMS keys. Keeps the
   * KMS grants and the KMS-enabled API entry deployed, and makes every rotator run sweep the KMS keys
   * tagged for its ring, until the ring holds none; then remove it. docs/operators.md, "KMS signing".
   */
  kms: z.enum(['retiring']).optional(),
  /**
   * `kms` profiles only, opt-in: expiries are rounded to this grid (seconds), so identical policies
   * within one window reuse one cached KMS signature. Never past the grant's or `ttl.max`'s ceiling.
   */
  expiryRounding: duration.optional(),
  ttl: z
    .strictObject({ default: duration.default(300), max: duration.default(86_400) })
    .default({ default: 300, max: 86_400 }),
  cookie: z
    .strictObject({
      domain: z.string().optional(),
      path: z.string().default('/'),
      sameSite: z.enum(['Strict', 'Lax', 'None']).default('Lax'),
      /**
       * `Max-Age`/`Expires` at the policy's expiry, for apps that keep cookies across browser
       * restarts. Default false: session cookies, as AWS recommends (docs/design.md, "Contracts").
       */
      persistent: z.boolean().default(false),
    })
    .default({ path: '/', sameSite: 'Lax', persistent: false }),
  cors: z.strictObject({ origins: z.array(origin).default([]) }).default({ origins: [] }),
  /**
   * Whether callers may ask for IP-restricted policies (`ipAddress`). CloudFront's `IpAddress`
   * condition is IPv4 only, so on a distribution with IPv6 enabled such URLs refuse IPv6 viewers;
   * doctor warns about that combination. `false` makes the API refuse `ipAddress`.
   */
  allowIpRestriction: z.boolean().default(true),
  grants: z.array(grantSchema).default([]),
  cache: z
    .strictObject({ ttl: duration.default(300), maxStale: duration.default(3600) })
    .default({ ttl: 300, maxStale: 3600 }),
  rotation: z
    .strictObject({
      rotateEvery: duration.default(30 * 86_400),
      propagation: duration.default(3600),
      clockSkew: duration.default(300),
      /** Extra wait before an old key is removed, beyond maxStale + max TTL + clock skew. */
      removeAfter: duration.optional(),
      canary: z.strictObject({ url: z.string().url() }).optional(),
    })
    .default({ rotateEvery: 2_592_000, propagation: 3600, clockSkew: 300 }),
});

export const authSchema = z.strictObject({
  jwt: z
    .strictObject({
      issuer: z.string().min(1),
      audience: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
      jwksUrl: z.string().url(),
      /** Asymmetric algorithms only: HMAC would make the issuer's verification secret a signing secret. */
      algorithms: z
        .array(
          z.enum(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA']),
        )
        .min(1)
        .default(['RS256', 'ES256']),
      clockTolerance: duration.default(30),
      /**
       * How long a key the issuer withdrew from its JWKS still verifies tokens: the fetched key set is
       * refetched after this, and a verified token is remembered at most this long (see the token
       * cache in lib/auth/authenticator.ts). Lower is a faster cut-off, at one JWKS fetch per period.
       */
      jwksMaxAge: duration
        .default(300)
        .refine((seconds) => seconds >= 1 && seconds <= 86_400, 'Expected jwksMaxAge between 1s and 1d'),
    })
    .optional(),
  apiKeys: z
    .strictObject({
      /** A secret holding {"keys":[{"id":"mobile-app","sha256":"<hex of the key>"}]}. */
      secretId: z.string().min(1),
    })
    .optional(),
  /** Take verified claims from an API Gateway JWT authorizer (requestContext.authorizer.jwt.claims). */
  trustGatewayClaims: z.boolean().default(false),
  /**
   * Claims that API Gateway hands over as "[a b c]" strings and that grants should read as arrays
   * (for example `cognito:groups`). Only these are split: the rendering cannot tell an item holding a
   * space from two items, so a claim is split only where the operator knows its items have none.
   */
  gatewayArrayClaims: z.array(z.string().min(1)).default([]),
});

/**
 * Where the AWS services are. Empty in production (the SDK's defaults and the standard
 * AWS_ENDPOINT_URL_* variables apply); the sandbox and LocalStack set endpoints here.
 */
export const awsSchema = z.strictObject({
  region: z.string().min(1).optional(),
  /**
   * CloudFront's quota of public keys in this account, once raised in Service Quotas (default 10,
   * shared by every stage and profile). The rotator plans with it and doctor and the status page
   * count against it; Signet does not read Service Quotas (docs/operators.md, "Several stages in one
   * account").
   */
  publicKeyQuota: z
    .number()
    .int('Expected a whole number of public keys')
    .min(
      1,
      'Expected the public key quota Service Quotas shows for CloudFront (at least 1; the default is 10)',
    )
    .optional(),
  endpoints: z
    .strictObject({
      secretsManager: z.string().url().optional(),
      cloudfront: z.string().url().optional(),
      kms: z.string().url().optional(),
    })
    .optional(),
});

/**
 * The signing API as browsers reach it. `publicOrigin` (optional): the origin pages call, e.g.
 * `https://api.example.com`; `signet doctor` judges the cookie topology against it (browsers drop a
 * cookie the API sets unless the API, the cookie's Domain and the CDN share one site), and
 * `signet start --https` puts its host in the local certificate.
 */
export const apiSchema = z.strictObject({
  publicOrigin: z
    .string()
    .regex(
      /^https?:\/\/[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\d{1,5})?$/,
      'Expected an origin like https://api.example.com (scheme, lowercase host, optional port; no path or trailing slash)',
    )
    .optional(),
});

export const configSchema = z
  .strictObject({
    /**
     * The deployment stage (`dev`, `prod`, `local` for the sandbox): key groups are named
     * `signet-<stage>-<profile>` so that stages share an account (docs/design.md, "Contracts").
     * Packaging sets it from the serverless stage; without it, groups keep the name `signet-<profile>`.
     */
    stage: z
      .string()
      .regex(STAGE, 'Expected a stage of lowercase letters, digits and dashes (at most 32)')
      .optional(),
    defaultProfile: z.string().optional(),
    aws: awsSchema.optional(),
    api: apiSchema.optional(),
    auth: authSchema.default({ trustGatewayClaims: false, gatewayArrayClaims: [] }),
    profiles: z.record(
      z
        .string()
        .regex(
          /^[a-z0-9][a-z0-9-]{0,62}$/,
          'Expected a profile name of lowercase letters, digits and dashes',
        ),
      profileSchema,
    ),
  })
  .superRefine((config, ctx) => {
    const names = Object.keys(config.profiles);
    if (names.length === 0)
      ctx.addIssue({ code: 'custom', path: ['profiles'], message: 'Expected at least one profile' });
    if (config.defaultProfile !== undefined && !names.includes(config.defaultProfile)) {
      ctx.addIssue({
        code: 'custom',
        path: ['defaultProfile'],
        message: `Expected one of the profiles (${names.join(', ')}); got ${config.defaultProfile}`,
      });
    }
    for (const [name, profile] of Object.entries(config.profiles)) {
      if (profile.publicKeyQuota !== undefined && profile.publicKeyQuota !== config.aws?.publicKeyQuota) {
        ctx.addIssue({
          code: 'custom',
          path: ['profiles', name, 'publicKeyQuota'],
          message: `Expected the public key quota under aws (aws.publicKeyQuota: ${profile.publicKeyQuota}); it is the account's, so a profile takes the config's`,
        });
      }
      if (profile.stage !== undefined && profile.stage !== config.stage) {
        ctx.addIssue({
          code: 'custom',
          path: ['profiles', name, 'stage'],
          message: `Expected the stage at the top level of the config (stage: ${profile.stage}); a profile takes the config's`,
        });
      }
      if (profile.ttl.default > profile.ttl.max) {
        ctx.addIssue({
          code: 'custom',
          path: ['profiles', name, 'ttl', 'default'],
          message: `Expected ttl.default (${profile.ttl.default}s) at most ttl.max (${profile.ttl.max}s)`,
        });
      }
      for (const [index, grant] of profile.grants.entries()) {
        for (const [r, resource] of grant.resources.entries()) {
          const host = /^https?:\/\/([^/?#]*)/.exec(resource)?.[1]?.toLowerCase() ?? '';
          if (!profile.domains.includes(host)) {
            ctx.addIssue({
              code: 'custom',
              path: ['profiles', name, 'grants', index, 'resources', r],
              message: `Expected a resource on one of the profile's domains (${profile.domains.join(', ')}); got host ${JSON.stringify(host)}`,
            });
          }
        }
        if (grant.maxTtl !== undefined && grant.maxTtl > profile.ttl.max) {
          ctx.addIssue({
            code: 'custom',
            path: ['profiles', name, 'grants', index, 'maxTtl'],
            message: `Expected maxTtl at most the profile's ttl.max (${profile.ttl.max}s); got ${grant.maxTtl}s`,
          });
        }
      }
      // Timings that would break the rotation invariants (docs/design.md, "Rotation"). Propagation 0 is allowed only
      // against stand-ins (endpoints configured): real CloudFront edges lag behind its API.
      for (const message of validateRotationTimings(profile, {
        allowZeroPropagation: config.aws?.endpoints !== undefined,
      })) {
        ctx.addIssue({ code: 'custom', path: ['profiles', name, 'rotation'], message });
      }
      try {
        // The same check the API runs on every cookie it sets: a bad Domain or Path is the
        // operator's mistake, to be refused at start, not a 400 for every caller.
        describeCookies([], profile.cookie);
      } catch (error) {
        ctx.addIssue({
          code: 'custom',
          path: ['profiles', name, 'cookie'],
          message: (error as Error).message,
        });
      }
      if (profile.signer === 'kms' && profile.hash === 'sha1') {
        ctx.addIssue({
          code: 'custom',
          path: ['profiles', name, 'hash'],
          message: 'Expected sha256 (or no hash) with signer: kms (KMS signs with SHA-256 only)',
        });
      }
      if (profile.kms !== undefined && profile.signer === 'kms') {
        ctx.addIssue({
          code: 'custom',
          path: ['profiles', name, 'kms'],
          message:
            'Expected kms: retiring only with signer: secrets-manager (it marks a profile switched back from signer: kms)',
        });
      }
      if (profile.expiryRounding !== undefined && profile.signer !== 'kms') {
        ctx.addIssue({
          code: 'custom',
          path: ['profiles', name, 'expiryRounding'],
          message:
            'Expected expiryRounding only with signer: kms (it saves KMS calls; local signing needs none)',
        });
      }
      if (
        profile.expiryRounding !== undefined &&
        !(profile.expiryRounding >= 1 && profile.expiryRounding <= 3600)
      ) {
        ctx.addIssue({
          code: 'custom',
          path: ['profiles', name, 'expiryRounding'],
          message: `Expected expiryRounding between 1s and 1h; got ${profile.expiryRounding}s`,
        });
      }
      if (profile.algorithm === 'ecdsa-p256' && profile.hash === 'sha1') {
        ctx.addIssue({
          code: 'custom',
          path: ['profiles', name, 'hash'],
          message: 'Expected sha256 with ecdsa-p256 keys (CloudFront pairs ECDSA with SHA-256)',
        });
      }
    }
  })
  // Each profile carries the config's stage (the rotator names its key group with it) and the
  // account's public key quota (the planner counts against it).
  .transform((config) => {
    const { stage } = config;
    const publicKeyQuota = config.aws?.publicKeyQuota;
    if (stage === undefined && publicKeyQuota === undefined) return config;
    const profiles: Record<string, z.output<typeof profileSchema>> = {};
    for (const [name, profile] of Object.entries(config.profiles)) {
      profiles[name] = {
        ...profile,
        ...(stage === undefined ? {} : { stage }),
        ...(publicKeyQuota === undefined ? {} : { publicKeyQuota }),
      };
    }
    return { ...config, profiles };
  });

/** The whole configuration, parsed and defaulted. */
export type Config = z.output<typeof configSchema>;
/** One signing profile. */
export type Profile = z.output<typeof profileSchema>;
/** One access grant. */
export type Grant = z.output<typeof grantSchema>;
/** Authentication settings. */
export type AuthConfig = z.output<typeof authSchema>;
