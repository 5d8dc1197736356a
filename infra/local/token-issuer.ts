import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type JsonWebKey,
  type KeyObject,
  randomUUID,
} from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type JSONWebKeySet, type JWK, SignJWT } from 'jose';
import type { StateStore } from './state.ts';

/** The path the issuer's key set is served at, as OpenID Connect providers conventionally do. */
export const JWKS_PATH = '/.well-known/jwks.json';

const STATE_SCHEMA = 'signet.dev-token-issuer/1';
/** The current key and the one before it: tokens signed before a rotation keep verifying. */
const KEPT_KEYS = 2;

/** Options for {@link createDevTokenIssuer}. */
export interface DevTokenIssuerOptions {
  /** Where the signing keys live between restarts, so tokens issued before a restart still verify. */
  store: StateStore;
  /** The `iss` of every token (the API's `auth.jwt.issuer`). */
  issuer: string;
  /** The `aud` of every token (the API's `auth.jwt.audience`). */
  audience: string;
  /** Epoch seconds, for `iat` and `exp`; the system clock when omitted. */
  now?: () => number;
}

/** What {@link DevTokenIssuer.issue} puts in a token. */
export interface IssueTokenOptions {
  /** The `sub` claim. */
  sub: string;
  /** OAuth scopes, written as the space-separated `scope` claim. */
  scope?: readonly string[];
  /** More claims; they override the defaults (`iss`, `aud`, `iat`, `exp`, `scope`), to craft bad tokens on purpose. */
  claims?: Readonly<Record<string, unknown>>;
  /** Lifetime in seconds; default 3600. */
  expiresIn?: number;
}

interface StoredKey {
  kid: string;
  /** The private key as a JWK (EC P-256), as Node exports it. */
  privateJwk: JsonWebKey;
  createdAt: string;
}

interface IssuerState {
  schema: typeof STATE_SCHEMA;
  /** Newest first; the first one signs. */
  keys: StoredKey[];
}

interface LoadedKey {
  kid: string;
  privateKey: KeyObject;
  publicJwk: JWK;
}

/**
 * A development OpenID-style token issuer for the local sandbox: an ES256 key pair generated on
 * first use and kept in its {@link StateStore}, a JWKS endpoint for the API to verify against, and
 * {@link issue} for `signet token` and tests. Not for production: anyone who can call `issue` can
 * mint any identity.
 */
export class DevTokenIssuer {
  /** The `iss` of the tokens. */
  readonly issuer: string;
  /** The `aud` of the tokens. */
  readonly audience: string;
  readonly #store: StateStore;
  readonly #now: () => number;
  #keys: LoadedKey[] | undefined;

  constructor(options: DevTokenIssuerOptions) {
    this.issuer = options.issuer;
    this.audience = options.audience;
    this.#store = options.store;
    this.#now = options.now ?? (() => Date.now() / 1000);
  }

  /** The public keys, each with `kid`, `alg: 'ES256'` and `use: 'sig'`. Never a private member. */
  jwks(): JSONWebKeySet {
    return { keys: this.#loadKeys().map((key) => ({ ...key.publicJwk })) };
  }

  /** The `kid` of the key that signs new tokens. */
  currentKeyId(): string {
    return this.#current().kid;
  }

  /** Signs a token for `sub` with the current key. */
  async issue(options: IssueTokenOptions): Promise<string> {
    const { sub, scope, claims = {}, expiresIn = 3600 } = options;
    if (sub.length === 0) throw new TypeError('Expected a non-empty `sub`.');
    if (!Number.isInteger(expiresIn) || expiresIn <= 0) {
      throw new TypeError(
        `Expected \`expiresIn\` to be a positive whole number of seconds; got ${expiresIn}.`,
      );
    }
    const key = this.#current();
    const iat = Math.floor(this.#now());
    const payload = {
      iss: this.issuer,
      aud: this.audience,
      sub,
      iat,
      exp: iat + expiresIn,
      jti: randomUUID(),
      ...(scope === undefined ? {} : { scope: scope.join(' ') }),
      ...claims,
    };
    return new SignJWT(payload)
      .setProtectedHeader({ alg: 'ES256', kid: key.kid, typ: 'JWT' })
      .sign(key.privateKey);
  }

  /**
   * Makes a new key the signing key and keeps the previous one published (older ones are dropped),
   * as a real issuer rotates: for testing that verifiers pick up a new `kid`. Returns the new `kid`.
   */
  rotate(): string {
    const fresh = generateKey(new Date(this.#now() * 1000));
    const stored = [fresh, ...this.#readState().keys].slice(0, KEPT_KEYS);
    this.#store.save({ schema: STATE_SCHEMA, keys: stored } satisfies IssuerState);
    this.#keys = stored.map(loadKey);
    return fresh.kid;
  }

  /**
   * A node:http listener serving the key set at `GET /.well-known/jwks.json` with
   * `Cache-Control: max-age=60`, and 404 for every other path.
   */
  readonly handleJwks = (request: IncomingMessage, response: ServerResponse): void => {
    const path = (request.url ?? '/').split('?')[0];
    if (path !== JWKS_PATH) {
      sendJson(response, 404, { error: 'not_found', message: `Expected GET ${JWKS_PATH}.` });
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.setHeader('Allow', 'GET, HEAD');
      sendJson(response, 405, { error: 'method_not_allowed', message: `Expected GET ${JWKS_PATH}.` });
      return;
    }
    // Short, so a rotation reaches verifiers quickly; jose's remote key set ignores it anyway.
    response.setHeader('Cache-Control', 'max-age=60');
    sendJson(response, 200, this.jwks(), request.method === 'HEAD');
  };

  #current(): LoadedKey {
    return this.#loadKeys()[0] as LoadedKey;
  }

  #loadKeys(): LoadedKey[] {
    if (this.#keys !== undefined) return this.#keys;
    let state = this.#readState();
    if (state.keys.length === 0) {
      // First use: generate and save before anything is signed, so no token outlives its key.
      state = { schema: STATE_SCHEMA, keys: [generateKey(new Date(this.#now() * 1000))] };
      this.#store.save(state);
    }
    this.#keys = state.keys.map(loadKey);
    return this.#keys;
  }

  #readState(): IssuerState {
    const document = this.#store.load();
    if (document === undefined) return { schema: STATE_SCHEMA, keys: [] };
    if (!isIssuerState(document)) {
      throw new Error(
        `Expected the development token issuer's state to be a ${STATE_SCHEMA} document; it is not (delete it to start over).`,
      );
    }
    return document;
  }
}

/** Builds a {@link DevTokenIssuer}; see there. */
export function createDevTokenIssuer(options: DevTokenIssuerOptions): DevTokenIssuer {
  return new DevTokenIssuer(options);
}

function generateKey(createdAt: Date): StoredKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    kid: thumbprint(publicKey.export({ format: 'jwk' })),
    privateJwk: privateKey.export({ format: 'jwk' }),
    createdAt: createdAt.toISOString(),
  };
}

function loadKey(stored: StoredKey): LoadedKey {
  const privateKey = createPrivateKey({ key: stored.privateJwk, format: 'jwk' });
  const { crv, x, y } = createPublicKey(privateKey).export({ format: 'jwk' });
  if (crv !== 'P-256' || x === undefined || y === undefined) {
    throw new Error(`Expected a P-256 key in the development token issuer's state for kid ${stored.kid}.`);
  }
  // Built member by member from the public key, so `d` cannot ride along by accident.
  const publicJwk: JWK = { kty: 'EC', crv, x, y, kid: stored.kid, alg: 'ES256', use: 'sig' };
  return { kid: stored.kid, privateKey, publicJwk };
}

/** RFC 7638 JWK thumbprint (SHA-256, base64url): a `kid` that names the key itself. */
function thumbprint(jwk: JsonWebKey): string {
  const canonical = JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y });
  return createHash('sha256').update(canonical).digest('base64url');
}

function isIssuerState(value: unknown): value is IssuerState {
  if (typeof value !== 'object' || value === null) return false;
  const state = value as Partial<IssuerState>;
  return (
    state.schema === STATE_SCHEMA &&
    Array.isArray(state.keys) &&
    state.keys.every(
      (key) =>
        typeof key === 'object' &&
        key !== null &&
        typeof key.kid === 'string' &&
        typeof key.privateJwk === 'object' &&
        key.privateJwk !== null &&
        key.privateJwk.kty === 'EC' &&
        typeof key.privateJwk.d === 'string',
    )
  );
}

function sendJson(response: ServerResponse, status: number, body: unknown, headOnly = false): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
  });
  response.end(headOnly ? undefined : text);
}
