import { connect } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import { describe, expect, it } from 'vitest';
import { testApp } from '../support/api.ts';

// What the signing API does with request bodies an attacker shapes: compressed bodies, bytes that
// are not UTF-8, binary bytes meant to be echoed into a problem's detail, and a body abandoned
// half-way (a slow-body burst must not fill the logs with 5xx errors and stack traces).

// biome-ignore lint/suspicious/noControlCharactersInRegex: looking for control characters is the point.
const BINARY = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\ufffd]/u;

async function setUp() {
  const t = await testApp();
  const token = await t.token('alice', ['media:read']);
  const post = (body: string | Uint8Array, headers: Record<string, string> = {}) =>
    t.app.request('/v1/signed-urls', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...headers },
      body,
    });
  return { t, token, post };
}

describe('request bodies', () => {
  it('refuses any Content-Encoding but identity with 415, instead of reading compressed bytes as text', async () => {
    const { post } = await setUp();
    for (const encoding of ['gzip', 'br', 'deflate']) {
      const response = await post(new Uint8Array([0x1f, 0x8b, 0x08, 0x00, 0xff]), {
        'content-encoding': encoding,
      });
      expect(response.status).toBe(415);
      const problem = (await response.json()) as { type: string; detail: string };
      expect(problem.type).toBe('/problems/unsupported-media-type');
      expect(problem.detail).toContain(`Content-Encoding "${encoding}"`);
    }
    expect(
      (
        await post(JSON.stringify({ url: 'https://media.example.com/videos/a.mp4' }), {
          'content-encoding': 'identity',
        })
      ).status,
    ).toBe(200);
  });

  it('refuses bytes that are not UTF-8 with 400 instead of replacing them', async () => {
    const { post } = await setUp();
    const body = Buffer.concat([
      Buffer.from('{"url":"https://media.example.com/videos/'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('.mp4"}'),
    ]);
    const response = await post(new Uint8Array(body));
    expect(response.status).toBe(400);
    expect(((await response.json()) as { detail: string }).detail).toBe(
      'Expected the request body to be UTF-8; it holds bytes that are not.',
    );
  });

  it('never echoes binary bytes in a problem detail', async () => {
    const { post } = await setUp();
    const response = await post('\u0001\u0002{"url":"\u001b[2J"}');
    expect(response.status).toBe(400);
    const { detail } = (await response.json()) as { detail: string };
    expect(detail).not.toMatch(BINARY);
    const schema = await post(
      JSON.stringify({ url: 'https://media.example.com/videos/a.mp4', profile: '\u001b]52;c;x\u0007' }),
    );
    const echoed = (await schema.json()) as { detail: string };
    expect(echoed.detail).toContain('\\u001b]52'); // shown, as text
    expect(echoed.detail).not.toMatch(BINARY);
  });

  it('logs a client that abandons its body once, at info, never as a 5xx', async () => {
    const { t, token } = await setUp();
    const server = createAdaptorServer({ fetch: t.app.fetch });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    try {
      await new Promise<void>((resolve) => {
        const socket = connect(port, '127.0.0.1', () => {
          socket.write(
            'POST /v1/signed-urls HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n' +
              `Authorization: Bearer ${token}\r\nContent-Length: 1000\r\n\r\n{"url":"https://media`,
          );
          setTimeout(() => socket.destroy(), 100);
        });
        socket.on('close', () => resolve());
      });
      await new Promise((resolve) => setTimeout(resolve, 200));
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    expect(t.log.lines.filter((line) => line.message === 'request aborted by the client')).toEqual([
      expect.objectContaining({ level: 'info' }),
    ]);
    expect(t.log.lines.filter((line) => line.level === 'error')).toEqual([]);
  });
});
