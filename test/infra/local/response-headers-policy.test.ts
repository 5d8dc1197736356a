// Response headers policies in the CloudFront stand-in (through the real SDK client) and the CORS
// subset the edge applies (docs/design.md, "The sandbox"): an allowed origin gets its CORS headers
// (credentials, Vary: Origin), another origin none, a preflight is answered only where the
// behaviour allows OPTIONS.
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import {
  CloudFrontClient,
  CreateDistributionCommand,
  CreateKeyGroupCommand,
  CreatePublicKeyCommand,
  CreateResponseHeadersPolicyCommand,
  DeleteResponseHeadersPolicyCommand,
  GetDistributionConfigCommand,
  GetResponseHeadersPolicyCommand,
  ListResponseHeadersPoliciesCommand,
  NoSuchResponseHeadersPolicy,
  ResponseHeadersPolicyAlreadyExists,
  ResponseHeadersPolicyInUse,
  UpdateResponseHeadersPolicyCommand,
} from '@aws-sdk/client-cloudfront';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCloudFront } from '../../../infra/local/cloudfront-api.ts';
import { startEdge } from '../../../infra/local/edge.ts';
import { corsPolicyConfig } from '../../../infra/local/response-headers.ts';
import { parseSigningKey, publicKeyPem, type SigningKey, signUrl } from '../../../lib/signing/index.ts';
import { tempDir } from '../../support/cli.ts';

const APP = 'https://app.example.com';
let cloudfront: Awaited<ReturnType<typeof startCloudFront>>;
let edge: Awaited<ReturnType<typeof startEdge>>;
let client: CloudFrontClient;
let key: SigningKey;
let keyId: string;
let policyId: string;

/** One request to the edge with a chosen Host (fetch cannot set Host). */
function send(
  path: string,
  options: { method?: string; host?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  const url = new URL(edge.url);
  return new Promise((done, fail) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        path,
        method: options.method ?? 'GET',
        headers: { host: options.host ?? 'media.example.com', ...options.headers },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => {
          body += chunk;
        });
        res.on('end', () => done({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', fail);
    req.end();
  });
}

function signed(path: string): string {
  const now = Math.floor(Date.now() / 1000);
  const { url } = signUrl({
    url: `http://media.example.com${path}`,
    keyPairId: keyId,
    key,
    expires: now + 600,
    now,
  });
  const parsed = new URL(url);
  return `${parsed.pathname}${parsed.search}`;
}

beforeAll(async () => {
  const origins = tempDir();
  mkdirSync(join(origins, 'media-origin/videos'), { recursive: true });
  writeFileSync(join(origins, 'media-origin/videos/a.txt'), 'video bytes\n');
  mkdirSync(join(origins, 'plain-origin/videos'), { recursive: true });
  writeFileSync(join(origins, 'plain-origin/videos/a.txt'), 'plain bytes\n');
  cloudfront = await startCloudFront();
  edge = await startEdge({ control: cloudfront.standIn, propagationDelayMs: 0, originsDir: origins });
  client = new CloudFrontClient({
    endpoint: cloudfront.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  key = parseSigningKey(
    generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString(),
  );
  keyId = (
    await client.send(
      new CreatePublicKeyCommand({
        PublicKeyConfig: { CallerReference: 'k1', Name: 'k1', EncodedKey: publicKeyPem(key.publicKey) },
      }),
    )
  ).PublicKey!.Id!;
  const groupId = (
    await client.send(new CreateKeyGroupCommand({ KeyGroupConfig: { Name: 'g1', Items: [keyId] } }))
  ).KeyGroup!.Id!;
  policyId = (
    await client.send(
      new CreateResponseHeadersPolicyCommand({
        ResponseHeadersPolicyConfig: corsPolicyConfig({
          name: 'media-cors',
          origins: [APP],
          credentials: true,
        }),
      }),
    )
  ).ResponseHeadersPolicy!.Id!;
  const behavior = (originId: string, methods: string[], policy: string | undefined) => ({
    TargetOriginId: originId,
    ViewerProtocolPolicy: 'allow-all' as const,
    AllowedMethods: {
      Quantity: methods.length,
      Items: methods as ('GET' | 'HEAD' | 'OPTIONS')[],
      CachedMethods: { Quantity: 2, Items: ['GET', 'HEAD'] as ('GET' | 'HEAD')[] },
    },
    TrustedKeyGroups: { Enabled: true, Quantity: 1, Items: [groupId] },
    ...(policy === undefined ? {} : { ResponseHeadersPolicyId: policy }),
  });
  // media.example.com: CORS policy, OPTIONS allowed. plain.example.com: the policy, OPTIONS not allowed.
  for (const [name, methods] of [
    ['media', ['GET', 'HEAD', 'OPTIONS']],
    ['plain', ['GET', 'HEAD']],
  ] as const) {
    await client.send(
      new CreateDistributionCommand({
        DistributionConfig: {
          CallerReference: name,
          Comment: name,
          Enabled: true,
          Aliases: { Quantity: 1, Items: [`${name}.example.com`] },
          Origins: { Quantity: 1, Items: [{ Id: name, DomainName: `${name}-origin` }] },
          DefaultCacheBehavior: behavior(name, [...methods], policyId),
        },
      }),
    );
  }
});

afterAll(async () => {
  await edge?.close();
  await cloudfront?.close();
});

describe('response headers policies in the CloudFront stand-in', () => {
  it('are created, read, listed and updated through the SDK, names unique', async () => {
    const got = await client.send(new GetResponseHeadersPolicyCommand({ Id: policyId }));
    const cors = got.ResponseHeadersPolicy?.ResponseHeadersPolicyConfig?.CorsConfig;
    expect(cors?.AccessControlAllowOrigins?.Items).toEqual([APP]);
    expect(cors?.AccessControlAllowCredentials).toBe(true);
    expect(cors?.OriginOverride).toBe(true);
    const list = await client.send(new ListResponseHeadersPoliciesCommand({ Type: 'custom' }));
    expect(list.ResponseHeadersPolicyList?.Items?.map((item) => item.ResponseHeadersPolicy?.Id)).toContain(
      policyId,
    );
    await expect(
      client.send(
        new CreateResponseHeadersPolicyCommand({
          ResponseHeadersPolicyConfig: corsPolicyConfig({
            name: 'media-cors',
            origins: [APP],
            credentials: true,
          }),
        }),
      ),
    ).rejects.toBeInstanceOf(ResponseHeadersPolicyAlreadyExists);
    const other = await client.send(
      new CreateResponseHeadersPolicyCommand({
        ResponseHeadersPolicyConfig: corsPolicyConfig({ name: 'spare', origins: [APP], credentials: false }),
      }),
    );
    const updated = await client.send(
      new UpdateResponseHeadersPolicyCommand({
        Id: other.ResponseHeadersPolicy!.Id!,
        IfMatch: other.ETag,
        ResponseHeadersPolicyConfig: corsPolicyConfig({
          name: 'spare',
          origins: [APP, 'https://admin.example.com'],
          credentials: false,
        }),
      }),
    );
    expect(
      updated.ResponseHeadersPolicy?.ResponseHeadersPolicyConfig?.CorsConfig?.AccessControlAllowOrigins
        ?.Items,
    ).toEqual([APP, 'https://admin.example.com']);
    await client.send(
      new DeleteResponseHeadersPolicyCommand({ Id: other.ResponseHeadersPolicy!.Id!, IfMatch: updated.ETag }),
    );
  });

  it('a distribution carries the behaviour ResponseHeadersPolicyId; an unknown policy or a policy in use is refused', async () => {
    const list = await client.send(new ListResponseHeadersPoliciesCommand({}));
    expect(list.ResponseHeadersPolicyList?.Quantity).toBe(1);
    const distributions = cloudfront.standIn.snapshot().distributions;
    const id = [...distributions.values()].find((d) => d.config.Comment === 'media')!.id;
    const config = await client.send(new GetDistributionConfigCommand({ Id: id }));
    expect(config.DistributionConfig?.DefaultCacheBehavior?.ResponseHeadersPolicyId).toBe(policyId);
    await expect(
      client.send(
        new CreateDistributionCommand({
          DistributionConfig: {
            CallerReference: 'bad-policy',
            Comment: '',
            Enabled: true,
            Origins: { Quantity: 1, Items: [{ Id: 'o', DomainName: 'o' }] },
            DefaultCacheBehavior: {
              TargetOriginId: 'o',
              ViewerProtocolPolicy: 'allow-all',
              ResponseHeadersPolicyId: '00000000-0000-0000-0000-000000000000',
            },
          },
        }),
      ),
    ).rejects.toBeInstanceOf(NoSuchResponseHeadersPolicy);
    const policy = await client.send(new GetResponseHeadersPolicyCommand({ Id: policyId }));
    await expect(
      client.send(new DeleteResponseHeadersPolicyCommand({ Id: policyId, IfMatch: policy.ETag })),
    ).rejects.toBeInstanceOf(ResponseHeadersPolicyInUse);
  });

  it('refuses a wildcard origin with credentials, naming the field', async () => {
    await expect(
      client.send(
        new CreateResponseHeadersPolicyCommand({
          ResponseHeadersPolicyConfig: corsPolicyConfig({ name: 'wild', origins: ['*'], credentials: true }),
        }),
      ),
    ).rejects.toThrow(/AccessControlAllowOrigins with AccessControlAllowCredentials true; got \*/);
  });
});

describe('the edge applies the CORS part of a behaviour policy', () => {
  it('an allowed origin gets Access-Control-Allow-Origin, credentials and Vary: Origin on a signed GET', async () => {
    const response = await send(signed('/videos/a.txt'), { headers: { origin: APP } });
    expect(response.status).toBe(200);
    expect(response.body).toBe('video bytes\n');
    expect(response.headers['access-control-allow-origin']).toBe(APP);
    expect(response.headers['access-control-allow-credentials']).toBe('true');
    expect(response.headers.vary).toBe('Origin');
    expect(response.headers['access-control-expose-headers']).toContain('Content-Range');
    // Preflight-only headers are not on the actual response.
    expect(response.headers['access-control-allow-methods']).toBeUndefined();
  });

  it('an origin not in the list, or no Origin at all, gets no CORS headers (the browser blocks the read)', async () => {
    for (const headers of [{ origin: 'https://evil.example' }, {}]) {
      const response = await send(signed('/videos/a.txt'), { headers });
      expect(response.status).toBe(200);
      expect(response.headers['access-control-allow-origin']).toBeUndefined();
      expect(response.headers['access-control-allow-credentials']).toBeUndefined();
    }
  });

  it("CloudFront's own 403 for a missing signature carries the CORS headers, so a page can read it", async () => {
    const response = await send('/videos/a.txt', { headers: { origin: APP } });
    expect(response.status).toBe(403);
    expect(response.body).toContain('MissingKey');
    expect(response.headers['access-control-allow-origin']).toBe(APP);
  });

  it('answers a preflight where the behaviour allows OPTIONS, with the preflight headers, before any signature', async () => {
    const response = await send('/videos/a.txt', {
      method: 'OPTIONS',
      headers: {
        origin: APP,
        'access-control-request-method': 'GET',
        'access-control-request-headers': 'range',
      },
    });
    expect(response.status).toBe(200);
    expect(response.headers['access-control-allow-origin']).toBe(APP);
    expect(response.headers['access-control-allow-methods']).toBe('GET, HEAD, OPTIONS');
    expect(response.headers['access-control-allow-headers']).toContain('Range');
    expect(response.headers['access-control-max-age']).toBe('600');
    const refused = await send('/videos/a.txt', {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'GET' },
    });
    expect(refused.headers['access-control-allow-origin']).toBeUndefined();
    expect(refused.headers['access-control-allow-methods']).toBeUndefined();
  });

  it('refuses OPTIONS (403 MethodNotAllowed) where the behaviour allows only GET and HEAD', async () => {
    const response = await send('/videos/a.txt', {
      method: 'OPTIONS',
      host: 'plain.example.com',
      headers: { origin: APP, 'access-control-request-method': 'GET' },
    });
    expect(response.status).toBe(403);
    expect(response.body).toContain('MethodNotAllowed');
    expect(response.headers['access-control-allow-methods']).toBeUndefined();
  });

  it('picks the distribution by Host (port ignored) and judges the URL without the local port', async () => {
    const path = signed('/videos/a.txt');
    const port = new URL(edge.url).port;
    expect((await send(path, { host: `media.example.com:${port}` })).body).toBe('video bytes\n');
    // A URL signed for media.example.com does not open plain.example.com's objects.
    expect((await send(path, { host: 'plain.example.com' })).status).toBe(403);
    expect((await send(path, { host: 'other.example.net' })).status).toBe(403);
  });
});
