import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Config } from '../../lib/config/index.ts';

/** What the demo page shows: objects of one profile, signed through the API it is served beside. */
export interface DemoPageOptions {
  /** The API's origin as the browser reaches it; empty: the page's own origin (served by the API). */
  readonly api: string;
  /** The profile the page signs with. */
  readonly profile: string;
  /** What the cookies cover (a wildcard on the CDN). */
  readonly resource: string;
  /** A protected image, shown by `<img>` with the cookies. */
  readonly image: string;
  /** A protected object offered as a signed-URL download link. */
  readonly download: string;
  /** A protected object read by `fetch(..., { credentials: 'include' })`. */
  readonly fetchUrl: string;
  /** A small object the cookies cover, probed to tell a dropped cookie. */
  readonly probe: string;
  /** A development token for the page (only the local service serves this). */
  readonly token: () => Promise<string>;
}

const CLIENT_SOURCE = new URL('../../client/signet-client.js', import.meta.url);

/**
 * The local demo page (`npm start`, `GET /demo/` on the API's port): it uses client/signet-client.js
 * to sign a download link, get cookies (checked with a probe), show a protected image and fetch a
 * protected object, and shows each step's outcome (`data-outcome` ok or failed, for people and for
 * the browser tests). `GET /demo/token` hands the page a development token. Answers undefined for
 * any other path, so the API handles it. Never part of the deployed API.
 */
export function demoPageHandler(
  options: DemoPageOptions,
): (request: Request) => Promise<Response> | undefined {
  return (request) => {
    const { pathname } = new URL(request.url);
    if (request.method !== 'GET' || !pathname.startsWith('/demo')) return undefined;
    if (pathname === '/demo') return Promise.resolve(Response.redirect(new URL('/demo/', request.url), 302));
    if (pathname === '/demo/') return Promise.resolve(text(pageHtml(options), 'text/html; charset=utf-8'));
    if (pathname === '/demo/signet-client.js')
      return Promise.resolve(text(readFileSync(CLIENT_SOURCE, 'utf8'), 'text/javascript; charset=utf-8'));
    if (pathname === '/demo/token')
      return options.token().then((token) => text(JSON.stringify({ token }), 'application/json'));
    return Promise.resolve(text('Not found: the demo serves /demo/ only.\n', 'text/plain', 404));
  };
}

function text(body: string, type: string, status = 200): Response {
  return new Response(body, { status, headers: { 'Content-Type': type, 'Cache-Control': 'no-store' } });
}

/** JSON safe inside a <script> element. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}

function pageHtml(options: DemoPageOptions): string {
  const config = {
    api: options.api,
    profile: options.profile,
    resource: options.resource,
    image: options.image,
    download: options.download,
    fetchUrl: options.fetchUrl,
    probe: options.probe,
  };
  return `<!doctype html>
<html lang="en">
<meta charset="utf-8">
<title>Signet demo: signed URLs and cookies in a browser</title>
<style>
  body { font: 15px/1.5 system-ui, sans-serif; max-width: 52rem; margin: 2rem auto; padding: 0 1rem; }
  li[data-outcome="ok"] .outcome { color: #176f2c; } li[data-outcome="failed"] .outcome { color: #b3261e; }
  .outcome { font-weight: 600; } code, pre { font-size: 13px; } img { max-height: 8rem; border: 1px solid #ccc; }
</style>
<h1>Signet demo</h1>
<p>This page uses <a href="signet-client.js"><code>signet-client.js</code></a> against the API at
<code>${escapeHtml(options.api === '' ? 'this origin' : options.api)}</code>, profile
<code>${escapeHtml(options.profile)}</code>. Add <code>?expiresIn=6</code> to watch the cookies refresh before
they expire (<code>&amp;keepFresh=0</code> to see what happens without). The guide:
<code>docs/frontends.md</code>.</p>
<ol id="steps">
  <li data-step="token">Development token: <span class="outcome">…</span> <span class="detail"></span></li>
  <li data-step="download">Signed URL for a download link: <span class="outcome">…</span> <span class="detail"></span>
    <br><a id="download" download>Download</a></li>
  <li data-step="cookies">Signed cookies for <code>${escapeHtml(options.resource)}</code>:
    <span class="outcome">…</span> <span class="detail"></span></li>
  <li data-step="image">Protected image by &lt;img&gt; with the cookies: <span class="outcome">…</span>
    <span class="detail"></span><br><img id="image" alt="protected image"></li>
  <li data-step="fetch">fetch() of a protected object with credentials: 'include':
    <span class="outcome">…</span> <span class="detail"></span></li>
  <li data-step="refresh">Cookie refresh before expiry: <span class="outcome">waiting</span> <span class="detail"></span></li>
</ol>
<h2>Events</h2>
<pre id="events"></pre>
<script type="application/json" id="config">${scriptJson(config)}</script>
<script type="module">
import { createSignetClient } from './signet-client.js';
const config = JSON.parse(document.getElementById('config').textContent);
config.api ||= location.origin;
const params = new URLSearchParams(location.search);
const expiresIn = params.has('expiresIn') ? Number(params.get('expiresIn')) : undefined;
const keepFresh = params.get('keepFresh') !== '0';
const step = (name, outcome, detail) => {
  const item = document.querySelector('[data-step="' + name + '"]');
  item.dataset.outcome = outcome;
  item.querySelector('.outcome').textContent = outcome;
  item.querySelector('.detail').textContent = detail;
};
const log = (line) => {
  document.getElementById('events').textContent += new Date().toISOString().slice(11, 19) + ' ' + line + '\\n';
};
const describe = (error) => (error.code ? error.code + ': ' : '') + error.message + (error.hint ? ' ' + error.hint : '');
let refreshes = 0;
let token;
try {
  const answer = await fetch('token');
  token = (await answer.json()).token;
  step('token', 'ok', 'a development JWT from the local issuer');
} catch (error) {
  step('token', 'failed', describe(error));
}
const client = createSignetClient({
  api: config.api,
  profile: config.profile,
  token: () => token,
  onEvent: async (event) => {
    log(event.type + ' ' + (event.expiresAt ?? event.probe ?? (event.error ? describe(event.error) : '')));
    if (event.type === 'cookies-refreshed') {
      refreshes += 1;
      const response = await fetch(config.fetchUrl, { credentials: 'include', cache: 'no-store' }).catch(() => undefined);
      step('refresh', response?.ok ? 'ok' : 'failed',
        refreshes + ' refresh(es); new cookies expire ' + event.expiresAt + '; fetch after refresh: ' + (response?.status ?? 'blocked'));
    }
  },
});
window.signet = { client, config };
try {
  const signed = await client.signUrl(config.download, expiresIn === undefined ? {} : { expiresIn });
  const link = document.getElementById('download');
  link.href = signed.url;
  step('download', 'ok', 'signed until ' + signed.expiresAt);
} catch (error) {
  step('download', 'failed', describe(error));
}
let cookiesOk = false;
try {
  const session = await client.ensureCookies(config.resource, {
    probe: config.probe,
    keepFresh,
    ...(expiresIn === undefined ? {} : { expiresIn }),
  });
  window.signet.first = session;
  cookiesOk = true;
  step('cookies', 'ok', 'sent by the browser (probe ' + session.probeStatus + '); expire ' + session.expiresAt +
    ', refreshes at ' + session.answer.refreshAt);
} catch (error) {
  step('cookies', 'failed', describe(error));
}
const image = document.getElementById('image');
image.onload = () => step('image', 'ok', 'loaded, ' + image.naturalWidth + '×' + image.naturalHeight);
image.onerror = () => step('image', 'failed', 'the CDN refused it' + (cookiesOk ? '' : ' (no cookies: see the step above)'));
image.src = config.image;
try {
  const response = await fetch(config.fetchUrl, { credentials: 'include', cache: 'no-store' });
  const body = await response.text();
  step('fetch', response.ok ? 'ok' : 'failed', response.status + ' ' + body.slice(0, 120));
} catch (error) {
  step('fetch', 'failed', 'blocked by the browser: the CDN sent no CORS headers for this origin (' + error.message + ')');
}
</script>
</html>
`;
}

function escapeHtml(value: string): string {
  return value.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The demo page for a user's config (`signet start --config FILE`), and how to open it. */
export interface UserDemoPage {
  readonly handler: (request: Request) => Promise<Response> | undefined;
  /** The page's URL: on the profile's first allowed origin, which the browser maps to the API's port. */
  readonly url: string;
  /** Chromium's --host-resolver-rules value that maps the page, API and CDN names to the local ports. */
  readonly hostResolverRules: string;
}

/**
 * The demo page for a profile of the user's config: the default profile (else the first) that has a
 * sample object (a grant with a fixed folder) and allowed origins. The page is served by the API's
 * port under any host name, opened at the profile's first allowed origin (so the API and the CDN
 * judge it as they would the user's app), and works on a folder of the first grant: a sample image
 * is written beside the sample object. Undefined when no profile fits.
 */
export function userDemoPage(input: {
  readonly config: Config;
  readonly profiles: Readonly<Record<string, { readonly sampleUrl?: string; readonly originFolder: string }>>;
  readonly endpoints: { readonly api: string; readonly edge: string };
  readonly token: (profile: string) => Promise<string>;
}): UserDemoPage | undefined {
  const names = Object.keys(input.config.profiles);
  const ordered = [
    ...(input.config.defaultProfile === undefined ? [] : [input.config.defaultProfile]),
    ...names,
  ];
  const name = ordered.find(
    (n) => input.profiles[n]?.sampleUrl !== undefined && input.config.profiles[n]!.cors.origins.length > 0,
  );
  if (name === undefined) return undefined;
  const profile = input.config.profiles[name]!;
  const sample = new URL(input.profiles[name]!.sampleUrl!);
  const folder = sample.pathname.slice(0, sample.pathname.lastIndexOf('/') + 1);
  const base = `${sample.origin}${folder}`;
  const originFolder = input.profiles[name]!.originFolder;
  const imageFile = join(originFolder, ...folder.split('/').filter((s) => s !== ''), 'signet-sample.svg');
  if (!existsSync(imageFile)) {
    mkdirSync(dirname(imageFile), { recursive: true });
    writeFileSync(imageFile, DEMO_SVG);
  }
  const page = new URL(profile.cors.origins[0]!);
  const publicOrigin = input.config.api?.publicOrigin;
  const apiPort = new URL(input.endpoints.api).port;
  const edgePort = new URL(input.endpoints.edge).port;
  const defaultPort = (url: URL) => url.port || (url.protocol === 'https:' ? '443' : '80');
  const rules = new Map<string, string>();
  rules.set(`${sample.hostname}:${defaultPort(sample)}`, `127.0.0.1:${edgePort}`);
  rules.set(`${page.hostname}:${defaultPort(page)}`, `127.0.0.1:${apiPort}`);
  if (publicOrigin !== undefined) {
    const api = new URL(publicOrigin);
    rules.set(`${api.hostname}:${defaultPort(api)}`, `127.0.0.1:${apiPort}`);
  }
  return {
    handler: demoPageHandler({
      api: publicOrigin ?? '',
      profile: name,
      resource: `${base}*`,
      image: `${base}signet-sample.svg`,
      download: sample.href,
      fetchUrl: sample.href,
      probe: sample.href,
      token: () => input.token(name),
    }),
    url: `${page.origin}/demo/`,
    hostResolverRules: [...rules].map(([from, to]) => `MAP ${from} ${to}`).join(', '),
  };
}

const DEMO_SVG = `<svg xmlns="http://www.w3.org/2000/svg" width="240" height="120" viewBox="0 0 240 120">
<rect width="240" height="120" rx="12" fill="#1d4ed8"/>
<text x="120" y="70" font-family="sans-serif" font-size="22" fill="#fff" text-anchor="middle">signed cookies ok</text>
</svg>
`;
