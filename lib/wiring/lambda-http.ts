// API Gateway HTTP API (payload 2.0) events into the Hono app and its answers back, without the web
// Request body and Response stream that hono/aws-lambda builds for every request (about a tenth of a
// warm request's CPU, measured by `npm run bench`). The same event-to-request and response-to-result
// mapping as hono/aws-lambda's v2 processor (which Hono deprecates for v5): path, query, method,
// headers with non-ASCII values percent-encoded, cookies joined into one Cookie header; the answer's
// status, headers, Set-Cookie lines as `cookies`, text bodies as they are and binary ones in base64.
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';

/** What the adapter needs of the app: Hono's `fetch`. */
export interface FetchApp {
  fetch(request: Request, env: Record<string, unknown>): Response | Promise<Response>;
}

const WebRequest = globalThis.Request;
const WebResponse = globalThis.Response;
const TEXT = Symbol('text');
type ResponseBody = ConstructorParameters<typeof Response>[0];

/**
 * A Response that keeps a text body as the string it was given, so the adapter reads it without a
 * stream; anything else asked of it (its body stream, `arrayBuffer()`, `clone()`…) goes to a real
 * Response built on first need. Installed as the global `Response` by {@link installLightResponse},
 * as @hono/node-server does for every Node server.
 */
class LightResponse {
  readonly #body: unknown;
  readonly #init: ResponseInit | undefined;
  #headers: Headers | undefined;
  #real: Response | undefined;

  constructor(body?: ResponseBody, init?: ResponseInit) {
    this.#body = body;
    this.#init = init;
  }

  /** `x instanceof Response` stays true of every Response, the runtime's own (from fetch) included. */
  static [Symbol.hasInstance](value: unknown): boolean {
    return value instanceof WebResponse;
  }

  get status(): number {
    return this.#real?.status ?? this.#init?.status ?? 200;
  }

  get statusText(): string {
    return this.#real?.statusText ?? this.#init?.statusText ?? '';
  }

  get ok(): boolean {
    return this.status >= 200 && this.status < 300;
  }

  get headers(): Headers {
    if (this.#real !== undefined) return this.#real.headers;
    const given = this.#init?.headers;
    this.#headers ??= given instanceof Headers ? given : new Headers(given);
    return this.#headers;
  }

  /** The body when it was given as text (or no body: ''), else `undefined`. */
  get [TEXT](): string | undefined {
    if (this.#real !== undefined) return undefined;
    if (this.#body === null || this.#body === undefined) return '';
    return typeof this.#body === 'string' ? this.#body : undefined;
  }

  /** The real Response, built once. */
  real(): Response {
    this.#real ??= new WebResponse(this.#body as ResponseBody, {
      status: this.status,
      statusText: this.statusText,
      headers: this.headers,
    });
    return this.#real;
  }
}

// Every other member of Response (body, bodyUsed, text(), arrayBuffer(), clone(), type, url…) is the
// real Response's; `instanceof Response` holds, and the static helpers are Response's own.
for (const name of Reflect.ownKeys(WebResponse.prototype)) {
  if (name === 'constructor' || name in LightResponse.prototype) continue;
  Object.defineProperty(LightResponse.prototype, name, {
    get(this: LightResponse) {
      const real = this.real();
      const value = Reflect.get(real, name, real) as unknown;
      return typeof value === 'function' ? value.bind(real) : value;
    },
  });
}
Object.setPrototypeOf(LightResponse.prototype, WebResponse.prototype);
Object.setPrototypeOf(LightResponse, WebResponse);

let installed = false;

/** Makes `new Response(...)` build a {@link LightResponse} in this process (the Lambda function's only). */
export function installLightResponse(): void {
  if (installed) return;
  globalThis.Response = LightResponse as unknown as typeof Response;
  installed = true;
}

/**
 * The request Hono sees: its URL, method and headers are read straight from the event; anything else
 * (a body stream, a signal, `clone()`…) from a real Request built on first need. The app reads the
 * body from the event itself (lib/http/app.ts), so a real Request is seldom built.
 */
class EventRequest {
  readonly url: string;
  readonly method: string;
  readonly headers: Headers;
  readonly #body: Uint8Array | undefined;
  #real: Request | undefined;

  constructor(event: APIGatewayProxyEventV2) {
    const host = event.requestContext?.domainName ?? event.headers?.host;
    const query = event.rawQueryString;
    this.url = `https://${host}${event.rawPath}${query ? `?${query}` : ''}`;
    this.method = event.requestContext.http.method;
    const headers = new Headers();
    if (Array.isArray(event.cookies)) headers.set('Cookie', event.cookies.join('; '));
    for (const name in event.headers) {
      const value = event.headers[name];
      if (value) headers.set(name, /[\u0080-\uffff]/.test(value) ? encodeURIComponent(value) : value);
    }
    if (event.body) {
      this.#body = event.isBase64Encoded ? Buffer.from(event.body, 'base64') : Buffer.from(event.body);
      headers.set('content-length', String(this.#body.length));
    }
    this.headers = headers;
  }

  real(): Request {
    this.#real ??= new WebRequest(this.url, {
      method: this.method,
      headers: this.headers,
      ...(this.#body === undefined ? {} : { body: this.#body }),
    });
    return this.#real;
  }
}

for (const name of Reflect.ownKeys(WebRequest.prototype)) {
  if (name === 'constructor' || name in EventRequest.prototype) continue;
  Object.defineProperty(EventRequest.prototype, name, {
    get(this: EventRequest) {
      const real = this.real();
      const value = Reflect.get(real, name, real) as unknown;
      return typeof value === 'function' ? value.bind(real) : value;
    },
  });
}
Object.setPrototypeOf(EventRequest.prototype, WebRequest.prototype);

/** Whether a body goes back base64-encoded: hono/aws-lambda's default rules, unchanged. */
function isBinary(contentType: string | null, contentEncoding: string | null): boolean {
  if (contentEncoding !== null && contentEncoding !== '' && !/^identity$/i.test(contentEncoding)) return true;
  if (contentType === null) return false;
  if (/^application\/vnd\.(?:apple\.installer|mozilla\.xul)\+xml\s*(?:;|$)/i.test(contentType)) return true;
  return !/^text\/(?:plain|html|css|javascript|csv)|(?:\/|\+)(?:json|xml)\s*(?:;|$)/i.test(contentType);
}

/** The Lambda handler for the app: payload 2.0 events in, structured results out. */
export function lambdaHandler(
  app: FetchApp,
): (event: APIGatewayProxyEventV2, lambdaContext?: Context) => Promise<APIGatewayProxyStructuredResultV2> {
  installLightResponse();
  return async (event, lambdaContext) => {
    let response: Response;
    try {
      const request = new EventRequest(event) as unknown as Request;
      response = await app.fetch(request, { event, requestContext: event.requestContext, lambdaContext });
    } catch (error) {
      // Only a malformed event gets here: the app answers its own errors (lib/http/app.ts).
      if (!(error instanceof TypeError)) throw error;
      response = new Response('Invalid request', { status: 400 });
    }
    const headers: Record<string, string> = {};
    let cookies: string[] | undefined;
    response.headers.forEach((value, name) => {
      if (name === 'set-cookie') return;
      headers[name] = value;
    });
    if (response.headers.has('set-cookie')) cookies = response.headers.getSetCookie();
    const binary = isBinary(response.headers.get('content-type'), response.headers.get('content-encoding'));
    const text = (response as Partial<LightResponse>)[TEXT];
    const body = binary
      ? Buffer.from(await response.arrayBuffer()).toString('base64')
      : (text ?? (await response.text()));
    return {
      statusCode: response.status,
      headers,
      body,
      isBase64Encoded: binary,
      ...(cookies === undefined ? {} : { cookies }),
    };
  };
}
