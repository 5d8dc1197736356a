import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AUDIT_URL_CHARS, AUDIT_URLS_SHOWN } from '../../lib/http/app.ts';
import { testApp } from '../support/api.ts';

// Audit lines have a bound (CloudWatch Logs refuses events over 256 KB, and an attacker with a
// token should not be able to fill the logs with megabytes per request): a batch logs its count,
// the first few URLs cut short, and a digest of the whole list, never the whole body.

describe('the audit line of a signing request', () => {
  it('stays a few KB for a 100-URL batch of 7.6 KB URLs, and still identifies every URL signed', async () => {
    const t = await testApp();
    const urls = Array.from(
      { length: 100 },
      (_, index) => `https://media.example.com/videos/${index}-${'a'.repeat(7_600)}.ts`,
    );
    const response = await t.app.request('/v1/signed-urls', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${await t.token('alice', ['media:read'])}`,
      },
      body: JSON.stringify({ urls, resource: 'https://media.example.com/videos/*', expiresIn: 60 }),
    });
    expect(response.status).toBe(200);
    const line = t.log.lines.find((entry) => entry.fields.audit === true)!;
    expect(Buffer.byteLength(JSON.stringify(line))).toBeLessThan(8 * 1024);
    expect(line.fields).toMatchObject({
      count: 100,
      resource: 'https://media.example.com/videos/*',
      resourcesSha256: createHash('sha256').update(urls.join('\n')).digest('hex'),
    });
    const shown = line.fields.resources as string[];
    expect(shown).toHaveLength(AUDIT_URLS_SHOWN);
    expect(shown[0]).toBe(`${urls[0]!.slice(0, AUDIT_URL_CHARS)}…(${urls[0]!.length} chars)`);
    expect(t.log.text()).not.toContain('Signature=');
  });
});
