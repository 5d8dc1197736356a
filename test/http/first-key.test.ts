import { describe, expect, it } from 'vitest';
import { formatKeys } from '../../lib/cli/keys.ts';
import { listKeys } from '../../lib/rotation/inventory.ts';
import { testApp, testConfig } from '../support/api.ts';
import { activeRing, ringKey } from '../support/rings.ts';

// After the first deploy the ring's only key is pending: in the key group, waiting to reach
// CloudFront's edges (rotation.propagation, 1 h by default). Signing before then would hand out
// URLs that edges without the key refuse, so the API answers 503 and says when signing starts.

const NOW = Date.UTC(2026, 10, 22, 12);
const trustedAt = new Date(NOW - 20 * 60_000).toISOString(); // 20 minutes ago; propagation 1 h
const startsAt = new Date(NOW + 40 * 60_000).toISOString();
const firstKey = ringKey({ state: 'pending', trustedAt, activatedAt: undefined });

describe('before the first key is active', () => {
  it('answers 503 keys-unavailable with Retry-After until the first key has propagated, and says when', async () => {
    const t = await testApp({ now: NOW, rings: { media: { ...activeRing(firstKey) }, docs: activeRing() } });
    const response = await t.app.request('/v1/signed-urls', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${await t.token('alice', ['media:read'])}`,
      },
      body: JSON.stringify({ url: 'https://media.example.com/videos/a.mp4' }),
    });
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe(String(40 * 60));
    const problem = (await response.json()) as { type: string; detail: string };
    expect(problem.type).toBe('/problems/keys-unavailable');
    expect(problem.detail).toContain(`signing starts at about ${startsAt}`);
    expect(problem).toMatchObject({ signingStartsAt: startsAt });
  });

  it('health says when signing starts for that profile', async () => {
    const t = await testApp({ now: NOW, rings: { media: activeRing(firstKey), docs: activeRing() } });
    const health = (await (await t.app.request('/v1/health')).json()) as {
      status: string;
      profiles: Record<string, { canSign: boolean; signingStartsAt?: string }>;
    };
    expect(health.status).toBe('degraded');
    expect(health.profiles.media).toMatchObject({ canSign: false, signingStartsAt: startsAt });
    expect(health.profiles.docs).not.toHaveProperty('signingStartsAt');
  });

  it('signet keys says the same', () => {
    const profile = testConfig().profiles.media!;
    const listing = listKeys({
      ring: activeRing(firstKey),
      group: {
        id: '5b7a1f9e-1111-4c8e-9a43-0123456789ab',
        name: 'signet-media',
        items: [firstKey.id!],
        etag: 'E1',
      },
      publicKeys: [],
      now: new Date(NOW),
      profileName: 'media',
      profile,
    });
    expect(listing.signingStartsAt).toBe(startsAt);
    // What an operator reads in `signet keys`' text output.
    expect(formatKeys(listing)).toContain(`no key is active yet: signing starts at about ${startsAt}`);
    expect(
      listKeys({
        ring: activeRing(),
        group: undefined,
        publicKeys: [],
        now: new Date(NOW),
        profileName: 'media',
        profile,
      }).signingStartsAt,
    ).toBeUndefined();
    expect(
      formatKeys(
        listKeys({
          ring: activeRing(),
          group: undefined,
          publicKeys: [],
          now: new Date(NOW),
          profileName: 'media',
          profile,
        }),
      ),
    ).not.toContain('signing starts');
  });
});
