import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { userDemoPage } from '../../../infra/local/demo-page.ts';
import { type LocalService, startLocalService } from '../../../infra/local/service.ts';
import { parseConfig } from '../../../lib/config/index.ts';
import { silentLog } from '../../../lib/telemetry/ports.ts';
import { tempDir } from '../../support/cli.ts';

// The demo page without a browser (test/browser drives it in Chromium): what npm start serves on
// the API's port, and which profile and host names `signet start --config` picks for it.

let service: LocalService;

beforeAll(async () => {
  service = await startLocalService({
    stateDir: tempDir(),
    portBase: 0,
    edgePropagationMs: 0,
    log: silentLog,
  });
}, 60_000);

afterAll(async () => {
  await service?.close();
});

describe('npm start: the demo page on the API port', () => {
  it('serves the page with its settings, the client module, and a token the API accepts', async () => {
    const page = await fetch(`${service.endpoints.api}/demo/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const html = await page.text();
    const settings = JSON.parse(
      /<script type="application\/json" id="config">(.*?)<\/script>/s.exec(html)![1]!,
    );
    const edge = service.endpoints.edge;
    expect(settings).toEqual({
      api: service.endpoints.api,
      profile: 'demo',
      resource: `${edge}/private/*`,
      image: `${edge}/private/signet.svg`,
      download: `${edge}/private/hello.txt`,
      fetchUrl: `${edge}/private/hello.txt`,
      probe: `${edge}/private/probe.txt`,
    });
    // The page's origin is one the demo profile allows, on the edge's site.
    expect(service.config.profiles.demo!.cors.origins).toEqual([
      service.endpoints.api,
      'http://127.0.0.1:5173',
    ]);

    const client = await fetch(`${service.endpoints.api}/demo/signet-client.js`);
    expect(client.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await client.text()).toBe(
      readFileSync(new URL('../../../client/signet-client.js', import.meta.url), 'utf8'),
    );

    const { token } = (await (await fetch(`${service.endpoints.api}/demo/token`)).json()) as {
      token: string;
    };
    const signed = await fetch(`${service.endpoints.api}/v1/signed-urls`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ url: settings.download }),
    });
    expect(signed.status).toBe(200);
    const { urls } = (await signed.json()) as { urls: { url: string }[] };
    expect((await fetch(urls[0]!.url)).status).toBe(200);
    // The protected image and the probe exist behind the signature.
    expect((await fetch(settings.image)).status).toBe(403);
  });

  it('answers 404 for other /demo paths, redirects /demo, and leaves the API its routes', async () => {
    expect((await fetch(`${service.endpoints.api}/demo/nope`)).status).toBe(404);
    const redirect = await fetch(`${service.endpoints.api}/demo`, { redirect: 'manual' });
    expect(redirect.status).toBe(302);
    expect(redirect.headers.get('location')).toBe(`${service.endpoints.api}/demo/`);
    expect((await fetch(`${service.endpoints.api}/v1/health`)).status).toBe(200);
  });
});

describe("signet start --config: the demo page for the user's profile", () => {
  const config = parseConfig({
    api: { publicOrigin: 'https://api.example.com' },
    defaultProfile: 'media',
    profiles: {
      docs: {
        domains: ['docs.example.com'],
        keyRing: { secretId: 'd' },
        cors: { origins: ['https://docs-app.example.com'] },
        grants: [{ when: { apiKeys: ['k'] }, resources: ['https://docs.example.com/a/*'] }],
      },
      media: {
        domains: ['media.example.com'],
        keyRing: { secretId: 'm' },
        cors: { origins: ['https://app.example.com:8443', 'https://other.example.com'] },
        grants: [{ when: { apiKeys: ['k'] }, resources: ['https://media.example.com/videos/*'] }],
      },
    },
  });
  const folder = mkdtempSync(join(tmpdir(), 'signet-demo-'));
  const endpoints = { api: 'https://127.0.0.1:4603', edge: 'https://127.0.0.1:4602' };

  it('opens on the default profile first allowed origin, with rules mapping each name to the local ports', () => {
    const demo = userDemoPage({
      config,
      profiles: {
        docs: { sampleUrl: 'https://docs.example.com/a/signet-sample.txt', originFolder: folder },
        media: { sampleUrl: 'https://media.example.com/videos/signet-sample.txt', originFolder: folder },
      },
      endpoints,
      token: async () => 't',
    });
    expect(demo?.url).toBe('https://app.example.com:8443/demo/');
    expect(demo?.hostResolverRules).toBe(
      'MAP media.example.com:443 127.0.0.1:4602, MAP app.example.com:8443 127.0.0.1:4603, MAP api.example.com:443 127.0.0.1:4603',
    );
    expect(existsSync(join(folder, 'videos', 'signet-sample.svg'))).toBe(true);
  });

  it('falls back to another profile, and offers no page when no profile has a sample object and origins', () => {
    const docsOnly = userDemoPage({
      config,
      profiles: {
        docs: { sampleUrl: 'https://docs.example.com/a/signet-sample.txt', originFolder: folder },
        media: { originFolder: folder },
      },
      endpoints,
      token: async () => 't',
    });
    expect(docsOnly?.url).toBe('https://docs-app.example.com/demo/');
    expect(
      userDemoPage({
        config,
        profiles: { docs: { originFolder: folder }, media: { originFolder: folder } },
        endpoints,
        token: async () => 't',
      }),
    ).toBeUndefined();
  });
});
