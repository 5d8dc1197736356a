import { execFileSync } from 'node:child_process';
import { createHash, createPublicKey, verify } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CancelKeyDeletionCommand,
  CreateKeyCommand,
  DescribeKeyCommand,
  DisabledException,
  DisableKeyCommand,
  EnableKeyCommand,
  GetPublicKeyCommand,
  KMSClient,
  KMSInvalidStateException,
  KMSServiceException,
  ListKeysCommand,
  ListResourceTagsCommand,
  NotFoundException,
  ScheduleKeyDeletionCommand,
  SignCommand,
  TagResourceCommand,
} from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningKms, startKms } from '../../../infra/local/kms.ts';
import { FileStateStore } from '../../../infra/local/state.ts';

const credentials = { accessKeyId: 'sandbox', secretAccessKey: 'sandbox' };

function clientFor(url: string, region = 'eu-west-1'): KMSClient {
  return new KMSClient({ endpoint: url, region, credentials, maxAttempts: 1 });
}

async function createSigningKey(kms: KMSClient, spec: 'RSA_2048' | 'ECC_NIST_P256', ring = 'signet/test') {
  const { KeyMetadata } = await kms.send(
    new CreateKeyCommand({
      KeySpec: spec,
      KeyUsage: 'SIGN_VERIFY',
      Description: 'test',
      Tags: [{ TagKey: 'signet:key-ring', TagValue: ring }],
    }),
  );
  return KeyMetadata!;
}

async function errorOf(promise: Promise<unknown>): Promise<KMSServiceException> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof KMSServiceException) return error;
    throw error;
  }
  throw new Error('Expected the call to fail; it succeeded.');
}

describe('the KMS stand-in through @aws-sdk/client-kms', () => {
  let running: RunningKms;
  let kms: KMSClient;

  beforeAll(async () => {
    running = await startKms();
    kms = clientFor(running.url);
  });
  afterAll(async () => {
    kms.destroy();
    await running.close();
  });

  it('creates a SIGN_VERIFY key per CloudFront spec, with an ARN in the caller’s region, tagged', async () => {
    for (const spec of ['RSA_2048', 'ECC_NIST_P256'] as const) {
      const key = await createSigningKey(kms, spec);
      expect(key).toMatchObject({
        Arn: expect.stringMatching(/^arn:aws:kms:eu-west-1:\d{12}:key\/[0-9a-f-]{36}$/),
        KeySpec: spec,
        KeyUsage: 'SIGN_VERIFY',
        KeyState: 'Enabled',
        Enabled: true,
      });
      expect(key.CreationDate).toBeInstanceOf(Date);
      const tags = await kms.send(new ListResourceTagsCommand({ KeyId: key.Arn }));
      expect(tags.Tags).toEqual([{ TagKey: 'signet:key-ring', TagValue: 'signet/test' }]);
    }
  });

  it('refuses key specs and usages CloudFront cannot use, saying what it expected', async () => {
    const spec = await errorOf(
      kms.send(new CreateKeyCommand({ KeySpec: 'ECC_NIST_P384', KeyUsage: 'SIGN_VERIFY' })),
    );
    expect(spec.name).toBe('UnsupportedOperationException');
    expect(spec.message).toMatch(/RSA_2048 and ECC_NIST_P256/);
    const usage = await errorOf(
      kms.send(new CreateKeyCommand({ KeySpec: 'RSA_2048', KeyUsage: 'ENCRYPT_DECRYPT' })),
    );
    expect(usage.name).toBe('ValidationException');
    expect(usage.message).toMatch(/Expected KeyUsage SIGN_VERIFY/);
  });

  it('signs RAW and DIGEST messages with the same signature CloudFront verifies, and never returns the private key', async () => {
    const policy = Buffer.from(
      '{"Statement":[{"Resource":"https://d.example/a","Condition":{"DateLessThan":{"AWS:EpochTime":2000000000}}}]}',
    );
    const digest = createHash('sha256').update(policy).digest();
    for (const [spec, algorithm] of [
      ['RSA_2048', 'RSASSA_PKCS1_V1_5_SHA_256'],
      ['ECC_NIST_P256', 'ECDSA_SHA_256'],
    ] as const) {
      const key = await createSigningKey(kms, spec);
      const got = await kms.send(new GetPublicKeyCommand({ KeyId: key.Arn }));
      expect(got.KeyId).toBe(key.Arn);
      expect(got.SigningAlgorithms).toContain(algorithm);
      const publicKey = createPublicKey({ key: Buffer.from(got.PublicKey!), format: 'der', type: 'spki' });
      for (const [MessageType, Message] of [
        ['RAW', policy],
        ['DIGEST', digest],
      ] as const) {
        const signed = await kms.send(
          new SignCommand({ KeyId: key.KeyId, Message, MessageType, SigningAlgorithm: algorithm }),
        );
        expect(signed.KeyId).toBe(key.Arn);
        expect(signed.SigningAlgorithm).toBe(algorithm);
        const signature = Buffer.from(signed.Signature!);
        expect(verify('sha256', policy, publicKey, signature)).toBe(true);
        if (spec === 'ECC_NIST_P256')
          expect(signature[0]).toBe(0x30); // DER SEQUENCE, not r||s
        else expect(signature.length).toBe(256);
      }
      // Also with openssl, against the public PEM, as an operator would check.
      const dir = mkdtempSync(join(tmpdir(), 'signet-kms-'));
      try {
        writeFileSync(join(dir, 'key.pem'), publicKey.export({ type: 'spki', format: 'pem' }));
        writeFileSync(join(dir, 'policy'), policy);
        const signed = await kms.send(
          new SignCommand({
            KeyId: key.Arn,
            Message: digest,
            MessageType: 'DIGEST',
            SigningAlgorithm: algorithm,
          }),
        );
        writeFileSync(join(dir, 'sig'), Buffer.from(signed.Signature!));
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
    }
    const answers = JSON.stringify(running.standIn.listKeys());
    expect(answers).not.toMatch(/PRIVATE KEY/);
  });

  it('refuses a RAW message over 4,096 bytes, a digest of the wrong length and an algorithm of another spec', async () => {
    const key = await createSigningKey(kms, 'ECC_NIST_P256');
    const raw = await errorOf(
      kms.send(
        new SignCommand({
          KeyId: key.Arn,
          Message: Buffer.alloc(4097, 1),
          MessageType: 'RAW',
          SigningAlgorithm: 'ECDSA_SHA_256',
        }),
      ),
    );
    expect(raw.name).toBe('ValidationException');
    expect(raw.message).toMatch(/4096/);
    const digest = await errorOf(
      kms.send(
        new SignCommand({
          KeyId: key.Arn,
          Message: Buffer.alloc(20, 1),
          MessageType: 'DIGEST',
          SigningAlgorithm: 'ECDSA_SHA_256',
        }),
      ),
    );
    expect(digest.name).toBe('ValidationException');
    const usage = await errorOf(
      kms.send(
        new SignCommand({
          KeyId: key.Arn,
          Message: Buffer.alloc(32, 1),
          MessageType: 'DIGEST',
          SigningAlgorithm: 'RSASSA_PKCS1_V1_5_SHA_256',
        }),
      ),
    );
    expect(usage.name).toBe('InvalidKeyUsageException');
  });

  it('keeps key states as KMS does: disabled, pending deletion (7 to 30 days), cancelled back to disabled', async () => {
    const key = await createSigningKey(kms, 'ECC_NIST_P256');
    const sign = () =>
      kms.send(
        new SignCommand({
          KeyId: key.Arn,
          Message: Buffer.alloc(32, 7),
          MessageType: 'DIGEST',
          SigningAlgorithm: 'ECDSA_SHA_256',
        }),
      );
    await kms.send(new DisableKeyCommand({ KeyId: key.Arn }));
    expect(await errorOf(sign())).toBeInstanceOf(DisabledException);
    expect(await errorOf(kms.send(new GetPublicKeyCommand({ KeyId: key.Arn })))).toBeInstanceOf(
      DisabledException,
    );
    await kms.send(new EnableKeyCommand({ KeyId: key.Arn }));
    await sign();

    for (const days of [6, 31]) {
      const wrong = await errorOf(
        kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.Arn, PendingWindowInDays: days })),
      );
      expect(wrong.name).toBe('ValidationException');
      expect(wrong.message).toMatch(/between 7 and 30/);
    }
    const before = Date.now();
    const scheduled = await kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.Arn }));
    expect(scheduled).toMatchObject({ KeyId: key.Arn, KeyState: 'PendingDeletion', PendingWindowInDays: 30 });
    expect(scheduled.DeletionDate!.getTime()).toBeGreaterThanOrEqual(before + 30 * 86_400_000 - 1000);
    expect(await errorOf(sign())).toBeInstanceOf(KMSInvalidStateException);
    expect(await errorOf(kms.send(new EnableKeyCommand({ KeyId: key.Arn })))).toBeInstanceOf(
      KMSInvalidStateException,
    );
    const described = await kms.send(new DescribeKeyCommand({ KeyId: key.Arn }));
    expect(described.KeyMetadata).toMatchObject({
      KeyState: 'PendingDeletion',
      PendingDeletionWindowInDays: 30,
    });
    await kms.send(new CancelKeyDeletionCommand({ KeyId: key.Arn }));
    expect((await kms.send(new DescribeKeyCommand({ KeyId: key.Arn }))).KeyMetadata?.KeyState).toBe(
      'Disabled',
    );
  });

  it('answers an unknown key with NotFoundException naming the key', async () => {
    const missing = `arn:aws:kms:eu-west-1:000000000000:key/00000000-0000-4000-8000-000000000000`;
    const error = await errorOf(kms.send(new DescribeKeyCommand({ KeyId: missing })));
    expect(error).toBeInstanceOf(NotFoundException);
    expect(error.message).toContain(missing);
  });

  it('tags, lists tags and pages through ListKeys', async () => {
    const key = await createSigningKey(kms, 'ECC_NIST_P256');
    await kms.send(
      new TagResourceCommand({ KeyId: key.Arn, Tags: [{ TagKey: 'signet:fingerprint', TagValue: 'x' }] }),
    );
    const tags = await kms.send(new ListResourceTagsCommand({ KeyId: key.Arn }));
    expect(tags.Tags).toContainEqual({ TagKey: 'signet:fingerprint', TagValue: 'x' });
    const reserved = await errorOf(
      kms.send(new TagResourceCommand({ KeyId: key.Arn, Tags: [{ TagKey: 'aws:x', TagValue: 'y' }] })),
    );
    expect(reserved.name).toBe('TagException');
    const seen: string[] = [];
    let marker: string | undefined;
    do {
      const page = await kms.send(
        new ListKeysCommand({ Limit: 2, ...(marker === undefined ? {} : { Marker: marker }) }),
      );
      seen.push(...(page.Keys ?? []).map((k) => k.KeyArn!));
      marker = page.Truncated ? page.NextMarker : undefined;
    } while (marker !== undefined);
    expect(seen).toContain(key.Arn);
    expect(new Set(seen).size).toBe(running.standIn.listKeys().length);
  });

  it('answers injected throttling and access denial as KMS does', async () => {
    const key = await createSigningKey(kms, 'ECC_NIST_P256');
    const sign = () =>
      kms.send(
        new SignCommand({
          KeyId: key.Arn,
          Message: Buffer.alloc(32, 1),
          MessageType: 'DIGEST',
          SigningAlgorithm: 'ECDSA_SHA_256',
        }),
      );
    running.standIn.inject({ operation: 'Sign', error: 'ThrottlingException', times: 1 });
    const throttled = await errorOf(sign());
    expect(throttled.name).toBe('ThrottlingException');
    expect(throttled.$metadata.httpStatusCode).toBe(400);
    running.standIn.inject({ operation: 'Sign', error: 'AccessDeniedException', times: 1 });
    const denied = await errorOf(sign());
    expect(denied.name).toBe('AccessDeniedException');
    expect(denied.message).toMatch(/not authorized to perform: kms:Sign/);
    await sign();
  });

  it('is reachable through AWS_ENDPOINT_URL_KMS, with no endpoint in code', async () => {
    const saved = process.env.AWS_ENDPOINT_URL_KMS;
    process.env.AWS_ENDPOINT_URL_KMS = running.url;
    try {
      const fromEnv = new KMSClient({ region: 'us-east-1', credentials, maxAttempts: 1 });
      const key = await createSigningKey(fromEnv, 'ECC_NIST_P256');
      expect(key.Arn).toMatch(/^arn:aws:kms:us-east-1:/);
      fromEnv.destroy();
    } finally {
      if (saved === undefined) delete process.env.AWS_ENDPOINT_URL_KMS;
      else process.env.AWS_ENDPOINT_URL_KMS = saved;
    }
  });

  it('keeps keys across a restart in its state file, and deletes them once the waiting period ends', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'signet-kms-state-'));
    let now = new Date('2026-01-01T00:00:00Z');
    try {
      const first = await startKms({ store: new FileStateStore(dir, 'kms'), now: () => now });
      const client = clientFor(first.url);
      const key = await createSigningKey(client, 'RSA_2048');
      const publicKey = (await client.send(new GetPublicKeyCommand({ KeyId: key.Arn }))).PublicKey;
      await client.send(new ScheduleKeyDeletionCommand({ KeyId: key.Arn, PendingWindowInDays: 7 }));
      await first.close();
      client.destroy();

      const second = await startKms({ store: new FileStateStore(dir, 'kms'), now: () => now });
      const again = clientFor(second.url);
      await again.send(new CancelKeyDeletionCommand({ KeyId: key.Arn }));
      await again.send(new EnableKeyCommand({ KeyId: key.Arn }));
      expect((await again.send(new GetPublicKeyCommand({ KeyId: key.Arn }))).PublicKey).toEqual(publicKey);
      await again.send(new ScheduleKeyDeletionCommand({ KeyId: key.Arn, PendingWindowInDays: 7 }));
      now = new Date(now.getTime() + 7 * 86_400_000 + 1000);
      expect(await errorOf(again.send(new DescribeKeyCommand({ KeyId: key.Arn })))).toBeInstanceOf(
        NotFoundException,
      );
      again.destroy();
      await second.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a request without the TrentService target, as the JSON front end does', async () => {
    const response = await fetch(running.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'TrentService.Decrypt' },
      body: '{}',
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { __type: string; message: string };
    expect(body.__type).toBe('UnknownOperationException');
    expect(body.message).toMatch(/Expected one of CreateKey/);
  });
});
