/**
 * Names Signet gives its CloudFront resources (docs/design.md, "Contracts"). A public key's name and CallerReference
 * are derived from its fingerprint, so a run that crashed after CreatePublicKey finds the key it made
 * instead of creating a second one.
 */

import { createHash } from 'node:crypto';

/** The base64url alphabet: what follows `sha256:` in a fingerprint. */
const BASE64URL_16 = '[A-Za-z0-9_-]{16}';

/** `signet-<profile>-<first 16 characters of the fingerprint's base64url>`. */
export function publicKeyNameFor(profileName: string, fingerprint: string): string {
  return `signet-${profileName}-${fingerprint.replace(/^sha256:/, '').slice(0, 16)}`;
}

/** The whole fingerprint: unique per key, and the same on every retry. */
export function callerReferenceFor(fingerprint: string): string {
  return fingerprint;
}

/** `signet-<profile>`: the key group a bootstrap creates (or adopts, when it already exists). */
export function keyGroupNameFor(profileName: string): string {
  return `signet-${profileName}`;
}

/**
 * Whether a public key name is one Signet created for this profile. The suffix has an exact length,
 * so profile `a` does not claim the keys of profile `a-b` (`signet-a-b-…` has 18 characters after
 * `signet-a-`).
 */
export function isSignetKeyNameOf(profileName: string, name: string): boolean {
  const prefix = `signet-${profileName}-`;
  return name.startsWith(prefix) && new RegExp(`^${BASE64URL_16}$`).test(name.slice(prefix.length));
}

/** What precedes the ring's tag in the comment of a public key Signet creates. */
const COMMENT_PREFIX = 'Signet signing key; ring ';

/** CloudFront's limit on a public key's comment. */
const MAX_COMMENT = 128;

/**
 * How a public key's comment names the key ring that owns it: the ring's secret id, or, when that
 * would not fit CloudFront's 128-character comment, `sha256:` + base64url of its SHA-256.
 */
export function ringTagFor(secretId: string): string {
  if (COMMENT_PREFIX.length + secretId.length <= MAX_COMMENT) return secretId;
  return `sha256:${createHash('sha256').update(secretId).digest('base64url')}`;
}

/**
 * The comment of a public key Signet creates for the ring in `secretId`. The name only says which
 * profile (docs/design.md, "Contracts", fixes its shape), and two stages or stacks may use the same profile name in
 * one CloudFront account; the comment says which ring, so neither takes the other's key for its own
 * leftover. Deterministic: a retried CreatePublicKey sends the same one.
 */
export function publicKeyCommentFor(secretId: string): string {
  return `${COMMENT_PREFIX}${ringTagFor(secretId)}`;
}

/**
 * The ring tag in a public key's comment, or `undefined` when the comment names none (a key made
 * before comments named rings, or by hand).
 */
export function ringTagOf(comment: string | undefined): string | undefined {
  if (comment === undefined || !comment.startsWith(COMMENT_PREFIX)) return undefined;
  const tag = comment.slice(COMMENT_PREFIX.length);
  return tag === '' ? undefined : tag;
}
