import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalService, startLocalService } from '../../infra/local/service.ts';
import { silentLog } from '../../lib/telemetry/ports.ts';
import { tempDir } from '../support/cli.ts';

// Unsigned access through the sandbox edge, tried the way an attacker on the same machine would:
// every spelling of a protected path (percent-escapes, doubled slashes, dot segments, encoded
// slashes) must get 403 or 404, never the object; and cookies for one user's folder must not reach
// another's file through dot segments the origin would resolve. Requests are sent with the raw
// path as written (fetch would normalize dot segments before sending).

let service: LocalService;
let edge: URL;

beforeAll(async () => {
  service = await startLocalService({
    stateDir: tempDir(),
    portBase: 0,
    edgePropagationMs: 0,
    log: silentLog,
  });
  edge = new URL(service.endpoints.edge);
});
afterAll(async () => {
  await service.close();
});

/** GET with the path exactly as written (no client-side normalization), answering the status. */
async function rawGet(path: string, headers: Record<string, string> = {}): Promise<number> {
  const { request } = await import('node:http');
  return new Promise((resolve, reject) => {
    const outgoing = request(
      { host: edge.hostname, port: edge.port, path, method: 'GET', headers },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
      },
    );
    outgoing.on('error', reject);
    outgoing.end();
  });
}

/** Spellings of `path` a server might read as the same object. */
function variants(path: string): string[] {
  const out = new Set<string>();
  const segments = path.split('/').slice(1);
  for (let i = 0; i < path.length; i++) {
    const char = path[i]!;
    if (char === '/') {
      out.add(`${path.slice(0, i)}//${path.slice(i + 1)}`);
      out.add(`${path.slice(0, i)}/./${path.slice(i + 1)}`);
      if (i > 0) out.add(`${path.slice(0, i)}%2f${path.slice(i + 1)}`);
      if (i > 0) out.add(`${path.slice(0, i)}%2F${path.slice(i + 1)}`);
    } else {
      const hex = char.charCodeAt(0).toString(16);
      out.add(`${path.slice(0, i)}%${hex}${path.slice(i + 1)}`);
      out.add(`${path.slice(0, i)}%${hex.toUpperCase()}${path.slice(i + 1)}`);
    }
  }
  for (let i = 0; i < segments.length; i++) {
    const before = `/${segments.slice(0, i).join('/')}${i > 0 ? '/' : ''}`;
    const after = segments.slice(i).join('/');
    out.add(`${before}x/../${after}`);
    out.add(`${before}x/%2e%2e/${after}`);
    out.add(`${before}x/..%2f${after}`);
    out.add(`${before}x%2f..%2f${after}`);
  }
  out.delete(path);
  return [...out];
}

describe('the sandbox edge, unsigned', () => {
  it('serves the public page and refuses the protected object without a signature', async () => {
    expect(await rawGet('/index.html')).toBe(200);
    expect(await rawGet('/private/hello.txt')).toBe(403);
  });

  it.each([
    '/%70rivate/hello.txt',
    '//private/hello.txt',
    '/./private/hello.txt',
    '/x/../private/hello.txt',
    '/private%2fhello.txt',
    '/private/./hello.txt',
    '/PRIVATE/hello.txt',
    '/private/hello.txt%00',
    '/%2e/private/hello.txt',
  ])('refuses %s', async (path) => {
    expect([403, 404]).toContain(await rawGet(path));
  });

  it('refuses every generated encoding and dot-segment variant of protected objects', async () => {
    const results: string[] = [];
    for (const object of ['/private/hello.txt', '/private/users/demo/notes.txt']) {
      for (const path of variants(object)) {
        const status = await rawGet(path);
        if (status !== 403 && status !== 404 && status !== 400) results.push(`${path} -> ${status}`);
      }
    }
    expect(results).toEqual([]);
  });
});

describe('the sandbox edge with one user’s cookies', () => {
  it('keeps them inside that user’s folder: dot segments in any spelling reach nothing else', async () => {
    const token = await service.issuer.issue({ sub: 'alice', scope: ['demo:user'] });
    const response = await fetch(`${service.endpoints.api}/v1/signed-cookies`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ resource: `${service.endpoints.edge}/private/users/alice/*`, expiresIn: 300 }),
    });
    expect(response.status).toBe(200);
    const { cookies } = (await response.json()) as { cookies: { name: string; value: string }[] };
    const cookie = cookies.map((c) => `${c.name}=${c.value}`).join('; ');
    for (const path of [
      '/private/users/alice/..%2f..%2fhello.txt',
      '/private/users/alice/%2e%2e/demo/notes.txt',
      '/private/users/alice/../demo/notes.txt',
      '/private/users/alice/%2e%2e%2f%2e%2e%2fhello.txt',
      '/private/users/alice//../../hello.txt',
    ]) {
      expect({ path, status: await rawGet(path, { cookie }) }).toEqual({
        path,
        status: expect.toBeOneOf([403, 404]),
      });
    }
    // The cookies do work for alice's own objects (the object does not exist: 404, past the signature).
    expect(await rawGet('/private/users/alice/notes.txt', { cookie })).toBe(404);
  });

  it('serves a URL signed for exactly that object', async () => {
    const token = await service.issuer.issue({ sub: 'demo', scope: ['demo:read'] });
    const response = await fetch(`${service.endpoints.api}/v1/signed-urls`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ url: service.demoUrl, expiresIn: 60 }),
    });
    const { urls } = (await response.json()) as { urls: { url: string }[] };
    const signed = new URL(urls[0]!.url);
    expect(await rawGet(`${signed.pathname}${signed.search}`)).toBe(200);
    // The same signature on another spelling of the path is not a signature for it.
    expect([403, 404]).toContain(await rawGet(`/%70rivate/hello.txt${signed.search}`));
  });
});

describe('the sandbox edge matching cache behaviours on the raw path (UNCONFIRMED: the other reading)', () => {
  it('still refuses every spelling, since the demo distribution signs its default behaviour too', async () => {
    const raw = await startLocalService({
      stateDir: tempDir(),
      portBase: 0,
      edgePropagationMs: 0,
      log: silentLog,
      edgePathMatching: 'raw',
    });
    try {
      const rawEdge = new URL(raw.endpoints.edge);
      const { request } = await import('node:http');
      const get = (path: string) =>
        new Promise<number>((resolve, reject) => {
          const outgoing = request({ host: rawEdge.hostname, port: rawEdge.port, path }, (response) => {
            response.resume();
            response.on('end', () => resolve(response.statusCode ?? 0));
          });
          outgoing.on('error', reject);
          outgoing.end();
        });
      expect(await get('/index.html')).toBe(200);
      for (const path of [
        '/%70rivate/hello.txt',
        '//private/hello.txt',
        '/private%2fhello.txt',
        ...variants('/private/hello.txt'),
      ]) {
        expect({ path, status: await get(path) }).toEqual({
          path,
          status: expect.toBeOneOf([400, 403, 404]),
        });
      }
    } finally {
      await raw.close();
    }
  });
});
