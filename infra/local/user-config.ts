import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  type CloudFrontClient,
  CreateDistributionCommand,
  type DistributionConfig,
  GetDistributionConfigCommand,
  ListDistributionsCommand,
  UpdateDistributionCommand,
} from '@aws-sdk/client-cloudfront';
import {
  CreateSecretCommand,
  PutSecretValueCommand,
  ResourceExistsException,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { hashApiKey, serializeApiKeyDocument } from '../../lib/auth/api-keys.ts';
import type { Config, Profile } from '../../lib/config/index.ts';
import { ensureCorsPolicy } from './response-headers.ts';

/** The comment that marks the local distribution of a profile of a user's config. */
export function localDistributionComment(profileName: string): string {
  return `signet-local:${profileName}`;
}

/** The origin (a folder under `<stateDir>/origins/`) a profile's local distribution serves. */
export function localOriginDomain(profileName: string): string {
  return `${profileName}.origin.signet.local`;
}

/** A profile domain as a CloudFront alias: the host name, without a port. */
export function aliasOf(domain: string): string {
  return domain.replace(/:\d+$/, '').toLowerCase();
}

/** What {@link localConfigOf} changed of the user's config, to say so at start. */
export interface LocalAdjustments {
  readonly notes: readonly string[];
}

/**
 * The user's config as the local service runs it, in memory only (the user's file is never
 * written): the AWS endpoints are the sandbox's, bearer tokens come from the development token
 * issuer (the user's audience kept, so `signet token` tokens carry it), each profile's rotation
 * waits for the local edge rather than for CloudFront (`propagation` = the edge's delay + 2 s), a
 * canary that would fetch the real CDN is left out, and the key group and distribution ids are
 * the sandbox's (filled in once they exist). Profiles, domains, grants, cookies, CORS origins,
 * TTLs and the API's public origin are the user's, unchanged.
 */
export function localConfigOf(
  user: Config,
  input: {
    secretsManager: string;
    cloudfront: string;
    /** The KMS stand-in, when a profile signs through KMS. */
    kms?: string;
    issuerUrl: string;
    edgeDelaySeconds: number;
  },
): { document: Record<string, unknown>; adjustments: LocalAdjustments } {
  const notes: string[] = [];
  const jwt = user.auth.jwt;
  const audience = jwt === undefined ? 'signet-local' : [jwt.audience].flat()[0]!;
  if (jwt !== undefined && jwt.issuer !== input.issuerUrl) {
    notes.push(
      `auth.jwt: tokens come from the local development issuer (audience ${audience}); make one with: npx signet token --sub NAME --scope SCOPE`,
    );
  }
  if (user.auth.trustGatewayClaims) notes.push('auth.trustGatewayClaims: off locally (no API Gateway).');
  const profiles: Record<string, unknown> = {};
  for (const [name, profile] of Object.entries(user.profiles)) {
    const propagation = input.edgeDelaySeconds + 2;
    const { canary, ...rotation } = profile.rotation;
    if (profile.rotation.propagation !== propagation) {
      notes.push(
        `profiles.${name}.rotation.propagation: ${propagation}s locally (the local edge's delay + 2 s), not ${profile.rotation.propagation}s.`,
      );
    }
    if (canary !== undefined)
      notes.push(`profiles.${name}.rotation.canary: left out locally (it names the real CDN).`);
    // The sandbox's ids replace the user's; `stage` is the config's, copied into each profile by the parser.
    const {
      keyGroupId: _group,
      distributionId: _distribution,
      stage: _stage,
      ...rest
    } = profile as Profile & { stage?: string };
    profiles[name] = { ...rest, rotation: { ...rotation, propagation } };
  }
  return {
    document: {
      ...user,
      aws: {
        region: user.aws?.region ?? 'us-east-1',
        endpoints: {
          secretsManager: input.secretsManager,
          cloudfront: input.cloudfront,
          ...(input.kms === undefined ? {} : { kms: input.kms }),
        },
      },
      auth: {
        ...user.auth,
        trustGatewayClaims: false,
        jwt: {
          issuer: input.issuerUrl,
          audience,
          jwksUrl: `${input.issuerUrl}/.well-known/jwks.json`,
          algorithms: ['ES256'],
          clockTolerance: 5,
          ...(jwt === undefined ? {} : { jwksMaxAge: jwt.jwksMaxAge }),
        },
      },
      profiles,
    },
    adjustments: { notes },
  };
}

/** Declares a profile's key ring secret with no value (the rotator writes the first ring). */
export async function ensureRingSecret(client: SecretsManagerClient, secretId: string): Promise<void> {
  try {
    await client.send(
      new CreateSecretCommand({
        Name: secretId,
        Description: 'Signet key ring (written by the rotator only)',
      }),
    );
  } catch (error) {
    if (!(error instanceof ResourceExistsException)) throw error;
  }
}

/**
 * The API keys the grants name (`when.apiKeys`), made up locally: each id gets a random key, kept in
 * `keysFile` (mode 0600) so it survives a restart, and the secret `auth.apiKeys.secretId` holds
 * their SHA-256 hashes, as in AWS. Returns id → key, to print for local use.
 */
export async function ensureLocalApiKeys(
  client: SecretsManagerClient,
  config: Config,
  keysFile: string | null,
): Promise<Record<string, string>> {
  const secretId = config.auth.apiKeys?.secretId;
  if (secretId === undefined) return {};
  const ids = [
    ...new Set(
      Object.values(config.profiles).flatMap((profile) =>
        profile.grants.flatMap((grant) => grant.when.apiKeys ?? []),
      ),
    ),
  ].sort();
  const saved: Record<string, string> =
    keysFile !== null && existsSync(keysFile)
      ? (JSON.parse(readFileSync(keysFile, 'utf8')) as Record<string, string>)
      : {};
  const keys: Record<string, string> = {};
  for (const id of ids) keys[id] = saved[id] ?? `local-${randomBytes(24).toString('base64url')}`;
  if (keysFile !== null) {
    mkdirSync(dirname(keysFile), { recursive: true, mode: 0o700 });
    writeFileSync(keysFile, `${JSON.stringify(keys, null, 2)}\n`, { mode: 0o600 });
  }
  const document = serializeApiKeyDocument(
    Object.entries(keys).map(([id, key]) => ({
      id,
      sha256: hashApiKey(key),
      description: 'signet start (local)',
    })),
  );
  try {
    await client.send(new CreateSecretCommand({ Name: secretId, SecretString: document }));
  } catch (error) {
    if (!(error instanceof ResourceExistsException)) throw error;
    await client.send(new PutSecretValueCommand({ SecretId: secretId, SecretString: document }));
  }
  return keys;
}

/**
 * The local distribution of one profile of a user's config: aliases are the profile's domains (so
 * the edge answers by `Host`), the default cache behaviour trusts the profile's key group (every
 * path signed) and allows GET, HEAD and OPTIONS, and, when the profile allows browser origins
 * (`cors.origins`), a response headers policy with CORS for them is attached (credentials allowed:
 * the profile's signed cookies are sent with `credentials: 'include'`). Created once, updated when
 * its key group, aliases or policy changed. Returns the distribution id.
 */
export async function ensureProfileDistribution(
  client: CloudFrontClient,
  profileName: string,
  profile: Profile,
  keyGroupId: string,
): Promise<string> {
  const policyId =
    profile.cors.origins.length === 0
      ? undefined
      : await ensureCorsPolicy(client, {
          name: `signet-local-${profileName}-cors`,
          origins: profile.cors.origins,
          credentials: true,
        });
  const wanted = profileDistributionConfig(profileName, profile, keyGroupId, policyId, 'pending');
  const comment = localDistributionComment(profileName);
  const list = await client.send(new ListDistributionsCommand({}));
  const existing = list.DistributionList?.Items?.find((d) => d.Comment === comment);
  if (existing?.Id === undefined) {
    const created = await client.send(
      new CreateDistributionCommand({
        DistributionConfig: { ...wanted, CallerReference: `${comment}:${Date.now()}` },
      }),
    );
    return created.Distribution!.Id!;
  }
  const current = await client.send(new GetDistributionConfigCommand({ Id: existing.Id }));
  const config = current.DistributionConfig!;
  const next = { ...wanted, CallerReference: config.CallerReference! };
  const same =
    JSON.stringify(config.Aliases?.Items ?? []) === JSON.stringify(next.Aliases?.Items ?? []) &&
    JSON.stringify(config.DefaultCacheBehavior?.TrustedKeyGroups?.Items ?? []) ===
      JSON.stringify([keyGroupId]) &&
    (config.DefaultCacheBehavior?.ResponseHeadersPolicyId ?? undefined) === policyId;
  if (!same) {
    await client.send(
      new UpdateDistributionCommand({ Id: existing.Id, IfMatch: current.ETag, DistributionConfig: next }),
    );
  }
  return existing.Id;
}

function profileDistributionConfig(
  profileName: string,
  profile: Profile,
  keyGroupId: string,
  policyId: string | undefined,
  callerReference: string,
): DistributionConfig {
  const aliases = [...new Set(profile.domains.map(aliasOf))];
  const originId = `${profileName}-origin`;
  return {
    CallerReference: callerReference,
    Comment: localDistributionComment(profileName),
    Enabled: true,
    Aliases: { Quantity: aliases.length, Items: aliases },
    Origins: { Quantity: 1, Items: [{ Id: originId, DomainName: localOriginDomain(profileName) }] },
    DefaultCacheBehavior: {
      TargetOriginId: originId,
      ViewerProtocolPolicy: 'allow-all',
      AllowedMethods: {
        Quantity: 3,
        Items: ['GET', 'HEAD', 'OPTIONS'],
        CachedMethods: { Quantity: 2, Items: ['GET', 'HEAD'] },
      },
      TrustedKeyGroups: { Enabled: true, Quantity: 1, Items: [keyGroupId] },
      ...(policyId === undefined ? {} : { ResponseHeadersPolicyId: policyId }),
    },
  };
}

/**
 * Writes one sample object into a profile's local origin, under the fixed start of its first grant
 * (`https://media.example.com/videos/*` → `videos/signet-sample.txt`), unless one is there. Returns
 * the URL to sign for it, or `undefined` when no grant has a fixed start.
 */
export function writeSampleObject(
  originsDir: string,
  profileName: string,
  profile: Profile,
): string | undefined {
  const resource = profile.grants.flatMap((grant) => grant.resources)[0];
  if (resource === undefined) return undefined;
  // Only a grant whose first wildcard is a `*` after a fixed folder: `{claim}` depends on the caller.
  const match = /^(https?:\/\/[^/]+)(\/[^*?{]*)(\*|$)/.exec(resource);
  if (match === null) return undefined;
  const folder = match[2]!.slice(0, match[2]!.lastIndexOf('/') + 1);
  const root = join(originsDir, localOriginDomain(profileName));
  const file = join(root, ...folder.split('/').filter((s) => s !== ''), 'signet-sample.txt');
  mkdirSync(dirname(file), { recursive: true });
  if (!existsSync(file))
    writeFileSync(file, `A sample object of profile ${profileName}, served by the local edge.\n`);
  return `${match[1]}${folder}signet-sample.txt`;
}
