// Signet's browser client: signed URLs and signed cookies for a web page, with no dependencies.
// An ES module that runs as is in browsers (and in Node.js 20+); its types are in signet-client.d.ts,
// checked against the zod schemas the OpenAPI document is generated from (test/client). How to use
// it, and the topology it needs: docs/frontends.md.

/** An error with a stable `code`, what was expected, and (for API errors) the problem document. */
export class SignetError extends Error {
  /**
   * @param {string} code
   * @param {string} message
   * @param {{ status?: number, problem?: Record<string, unknown>, hint?: string, cause?: unknown }} [details]
   */
  constructor(code, message, details = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'SignetError';
    this.code = code;
    this.status = details.status;
    this.problem = details.problem;
    this.hint = details.hint;
  }
}

const DROPPED_HINT =
  'The browser did not send the cookies the API set. Usual causes: the page, the API and the CDN are not on ' +
  'one site (third-party cookies are blocked), the page or API is served over http:// (the cookies are Secure), ' +
  "the profile's cookie domain does not cover the CDN host, or the cookie path does not cover the object. " +
  'DevTools > Network > the cookies request > Cookies shows why each Set-Cookie was blocked.';

/**
 * Creates a client for one Signet API.
 * @param {import('./signet-client.js').SignetClientOptions} options
 * @returns {import('./signet-client.js').SignetClient}
 */
export function createSignetClient(options) {
  if (options === null || typeof options !== 'object' || typeof options.api !== 'string') {
    throw new SignetError('invalid-options', 'Expected options with `api`, the Signet API base URL.');
  }
  const api = options.api.replace(/\/+$/, '');
  const fetchFn = options.fetch ?? globalThis.fetch.bind(globalThis);
  const now = options.now ?? (() => Date.now());
  const setTimer = options.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
  const clearTimer = options.clearTimer ?? ((handle) => clearTimeout(handle));
  const emit = (event) => {
    try {
      // A listener's failure (thrown or rejected) is not the client's.
      const result = options.onEvent?.(event);
      if (typeof result?.catch === 'function') result.catch(() => undefined);
    } catch {}
  };
  /** @type {Map<string, { session?: any, pending?: Promise<any>, timer?: unknown, options: any }>} */
  const sessions = new Map();
  let closed = false;

  async function headers() {
    const result = { 'content-type': 'application/json' };
    if (options.token !== undefined) {
      const token = typeof options.token === 'function' ? await options.token() : options.token;
      if (token) result.authorization = `Bearer ${token}`;
    }
    if (options.apiKey !== undefined) result['x-api-key'] = options.apiKey;
    return result;
  }

  async function post(path, body) {
    // Outside the try: a token provider's own failure is the caller's error, not an unreachable API.
    const requestHeaders = await headers();
    let response;
    try {
      response = await fetchFn(`${api}${path}`, {
        method: 'POST',
        headers: requestHeaders,
        body: JSON.stringify(body),
        // The cookies answer's Set-Cookie headers are stored only with credentials.
        credentials: 'include',
        mode: 'cors',
        cache: 'no-store',
      });
    } catch (cause) {
      throw new SignetError(
        'api-unreachable',
        `Could not reach the Signet API at ${api}: the network failed or the answer had no CORS headers for ` +
          "this page's origin (is the origin in the profile's cors.origins?).",
        { cause },
      );
    }
    const text = await response.text();
    let json;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (!response.ok) {
      const problem = json !== null && typeof json === 'object' ? json : undefined;
      const type =
        typeof problem?.type === 'string' ? problem.type.replace(/^\/problems\//, '') : 'http-error';
      const detail = typeof problem?.detail === 'string' ? problem.detail : text.slice(0, 200);
      throw new SignetError(type, `Signet answered ${response.status}: ${detail}`, {
        status: response.status,
        problem,
      });
    }
    if (json === undefined) {
      throw new SignetError(
        'invalid-answer',
        `Expected a JSON answer from ${api}${path}; got ${text.slice(0, 80)}`,
      );
    }
    return json;
  }

  function signingFields(request) {
    const out = {};
    for (const name of ['profile', 'expiresIn', 'expiresAt', 'notBefore', 'ipAddress']) {
      if (request?.[name] !== undefined) out[name] = request[name];
    }
    if (out.profile === undefined && options.profile !== undefined) out.profile = options.profile;
    return out;
  }

  /** @type {import('./signet-client.js').SignetClient['signUrls']} */
  async function signUrls(urls, request = {}) {
    if (!Array.isArray(urls) || urls.length === 0) {
      throw new SignetError('invalid-request', 'Expected a non-empty array of URLs to sign.');
    }
    const body = { urls, ...signingFields(request) };
    if (request.resource !== undefined) body.resource = request.resource;
    return post('/v1/signed-urls', body);
  }

  /** @type {import('./signet-client.js').SignetClient['signUrl']} */
  async function signUrl(url, request = {}) {
    if (typeof url !== 'string' || url === '') {
      throw new SignetError('invalid-request', 'Expected the URL to sign, as a string.');
    }
    const answer = await post('/v1/signed-urls', { url, ...signingFields(request) });
    return answer.urls[0];
  }

  /** Asks for cookies once, checks the browser sends them (probe), and schedules the next refresh. */
  async function issue(key, entry) {
    const { resource, probe } = entry.options;
    const askedAt = now();
    const answer = await post('/v1/signed-cookies', { resource, ...signingFields(entry.options) });
    const refreshInMs = Math.max(0, answer.refreshIn) * 1000;
    const session = {
      resource,
      answer,
      cookies: answer.cookies,
      cookieHeader: answer.cookies.map((c) => `${c.name}=${c.value}`).join('; '),
      keyId: answer.keyId,
      profile: answer.profile,
      expiresAt: answer.expiresAt,
      // Local clock: the answer's relative seconds from when it was asked for, so a page whose
      // clock is wrong still refreshes before the policy expires.
      refreshAtMs: askedAt + refreshInMs,
      expiresAtMs: askedAt + Math.max(0, answer.expiresIn) * 1000,
      verified: false,
      probeStatus: undefined,
    };
    emit({ type: 'cookies-issued', resource, expiresAt: answer.expiresAt, refreshAt: answer.refreshAt });
    if (probe !== undefined) {
      const status = await probeOnce(probe);
      session.probeStatus = status;
      if (status === 403) {
        emit({ type: 'cookie-dropped', resource, probe });
        throw new SignetError(
          'cookie-dropped',
          `The API answered 200 with cookies for ${resource}, but ${probe} still answers 403: the cookies are not being sent.`,
          { status, hint: DROPPED_HINT },
        );
      }
      session.verified = true;
      emit({ type: 'cookies-verified', resource, probe, status });
    }
    entry.session = session;
    schedule(key, entry);
    return session;
  }

  async function probeOnce(probe) {
    try {
      const response = await fetchFn(probe, {
        method: 'HEAD',
        credentials: 'include',
        mode: 'cors',
        cache: 'no-store',
      });
      return response.status;
    } catch (cause) {
      throw new SignetError(
        'probe-blocked',
        `Could not read ${probe} from this page: the CDN answered without CORS headers for this origin ` +
          '(Access-Control-Allow-Origin with this exact origin and Access-Control-Allow-Credentials: true), ' +
          'or it is unreachable. On CloudFront this may also mean the cookies were not sent: whether CloudFront ' +
          "adds its response headers policy's CORS headers to its own 403 is UNCONFIRMED (docs/frontends.md).",
        {
          cause,
          hint: "Give the distribution a response headers policy for the profile's origins; if it has one, check in DevTools whether the cookies were sent.",
        },
      );
    }
  }

  function schedule(key, entry) {
    if (entry.timer !== undefined) clearTimer(entry.timer);
    entry.timer = undefined;
    if (closed || entry.options.keepFresh === false || entry.session === undefined) return;
    entry.timer = setTimer(() => attempt(key, entry), Math.max(0, entry.session.refreshAtMs - now()));
  }

  /** One timed refresh; on failure, tries again every 2 s while the cookies it replaces are valid. */
  function attempt(key, entry) {
    entry.timer = undefined;
    if (closed) return;
    const replaced = entry.session;
    refresh(key, entry).then(
      (session) =>
        emit({ type: 'cookies-refreshed', resource: session.resource, expiresAt: session.expiresAt }),
      (error) => {
        emit({ type: 'error', resource: entry.options.resource, error });
        if (!closed && replaced !== undefined && entry.session === replaced && now() < replaced.expiresAtMs) {
          entry.timer = setTimer(() => attempt(key, entry), 2000);
        }
      },
    );
  }

  function refresh(key, entry) {
    entry.pending ??= issue(key, entry).finally(() => {
      entry.pending = undefined;
    });
    return entry.pending;
  }

  /** @type {import('./signet-client.js').SignetClient['ensureCookies']} */
  async function ensureCookies(resource, request = {}) {
    if (typeof resource !== 'string' || resource === '') {
      throw new SignetError(
        'invalid-request',
        'Expected the resource the cookies cover, like https://media.example.com/videos/*.',
      );
    }
    if (closed) throw new SignetError('closed', 'This Signet client was closed.');
    const key = `${request.profile ?? options.profile ?? ''} ${resource}`;
    let entry = sessions.get(key);
    if (entry === undefined) {
      entry = { options: { ...request, resource } };
      sessions.set(key, entry);
    } else {
      entry.options = { ...request, resource };
    }
    if (entry.pending !== undefined) return entry.pending;
    // Fresh enough: the cookies are in the browser already. A timer the page slept through is
    // caught here, so call ensureCookies before each use (play, download).
    if (entry.session !== undefined && now() < entry.session.refreshAtMs) return entry.session;
    return refresh(key, entry);
  }

  function close() {
    closed = true;
    for (const entry of sessions.values()) {
      if (entry.timer !== undefined) clearTimer(entry.timer);
      entry.timer = undefined;
    }
    sessions.clear();
  }

  return { signUrl, signUrls, ensureCookies, close };
}
