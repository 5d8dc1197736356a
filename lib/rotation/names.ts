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

/**
 * The key group a bootstrap creates (or adopts, when it already exists and holds this ring's keys):
 * `signet-<stage>-<profile>` when the config names its stage (docs/design.md, "Contracts"), so that
 * two stages of one profile in one account do not collide; `signet-<profile>` without a stage.
 */
export function keyGroupNameFor(profileName: string, stage?: string): string {
  return stage === undefined ? legacyKeyGroupNameFor(profileName) : `signet-${stage}-${profileName}`;
}

/**
 * `signet-<profile>`: the name every key group had before names carried the stage. A ring that
 * records such a group keeps it; a fresh bootstrap adopts one only when it holds this ring's keys.
 */
export function legacyKeyGroupNameFor(profileName: string): string {
  return `signet-${profileName}`;
}

/**
 * The stage a key group's name says, given the profile of a key it holds:
 * `signet-<stage>-<profile>` gives `<stage>`; any other name (`signet-<profile>` included) none.
 */
export function stageOfKeyGroupName(groupName: string, profileName: string): string | undefined {
  const suffix = `-${profileName}`;
  if (!groupName.startsWith('signet-') || !groupName.endsWith(suffix)) return undefined;
  const stage = groupName.slice('signet-'.length, groupName.length - suffix.length);
  return STAGE.test(stage) ? stage : undefined;
}

/** What a stage may be called (the config's `stage`): lower-case letters, digits and dashes. */
export const STAGE = /^[a-z0-9][a-z0-9-]{0,31}$/;

/**
 * The profile a Signet public key name (`signet-<profile>-<16 characters>`) says, or `undefined`
 * for a name Signet did not make.
 */
export function profileOfSignetKeyName(name: string): string | undefined {
  const match = /^signet-([a-z0-9][a-z0-9-]*)-([A-Za-z0-9_-]{16})$/.exec(name);
  return match?.[1];
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

/** What precedes the stage in the comment of a key made with a stage: `…; stage <stage>; ring <tag>`. */
const STAGED_PREFIX = 'Signet signing key; stage ';

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
 * leftover. With a stage, `Signet signing key; stage <stage>; ring <tag>` (when that fits CloudFront's
 * 128 characters; else the stage is left out), so the account's key count can say which stage holds
 * how many. Deterministic: a retried CreatePublicKey sends the same one.
 */
export function publicKeyCommentFor(secretId: string, stage?: string): string {
  const tag = ringTagFor(secretId);
  const staged = `${STAGED_PREFIX}${stage}; ring ${tag}`;
  return stage !== undefined && staged.length <= MAX_COMMENT ? staged : `${COMMENT_PREFIX}${tag}`;
}

/** A comment's stage and ring tag, in either shape {@link publicKeyCommentFor} writes. */
function parseComment(comment: string | undefined): { stage?: string; tag?: string } {
  if (comment === undefined) return {};
  if (comment.startsWith(COMMENT_PREFIX)) {
    const tag = comment.slice(COMMENT_PREFIX.length);
    return tag === '' ? {} : { tag };
  }
  if (!comment.startsWith(STAGED_PREFIX)) return {};
  const rest = comment.slice(STAGED_PREFIX.length);
  const separator = rest.indexOf('; ring ');
  if (separator < 0) return {};
  const stage = rest.slice(0, separator);
  const tag = rest.slice(separator + '; ring '.length);
  if (!STAGE.test(stage)) return {};
  return tag === '' ? { stage } : { stage, tag };
}

/**
 * The ring tag in a public key's comment, or `undefined` when the comment names none (a key made
 * before comments named rings, or by hand). Reads both shapes: with and without a stage.
 */
export function ringTagOf(comment: string | undefined): string | undefined {
  return parseComment(comment).tag;
}

/** The stage a public key's comment names, or `undefined` (a key made without one, or by hand). */
export function stageOfComment(comment: string | undefined): string | undefined {
  return parseComment(comment).stage;
}
