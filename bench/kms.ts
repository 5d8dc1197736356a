// KMS signing figures (issue 16, point 2; docs/operators.md, "KMS signing"): KMS Sign calls per
// 1,000 API requests for the three request shapes, with and without expiryRounding, and the latency
// a KMS round trip adds, measured against the KMS stand-in set to a fixed delay. Runs the API in
// process (createApp over buildApiDependencies) against the KMS and Secrets Manager stand-ins, with
// a simulated clock: 1,000 requests over 100 s (10 per second). Not a test: nothing is asserted.
// Standalone: `npx tsx bench/kms.ts [--json]`; also part of `npm run bench`.
import { createPublicKey } from 'node:crypto';
import { CreateKeyCommand, GetPublicKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { createLocalJWKSet } from 'jose';
import { startKms } from '../infra/local/kms.ts';
import { startSecretsManager } from '../infra/local/secrets-manager.ts';
import { MemoryStateStore } from '../infra/local/state.ts';
import { createDevTokenIssuer } from '../infra/local/token-issuer.ts';
import { parseConfig } from '../lib/config/index.ts';
import { createApp } from '../lib/http/app.ts';
// KMS signing enabled in this process, as functions/api-kms.ts does.
import '../lib/keys/kms-signers.ts';
import { KEY_RING_SCHEMA, serializeKeyRing } from '../lib/keys/ring.ts';
import { fingerprintOf } from '../lib/signing/index.ts';
import { MemoryMetrics } from '../lib/telemetry/memory-metrics.ts';
import { buildApiDependencies } from '../lib/wiring/api.ts';

/** The stand-in's fixed delay per Sign when measuring added latency. */
export const KMS_DELAY_MS = 20;
const REQUESTS = 1000;
/** Simulated milliseconds between requests: 10 requests per second. */
const STEP_MS = 100;
const ROUNDING_SECONDS = 60;

/** The figures {@link benchKms} measures. */
export interface KmsBench {
  /** KMS Sign calls per 1,000 requests, by shape and rounding. */
  readonly callsPer1000: Record<
    'singleUrl' | 'wildcardBatch100' | 'cookies',
    { plain: number; rounded: number }
  >;
  /** Median per-request wall time (ms), Secrets Manager signer vs KMS (stand-in delay {@link KMS_DELAY_MS} ms). */
  readonly latency: {
    secretsManagerP50Ms: number;
    kmsP50Ms: number;
    kmsCachedP50Ms: number;
    addedP50Ms: number;
  };
  /**
   * The API bundle of a Secrets Manager-only config (functions/api.ts, no KMS client) and of a config
   * with a signer: kms profile (functions/api-kms.ts), in bytes, as deployed.
   */
  readonly bundle?: { apiBytes: number; apiKmsBytes: number };
}

const silent = { info() {}, warn() {}, error() {} };
const credentials = { accessKeyId: 'sandbox', secretAccessKey: 'sandbox' };

export async function benchKms(): Promise<KmsBench> {
  const kms = await startKms();
  const secrets = await startSecretsManager();
  const kmsClient = new KMSClient({ endpoint: kms.url, region: 'us-east-1', credentials });
  const sm = new SecretsManagerClient({ endpoint: secrets.url, region: 'us-east-1', credentials });
  let secretNumber = 0;
  const start = Date.UTC(2026, 10, 22, 12, 0, 7);
  let clock = start;
  try {
    const { KeyMetadata } = await kmsClient.send(
      new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' }),
    );
    const { PublicKey } = await kmsClient.send(new GetPublicKeyCommand({ KeyId: KeyMetadata!.Arn }));
    const publicKey = createPublicKey({ key: Buffer.from(PublicKey!), format: 'der', type: 'spki' });
    const kmsKey = {
      id: 'K2JCJMDEHXQW5F',
      algorithm: 'ecdsa-p256' as const,
      hash: 'sha256' as const,
      kmsKeyArn: KeyMetadata!.Arn!,
      publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      fingerprint: fingerprintOf(publicKey),
      state: 'active' as const,
      createdAt: '2026-11-01T00:00:00Z',
      activatedAt: '2026-11-01T01:00:00Z',
    };
    const { generateKeyPairSync } = await import('node:crypto');
    const local = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const localKey = {
      ...kmsKey,
      kmsKeyArn: undefined,
      publicKey: undefined,
      privateKey: local.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      fingerprint: fingerprintOf(local.publicKey),
    };
    const app = async (signer: 'kms' | 'secrets-manager', rounding: boolean) => {
      const secretId = `bench/kms-${++secretNumber}`;
      const key = signer === 'kms' ? kmsKey : localKey;
      const ring = { schema: KEY_RING_SCHEMA, keyGroupId: 'group', keys: [key], history: [] };
      await sm.send(
        new CreateSecretCommand({
          Name: secretId,
          SecretString: serializeKeyRing(JSON.parse(JSON.stringify(ring))),
        }),
      );
      const config = parseConfig({
        aws: { region: 'us-east-1', endpoints: { secretsManager: secrets.url, kms: kms.url } },
        auth: {
          jwt: {
            issuer: 'https://i.test',
            audience: 'bench',
            jwksUrl: 'https://i.test/j',
            algorithms: ['ES256'],
          },
        },
        profiles: {
          media: {
            domains: ['media.example.com'],
            keyRing: { secretId },
            signer,
            ...(rounding ? { expiryRounding: ROUNDING_SECONDS } : {}),
            grants: [{ when: { claims: { scope: 'read' } }, resources: ['https://media.example.com/*'] }],
          },
        },
      });
      const issuer = createDevTokenIssuer({
        store: new MemoryStateStore(),
        issuer: 'https://i.test',
        audience: 'bench',
        now: () => Math.floor(start / 1000),
      });
      const deps = buildApiDependencies({
        config,
        secretsManager: sm,
        log: silent,
        metrics: new MemoryMetrics(),
        now: () => clock,
        jwks: createLocalJWKSet(issuer.jwks()),
      });
      const hono = createApp(deps);
      const token = await issuer.issue({ sub: 'bench', scope: ['read'], expiresIn: 86_400 });
      return async (path: string, body: unknown): Promise<void> => {
        const response = await hono.request(path, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify(body),
        });
        if (response.status !== 200) throw new Error(`Expected 200 from ${path}; got ${response.status}.`);
        await response.arrayBuffer();
      };
    };

    const shapes = {
      // 50 objects, requested in turn: a popular catalogue.
      singleUrl: (i: number) =>
        ['/v1/signed-urls', { url: `https://media.example.com/v/${i % 50}.mp4` }] as const,
      // 20 streams, 100 segments each, one policy per stream.
      wildcardBatch100: (i: number) =>
        [
          '/v1/signed-urls',
          {
            urls: Array.from({ length: 100 }, (_, n) => `https://media.example.com/hls/${i % 20}/${n}.ts`),
            resource: `https://media.example.com/hls/${i % 20}/*`,
          },
        ] as const,
      cookies: (i: number) =>
        ['/v1/signed-cookies', { resource: `https://media.example.com/hls/${i % 20}/*` }] as const,
    };
    const callsPer1000 = {} as KmsBench['callsPer1000'];
    for (const [name, shape] of Object.entries(shapes) as [
      keyof typeof shapes,
      (i: number) => readonly [string, unknown],
    ][]) {
      const result = { plain: 0, rounded: 0 };
      for (const rounding of [false, true]) {
        const post = await app('kms', rounding);
        kms.standIn.resetCalls();
        for (let i = 0; i < REQUESTS; i++) {
          clock = start + i * STEP_MS;
          await post(...shape(i));
        }
        result[rounding ? 'rounded' : 'plain'] = (kms.standIn.countCalls('Sign') * 1000) / REQUESTS;
      }
      callsPer1000[name] = result;
    }

    // Latency: sequential single-URL requests, each a new policy (no cache hit) unless said otherwise.
    kms.standIn.setSignDelay(KMS_DELAY_MS);
    const timed = async (post: (path: string, body: unknown) => Promise<void>, fresh: boolean) => {
      const times: number[] = [];
      for (let i = 0; i < 60; i++) {
        clock = start + 200_000 + i * 1000;
        const url = fresh ? `https://media.example.com/t/${i}.mp4` : 'https://media.example.com/t/same.mp4';
        const began = performance.now();
        await post('/v1/signed-urls', {
          url,
          ...(fresh ? {} : { expiresAt: Math.floor(start / 1000) + 600 }),
        });
        if (i >= 10) times.push(performance.now() - began);
      }
      return median(times);
    };
    const secretsManagerP50Ms = await timed(await app('secrets-manager', false), true);
    const kmsPost = await app('kms', false);
    const kmsP50Ms = await timed(kmsPost, true);
    const kmsCachedP50Ms = await timed(kmsPost, false);
    return {
      callsPer1000,
      latency: { secretsManagerP50Ms, kmsP50Ms, kmsCachedP50Ms, addedP50Ms: kmsP50Ms - secretsManagerP50Ms },
    };
  } finally {
    kmsClient.destroy();
    sm.destroy();
    await Promise.all([kms.close(), secrets.close()]);
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

/** The figures as `npm run bench` prints them. */
export function formatKmsBench(figures: KmsBench): string {
  const lines = [
    `\nKMS signing (signer: kms; ${REQUESTS} requests over ${(REQUESTS * STEP_MS) / 1000} s, expiryRounding ${ROUNDING_SECONDS} s when on):`,
    `  KMS Sign calls per 1,000 requests         without rounding   with rounding`,
  ];
  const labels = {
    singleUrl: 'single URL (50 objects)',
    wildcardBatch100: '100-URL batch under a wildcard (20)',
    cookies: 'cookies (20 resources)',
  } as const;
  for (const [name, label] of Object.entries(labels) as [keyof typeof labels, string][]) {
    const { plain, rounded } = figures.callsPer1000[name];
    lines.push(`  ${label.padEnd(40)} ${String(plain).padStart(10)} ${String(rounded).padStart(15)}`);
  }
  const l = figures.latency;
  lines.push(
    `  latency per request with the stand-in adding ${KMS_DELAY_MS} ms per Sign (median): secrets-manager ${l.secretsManagerP50Ms.toFixed(2)} ms, kms ${l.kmsP50Ms.toFixed(2)} ms (added ${l.addedP50Ms.toFixed(2)} ms), kms with a cached signature ${l.kmsCachedP50Ms.toFixed(2)} ms`,
  );
  if (figures.bundle !== undefined) {
    const { apiBytes, apiKmsBytes } = figures.bundle;
    lines.push(
      `  API bundle: ${(apiBytes / 1024).toFixed(0)} KB for a Secrets Manager-only config (functions/api.ts, no KMS client); ${(apiKmsBytes / 1024).toFixed(0)} KB with a signer: kms profile (functions/api-kms.ts; the client loads on a KMS key's first signature)`,
    );
  }
  return `${lines.join('\n')}\n`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const figures = { ...(await benchKms()), bundle: await kmsBundleSizes() };
  process.stdout.write(
    process.argv.includes('--json') ? `${JSON.stringify(figures)}\n` : formatKmsBench(figures),
  );
}

/** The API bundles as deployed for a Secrets Manager-only config and for one with KMS (bytes). */
export async function kmsBundleSizes(): Promise<{ apiBytes: number; apiKmsBytes: number }> {
  const { build } = await import('esbuild');
  const { mkdtempSync, rmSync, statSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { deployedEsbuildOptions } = await import('./lambda.ts');
  const out = mkdtempSync(join(tmpdir(), 'signet-kms-bundle-'));
  try {
    const size = async (name: string) => {
      const outfile = join(out, `${name}.mjs`);
      await build({
        ...deployedEsbuildOptions(),
        entryPoints: [join(import.meta.dirname, '..', 'functions', `${name}.ts`)],
        outfile,
      });
      return statSync(outfile).size;
    };
    return { apiBytes: await size('api'), apiKmsBytes: await size('api-kms') };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/** For `npm run bench`: measures, prints through `out`, and returns the figures for `--json`. */
export async function benchKmsAndPrint(out: (text: string) => void): Promise<KmsBench> {
  const figures = { ...(await benchKms()), bundle: await kmsBundleSizes() };
  out(formatKmsBench(figures));
  return figures;
}
