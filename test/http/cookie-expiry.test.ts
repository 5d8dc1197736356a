import { beforeAll, describe, expect, it } from 'vitest';
import type * as z from 'zod';
import { openApiDocument } from '../../lib/http/openapi.ts';
import { signedCookiesResponse } from '../../lib/http/schemas.ts';
import { cookieRefreshIn } from '../../lib/signing/index.ts';
import { testApp, testConfig } from '../support/api.ts';
import { activeRing } from '../support/rings.ts';

// Issue 14, point 3: session cookies by default, persistent cookies on request, and every answer
// says when to refresh (docs/design.md, "Contracts").

const NOW_S = Math.floor(Date.UTC(2026, 10, 22, 12) / 1000);
type CookiesBody = z.output<typeof signedCookiesResponse>;

function persistentConfig() {
  const base = testConfig();
  return testConfig({
    profiles: {
      ...base.profiles,
      media: { ...base.profiles.media!, cookie: { ...base.profiles.media!.cookie, persistent: true } },
    },
  });
}

async function cookies(app: Awaited<ReturnType<typeof testApp>>, body: Record<string, unknown>) {
  const token = await app.token('alice', ['media:read']);
  const response = await app.app.request('/v1/signed-cookies', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  expect(response.status).toBe(200);
  const json = (await response.json()) as CookiesBody;
  // Every answer matches the schema the OpenAPI document is generated from.
  expect(signedCookiesResponse.parse(json)).toEqual(json);
  return { setCookies: response.headers.getSetCookie(), body: json };
}

describe('cookie expiry and refresh', () => {
  let sessionApp: Awaited<ReturnType<typeof testApp>>;
  let persistentApp: Awaited<ReturnType<typeof testApp>>;
  beforeAll(async () => {
    sessionApp = await testApp({ rings: { media: activeRing(), docs: activeRing() } });
    persistentApp = await testApp({
      rings: { media: activeRing(), docs: activeRing() },
      config: persistentConfig(),
    });
  });

  it('sets session cookies by default (no Max-Age or Expires) and says when to refresh', async () => {
    const { setCookies, body } = await cookies(sessionApp, {
      resource: 'https://media.example.com/videos/*',
      expiresIn: 900,
    });
    expect(setCookies).toHaveLength(4);
    for (const cookie of setCookies) {
      expect(cookie).not.toMatch(/; (Max-Age|Expires)=/i);
      expect(cookie).toMatch(/; Secure; HttpOnly; SameSite=None$/);
    }
    expect(body.persistent).toBe(false);
    expect(body.cookies.every((c) => c.maxAge === undefined && c.expiresAt === undefined)).toBe(true);
    // 900 s: a fifth (180 s) before expiry.
    expect(body).toMatchObject({
      expiresIn: 900,
      refreshIn: 720,
      refreshAt: '2026-11-22T12:12:00Z',
      expiresAt: '2026-11-22T12:15:00Z',
    });
  });

  it('with cookie.persistent, sets Max-Age and Expires to the policy expiry, in the headers and the body', async () => {
    const { setCookies, body } = await cookies(persistentApp, {
      resource: 'https://media.example.com/videos/*',
      expiresIn: 3600,
    });
    for (const cookie of setCookies) {
      expect(cookie).toMatch(
        /; Domain=example\.com; Path=\/; Max-Age=3600; Expires=Sun, 22 Nov 2026 13:00:00 GMT; Secure; HttpOnly; SameSite=None$/,
      );
    }
    expect(body.persistent).toBe(true);
    for (const cookie of body.cookies) {
      expect(cookie).toMatchObject({ maxAge: 3600, expiresAt: '2026-11-22T13:00:00Z' });
    }
    // An hour: refresh 5 minutes (the most margin) before expiry.
    expect(body).toMatchObject({ expiresIn: 3600, refreshIn: 3300, refreshAt: '2026-11-22T12:55:00Z' });
  });

  it('persistent cookies follow an expiresAt the caller chose', async () => {
    const { setCookies, body } = await cookies(persistentApp, {
      resource: 'https://media.example.com/videos/*',
      expiresAt: NOW_S + 10,
    });
    expect(setCookies[0]).toContain('; Max-Age=10; Expires=Sun, 22 Nov 2026 12:00:10 GMT;');
    expect(body).toMatchObject({ expiresIn: 10, refreshIn: 8 });
  });

  it('refreshes a fifth of the lifetime early, at least 1 s and at most 5 minutes', () => {
    const at = (lifetime: number) => cookieRefreshIn({ now: NOW_S, expires: NOW_S + lifetime });
    expect([1, 2, 4, 5, 10, 60, 300, 1500, 1501, 86_400].map(at)).toEqual([
      0, 1, 3, 4, 8, 48, 240, 1200, 1201, 86_100,
    ]);
  });

  it('documents refreshIn, refreshAt, persistent and the cookies Max-Age in the OpenAPI document', () => {
    const doc = openApiDocument() as {
      paths: Record<string, { post: { responses: Record<string, unknown> } }>;
    };
    const ok = doc.paths['/v1/signed-cookies']!.post.responses['200'] as {
      headers: Record<string, { description: string }>;
      content: Record<
        string,
        {
          schema: {
            required: string[];
            properties: Record<string, { items?: { properties: Record<string, unknown> } }>;
          };
        }
      >;
    };
    const schema = ok.content['application/json']!.schema;
    expect(schema.required).toEqual(
      expect.arrayContaining(['refreshIn', 'refreshAt', 'expiresIn', 'persistent']),
    );
    expect(Object.keys(schema.properties.cookies!.items!.properties)).toEqual(
      expect.arrayContaining(['maxAge', 'expiresAt']),
    );
    expect(ok.headers['Set-Cookie']!.description).toMatch(/Max-Age/);
  });

  it('refuses an unknown cookie option with the expected shape', () => {
    expect(() =>
      testConfig({
        profiles: {
          media: {
            domains: ['media.example.com'],
            keyRing: { secretId: 's' },
            cookie: { persistent: 'yes' },
          },
        },
      }),
    ).toThrow(/persistent/);
  });
});
