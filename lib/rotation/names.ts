/**
 * Names Signet gives its CloudFront resources (DESIGN §9). A public key's name and CallerReference
 * are derived from its fingerprint, so a run that crashed after CreatePublicKey finds the key it made
 * instead of creating a second one.
 */

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
