// Types of signet-client.js. The request and answer shapes are those of the zod schemas in
// lib/http/schemas.ts, from which the OpenAPI document is generated: test/client/types.test.ts
// fails the type check when they drift apart.

/** Fields every signing request may carry (`POST /v1/signed-urls` and `/v1/signed-cookies`). */
export interface SigningFields {
  /** The signing profile; default: the client's `profile`, else the service's default profile. */
  profile?: string | undefined;
  /** Seconds from now until the signature expires. */
  expiresIn?: number | undefined;
  /** When the signature expires (instead of expiresIn): ISO 8601 or epoch seconds. */
  expiresAt?: string | number | undefined;
  /** Not valid before this time (makes the policy custom). */
  notBefore?: string | number | undefined;
  /** IPv4 address or CIDR the viewer must come from. */
  ipAddress?: string | undefined;
}

/** `POST /v1/signed-urls` body. */
export interface SignedUrlsRequest extends SigningFields {
  url?: string | undefined;
  urls?: string[] | undefined;
  resource?: string | undefined;
}

/** `POST /v1/signed-cookies` body. */
export interface SignedCookiesRequest extends SigningFields {
  resource?: string | undefined;
  url?: string | undefined;
}

/** One signed URL. */
export interface SignedUrl {
  url: string;
  /** Expiry, epoch seconds. */
  expires: number;
  /** Expiry, ISO 8601 UTC. */
  expiresAt: string;
}

/** `POST /v1/signed-urls` answer. */
export interface SignedUrlsResponse {
  urls: SignedUrl[];
  expires: number;
  expiresAt: string;
  /** The CloudFront public key id that signed (Key-Pair-Id). */
  keyId: string;
  profile: string;
}

/** One cookie as the cookies answer's body describes it (the same as its Set-Cookie header). */
export interface SignedCookie {
  name: string;
  value: string;
  domain: string | null;
  path: string;
  sameSite: 'Strict' | 'Lax' | 'None';
  secure: true;
  httpOnly: true;
  /** Persistent cookies only: seconds until the browser forgets it (Max-Age). */
  maxAge?: number | undefined;
  /** Persistent cookies only: when the browser forgets it (Expires), ISO 8601 UTC. */
  expiresAt?: string | undefined;
}

/** `POST /v1/signed-cookies` answer (the same cookies also come as Set-Cookie headers). */
export interface SignedCookiesResponse {
  cookies: SignedCookie[];
  expires: number;
  expiresAt: string;
  keyId: string;
  profile: string;
  /** Seconds from the answer until the policy expires. */
  expiresIn: number;
  /** Seconds from the answer after which to ask for new cookies. */
  refreshIn: number;
  /** The same moment, ISO 8601 UTC, by the server's clock. */
  refreshAt: string;
  /** Whether the Set-Cookie headers carry Max-Age/Expires. */
  persistent: boolean;
}

/** An RFC 9457 problem, as the API answers errors. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code?: string | undefined;
  signingStartsAt?: string | undefined;
  errors?:
    | { index?: number | undefined; path?: string | undefined; code?: string | undefined; message: string }[]
    | undefined;
}

/** What the client reports as it works (for a page that shows each step). */
export type SignetEvent =
  | { type: 'cookies-issued'; resource: string; expiresAt: string; refreshAt: string }
  | { type: 'cookies-verified'; resource: string; probe: string; status: number }
  | { type: 'cookie-dropped'; resource: string; probe: string }
  | { type: 'cookies-refreshed'; resource: string; expiresAt: string }
  | { type: 'error'; resource: string; error: unknown };

export interface SignetClientOptions {
  /** The Signet API's base URL, like https://api.example.com. */
  api: string;
  /** A bearer token, or a function that returns one (called before each request). */
  token?: string | (() => string | Promise<string>);
  /** An API key (x-api-key), for callers without tokens. */
  apiKey?: string;
  /** The default profile of this client's requests. */
  profile?: string;
  /** Replaces the global fetch. */
  fetch?: typeof fetch;
  /** The clock, epoch milliseconds (tests). */
  now?: () => number;
  /** Timer functions (tests). */
  setTimer?: (callback: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
  /** Called for each step: cookies issued, verified, dropped, refreshed, errors. */
  onEvent?: (event: SignetEvent) => void;
}

/** What ensureCookies takes besides the resource. */
export interface EnsureCookiesOptions extends SigningFields {
  /**
   * A small object the cookies cover, fetched (HEAD, credentials: 'include') after each issuance: a
   * 403 there means the browser did not send the cookies, reported as `cookie-dropped`. Needs CORS
   * on the CDN. Without it, `verified` stays false.
   */
  probe?: string | undefined;
  /** Refresh on a timer before the policy expires (default true). */
  keepFresh?: boolean | undefined;
}

/** The cookies for one resource, as the browser now holds them. */
export interface CookieSession {
  resource: string;
  /** The API's whole answer. */
  answer: SignedCookiesResponse;
  cookies: SignedCookie[];
  /** `name=value; …`, for clients that send cookies by hand (Node.js, apps). */
  cookieHeader: string;
  keyId: string;
  profile: string;
  expiresAt: string;
  /** Local epoch ms after which ensureCookies asks again. */
  refreshAtMs: number;
  /** Local epoch ms when the policy expires. */
  expiresAtMs: number;
  /** Whether the probe showed the browser sends the cookies. */
  verified: boolean;
  /** The probe's status, when there was a probe. */
  probeStatus: number | undefined;
}

export interface SignetClient {
  /** Signs one URL. */
  signUrl(url: string, request?: SigningFields): Promise<SignedUrl>;
  /** Signs up to 100 URLs, all or nothing; `resource` signs them under one wildcard policy. */
  signUrls(
    urls: string[],
    request?: SigningFields & { resource?: string | undefined },
  ): Promise<SignedUrlsResponse>;
  /**
   * Makes sure the browser holds valid cookies for `resource`: asks the API when there are none or
   * they are due for refresh, checks with `probe` that they are sent, and (unless keepFresh is false)
   * refreshes them before they expire. Rejects with a SignetError: `cookie-dropped`, `probe-blocked`,
   * `api-unreachable`, or the API's problem type (`resource-not-granted`, `origin-not-allowed`, …).
   */
  ensureCookies(resource: string, options?: EnsureCookiesOptions): Promise<CookieSession>;
  /** Stops every refresh timer. */
  close(): void;
}

export declare class SignetError extends Error {
  constructor(
    code: string,
    message: string,
    details?: { status?: number; problem?: Record<string, unknown>; hint?: string; cause?: unknown },
  );
  /** `cookie-dropped`, `probe-blocked`, `api-unreachable`, `invalid-answer`, `invalid-request`, `closed`, or an API problem type. */
  readonly code: string;
  readonly status: number | undefined;
  readonly problem: Problem | Record<string, unknown> | undefined;
  /** What to check, for errors a developer must fix. */
  readonly hint: string | undefined;
}

export declare function createSignetClient(options: SignetClientOptions): SignetClient;
