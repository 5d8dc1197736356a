import { generateKeyPairSync } from 'node:crypto';
import { request } from 'node:http';
import { XMLParser } from 'fast-xml-parser';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  type CloudFrontSnapshot,
  type CloudFrontStandInOptions,
  type RunningCloudFront,
  startCloudFront,
} from '../../../infra/local/cloudfront-api.ts';
import { MemoryStateStore } from '../../../infra/local/state.ts';

const NAMESPACE = 'http://cloudfront.amazonaws.com/doc/2020-05-31/';
const running: RunningCloudFront[] = [];

afterEach(async () => {
  vi.restoreAllMocks();
  await Promise.all(running.splice(0).map((cloudFront) => cloudFront.close()));
});

async function start(options: CloudFrontStandInOptions = {}): Promise<RunningCloudFront> {
  const cloudFront = await startCloudFront({ port: 0, ...options });
  running.push(cloudFront);
  return cloudFront;
}

function ecPem(): string {
  return generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey.export({
    type: 'spki',
    format: 'pem',
  }) as string;
}

/** The PEM with its newlines written as `&#x0A;`, the way the SDK puts it on the wire. */
function xmlPem(pem: string): string {
  return pem.replaceAll('\n', '&#x0A;');
}

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@_', parseTagValue: false });

interface ErrorBody {
  readonly status: number;
  readonly code: string;
  readonly message: string;
  readonly type: string;
}

/** Checks a response is a CloudFront ErrorResponse and returns its parts. */
async function errorOf(response: Response): Promise<ErrorBody> {
  const text = await response.text();
  expect(text.startsWith(`<?xml version="1.0"?><ErrorResponse xmlns="${NAMESPACE}">`)).toBe(true);
  expect(response.headers.get('content-type')).toBe('text/xml');
  const parsed = parser.parse(text) as {
    ErrorResponse: { Error: { Type: string; Code: string; Message: string }; RequestId: string };
  };
  expect(parsed.ErrorResponse.RequestId).toBe(response.headers.get('x-amz-request-id'));
  const { Type, Code, Message } = parsed.ErrorResponse.Error;
  return { status: response.status, code: Code, message: Message, type: Type };
}

function post(url: string, path: string, body: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${url}/2020-05-31${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/xml' },
    body,
    ...init,
  });
}

async function createKeyRaw(url: string, name: string): Promise<{ id: string; etag: string }> {
  const response = await post(
    url,
    '/public-key',
    `<?xml version="1.0" encoding="UTF-8"?><PublicKeyConfig xmlns="${NAMESPACE}"><CallerReference>${name}</CallerReference><Name>${name}</Name><EncodedKey>${xmlPem(ecPem())}</EncodedKey></PublicKeyConfig>`,
  );
  expect(response.status).toBe(201);
  const parsed = parser.parse(await response.text()) as { PublicKey: { Id: string } };
  return { id: parsed.PublicKey.Id, etag: response.headers.get('etag') ?? '' };
}

describe('CloudFront stand-in: malformed requests', () => {
  it.each([
    ['not XML at all', 'hello', 'MalformedInput', /well-formed/],
    ['unclosed tags', '<KeyGroupConfig><Name>x</Nme></KeyGroupConfig>', 'MalformedInput', /well-formed/],
    [
      'the wrong root element',
      '<PublicKeyConfig><Name>x</Name></PublicKeyConfig>',
      'MalformedInput',
      /KeyGroupConfig root/,
    ],
    [
      'a DTD (entity expansion)',
      '<!DOCTYPE a [<!ENTITY e "x">]><KeyGroupConfig><Name>&e;</Name></KeyGroupConfig>',
      'MalformedInput',
      /DTD/,
    ],
    [
      'an undefined entity',
      '<KeyGroupConfig><Name>&nbsp;</Name></KeyGroupConfig>',
      'MalformedInput',
      /entities/,
    ],
    [
      'a missing Name',
      '<KeyGroupConfig><Items><PublicKey>K1</PublicKey></Items></KeyGroupConfig>',
      'MalformedInput',
      /KeyGroupConfig\.Name/,
    ],
    [
      'missing Items',
      '<KeyGroupConfig><Name>g</Name></KeyGroupConfig>',
      'MalformedInput',
      /KeyGroupConfig\.Items/,
    ],
    [
      'a repeated Name',
      '<KeyGroupConfig><Name>a</Name><Name>b</Name><Items/></KeyGroupConfig>',
      'MalformedInput',
      /given once/,
    ],
    [
      'text mixed with elements',
      '<KeyGroupConfig>oops<Name>a</Name><Items/></KeyGroupConfig>',
      'MalformedInput',
      /either text or elements/,
    ],
    ['an empty body', '', 'MissingBody', /empty/],
  ])('answers %s with a 400 %s naming the problem', async (_label, body, code, message) => {
    const { url } = await start();
    const error = await errorOf(await post(url, '/key-group', body));
    expect(error).toMatchObject({ status: 400, code, type: 'Sender' });
    expect(error.message).toMatch(message);
  });

  it('answers a missing PublicKeyConfig field with MalformedInput naming it', async () => {
    const { url } = await start();
    const error = await errorOf(
      await post(
        url,
        '/public-key',
        `<PublicKeyConfig><CallerReference>r</CallerReference><Name>n</Name></PublicKeyConfig>`,
      ),
    );
    expect(error).toMatchObject({ status: 400, code: 'MalformedInput' });
    expect(error.message).toContain('PublicKeyConfig.EncodedKey');
  });

  it('decodes character references and accepts pretty-printed XML', async () => {
    const { url, standIn } = await start();
    const pem = ecPem();
    const body = [
      '<?xml version="1.0" encoding="UTF-8"?>',
      `<PublicKeyConfig xmlns="${NAMESPACE}">`,
      '  <CallerReference>0012</CallerReference>',
      '  <Name>pretty&#x2D;key</Name>',
      `  <EncodedKey>${pem.replaceAll('\n', '&#10;')}</EncodedKey>`,
      '  <Comment>a &amp; b &lt;c&gt;</Comment>',
      '</PublicKeyConfig>',
    ].join('\n');
    const response = await post(url, '/public-key', body);
    expect(response.status).toBe(201);
    const [key] = standIn.snapshot().publicKeys.values();
    expect(key).toMatchObject({ name: 'pretty-key', encodedKey: pem });
    const text = await response.text();
    // Numbers stay text ("0012", not 12) and special characters are escaped on the way out.
    expect(text).toContain('<CallerReference>0012</CallerReference>');
    expect(text).toContain('<Comment>a &amp; b &lt;c&gt;</Comment>');
  });

  it('answers unknown paths with 404 and unknown methods with 405 and an Allow header', async () => {
    const { url } = await start();
    for (const path of [
      '/',
      '/2020-05-31/nothing',
      '/2019-03-26/public-key',
      '/2020-05-31/public-key/K1/extra',
    ]) {
      const error = await errorOf(await fetch(`${url}${path}`));
      expect(error).toMatchObject({ status: 404, code: 'NotFound' });
    }
    const response = await fetch(`${url}/2020-05-31/public-key`, { method: 'PATCH' });
    expect(response.headers.get('allow')).toBe('POST, GET');
    expect(await errorOf(response)).toMatchObject({ status: 405, code: 'MethodNotAllowed' });
  });

  it('answers invalid list parameters with InvalidArgument', async () => {
    const { url } = await start();
    for (const maxItems of ['0', 'abc', '-1', '100000']) {
      const error = await errorOf(await fetch(`${url}/2020-05-31/key-group?MaxItems=${maxItems}`));
      expect(error).toMatchObject({ status: 400, code: 'InvalidArgument' });
    }
  });

  it('answers ids that are not percent-encoded properly with the NoSuch* error', async () => {
    const { url } = await start();
    expect(await errorOf(await fetch(`${url}/2020-05-31/public-key/%E0%A4%A`))).toMatchObject({
      status: 404,
      code: 'NoSuchPublicKey',
    });
  });

  it('refuses a body over 1 MiB with 413 and keeps serving', async () => {
    const { url, standIn } = await start();
    const huge = `<KeyGroupConfig><Name>${'x'.repeat(1024 * 1024)}</Name></KeyGroupConfig>`;
    const error = await errorOf(await post(url, '/key-group', huge));
    expect(error).toMatchObject({ status: 413, code: 'RequestEntityTooLarge' });
    expect((await fetch(`${url}/2020-05-31/key-group`)).status).toBe(200);
    expect(standIn.snapshot().keyGroups.size).toBe(0);
  });

  it('cuts off a chunked body once it passes 1 MiB, without hanging, and keeps serving', async () => {
    const { url } = await start();
    const outcome = await new Promise<string>((resolve) => {
      const req = request(`${url}/2020-05-31/key-group`, {
        method: 'POST',
        headers: { 'transfer-encoding': 'chunked' },
      });
      req.on('response', (response) => {
        response.resume();
        resolve(`status ${response.statusCode}`);
      });
      req.on('error', (error) => resolve(`error ${(error as NodeJS.ErrnoException).code}`));
      const chunk = Buffer.alloc(64 * 1024, 'x');
      let sent = 0;
      const pump = () => {
        while (sent < 4 * 1024 * 1024) {
          sent += chunk.length;
          if (!req.write(chunk)) {
            req.once('drain', pump);
            return;
          }
        }
        req.end();
      };
      pump();
    });
    // readBody destroys the request once it passes the limit, so the client sees a reset or a 413.
    expect(outcome).toMatch(/^(status 413|error E[A-Z]+)$/);
    expect((await fetch(`${url}/2020-05-31/public-key`)).status).toBe(200);
  });

  it('answers a failed save with 500 InternalError and keeps the previous state', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    let failing = false;
    const memory = new MemoryStateStore();
    const store = {
      load: () => memory.load(),
      save: (document: unknown) => {
        if (failing) throw new Error('disk full');
        memory.save(document);
      },
    };
    const { url, standIn } = await start({ store });
    await createKeyRaw(url, 'kept');
    failing = true;
    const response = await post(
      url,
      '/public-key',
      `<PublicKeyConfig><CallerReference>lost</CallerReference><Name>lost</Name><EncodedKey>${xmlPem(ecPem())}</EncodedKey></PublicKeyConfig>`,
    );
    expect(await errorOf(response)).toMatchObject({ status: 500, code: 'InternalError', type: 'Receiver' });
    expect([...standIn.snapshot().publicKeys.values()].map((key) => key.name)).toEqual(['kept']);
  });
});

describe('CloudFront stand-in: edge hooks', () => {
  it('hands out deeply frozen snapshots in fresh maps', async () => {
    const { url, standIn } = await start({ now: () => new Date('2026-01-01T00:00:00.000Z') });
    const key = await createKeyRaw(url, 'frozen');
    const groupResponse = await post(
      url,
      '/key-group',
      `<KeyGroupConfig><Name>g</Name><Items><PublicKey>${key.id}</PublicKey></Items></KeyGroupConfig>`,
    );
    expect(groupResponse.status).toBe(201);
    const snapshot = standIn.snapshot();
    expect(snapshot.takenAt).toBe(Date.parse('2026-01-01T00:00:00.000Z'));
    const [group] = snapshot.keyGroups.values();
    if (group === undefined) throw new Error('Expected one key group in the snapshot.');
    expect(group.items).toEqual([key.id]);
    expect(Object.isFrozen(group)).toBe(true);
    expect(() => (group.items as string[]).push('KINJECTED00000')).toThrow(TypeError);
    (snapshot.keyGroups as Map<string, unknown>).clear();
    expect(standIn.snapshot().keyGroups.size).toBe(1);
  });

  it('exposes each distribution with its behaviours in precedence order and the trusted key groups', async () => {
    const { url, standIn } = await start();
    const key = await createKeyRaw(url, 'edge');
    const groupText = await (
      await post(
        url,
        '/key-group',
        `<KeyGroupConfig><Name>g</Name><Items><PublicKey>${key.id}</PublicKey></Items></KeyGroupConfig>`,
      )
    ).text();
    const groupId = (parser.parse(groupText) as { KeyGroup: { Id: string } }).KeyGroup.Id;
    const config = `<DistributionConfig xmlns="${NAMESPACE}"><CallerReference>c</CallerReference>
      <Origins><Quantity>1</Quantity><Items><Origin><Id>o</Id><DomainName>127.0.0.1</DomainName><OriginPath>/media</OriginPath></Origin></Items></Origins>
      <DefaultCacheBehavior><TargetOriginId>o</TargetOriginId><ViewerProtocolPolicy>allow-all</ViewerProtocolPolicy>
        <TrustedKeyGroups><Enabled>true</Enabled><Quantity>1</Quantity><Items><KeyGroup>${groupId}</KeyGroup></Items></TrustedKeyGroups></DefaultCacheBehavior>
      <CacheBehaviors><Quantity>1</Quantity><Items><CacheBehavior><PathPattern>/public/*</PathPattern><TargetOriginId>o</TargetOriginId>
        <ViewerProtocolPolicy>allow-all</ViewerProtocolPolicy></CacheBehavior></Items></CacheBehaviors>
      <Comment/><Enabled>true</Enabled></DistributionConfig>`;
    expect((await post(url, '/distribution', config)).status).toBe(201);
    const [distribution] = standIn.snapshot().distributions.values();
    expect(distribution?.domainName).toMatch(/^d[a-z0-9]{13}\.cloudfront\.net$/);
    expect(distribution?.enabled).toBe(true);
    expect(distribution?.origins).toEqual([{ id: 'o', domainName: '127.0.0.1', originPath: '/media' }]);
    expect(distribution?.behaviors).toEqual([
      {
        pathPattern: '/public/*',
        isDefault: false,
        targetOriginId: 'o',
        trustedKeyGroups: [],
        referencedKeyGroups: [],
        // No AllowedMethods: CloudFront's default, GET and HEAD.
        allowedMethods: ['GET', 'HEAD'],
      },
      {
        pathPattern: '*',
        isDefault: true,
        targetOriginId: 'o',
        trustedKeyGroups: [groupId],
        referencedKeyGroups: [groupId],
        allowedMethods: ['GET', 'HEAD'],
      },
    ]);
    expect(distribution?.config.CallerReference).toBe('c');
  });

  it('calls onChange after each successful write only, and stops after unsubscribing', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const { url, standIn } = await start();
    const seen: CloudFrontSnapshot[] = [];
    const unsubscribe = standIn.onChange((snapshot) => seen.push(snapshot));
    standIn.onChange(() => {
      throw new Error('a broken listener must not fail the write');
    });
    const key = await createKeyRaw(url, 'watched');
    expect(seen).toHaveLength(1);
    expect(seen[0]?.publicKeys.get(key.id)?.name).toBe('watched');

    await fetch(`${url}/2020-05-31/public-key/${key.id}`);
    await post(
      url,
      '/key-group',
      '<KeyGroupConfig><Name>g</Name><Items><PublicKey>KNOPE</PublicKey></Items></KeyGroupConfig>',
    );
    expect(seen).toHaveLength(1);

    const deleted = await fetch(`${url}/2020-05-31/public-key/${key.id}`, {
      method: 'DELETE',
      headers: { 'if-match': key.etag },
    });
    expect(deleted.status).toBe(204);
    expect(seen).toHaveLength(2);
    expect(seen[1]?.publicKeys.size).toBe(0);

    unsubscribe();
    await createKeyRaw(url, 'unwatched');
    expect(seen).toHaveLength(2);
  });

  it('counts calls per operation, failed ones included', async () => {
    const { url, standIn } = await start();
    await createKeyRaw(url, 'counted');
    await fetch(`${url}/2020-05-31/public-key/KMISSING000000`);
    await fetch(`${url}/2020-05-31/public-key`);
    await fetch(`${url}/2020-05-31/unknown`);
    expect(standIn.calls).toMatchObject({
      CreatePublicKey: 1,
      GetPublicKey: 1,
      ListPublicKeys: 1,
      UpdateKeyGroup: 0,
    });
    expect(Object.values(standIn.calls).reduce((sum, count) => sum + count, 0)).toBe(3);
  });
});
