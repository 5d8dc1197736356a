import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type UserDemoPage, userDemoPage } from '../../infra/local/demo-page.ts';
import { close, listen } from '../../infra/local/http.ts';
import { type LocalService, startLocalService } from '../../infra/local/service.ts';
import { startUserService, type UserService } from '../../infra/local/user-service.ts';
import { parseConfig } from '../../lib/config/index.ts';
import { silentLog } from '../../lib/telemetry/ports.ts';
import { findChromium, launchChromium, reportNoBrowser, type TestBrowser } from '../support/browser.ts';
import { tempDir } from '../support/cli.ts';

// Issue 14: what a frontend developer sees in a real browser (Debian's Chromium, driven through
// playwright-core; nothing downloaded), against `npm start`'s service and its demo page. Outcomes a
// page cares about are asserted (the object loads, or the client says why not), not how a given
// Chromium version words its console messages. Without Chromium the suite is one passing test that
// prints one line saying how to install it.

const executable = findChromium();
const CLIENT_SOURCE = readFileSync(new URL('../../client/signet-client.js', import.meta.url), 'utf8');

if (executable === undefined) {
  describe('frontends in a real browser', () => {
    it('need Chromium, which is not installed here', () => {
      reportNoBrowser();
      expect(findChromium()).toBeUndefined();
    });
  });
} else {
  const chromiumPath = executable;
  let browser: TestBrowser;
  let service: LocalService;
  let edge: string;

  describe('frontends in Chromium: npm start over HTTP on 127.0.0.1 (one site)', () => {
    beforeAll(async () => {
      browser = await launchChromium(chromiumPath);
      process.stderr.write(`Browser tests: Chromium ${browser.version} (${chromiumPath})\n`);
      service = await startLocalService({
        stateDir: tempDir(),
        portBase: 0,
        edgePropagationMs: 0,
        log: silentLog,
      });
      edge = service.endpoints.edge;
    }, 60_000);

    afterAll(async () => {
      await browser?.close();
      await service?.close();
    });

    it('demo page: a download link signed for an allowed origin opens the object; unsigned, the edge says 403', async () => {
      await browser.context.clearCookies();
      const page = await browser.context.newPage();
      await page.goto(`${service.endpoints.api}/demo/`);
      const steps = await outcomes(page, ['token', 'download']);
      expect(steps.token!.outcome).toBe('ok');
      expect(steps.download).toMatchObject({ outcome: 'ok' });
      const href = await page.getAttribute('#download', 'href');
      expect(href).toMatch(/\/private\/hello\.txt\?Expires=\d+&Signature=.+&Key-Pair-Id=/);
      // Clicking the link as a user would: the browser follows it (a cross-origin `download`
      // attribute is ignored), and the edge answers the signed URL.
      const answered = page.waitForResponse((r) => r.url().startsWith(`${edge}/private/hello.txt`));
      await page.click('#download');
      const response = await answered;
      expect(response.status()).toBe(200);
      expect(await response.text()).toBe('Hello from behind a CloudFront signature.\n');
      // The demo page also set cookies; without them (and without a signature) the edge refuses.
      await browser.context.clearCookies();
      const unsigned = await page.goto(`${edge}/private/hello.txt`);
      expect(unsigned?.status()).toBe(403);
      expect(await unsigned?.text()).toContain('<Code>MissingKey</Code>');
      await page.close();
    });

    it('demo page: cookies sent (probe), the image by <img>, and fetch() with credentials and CORS all succeed', async () => {
      await browser.context.clearCookies();
      const page = await browser.context.newPage();
      await page.goto(`${service.endpoints.api}/demo/`);
      const steps = await outcomes(page, ['cookies', 'image', 'fetch']);
      expect(steps.cookies).toMatchObject({ outcome: 'ok' });
      expect(steps.cookies!.detail).toContain('probe 200');
      expect(steps.image).toMatchObject({ outcome: 'ok', detail: 'loaded, 240×120' });
      expect(steps.fetch).toMatchObject({ outcome: 'ok' });
      expect(steps.fetch!.detail).toBe('200 Hello from behind a CloudFront signature.\n');
      // The cookies are session cookies (no expiry of their own), HttpOnly and Secure.
      const cookies = (await browser.context.cookies(edge)).filter((c) => c.name.startsWith('CloudFront-'));
      expect(cookies.length).toBeGreaterThanOrEqual(3);
      for (const cookie of cookies)
        expect(cookie).toMatchObject({ expires: -1, httpOnly: true, secure: true });
      // A page's fetch() of a signed URL (no cookies needed) reads the object too.
      await browser.context.clearCookies();
      const read = await page.evaluate(async (url) => {
        const { signet } = globalThis as unknown as {
          signet: { client: { signUrl(url: string): Promise<{ url: string }> } };
        };
        const signed = await signet.client.signUrl(url);
        const response = await fetch(signed.url);
        return { status: response.status, body: await response.text() };
      }, `${edge}/private/hello.txt`);
      expect(read).toEqual({ status: 200, body: 'Hello from behind a CloudFront signature.\n' });
      await page.close();
    });

    it('a page from an origin the profile does not allow: the client reports it, the API refuses it, nothing is signed', async () => {
      const pageServer = await servePage(
        `<!doctype html><script type="module">
          import { createSignetClient } from './signet-client.js';
          const client = createSignetClient({ api: ${JSON.stringify(service.endpoints.api)}, token: 'any' });
          window.result = client.signUrl(${JSON.stringify(`${edge}/private/hello.txt`)}).then(
            (signed) => ({ ok: true, url: signed.url }),
            (error) => ({ ok: false, code: error.code, message: error.message }));
        </script>`,
      );
      try {
        const page = await browser.context.newPage();
        await page.goto(pageServer.url);
        const result = await page.evaluate(
          () => (globalThis as unknown as { result: Promise<unknown> }).result,
        );
        expect(result).toMatchObject({ ok: false, code: 'api-unreachable' });
        expect((result as { message: string }).message).toContain('cors.origins');
        // What the browser hid from the page: the API's preflight answer carries no CORS grant, and
        // the request itself is refused as origin-not-allowed.
        const preflight = await fetch(`${service.endpoints.api}/v1/signed-urls`, {
          method: 'OPTIONS',
          headers: { origin: pageServer.url, 'access-control-request-method': 'POST' },
        });
        expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
        const token = await service.issuer.issue({ sub: 'demo', scope: ['demo:read'] });
        const refused = await fetch(`${service.endpoints.api}/v1/signed-urls`, {
          method: 'POST',
          headers: {
            origin: pageServer.url,
            'content-type': 'application/json',
            authorization: `Bearer ${token}`,
          },
          body: JSON.stringify({ url: `${edge}/private/hello.txt` }),
        });
        expect(refused.status).toBe(403);
        expect(await refused.json()).toMatchObject({ type: '/problems/origin-not-allowed' });
        await page.close();
      } finally {
        await pageServer.close();
      }
    });

    it('cookies across their expiry: without refresh the edge refuses the stale cookie; the client refreshes first and every request passes', async () => {
      // Without refresh (keepFresh=0): the session cookie outlives its 4 s policy and the edge refuses it.
      await browser.context.clearCookies();
      const stale = await browser.context.newPage();
      await stale.goto(`${service.endpoints.api}/demo/?expiresIn=4&keepFresh=0`);
      expect((await outcomes(stale, ['cookies', 'fetch'])).fetch!.outcome).toBe('ok');
      const afterExpiry = await stale.evaluate(async (url) => {
        const { signet } = globalThis as unknown as { signet: { first: { answer: { expires: number } } } };
        await new Promise((done) => setTimeout(done, signet.first.answer.expires * 1000 + 1500 - Date.now()));
        return fetch(url, { credentials: 'include', cache: 'no-store' } as RequestInit).then(
          (r) => r.status,
          () => 'blocked',
        );
      }, `${edge}/private/hello.txt`);
      expect(afterExpiry).toBe(403);
      await stale.close();

      // With the client's refresh (the default): new cookies arrive before the policy expires.
      await browser.context.clearCookies();
      const fresh = await browser.context.newPage();
      await fresh.goto(`${service.endpoints.api}/demo/?expiresIn=4`);
      expect((await outcomes(fresh, ['cookies', 'fetch'])).fetch!.outcome).toBe('ok');
      const refresh = await outcomes(fresh, ['refresh']);
      expect(refresh.refresh!.outcome).toBe('ok');
      const result = await fresh.evaluate(async (url) => {
        const { signet } = globalThis as unknown as {
          signet: { first: { answer: { expires: number } } };
        };
        const first = signet.first.answer.expires;
        await new Promise((done) => setTimeout(done, first * 1000 + 1500 - Date.now()));
        const response = await fetch(url, { credentials: 'include', cache: 'no-store' } as RequestInit);
        return { status: response.status, pastFirstExpiry: Date.now() / 1000 > first };
      }, `${edge}/private/hello.txt`);
      expect(result).toEqual({ status: 200, pastFirstExpiry: true });
      await fresh.close();
    }, 60_000);
  });
}

/**
 * A user's config as `signet start --config FILE --https` runs it: the API at
 * https://api.example.test, the CDN at https://media.example.test, cookies for Domain=example.test
 * (SameSite Lax, the default), and two allowed origins: the API's own (the demo page, on the site)
 * and https://app.other.test (allowed, but another site).
 */
const HTTPS_CONFIG = {
  api: { publicOrigin: 'https://api.example.test' },
  auth: {
    jwt: {
      issuer: 'https://issuer.example.test/',
      audience: 'signet',
      jwksUrl: 'https://issuer.example.test/.well-known/jwks.json',
      algorithms: ['ES256'],
    },
  },
  profiles: {
    media: {
      domains: ['media.example.test'],
      keyRing: { secretId: 'signet/media/key-ring' },
      // Persistent here (the HTTP cases check the default, session cookies).
      cookie: { domain: 'example.test', path: '/', sameSite: 'Lax', persistent: true },
      cors: { origins: ['https://api.example.test', 'https://app.other.test'] },
      grants: [{ when: { claims: { scope: 'media:read' } }, resources: ['https://media.example.test/*'] }],
    },
  },
};

if (executable !== undefined) {
  const chromiumPath = executable;
  let browser: TestBrowser;
  let service: UserService;
  const HELLO = 'Hello over HTTPS on one site.\n';
  const SAMPLE = 'A sample object of profile media, served by the local edge.\n';

  describe('frontends in Chromium: signet start --config FILE --https (api., media. and a cookie Domain on example.test)', () => {
    beforeAll(async () => {
      // The demo page `signet start --config FILE` serves for the user's profile (on its first
      // allowed origin, https://api.example.test), as the command line does.
      let demo: UserDemoPage | undefined;
      service = await startUserService({
        config: parseConfig(HTTPS_CONFIG),
        configPath: '/nonexistent/signet.json',
        stateDir: null,
        portBase: 0,
        edgePropagationMs: 0,
        https: true,
        extraRoutes: (request) => demo?.handler(request),
        log: silentLog,
      });
      demo = userDemoPage({
        config: service.config,
        profiles: service.profiles,
        endpoints: service.endpoints,
        token: () => service.issuer.issue({ sub: 'demo', scope: ['media:read'] }),
      });
      expect(demo?.url).toBe('https://api.example.test/demo/');
      const folder = service.profiles.media!.originFolder;
      mkdirSync(folder, { recursive: true });
      writeFileSync(join(folder, 'hello.txt'), HELLO);
      // Real-looking names on the standard port, as a user's browser reaches them: a host resolver
      // rule per name, and the local certificate trusted by its key (no certificate error to bypass,
      // so Secure cookies behave as on a real certificate).
      // The rules signet start prints, and one more name for a page on another site.
      const apiPort = new URL(service.endpoints.api).port;
      expect(demo!.hostResolverRules).toBe(
        `MAP media.example.test:443 127.0.0.1:${new URL(service.endpoints.edge).port}, MAP api.example.test:443 127.0.0.1:${apiPort}`,
      );
      const rules = `${demo!.hostResolverRules}, MAP app.other.test:443 127.0.0.1:${apiPort}`;
      browser = await launchChromium(chromiumPath, [
        `--host-resolver-rules=${rules}`,
        `--ignore-certificate-errors-spki-list=${service.tls!.spkiSha256}`,
      ]);
    }, 90_000);

    afterAll(async () => {
      await browser?.close();
      await service?.close();
    });

    it('on one site: the cookies (Domain=example.test, Secure, persistent until the policy expires) reach the CDN; <img> and fetch() with credentials load', async () => {
      await browser.context.clearCookies();
      const page = await browser.context.newPage();
      await page.goto('https://api.example.test/demo/');
      const steps = await outcomes(page, ['cookies', 'image', 'fetch']);
      expect(steps.cookies).toMatchObject({ outcome: 'ok' });
      expect(steps.cookies!.detail).toContain('probe 200');
      expect(steps.image).toMatchObject({ outcome: 'ok', detail: 'loaded, 240×120' });
      expect(steps.fetch).toMatchObject({ outcome: 'ok', detail: `200 ${SAMPLE}` });
      const policyExpires = await page.evaluate(
        () =>
          (globalThis as unknown as { signet: { first: { answer: { expires: number } } } }).signet.first
            .answer.expires,
      );
      const cookies = (await browser.context.cookies('https://media.example.test/'))
        .filter((c) => c.name.startsWith('CloudFront-'))
        .map(({ domain, secure, httpOnly, sameSite, expires }) => ({
          domain,
          secure,
          httpOnly,
          sameSite,
          // Max-Age counts from when the browser got the answer, in whole seconds of the API's
          // clock: the browser's expiry is the policy's, give or take a second.
          expiresWithPolicy: Math.abs(expires - policyExpires) <= 1.5,
        }));
      expect(cookies.length).toBeGreaterThanOrEqual(3);
      // cookie.persistent: the browser forgets each cookie when the policy expires.
      for (const cookie of cookies) {
        expect(cookie).toEqual({
          domain: '.example.test',
          secure: true,
          httpOnly: true,
          sameSite: 'Lax',
          expiresWithPolicy: true,
        });
      }
      // A signed URL for the real-looking name opens from the page too (download link).
      const answered = page.waitForResponse((r) =>
        r.url().startsWith('https://media.example.test/signet-sample.txt?'),
      );
      await browser.context.clearCookies();
      await page.click('#download');
      expect((await answered).status()).toBe(200);
      await page.close();
    });

    it('from another site (an allowed origin, https://app.other.test): the cookies never arrive and the client says so', async () => {
      await browser.context.clearCookies();
      const page = await browser.context.newPage();
      await page.goto('https://app.other.test/demo/');
      const steps = await outcomes(page, ['cookies', 'image', 'fetch']);
      // The API answered 200 (signed URLs work), but the browser did not keep the cookies it set
      // for a cross-site request: the client tells the page (cookie-dropped) instead of a silent 403.
      expect(steps.download!.outcome).toBe('ok');
      expect(steps.cookies!.outcome).toBe('failed');
      expect(steps.cookies!.detail).toMatch(/^cookie-dropped: The API answered 200/);
      expect(steps.image!.outcome).toBe('failed');
      expect(steps.fetch!.outcome).toBe('failed');
      expect(await browser.context.cookies('https://media.example.test/')).toEqual([]);
      await page.close();
    });

    it('an app (no browser) uses the JSON body: its cookies, sent by its own HTTP stack, open the object over HTTPS', async () => {
      const token = await service.issuer.issue({ sub: 'app', scope: ['media:read'] });
      const answer = await httpsJson(service, 'api.example.test', '/v1/signed-cookies', token, {
        resource: 'https://media.example.test/*',
      });
      const body = answer as {
        cookies: { name: string; value: string; domain: string }[];
        refreshIn: number;
      };
      expect(body.cookies[0]!.domain).toBe('example.test');
      expect(body.refreshIn).toBeGreaterThan(0);
      const cookie = body.cookies.map((c) => `${c.name}=${c.value}`).join('; ');
      expect(await httpsGet(service, 'media.example.test', '/hello.txt', cookie)).toEqual({
        status: 200,
        body: HELLO,
      });
      expect((await httpsGet(service, 'media.example.test', '/hello.txt')).status).toBe(403);
    });
  });
}

/** A request to the local HTTPS service by name (the certificate checked against its CA). */
function httpsCall(
  service: UserService,
  host: string,
  path: string,
  options: { method: string; headers: Record<string, string>; body?: string },
): Promise<{ status: number; body: string }> {
  const port = new URL(host.startsWith('api.') ? service.endpoints.api : service.endpoints.edge).port;
  return new Promise((resolve, reject) => {
    const request = httpsRequest(
      {
        host: '127.0.0.1',
        port,
        servername: host,
        path,
        method: options.method,
        headers: { host, ...options.headers },
        ca: readFileSync(service.tls!.caFile),
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString() }),
        );
      },
    );
    request.on('error', reject);
    request.end(options.body);
  });
}

async function httpsJson(service: UserService, host: string, path: string, token: string, body: unknown) {
  const answer = await httpsCall(service, host, path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  expect(answer.status).toBe(200);
  return JSON.parse(answer.body) as unknown;
}

function httpsGet(service: UserService, host: string, path: string, cookie?: string) {
  return httpsCall(service, host, path, { method: 'GET', headers: cookie === undefined ? {} : { cookie } });
}

/** The outcome of each of the demo page's steps, once `steps` have one. */
async function outcomes(
  page: Page,
  steps: string[],
): Promise<Record<string, { outcome: string; detail: string }>> {
  for (const step of steps)
    await page.waitForSelector(`[data-step="${step}"][data-outcome]`, { timeout: 15_000 });
  return page.$$eval('#steps li', (items) =>
    Object.fromEntries(
      items.map((item) => [
        (item as unknown as StepElement).dataset.step!,
        {
          outcome: (item as unknown as StepElement).dataset.outcome ?? 'pending',
          detail: item.querySelector('.detail')?.textContent ?? '',
        },
      ]),
    ),
  );
}

/** What the tests read of a demo page step (the suite is type-checked without the DOM library). */
interface StepElement {
  dataset: Record<string, string | undefined>;
}

/** Serves one page (and the client module beside it) from an origin of its own on 127.0.0.1. */
async function servePage(html: string): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((request, response) => {
    if (request.url === '/signet-client.js') {
      response.writeHead(200, { 'content-type': 'text/javascript' });
      response.end(CLIENT_SOURCE);
      return;
    }
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end(html);
  });
  const url = await listen(server, 0, 'test page');
  return { url, close: () => close(server) };
}
