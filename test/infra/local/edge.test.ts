import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CloudFrontClient,
  CreateDistributionCommand,
  CreateKeyGroupCommand,
  CreatePublicKeyCommand,
  GetKeyGroupCommand,
  UpdateKeyGroupCommand,
} from '@aws-sdk/client-cloudfront';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCloudFront } from '../../../infra/local/cloudfront-api.ts';
import { startEdge } from '../../../infra/local/edge.ts';
import {
  parseSigningKey,
  publicKeyPem,
  type SigningKey,
  signCookies,
  signUrl,
} from '../../../lib/signing/index.ts';
import { tempDir } from '../../support/cli.ts';

const DELAY_MS = 60_000;

/** One clock for the control plane and the edge, moved by hand so propagation is tested without waiting. */
let clock = Date.UTC(2026, 10, 22, 12, 0, 0);
const nowSeconds = () => Math.floor(clock / 1000);

let cloudfront: Awaited<ReturnType<typeof startCloudFront>>;
let edge: Awaited<ReturnType<typeof startEdge>>;
let client: CloudFrontClient;
let key: SigningKey;
let keyId: string;
let keyGroupId: string;
const FILE = 'Hello from the private folder.\n';

beforeAll(async () => {
  const origins = tempDir();
  mkdirSync(join(origins, 'origin.example/private'), { recursive: true });
  mkdirSync(join(origins, 'origin.example/public'), { recursive: true });
  writeFileSync(join(origins, 'origin.example/private/hello.txt'), FILE);
  writeFileSync(join(origins, 'origin.example/private/a b.txt'), 'spaced');
  writeFileSync(join(origins, 'origin.example/public/index.html'), '<h1>open</h1>');
  writeFileSync(join(origins, 'secret.txt'), 'outside the origin');

  cloudfront = await startCloudFront({ now: () => new Date(clock) });
  edge = await startEdge({
    control: cloudfront.standIn,
    propagationDelayMs: DELAY_MS,
    originsDir: origins,
    now: () => clock,
    trustForwardedFor: true,
  });
  client = new CloudFrontClient({
    endpoint: cloudfront.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  key = parseSigningKey(
    generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({
      type: 'pkcs8',
      format: 'pem',
    }),
  );
  const created = await client.send(
    new CreatePublicKeyCommand({
      PublicKeyConfig: {
        CallerReference: 'edge-test-1',
        Name: 'edge-test-1',
        EncodedKey: publicKeyPem(key.publicKey),
      },
    }),
  );
  keyId = created.PublicKey!.Id!;
  const group = await client.send(
    new CreateKeyGroupCommand({ KeyGroupConfig: { Name: 'edge-test', Items: [keyId] } }),
  );
  keyGroupId = group.KeyGroup!.Id!;
  await client.send(
    new CreateDistributionCommand({
      DistributionConfig: {
        CallerReference: 'edge-test',
        Comment: 'edge test',
        Enabled: true,
        Origins: { Quantity: 1, Items: [{ Id: 'origin', DomainName: 'origin.example' }] },
        DefaultCacheBehavior: {
          TargetOriginId: 'origin',
          ViewerProtocolPolicy: 'allow-all',
        },
        CacheBehaviors: {
          Quantity: 1,
          Items: [
            {
              PathPattern: '/private/*',
              TargetOriginId: 'origin',
              ViewerProtocolPolicy: 'allow-all',
              TrustedKeyGroups: { Enabled: true, Quantity: 1, Items: [keyGroupId] },
            },
          ],
        },
      },
    }),
  );
  clock += DELAY_MS; // let the setup reach the edge
});

afterAll(async () => {
  await edge?.close();
  await cloudfront?.close();
});

const privateUrl = (path = '/private/hello.txt') => `${edge.url}${path}`;

function sign(url: string, expiresIn = 300) {
  return signUrl({ url, key, keyPairId: keyId, expires: nowSeconds() + expiresIn, now: nowSeconds() });
}

async function expectDenied(response: Response, code: string, reason?: RegExp) {
  expect(response.status).toBe(403);
  expect(response.headers.get('server')).toBe('CloudFront');
  expect(response.headers.get('x-cache')).toBe('Error from cloudfront');
  expect(response.headers.get('content-type')).toBe('text/xml');
  const body = await response.text();
  expect(body).toMatch(
    new RegExp(
      `^<\\?xml version="1.0" encoding="UTF-8"\\?><Error><Code>${code}</Code><Message>[^<]+</Message></Error>$`,
    ),
  );
  if (reason) expect(decodeURIComponent(response.headers.get('x-signet-reason') ?? '')).toMatch(reason);
}

describe('sandbox edge: unsigned behaviours and objects', () => {
  it('serves an unsigned behaviour openly, with CloudFront headers', async () => {
    const response = await fetch(`${edge.url}/public/index.html`);
    expect(response.status).toBe(200);
    expect(response.headers.get('server')).toBe('CloudFront');
    expect(response.headers.get('x-cache')).toBe('Miss from cloudfront');
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await response.text()).toBe('<h1>open</h1>');
  });

  it('answers 404 for a missing object and never serves outside the origin folder', async () => {
    expect((await fetch(`${edge.url}/public/missing.html`)).status).toBe(404);
    const traversal = await fetch(`${edge.url}/public/%2e%2e/%2e%2e/secret.txt`);
    expect([403, 404]).toContain(traversal.status);
    expect(await traversal.text()).not.toContain('outside the origin');
  });

  it('refuses methods other than GET and HEAD', async () => {
    expect((await fetch(`${edge.url}/public/index.html`, { method: 'POST' })).status).toBe(403);
  });
});

describe('sandbox edge: signed URLs and cookies', () => {
  it('answers MissingKey for a protected object without a signature', async () => {
    await expectDenied(
      await fetch(privateUrl()),
      'MissingKey',
      /neither signed URL parameters nor CloudFront cookies/,
    );
  });

  it('serves a signed URL (GET, HEAD and a Range request)', async () => {
    const { url } = sign(privateUrl());
    const got = await fetch(url);
    expect(got.status).toBe(200);
    expect(await got.text()).toBe(FILE);
    const head = await fetch(url, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(FILE.length));
    const range = await fetch(url, { headers: { Range: 'bytes=6-9' } });
    expect(range.status).toBe(206);
    expect(range.headers.get('content-range')).toBe(`bytes 6-9/${FILE.length}`);
    expect(await range.text()).toBe('from');
    const suffix = await fetch(url, { headers: { Range: 'bytes=-8' } });
    expect(await suffix.text()).toBe('folder.\n');
    expect((await fetch(url, { headers: { Range: 'bytes=999-' } })).status).toBe(416);
  });

  it('serves a URL whose path needed encoding, signed in canonical form', async () => {
    const { url } = sign(privateUrl('/private/a b.txt'));
    expect(url).toContain('/private/a%20b.txt?Expires=');
    const response = await fetch(url);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('spaced');
  });

  it('denies a tampered, expired or untrusted signed URL with the right code', async () => {
    const { url } = sign(privateUrl());
    await expectDenied(
      await fetch(url.replace('hello.txt', 'hellp.txt')),
      'AccessDenied',
      /signature does not match/,
    );
    const shortLived = sign(privateUrl(), 30);
    clock += 31_000;
    await expectDenied(await fetch(shortLived.url), 'AccessDenied', /expired 1 second ago/);
    await expectDenied(
      await fetch(url.replace(`Key-Pair-Id=${keyId}`, 'Key-Pair-Id=K000000000000X')),
      'InvalidKey',
    );
    await expectDenied(await fetch(url.replace(/Signature=[^&]+/, 'Signature=%%%')), 'MalformedSignature');
  });

  it('enforces an IP condition against the viewer address', async () => {
    const signed = signUrl({
      url: privateUrl(),
      key,
      keyPairId: keyId,
      expires: nowSeconds() + 60,
      ipAddress: '203.0.113.0/24',
      now: nowSeconds(),
    });
    expect((await fetch(signed.url, { headers: { 'X-Forwarded-For': '203.0.113.9' } })).status).toBe(200);
    await expectDenied(
      await fetch(signed.url, { headers: { 'X-Forwarded-For': '198.51.100.7' } }),
      'AccessDenied',
      /IP 198\.51\.100\.7 not in 203\.0\.113\.0\/24/,
    );
  });

  it('serves with signed cookies for a wildcard, and a signed URL takes precedence over them', async () => {
    const cookies = signCookies({
      resource: `${edge.url}/private/*`,
      key,
      keyPairId: keyId,
      expires: nowSeconds() + 60,
      now: nowSeconds(),
    });
    const header = cookies.cookies.map(({ name, value }) => `${name}=${value}`).join('; ');
    const response = await fetch(privateUrl(), { headers: { Cookie: header } });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe(FILE);
    const brokenUrl = `${privateUrl()}?Expires=1&Signature=AAAA&Key-Pair-Id=${keyId}`;
    await expectDenied(await fetch(brokenUrl, { headers: { Cookie: header } }), 'AccessDenied');
  });
});

describe('sandbox edge: propagation delay', () => {
  it('sees a key group change only after the propagation delay', async () => {
    const second = parseSigningKey(
      generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({
        type: 'pkcs8',
        format: 'pem',
      }),
    );
    const created = await client.send(
      new CreatePublicKeyCommand({
        PublicKeyConfig: {
          CallerReference: 'edge-test-2',
          Name: 'edge-test-2',
          EncodedKey: publicKeyPem(second.publicKey),
        },
      }),
    );
    const secondId = created.PublicKey!.Id!;
    const group = await client.send(new GetKeyGroupCommand({ Id: keyGroupId }));
    await client.send(
      new UpdateKeyGroupCommand({
        Id: keyGroupId,
        IfMatch: group.ETag,
        KeyGroupConfig: { Name: 'edge-test', Items: [keyId, secondId] },
      }),
    );
    const url = signUrl({
      url: privateUrl(),
      key: second,
      keyPairId: secondId,
      expires: nowSeconds() + 600,
      now: nowSeconds(),
    }).url;
    await expectDenied(await fetch(url), 'InvalidKey', /not in any key group/);
    clock += DELAY_MS - 1;
    await expectDenied(await fetch(url), 'InvalidKey');
    clock += 1;
    expect((await fetch(url)).status).toBe(200);
    expect(edge.edge.effective().keyGroups.get(keyGroupId)?.items).toEqual([keyId, secondId]);
  });
});
