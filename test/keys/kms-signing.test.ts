import { execFileSync } from 'node:child_process';
import { createPublicKey } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateKeyCommand, GetPublicKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import {
  CreateSecretCommand,
  GetSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { createLocalJWKSet } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type RunningKms, startKms } from '../../infra/local/kms.ts';
import { type RunningSecretsManager, startSecretsManager } from '../../infra/local/secrets-manager.ts';
import { MemoryStateStore } from '../../infra/local/state.ts';
import { createDevTokenIssuer } from '../../infra/local/token-issuer.ts';
import { type Config, parseConfig } from '../../lib/config/index.ts';
import { createApp } from '../../lib/http/app.ts';
// KMS signing enabled in this process, as functions/api-kms.ts does.
import '../../lib/keys/kms-signers.ts';
import {
  KEY_RING_SCHEMA,
  type KeyRing,
  parseKeyRing,
  type RingKey,
  serializeKeyRing,
} from '../../lib/keys/ring.ts';
import {
  cannedPolicy,
  decodeCloudFrontBase64,
  fingerprintOf,
  parseVerifyingKey,
  verifyRequest,
} from '../../lib/signing/index.ts';
import { MemoryMetrics } from '../../lib/telemetry/memory-metrics.ts';
import { buildApiDependencies } from '../../lib/wiring/api.ts';
import { CapturingLog } from '../support/api.ts';
import { ringKey } from '../support/rings.ts';

const ISSUER = 'https://issuer.test';
const AUDIENCE = 'signet-test';
const NOW = Date.UTC(2026, 10, 22, 12);
const NOW_S = NOW / 1000;
const credentials = { accessKeyId: 'sandbox', secretAccessKey: 'sandbox' };
const KEY_ID = 'K2JCJMDEHXQW5F';

let kms: RunningKms;
let secrets: RunningSecretsManager;
let kmsClient: KMSClient;
let smClient: SecretsManagerClient;

beforeAll(async () => {
  kms = await startKms();
  secrets = await startSecretsManager();
  kmsClient = new KMSClient({ endpoint: kms.url, region: 'us-east-1', credentials });
  smClient = new SecretsManagerClient({ endpoint: secrets.url, region: 'us-east-1', credentials });
});
afterAll(async () => {
  kmsClient.destroy();
  smClient.destroy();
  await Promise.all([kms.close(), secrets.close()]);
});

/** A KMS key made in the stand-in and the ring key that records it: no private key anywhere here. */
async function kmsRingKey(algorithm: 'ecdsa-p256' | 'rsa-2048'): Promise<RingKey> {
  const { KeyMetadata } = await kmsClient.send(
    new CreateKeyCommand({
      KeySpec: algorithm === 'rsa-2048' ? 'RSA_2048' : 'ECC_NIST_P256',
      KeyUsage: 'SIGN_VERIFY',
    }),
  );
  const { PublicKey } = await kmsClient.send(new GetPublicKeyCommand({ KeyId: KeyMetadata!.Arn }));
  const publicKey = createPublicKey({ key: Buffer.from(PublicKey!), format: 'der', type: 'spki' });
  const { privateKey: _none, ...rest } = ringKey({ algorithm, id: KEY_ID, hash: 'sha256' });
  return {
    ...rest,
    kmsKeyArn: KeyMetadata!.Arn!,
    publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    fingerprint: fingerprintOf(publicKey),
  };
}

let secretCounter = 0;

async function appWith(key: RingKey, profileExtra: Record<string, unknown> = {}) {
  const secretId = `signet/kms-${++secretCounter}`;
  const ring: KeyRing = { schema: KEY_RING_SCHEMA, keyGroupId: 'group-1', keys: [key], history: [] };
  await smClient.send(new CreateSecretCommand({ Name: secretId, SecretString: serializeKeyRing(ring) }));
  const config: Config = parseConfig({
    defaultProfile: 'media',
    aws: { region: 'us-east-1', endpoints: { secretsManager: secrets.url, kms: kms.url } },
    auth: {
      jwt: { issuer: ISSUER, audience: AUDIENCE, jwksUrl: `${ISSUER}/jwks.json`, algorithms: ['ES256'] },
    },
    profiles: {
      media: {
        domains: ['media.example.com'],
        keyRing: { secretId },
        signer: 'kms',
        algorithm: key.algorithm,
        ttl: { default: 300, max: 86_400 },
        grants: [
          {
            when: { claims: { scope: 'media:read' } },
            resources: ['https://media.example.com/*'],
            maxTtl: 3600,
          },
        ],
        ...profileExtra,
      },
    },
  });
  const issuer = createDevTokenIssuer({
    store: new MemoryStateStore(),
    issuer: ISSUER,
    audience: AUDIENCE,
    now: () => NOW_S,
  });
  const log = new CapturingLog();
  const metrics = new MemoryMetrics();
  const deps = buildApiDependencies({
    config,
    secretsManager: smClient,
    log,
    metrics,
    now: () => NOW,
    jwks: createLocalJWKSet(issuer.jwks()),
  });
  const app = createApp(deps);
  const token = await issuer.issue({ sub: 'alice', scope: ['media:read'] });
  const post = (path: string, body: unknown) =>
    app.request(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
    });
  return { post, log, metrics, secretId, trusted: new Map([[KEY_ID, parseVerifyingKey(key.publicKey!)]]) };
}

beforeEach(() => {
  kms.standIn.resetCalls();
  kms.standIn.clearFaults();
});

describe('signer: kms', () => {
  for (const algorithm of ['ecdsa-p256', 'rsa-2048'] as const) {
    it(`signs a URL through KMS (${algorithm}); lib/signing's verifier and openssl accept the signature`, async () => {
      const key = await kmsRingKey(algorithm);
      const { post } = await appWith(key);
      const response = await post('/v1/signed-urls', {
        url: 'https://media.example.com/a.mp4',
        expiresIn: 600,
      });
      expect(response.status).toBe(200);
      const { urls, keyId } = (await response.json()) as { urls: { url: string }[]; keyId: string };
      expect(keyId).toBe(KEY_ID);
      const url = urls[0]!.url;
      expect(url).toMatch(/&Key-Pair-Id=K2JCJMDEHXQW5F&Hash-Algorithm=SHA256$/);
      expect(kms.standIn.countCalls('Sign')).toBe(1);
      const trusted = new Map([[KEY_ID, parseVerifyingKey(key.publicKey!)]]);
      expect(verifyRequest({ url, now: NOW_S + 1, trustedKeys: trusted }).allowed).toBe(true);

      const dir = mkdtempSync(join(tmpdir(), 'signet-kms-sign-'));
      try {
        const signature = decodeCloudFrontBase64(new URL(url).searchParams.get('Signature')!);
        writeFileSync(join(dir, 'key.pem'), key.publicKey!);
        writeFileSync(join(dir, 'policy'), cannedPolicy('https://media.example.com/a.mp4', NOW_S + 600));
        writeFileSync(join(dir, 'sig'), signature!);
        const out = execFileSync(
          'openssl',
          [
            'dgst',
            '-sha256',
            '-verify',
            join(dir, 'key.pem'),
            '-signature',
            join(dir, 'sig'),
            join(dir, 'policy'),
          ],
          { encoding: 'utf8' },
        );
        expect(out).toMatch(/Verified OK/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }

  it('keeps signing through the ring’s KMS key after the profile is switched back (signer: secrets-manager, kms: retiring)', async () => {
    const key = await kmsRingKey('ecdsa-p256');
    const { post, trusted, metrics } = await appWith(key, { signer: 'secrets-manager', kms: 'retiring' });
    const response = await post('/v1/signed-urls', { url: 'https://media.example.com/b.mp4', expiresIn: 60 });
    expect(response.status).toBe(200);
    const { urls } = (await response.json()) as { urls: { url: string }[] };
    expect(kms.standIn.countCalls('Sign')).toBe(1);
    expect(metrics.total('KmsSignCalls', { profile: 'media' })).toBe(1);
    expect(verifyRequest({ url: urls[0]!.url, now: NOW_S + 1, trustedKeys: trusted }).allowed).toBe(true);
  });

  it('keeps no private key in the ring: the KMS key ARN travels with the CloudFront id (schema 3)', async () => {
    const key = await kmsRingKey('ecdsa-p256');
    const { secretId } = await appWith(key);
    const { SecretString } = await smClient.send(new GetSecretValueCommand({ SecretId: secretId }));
    expect(SecretString).not.toMatch(/PRIVATE KEY/);
    const stored = JSON.parse(SecretString!) as { schema: string; keys: Record<string, unknown>[] };
    expect(stored.schema).toBe('signet.keyring/3');
    expect(stored.keys[0]).toMatchObject({ id: KEY_ID, kmsKeyArn: key.kmsKeyArn });
    expect(stored.keys[0]).not.toHaveProperty('privateKey');
    expect(parseKeyRing(SecretString!).keys[0]!.kmsKeyArn).toBe(key.kmsKeyArn);
  });

  it('makes one KMS call for a 100-URL batch under a wildcard, and one for cookies', async () => {
    const key = await kmsRingKey('ecdsa-p256');
    const { post, trusted } = await appWith(key);
    const urls = Array.from({ length: 100 }, (_, i) => `https://media.example.com/hls/${i}.ts`);
    const batch = await post('/v1/signed-urls', {
      urls,
      resource: 'https://media.example.com/hls/*',
      expiresIn: 600,
    });
    expect(batch.status).toBe(200);
    const signed = ((await batch.json()) as { urls: { url: string }[] }).urls;
    expect(signed).toHaveLength(100);
    expect(kms.standIn.countCalls('Sign')).toBe(1);
    for (const { url } of [signed[0]!, signed[99]!]) {
      expect(verifyRequest({ url, now: NOW_S + 1, trustedKeys: trusted }).allowed).toBe(true);
    }
    const cookies = await post('/v1/signed-cookies', {
      resource: 'https://media.example.com/hls/*',
      expiresIn: 600,
    });
    expect(cookies.status).toBe(200);
    // The same policy as the batch (resource and expiry): its cached signature, no second call.
    expect(kms.standIn.countCalls('Sign')).toBe(1);
    const later = await post('/v1/signed-cookies', {
      resource: 'https://media.example.com/hls/*',
      expiresIn: 601,
    });
    expect(later.status).toBe(200);
    expect(kms.standIn.countCalls('Sign')).toBe(2);
    const cookie = cookies.headers
      .getSetCookie()
      .map((line) => line.split(';')[0])
      .join('; ');
    const verdict = verifyRequest({
      url: 'https://media.example.com/hls/7.ts',
      cookie,
      now: NOW_S + 1,
      trustedKeys: trusted,
    });
    expect(verdict.allowed).toBe(true);
  });

  it('signs a custom policy longer than KMS’s 4,096-byte RAW limit (it sends the digest)', async () => {
    const key = await kmsRingKey('rsa-2048');
    const { post, trusted } = await appWith(key);
    const url = `https://media.example.com/${'d'.repeat(4200)}/x`;
    const response = await post('/v1/signed-cookies', { url, ipAddress: '203.0.113.0/24', expiresIn: 600 });
    expect(response.status).toBe(200);
    const cookie = response.headers
      .getSetCookie()
      .map((line) => line.split(';')[0])
      .join('; ');
    const policy = Buffer.from(decodeCloudFrontBase64(/CloudFront-Policy=([^;]+)/.exec(cookie)![1]!)!);
    expect(policy.length).toBeGreaterThan(4096);
    const verdict = verifyRequest({
      url,
      cookie,
      clientIp: '203.0.113.7',
      now: NOW_S + 1,
      trustedKeys: trusted,
    });
    expect(verdict.allowed).toBe(true);
  });

  it('answers throttling with 503 and Retry-After, and a disabled or forbidden key with a clear 503; never a URL, never KMS internals', async () => {
    const key = await kmsRingKey('ecdsa-p256');
    const { post, log, metrics } = await appWith(key);
    for (const [error, reason, retry] of [
      ['ThrottlingException', 'throttled', '1'],
      ['AccessDeniedException', 'denied', '60'],
      ['DisabledException', 'disabled', '60'],
    ] as const) {
      kms.standIn.inject({ operation: 'Sign', error });
      const response = await post('/v1/signed-urls', {
        url: `https://media.example.com/${reason}.mp4`,
        expiresIn: 60,
      });
      kms.standIn.clearFaults();
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toBe(retry);
      const text = await response.text();
      const body = JSON.parse(text) as Record<string, unknown>;
      expect(body).toMatchObject({ type: '/problems/keys-unavailable', reason, code: 'ERR_REMOTE_SIGNING' });
      expect(text).not.toMatch(/arn:aws|Exception|kms:|Signature=/);
      // Counted by reason for KmsSigningFailedAlarm (lib/telemetry/catalogue.ts): one per refused request.
      expect(metrics.total('KmsSignFailures', { profile: 'media', reason })).toBe(1);
    }
    expect(metrics.total('KmsSignFailures')).toBe(3);
    // Each refused request made its Sign call (the KMS client's retry is inside that one call).
    expect(metrics.total('KmsSignCalls', { profile: 'media' })).toBe(3);
    // The operator's log says what happened (the KMS error and key), the caller's answer does not.
    expect(log.text()).toMatch(/ThrottlingException/);
    expect(log.text()).toContain(key.kmsKeyArn);
    const after = await post('/v1/signed-urls', { url: 'https://media.example.com/ok.mp4', expiresIn: 60 });
    expect(after.status).toBe(200);
    expect(metrics.total('KmsSignCalls', { profile: 'media' })).toBe(4);
    expect(metrics.total('KmsSignFailures')).toBe(3);
  });

  it('with expiryRounding, identical policies within a window share one KMS signature, never past the grant or ttl.max', async () => {
    const key = await kmsRingKey('ecdsa-p256');
    const { post, trusted, metrics } = await appWith(key, {
      expiryRounding: 60,
      ttl: { default: 300, max: 3590 },
      grants: [
        {
          when: { claims: { scope: 'media:read' } },
          resources: ['https://media.example.com/*'],
          maxTtl: 3590,
        },
      ],
    });
    const answers: { urls: { url: string }[]; expires: number }[] = [];
    for (const expiresIn of [545, 570, 600]) {
      const response = await post('/v1/signed-urls', {
        url: 'https://media.example.com/live.m3u8',
        expiresIn,
      });
      expect(response.status).toBe(200);
      answers.push((await response.json()) as { urls: { url: string }[]; expires: number });
    }
    expect(answers.map((a) => a.expires)).toEqual([NOW_S + 600, NOW_S + 600, NOW_S + 600]);
    expect(kms.standIn.countCalls('Sign')).toBe(1);
    // KmsSignCalls counts the calls KMS saw, not the requests: the two cached ones made none.
    expect(metrics.total('KmsSignCalls', { profile: 'media' })).toBe(1);
    for (const answer of answers) {
      expect(verifyRequest({ url: answer.urls[0]!.url, now: NOW_S + 1, trustedKeys: trusted }).allowed).toBe(
        true,
      );
    }
    // Up would be 3,600 s, past the grant's 3,590 s and ttl.max: rounded down instead.
    const capped = await post('/v1/signed-urls', {
      url: 'https://media.example.com/live.m3u8',
      expiresIn: 3590,
    });
    expect(((await capped.json()) as { expires: number }).expires).toBe(NOW_S + 3540);
  });

  it('refuses a ring whose KMS key does not match its recorded public key, rather than hand out a bad URL', async () => {
    const key = await kmsRingKey('ecdsa-p256');
    const other = await kmsRingKey('ecdsa-p256');
    const { post } = await appWith({ ...key, kmsKeyArn: other.kmsKeyArn });
    const response = await post('/v1/signed-urls', { url: 'https://media.example.com/a.mp4', expiresIn: 60 });
    expect(response.status).toBe(503);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ reason: 'mismatch' });
  });
});

describe('key ring documents with KMS keys', () => {
  it('refuses a key with both or neither of privateKey and kmsKeyArn, and a KMS key without its public key', async () => {
    const local = ringKey();
    const kmsKey = await kmsRingKey('ecdsa-p256');
    const ring = (keys: unknown[]) => JSON.stringify({ schema: 'signet.keyring/3', keys, history: [] });
    expect(() => parseKeyRing(ring([{ ...kmsKey, privateKey: local.privateKey }]))).toThrow(/exactly one/);
    const { kmsKeyArn: _arn, ...neither } = kmsKey;
    expect(() => parseKeyRing(ring([neither]))).toThrow(/exactly one/);
    const { publicKey: _pem, ...noPublic } = kmsKey;
    expect(() => parseKeyRing(ring([noPublic]))).toThrow(/public key PEM of a KMS key/);
    expect(() => parseKeyRing(ring([{ ...kmsKey, algorithm: 'rsa-2048', hash: 'sha1' }]))).toThrow(
      /sha256 with a KMS key/,
    );
  });

  it('writes schema 2 for a ring without KMS keys, so older versions keep reading it', () => {
    const ring: KeyRing = { schema: KEY_RING_SCHEMA, keys: [ringKey()], history: [] };
    expect(JSON.parse(serializeKeyRing(ring)).schema).toBe('signet.keyring/2');
  });

  it('refuses signer: kms with sha1, expiryRounding without signer: kms, and kms: retiring with it', () => {
    const profile = { domains: ['m.example.com'], keyRing: { secretId: 's' } };
    expect(() =>
      parseConfig({ profiles: { a: { ...profile, signer: 'kms', algorithm: 'rsa-2048', hash: 'sha1' } } }),
    ).toThrow(/sha256 \(or no hash\) with signer: kms/);
    expect(() => parseConfig({ profiles: { a: { ...profile, expiryRounding: 60 } } })).toThrow(
      /expiryRounding only with signer: kms/,
    );
    expect(() => parseConfig({ profiles: { a: { ...profile, signer: 'kms', kms: 'retiring' } } })).toThrow(
      /kms: retiring only with signer: secrets-manager/,
    );
    expect(() => parseConfig({ profiles: { a: { ...profile, kms: 'gone' } } })).toThrow(/retiring/);
    expect(parseConfig({ profiles: { a: { ...profile, kms: 'retiring' } } }).profiles.a!.kms).toBe(
      'retiring',
    );
  });
});
