import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  parseSigningKey,
  parseVerifyingKey,
  publicKeyPem,
  signUrl,
  verifyRequest,
} from '../../lib/signing/index.ts';
import { testApp, testConfig } from '../support/api.ts';

// The signer signs exactly the URL the caller will request, or refuses it with a reason: no
// character dropped or replaced, and no character that the edge would read as a wildcard.

const NOW = 1_790_000_000;
const pem = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({
  type: 'pkcs8',
  format: 'pem',
});
const key = parseSigningKey(pem.toString());
const trustedKeys = new Map([['K2JCJMDEHXQW5F', parseVerifyingKey(publicKeyPem(key.publicKey))]]);
const sign = (url: string, extra: Record<string, unknown> = {}) =>
  signUrl({ url, key, keyPairId: 'K2JCJMDEHXQW5F', hash: 'sha256', expires: NOW + 600, now: NOW, ...extra });

describe('what the signer signs', () => {
  it.each([
    [
      'a question mark inside the query',
      'https://media.example.com/a?q=what?',
      'https://media.example.com/a?q=what?&Expires=',
    ],
    ['two question marks', 'https://media.example.com/x??', 'https://media.example.com/x??&Expires='],
    [
      'a percent-escape that is not UTF-8',
      'https://media.example.com/a%FF.mp4',
      'https://media.example.com/a%FF.mp4?Expires=',
    ],
  ])('keeps %s as sent, and the edge accepts the URL as requested', (_, input, prefix) => {
    const { url } = sign(input);
    expect(url.startsWith(prefix)).toBe(true);
    expect(verifyRequest({ url, now: NOW + 1, trustedKeys })).toMatchObject({ allowed: true });
  });

  it('drops only an empty query (a bare trailing "?"), which the edge drops too', () => {
    const { url } = sign('https://media.example.com/a?');
    expect(url.startsWith('https://media.example.com/a?Expires=')).toBe(true);
    expect(verifyRequest({ url, now: NOW + 1, trustedKeys })).toMatchObject({ allowed: true });
  });

  it('refuses a "?" in the query of a custom-policy URL, where the edge would read it as a wildcard', () => {
    expect(() => sign('https://media.example.com/a?q=what?', { ipAddress: '203.0.113.0/24' })).toThrow(
      expect.objectContaining({ code: 'ERR_AMBIGUOUS_WILDCARD', message: expect.stringContaining('%3F') }),
    );
    const literal = sign('https://media.example.com/a?q=what%3F', { ipAddress: '203.0.113.0/24' });
    expect(
      verifyRequest({ url: literal.url, now: NOW + 1, clientIp: '203.0.113.7', trustedKeys }),
    ).toMatchObject({
      allowed: true,
    });
  });

  it('refuses text that is not valid Unicode instead of signing U+FFFD in its place (400 through the API)', async () => {
    expect(() => sign('https://media.example.com/\ud800.mp4')).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_URL' }),
    );
    const t = await testApp();
    const response = await t.app.request('/v1/signed-urls', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${await t.token('alice', ['media:read'])}`,
      },
      body: '{"url":"https://media.example.com/videos/\\ud800.mp4"}',
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ code: 'ERR_INVALID_URL' });
  });
});

describe('a profile that does not sign IP-restricted policies', () => {
  it('refuses ipAddress with 400, saying why (CloudFront’s IpAddress is IPv4 only)', async () => {
    const base = testConfig();
    const config = {
      ...base,
      profiles: { ...base.profiles, media: { ...base.profiles.media!, allowIpRestriction: false } },
    };
    const t = await testApp({ config });
    const post = async (body: unknown) =>
      t.app.request('/v1/signed-urls', {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${await t.token('alice', ['media:read'])}`,
        },
        body: JSON.stringify(body),
      });
    const refused = await post({
      url: 'https://media.example.com/videos/a.mp4',
      ipAddress: '203.0.113.0/24',
    });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { detail: string }).detail).toContain('allowIpRestriction is false');
    expect((await post({ url: 'https://media.example.com/videos/a.mp4' })).status).toBe(200);
  });
});
