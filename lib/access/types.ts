import type { Profile } from '../config/schema.ts';

/**
 * Who is asking, as far as access control cares. Declared here structurally so that `lib/access`
 * does not depend on how `lib/auth` authenticates: its `Principal` is assignable to this.
 */
export interface Caller {
  /** The caller's subject (the JWT `sub`; `lib/auth` names API key callers `api-key:<id>`): `{sub}` in a pattern. */
  readonly subject: string;
  /** Verified claims (empty for an API key caller). */
  readonly claims: Readonly<Record<string, unknown>>;
  /** Set when the caller authenticated with an API key: the key's id, never the key. */
  readonly apiKeyId?: string | undefined;
}

/** One request to authorize: everything that will be signed, and for how long. */
export interface AuthorizeInput {
  /** The profile's name, used in messages. */
  readonly profileName: string;
  readonly profile: Profile;
  readonly caller: Caller;
  /** The exact URLs that will be signed (canonicalized here as the signing core does). */
  readonly urls: readonly string[];
  /** A wildcard resource (custom policy) the signed URL or cookies will grant, if any. */
  readonly resource?: string | undefined;
  /** How long the signature will be valid, seconds from now. */
  readonly ttlSeconds: number;
}

/** What allowed a request. */
export interface AccessDecision {
  /** Index of the grant in `profile.grants` that allowed the request. */
  readonly grantIndex: number;
  /** The longest expiry that grant allows, seconds (already capped at the profile's `ttl.max`). */
  readonly maxTtl: number;
  /** The grant's patterns, interpolated and canonicalized, that hold at least one requested item. */
  readonly resources: readonly string[];
}
