import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
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
  ResourceExistsException,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';

/** The demo profile's fixed names in the sandbox. */
export const DEMO = {
  profile: 'demo',
  secretId: 'signet/demo/key-ring',
  originDomain: 'demo-origin.signet.local',
  distributionComment: 'signet-demo',
  audience: 'signet-local',
} as const;

/**
 * Declares the demo profile's key ring secret with no value, as infrastructure does in AWS (the
 * rotator writes the first ring). Already there: nothing to do.
 */
export async function ensureDemoSecret(client: SecretsManagerClient): Promise<void> {
  try {
    await client.send(
      new CreateSecretCommand({
        Name: DEMO.secretId,
        Description: 'Signet key ring of the demo profile (written by the rotator only)',
      }),
    );
  } catch (error) {
    if (!(error instanceof ResourceExistsException)) throw error;
  }
}

/** Writes the demo origin's files (idempotent): one public page and a few protected objects. */
export function writeDemoOrigin(originsDir: string): void {
  const root = join(originsDir, DEMO.originDomain);
  mkdirSync(join(root, 'private/users/demo'), { recursive: true });
  writeFileSync(
    join(root, 'index.html'),
    '<!doctype html><title>Signet sandbox</title><h1>Signet sandbox edge</h1><p>Objects under /private/ need a signed URL or signed cookies.</p>\n',
  );
  writeFileSync(join(root, 'private/hello.txt'), 'Hello from behind a CloudFront signature.\n');
  writeFileSync(join(root, 'private/report 2026.txt'), 'A file whose name needs URL encoding.\n');
  writeFileSync(join(root, 'private/users/demo/notes.txt'), "The demo user's own notes.\n");
  // For the demo page (GET /demo/ on the API's port): an image shown with cookies, and a tiny probe
  // object the browser client fetches to tell whether the cookies are sent.
  writeFileSync(join(root, 'private/signet.svg'), DEMO_IMAGE);
  writeFileSync(join(root, 'private/probe.txt'), 'ok\n');
}

const DEMO_IMAGE = `<svg xmlns="http://www.w3.org/2000/svg" width="240" height="120" viewBox="0 0 240 120">
<rect width="240" height="120" rx="12" fill="#1d4ed8"/>
<text x="120" y="70" font-family="sans-serif" font-size="22" fill="#fff" text-anchor="middle">signed cookies ok</text>
</svg>
`;

/**
 * The demo distribution: every path of the demo origin requires a signature (the default behaviour
 * and `/private/*` trust the demo key group) except the explicitly public `/` and `/index.html`, as
 * the AWS demo distribution does: no spelling of a private path can fall through to an unsigned
 * behaviour. Created once; updated when its key group changed (state reset) or when it was created
 * with the older shape (public by default). Returns the distribution id.
 */
export async function ensureDemoDistribution(
  client: CloudFrontClient,
  keyGroupId: string,
  corsPolicyId?: string,
): Promise<string> {
  const list = await client.send(new ListDistributionsCommand({}));
  const existing = list.DistributionList?.Items?.find((d) => d.Comment === DEMO.distributionComment);
  if (existing?.Id !== undefined) {
    const current = await client.send(new GetDistributionConfigCommand({ Id: existing.Id }));
    const config = current.DistributionConfig!;
    const trusted = config.DefaultCacheBehavior?.TrustedKeyGroups?.Items ?? [];
    const privateTrusted =
      config.CacheBehaviors?.Items?.find((b) => b.PathPattern === '/private/*')?.TrustedKeyGroups?.Items ??
      [];
    const policy = config.CacheBehaviors?.Items?.find(
      (b) => b.PathPattern === '/private/*',
    )?.ResponseHeadersPolicyId;
    if (
      !trusted.includes(keyGroupId) ||
      !privateTrusted.includes(keyGroupId) ||
      (policy ?? undefined) !== corsPolicyId
    ) {
      await client.send(
        new UpdateDistributionCommand({
          Id: existing.Id,
          IfMatch: current.ETag,
          DistributionConfig: demoConfig(keyGroupId, config.CallerReference!, corsPolicyId),
        }),
      );
    }
    return existing.Id;
  }
  const created = await client.send(
    new CreateDistributionCommand({
      DistributionConfig: demoConfig(keyGroupId, 'signet-demo', corsPolicyId),
    }),
  );
  return created.Distribution!.Id!;
}

function demoConfig(keyGroupId: string, callerReference: string, corsPolicyId?: string): DistributionConfig {
  // CORS for the demo profile's origins (docs/frontends.md): a page's fetch() of a protected object,
  // and the browser client's probe, read the answer only with it.
  const cors =
    corsPolicyId === undefined
      ? {}
      : {
          ResponseHeadersPolicyId: corsPolicyId,
          AllowedMethods: {
            Quantity: 3,
            Items: ['GET' as const, 'HEAD' as const, 'OPTIONS' as const],
            CachedMethods: { Quantity: 2, Items: ['GET' as const, 'HEAD' as const] },
          },
        };
  return {
    CallerReference: callerReference,
    Comment: DEMO.distributionComment,
    Enabled: true,
    Origins: { Quantity: 1, Items: [{ Id: 'demo-origin', DomainName: DEMO.originDomain }] },
    DefaultCacheBehavior: {
      TargetOriginId: 'demo-origin',
      ViewerProtocolPolicy: 'allow-all',
      TrustedKeyGroups: { Enabled: true, Quantity: 1, Items: [keyGroupId] },
      ...cors,
    },
    CacheBehaviors: {
      Quantity: 3,
      Items: [
        {
          PathPattern: '/private/*',
          TargetOriginId: 'demo-origin',
          ViewerProtocolPolicy: 'allow-all',
          TrustedKeyGroups: { Enabled: true, Quantity: 1, Items: [keyGroupId] },
          ...cors,
        },
        // Public paths are explicit behaviours that trust no key group.
        { PathPattern: '/', TargetOriginId: 'demo-origin', ViewerProtocolPolicy: 'allow-all' },
        { PathPattern: '/index.html', TargetOriginId: 'demo-origin', ViewerProtocolPolicy: 'allow-all' },
      ],
    },
  };
}
