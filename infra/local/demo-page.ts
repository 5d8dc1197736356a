import { readFileSync } from 'node:fs';

/** What the demo page shows: objects of one profile, signed through the API it is served beside. */
export interface DemoPageOptions {
  /** The API's origin as the browser reaches it (the page calls it same-origin). */
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
    if (pathname === '/demo') return Promise.resolve(Response.redirect(`${options.api}/demo/`, 302));
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
<code>${escapeHtml(options.api)}</code>. Add <code>?expiresIn=6</code> to watch the cookies refresh before
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
    ', refreshed at ' + session.answer.refreshAt);
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
