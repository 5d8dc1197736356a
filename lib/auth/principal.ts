/**
 * Who is calling, once authenticated. Access grants match on `claims` (JWT and gateway callers) or
 * `apiKeyId` (API key callers).
 */
export interface Principal {
  /** How the caller proved who they are. */
  readonly kind: 'jwt' | 'api-key' | 'gateway';
  /** The `sub` claim, or `api-key:<id>` for an API key caller. */
  readonly subject: string;
  /** The verified claims (empty for API key callers), frozen. */
  readonly claims: Readonly<Record<string, unknown>>;
  /** The API key's principal (its id unless the key record names a principal), for `api-key` callers only. */
  readonly apiKeyId?: string;
}
