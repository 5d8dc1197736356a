import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalService, startLocalService } from '../../infra/local/service.ts';
import { silentLog } from '../../lib/telemetry/ports.ts';
import { tempDir } from '../support/cli.ts';

let service: LocalService;
let token: string;

beforeAll(async () => {
  service = await startLocalService({
    stateDir: tempDir(),
    portBase: 0,
    edgePropagationMs: 200,
    log: silentLog,
  });
  token = await service.issuer.issue({ sub: 'demo', scope: ['demo:read', 'demo:user'] });
}, 60_000);

afterAll(async () => {
  await service?.close();
});

function api(path: string, body: unknown, headers: Record<string, string> = {}) {
  return fetch(`${service.endpoints.api}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

async function signedUrl(url: string, extra: Record<string, unknown> = {}): Promise<string> {
  const response = await api('/v1/signed-urls', { url, ...extra });
  expect(response.status).toBe(200);
  return ((await response.json()) as { urls: { url: string }[] }).urls[0]!.url;
}

describe('end to end: token → API → signed URL or cookies → edge', () => {
  it('a signed URL from the API opens the protected object at the edge', async () => {
    const response = await fetch(await signedUrl(service.demoUrl));
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('Hello from behind a CloudFront signature.\n');
  });

  it('a URL whose file name needs encoding works as signed', async () => {
    const url = await signedUrl(`${service.endpoints.edge}/private/report 2026.txt`);
    expect(url).toContain('/private/report%202026.txt?');
    const response = await fetch(url);
    expect(response.status).toBe(200);
  });

  it('signed cookies from the API open every object under the wildcard', async () => {
    const response = await api('/v1/signed-cookies', {
      resource: `${service.endpoints.edge}/private/*`,
      expiresIn: 120,
    });
    expect(response.status).toBe(200);
    const cookie = response.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ');
    for (const path of ['/private/hello.txt', '/private/users/demo/notes.txt']) {
      expect((await fetch(`${service.endpoints.edge}${path}`, { headers: { cookie } })).status).toBe(200);
    }
    expect((await fetch(service.demoUrl)).status).toBe(403);
  });

  it('a tampered URL, an expired URL and a URL for another object are refused with 403', async () => {
    const url = await signedUrl(service.demoUrl);
    const tampered = await fetch(url.replace('hello.txt', 'users/demo/notes.txt'));
    expect(tampered.status).toBe(403);
    expect(await tampered.text()).toContain('<Code>AccessDenied</Code>');

    const shortLived = await signedUrl(service.demoUrl, { expiresIn: 1 });
    await new Promise((resolve) => setTimeout(resolve, 2100));
    const expired = await fetch(shortLived);
    expect(expired.status).toBe(403);
    expect(decodeURIComponent(expired.headers.get('x-signet-reason') ?? '')).toMatch(/^expired/);
  });

  it('the API refuses what the grant does not cover, a missing token and malformed JSON', async () => {
    const outside = await api('/v1/signed-urls', { url: `${service.endpoints.edge}/index.html` });
    expect(outside.status).toBe(403);
    const userOnly = await service.issuer.issue({ sub: 'demo', scope: ['demo:user'] });
    const bearer = { authorization: `Bearer ${userOnly}` };
    const own = await api(
      '/v1/signed-urls',
      { url: `${service.endpoints.edge}/private/users/demo/notes.txt` },
      bearer,
    );
    expect(own.status).toBe(200);
    const otherUser = await api(
      '/v1/signed-urls',
      { url: `${service.endpoints.edge}/private/users/bob/notes.txt` },
      bearer,
    );
    expect(otherUser.status).toBe(403);
    const noToken = await api('/v1/signed-urls', { url: service.demoUrl }, { authorization: '' });
    expect(noToken.status).toBe(401);
    expect(noToken.headers.get('www-authenticate')).toContain('Bearer');
    const malformed = await api('/v1/signed-urls', '{"url":');
    expect(malformed.status).toBe(400);
    expect(malformed.headers.get('content-type')).toBe('application/problem+json');
  });
});
