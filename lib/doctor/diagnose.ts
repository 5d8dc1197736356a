import type { Profile } from '../config/index.ts';
import type { KeyRing } from '../keys/ring.ts';
import {
  activationWaitSeconds,
  propagationOf,
  recordedValidUntil,
  refusedConfigChanges,
  removableAt,
} from '../rotation/bounds.ts';
import { checkInvariants } from '../rotation/invariants.ts';
import { classifySignetKeys, type ForeignKey, fingerprintOfRegistered } from '../rotation/ownership.ts';
import { rotationDueAt } from '../rotation/plan.ts';
import { MAX_KEYS_PER_GROUP, MAX_PUBLIC_KEYS_PER_ACCOUNT } from '../rotation/quotas.ts';
import type { RegisteredKeyGroup } from '../rotation/registry.ts';
import type { RotationState } from '../rotation/state.ts';
import { parseSigningKey } from '../signing/index.ts';
import { behaviorFor, type DistributionView } from './distribution.ts';
import { type Finding, type FindingCode, type Severity, sortFindings } from './findings.ts';
import type { DoctorSnapshot, ProfileSnapshot } from './snapshot.ts';

/**
 * How late the rotator may be before a phase that fell due counts as stuck. It runs every few
 * minutes (docs/design.md, "Rotation") and advances one phase per run, so a phase a few runs late is normal.
 */
export const ROTATOR_SLACK_SECONDS = 15 * 60;

/**
 * Judges what was read from Secrets Manager and CloudFront: every configuration drift that makes
 * CloudFront answer 403 (or will, at the next rotation), each with why it matters and one remedy.
 * Pure: no I/O, `now` is the clock. Findings come sorted, errors first.
 */
export function diagnose(snapshot: DoctorSnapshot, now: Date): Finding[] {
  const findings: Finding[] = [];
  for (const profile of snapshot.profiles) findings.push(...diagnoseProfile(profile, snapshot, now));
  findings.push(...diagnoseAccount(snapshot, now));
  return sortFindings(findings);
}

/** Whether a key id has the shape of a key group id (a UUID) rather than a public key id. */
export function looksLikeKeyGroupId(id: string): boolean {
  return /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i.test(id);
}

type Add = (
  severity: Severity,
  code: FindingCode,
  keyId: string | null,
  message: string,
  remedy: string,
) => void;

function diagnoseProfile(p: ProfileSnapshot, snapshot: DoctorSnapshot, now: Date): Finding[] {
  const findings: Finding[] = [];
  const add: Add = (severity, code, keyId, message, remedy) =>
    findings.push({ severity, code, profile: p.name, keyId, message, remedy });
  const { name, profile } = p;
  const secretId = profile.keyRing.secretId;

  if (p.ring.status === 'missing') {
    add(
      'error',
      'RING_UNREADABLE',
      null,
      `The key ring secret ${secretId} ${p.ring.message}: the service cannot sign for this profile (503 keys-unavailable).`,
      `Check keyRing.secretId in the config; for a new secret, bootstrap it with \`signet rotate --profile ${name}\`.`,
    );
  } else if (p.ring.status === 'invalid') {
    add(
      'error',
      'RING_INVALID',
      null,
      `The key ring secret ${secretId} does not hold a valid key ring (${p.ring.message}): signers refuse it and stop signing once their cached ring is ${profile.cache.maxStale}s old.`,
      `Restore the previous version: aws secretsmanager update-secret-version-stage --secret-id ${secretId} --version-stage AWSCURRENT --move-to-version-id <AWSPREVIOUS id> --remove-from-version-id <AWSCURRENT id>`,
    );
    for (const id of p.ring.keyIds.filter(looksLikeKeyGroupId)) keyGroupIdAsKeyId(add, name, id, p.keyGroup);
  }

  const group = p.keyGroup.status === 'ok' ? p.keyGroup.group : undefined;
  if (p.keyGroup.status === 'unset') {
    add(
      'error',
      'KEY_GROUP_MISSING',
      null,
      'Neither the key ring nor the config names a key group: no CloudFront edge trusts this profile’s keys.',
      `Bootstrap the profile with \`signet rotate --profile ${name}\`, or set keyGroupId to the key group the distribution trusts.`,
    );
  } else if (p.keyGroup.status === 'missing') {
    add(
      'error',
      'KEY_GROUP_MISSING',
      null,
      `Key group ${p.keyGroup.id} does not exist in CloudFront: every URL signed for this profile is refused (403 InvalidKey), and rotation is blocked.`,
      'Set keyGroupId (config and ring) to the key group the distribution trusts, or restore the group with the ring’s keys.',
    );
  }

  const ring = p.ring.status === 'ok' ? p.ring.ring : undefined;
  const foreign = ring === undefined ? [] : diagnoseRing(add, p, ring, group, snapshot, now);
  if (group !== undefined) diagnoseGroupSize(add, name, ring, group, profile, now, foreign);
  diagnoseDistribution(add, p, ring?.keyGroupId ?? profile.keyGroupId);
  return findings;
}

function diagnoseRing(
  add: Add,
  p: ProfileSnapshot,
  ring: KeyRing,
  group: RegisteredKeyGroup | undefined,
  snapshot: DoctorSnapshot,
  now: Date,
): readonly ForeignKey[] {
  const { name, profile } = p;
  const rotate = `signet rotate --profile ${name}`;
  const revoke = (id: string) => `signet revoke ${id} --profile ${name} --yes`;
  const nowMs = now.getTime();
  const registered = new Map(snapshot.publicKeys.map((key) => [key.id, key]));
  const removalDue = (key: (typeof ring.keys)[number]) =>
    (removableAt(key, profile)?.getTime() ?? Number.POSITIVE_INFINITY) <= nowMs;

  if (
    ring.keyGroupId !== undefined &&
    profile.keyGroupId !== undefined &&
    ring.keyGroupId !== profile.keyGroupId
  ) {
    add(
      'error',
      'KEY_GROUP_MISMATCH',
      null,
      `The ring names key group ${ring.keyGroupId} but the config names ${profile.keyGroupId}: the rotator refuses to run until they agree, and the distribution may trust the wrong one.`,
      `Set keyGroupId of profile ${name} in the config to ${ring.keyGroupId} (the group the rotator maintains).`,
    );
  }

  const active = ring.keys.find((key) => key.state === 'active');
  const pending = ring.keys.find((key) => key.state === 'pending');
  if (active === undefined) {
    add(
      'error',
      'NO_ACTIVE_KEY',
      null,
      `The ring has no active key: the service cannot sign for this profile (503 keys-unavailable)${pending === undefined ? '' : `; pending key ${pending.id ?? pending.fingerprint} activates once it has propagated`}.`,
      `Run \`${rotate}\` to introduce (or activate) a key.`,
    );
  }

  for (const key of ring.keys) {
    const label = key.id ?? key.fingerprint;
    if (key.id !== undefined && (looksLikeKeyGroupId(key.id) || key.id === group?.id)) {
      keyGroupIdAsKeyId(add, name, key.id, p.keyGroup);
      continue;
    }
    const publicKey = key.id === undefined ? undefined : registered.get(key.id);
    if (key.id !== undefined && publicKey === undefined && !removalDue(key)) {
      add(
        key.state === 'pending' ? 'warning' : 'error',
        'PUBLIC_KEY_MISSING',
        key.id,
        key.state === 'pending'
          ? `The pending key ${key.id} has no CloudFront public key (NoSuchPublicKey): it cannot be activated.`
          : `The ${key.state} key ${key.id} has no CloudFront public key (NoSuchPublicKey): every URL it signed${key.state === 'active' ? ' or signs' : ''} is refused (403 InvalidKey, "Unknown Key").`,
        key.state === 'pending' ? `Run \`${rotate}\` to register it again.` : revoke(key.id),
      );
    }
    let actual: string | undefined;
    try {
      actual = parseSigningKey(key.privateKey).fingerprint;
    } catch (error) {
      add(
        'error',
        'RING_INVALID',
        key.id ?? null,
        `The private key of the ${key.state} key ${label} does not parse (${(error as Error).message}): nothing can be signed with it.`,
        key.id === undefined ? `Run \`${rotate}\`.` : revoke(key.id),
      );
    }
    if (actual !== undefined && actual !== key.fingerprint) {
      add(
        'error',
        'RING_INVALID',
        key.id ?? null,
        `The ring records fingerprint ${key.fingerprint} for the ${key.state} key ${label}, but its private key’s is ${actual}: the ring was edited by hand.`,
        key.id === undefined ? `Run \`${rotate}\`.` : revoke(key.id),
      );
    }
    if (actual !== undefined && publicKey !== undefined) {
      const published = fingerprintOfRegistered(publicKey);
      if (published !== actual) {
        add(
          'error',
          'PUBLIC_KEY_MISMATCH',
          key.id ?? null,
          `CloudFront’s public key ${publicKey.id} (${publicKey.name}, ${published ?? 'unparseable PEM'}) is not the public half of the ring’s ${key.state} private key (${actual}): every URL it signs fails verification (403 AccessDenied).`,
          revoke(publicKey.id),
        );
      }
    }
    if (key.hash === 'sha1' && key.state !== 'retiring') {
      add(
        'warning',
        'SHA1_SIGNING',
        key.id ?? null,
        `The ${key.state} key ${label} signs with RSA-SHA1${profile.hash === 'sha1' ? ', and the profile makes new keys sign with SHA-1 too' : ''}: SHA-1 is deprecated; CloudFront verifies SHA-256 (Hash-Algorithm=SHA256) and ECDSA P-256 keys.`,
        `Set "algorithm": "ecdsa-p256" (or "hash": "sha256") in profile ${name}, then rotate: \`${rotate}\`.`,
      );
    }
  }

  let foreign: readonly ForeignKey[] = [];
  if (group !== undefined) {
    const state: RotationState = {
      ring,
      group,
      publicKeys: snapshot.publicKeys,
      now,
      profileName: name,
      profile,
      ...(snapshot.keyGroups === undefined ? {} : { keyGroups: snapshot.keyGroups }),
    };
    for (const violation of checkInvariants(state)) {
      const keyId = violation.keyId ?? null;
      if (keyId !== null && (looksLikeKeyGroupId(keyId) || keyId === group.id)) continue;
      const key = ring.keys.find((candidate) => candidate.id === keyId);
      switch (violation.code) {
        case 'ACTIVE_NOT_IN_GROUP':
          add(
            'error',
            'ACTIVE_KEY_NOT_IN_GROUP',
            keyId,
            `The active key ${keyId} is not in key group ${group.id}: every URL it signs is refused (403 InvalidKey, "Unknown Key").`,
            `Put ${keyId} back into key group ${group.id} (aws cloudfront update-key-group), or switch to a new key: ${revoke(keyId ?? '')}`,
          );
          break;
        case 'ACTIVE_NOT_PROPAGATED': {
          const trusted = key?.trustedAt === undefined ? Number.NaN : Date.parse(key.trustedAt);
          // The wait recorded at its activation, so a later change of the setting judges nothing past.
          const propagation = key === undefined ? profile.rotation.propagation : propagationOf(key, profile);
          const propagatedAt = trusted + propagation * 1000;
          const stillEarly = !(propagatedAt <= nowMs);
          add(
            stillEarly ? 'error' : 'warning',
            'ACTIVE_KEY_TOO_NEW',
            keyId,
            stillEarly
              ? `The active key ${keyId} has been in the key group since ${key?.trustedAt ?? 'never'}, less than rotation.propagation (${propagation}s): edges that have not seen it yet refuse its URLs (403 InvalidKey).`
              : `The active key ${keyId} was activated at ${key?.activatedAt} before it had been in the key group for rotation.propagation (${propagation}s, in force then): URLs signed then may have been refused. Is something activating keys early?`,
            stillEarly
              ? `Wait until ${Number.isNaN(propagatedAt) ? 'it is in the key group' : new Date(propagatedAt).toISOString()}, or, if 403s persist, ${revoke(keyId ?? '')}`
              : `Activate keys only through the rotator (\`${rotate}\`), which waits for propagation.`,
          );
          break;
        }
        case 'RING_KEY_NOT_IN_GROUP':
          add(
            'warning',
            'PENDING_NOT_IN_GROUP',
            keyId,
            `The pending key ${keyId} is marked trusted but is not in key group ${group.id}: activating it would make every new URL fail.`,
            `Run \`${rotate}\` to add it to the key group again before it is activated.`,
          );
          break;
        case 'RETIRING_KEY_LEFT_GROUP':
          add(
            'error',
            'RETIRING_KEY_NOT_IN_GROUP',
            keyId,
            `${violation.message} URLs and cookies it signed are refused (403 InvalidKey) until they expire.`,
            `Put ${keyId} back into key group ${group.id} (aws cloudfront update-key-group) until its removal time.`,
          );
          break;
        default:
          // The rest are reported by the checks of this file, with their own wording and remedy.
          break;
      }
    }
    const ownership = classifySignetKeys(state);
    for (const orphan of ownership.orphans) {
      const deletable = orphan.deletableAt.getTime() <= nowMs;
      add(
        'warning',
        'ORPHAN_PUBLIC_KEY',
        orphan.key.id,
        `Public key ${orphan.key.id} (${orphan.key.name}) was created by Signet for this ring but is in no ring key${orphan.inGroup ? `, and takes a slot of key group ${group.id}` : ''}: it uses one of the account’s ${MAX_PUBLIC_KEYS_PER_ACCOUNT} public keys.`,
        deletable
          ? `Run \`${rotate}\`: it deletes the orphan.`
          : `Leave it until ${orphan.deletableAt.toISOString()} (URLs it may have signed are valid until then); \`${rotate}\` deletes it after that.`,
      );
    }
    foreign = ownership.foreign;
    for (const stranger of foreign) reportForeignKey(add, name, stranger);
  }

  for (const refused of refusedConfigChanges(ring, profile)) {
    add(
      'warning',
      'CONFIG_CHANGE_REFUSED',
      null,
      `${refused.message} Until then every rotator run fails (RotationConfigRefused).`,
      `Set ${refused.field} of profile ${name} back, or configure rotation.canary for it.`,
    );
  }
  if (active !== undefined && pending === undefined) {
    const due = rotationDueAt(active, profile);
    // A run that fell due is a few runs late at worst: one run spends its one phase on a removal.
    if (due.getTime() + ROTATOR_SLACK_SECONDS * 1000 < nowMs) {
      add(
        'warning',
        'KEY_AGE',
        active.id ?? null,
        `The active key ${active.id} was activated at ${active.activatedAt ?? active.createdAt}, longer ago than rotation.rotateEvery (${profile.rotation.rotateEvery}s): a rotation was due at ${due.toISOString()} and has not started. Is the rotator running?`,
        `Run \`${rotate}\`, and check the rotator's schedule and logs.`,
      );
    }
  }
  if (pending !== undefined) {
    const label = pending.id ?? pending.fingerprint;
    const dueMs =
      pending.trustedAt === undefined
        ? Date.parse(pending.createdAt)
        : Date.parse(pending.trustedAt) + activationWaitSeconds(ring, profile) * 1000;
    if (dueMs + ROTATOR_SLACK_SECONDS * 1000 < nowMs) {
      add(
        'warning',
        'PENDING_STUCK',
        pending.id ?? null,
        pending.trustedAt === undefined
          ? `The pending key ${label} was created at ${pending.createdAt} and is still not in the key group: a rotation stopped half-way, and the active key keeps ageing.`
          : `The pending key ${label} has been trusted since ${pending.trustedAt} and should have been activated at ${new Date(dueMs).toISOString()}: the rotator is not advancing.`,
        `Run \`${rotate}\`, and check the rotator's logs for a blocked run.`,
      );
    }
  }
  for (const key of ring.keys) {
    const removeAt = removableAt(key, profile)?.getTime();
    if (removeAt === undefined) continue;
    if (removeAt + ROTATOR_SLACK_SECONDS * 1000 < nowMs) {
      add(
        'warning',
        'RETIRING_OVERDUE',
        key.id ?? null,
        `The retiring key ${key.id ?? key.fingerprint} was due for removal at ${new Date(removeAt).toISOString()}: it still takes a slot of the key group (${MAX_KEYS_PER_GROUP} at most) and of the account.`,
        `Run \`${rotate}\` to remove it.`,
      );
    }
  }
  // Each key that left is judged by the bound recorded when it left (the configs in force while it
  // signed), never by today's config; entries from before bounds were recorded are not judged.
  for (const entry of ring.history) {
    const left = entry.removedAt ?? entry.revokedAt;
    const recorded = recordedValidUntil(entry);
    if (left === undefined || recorded === undefined) continue;
    const leftMs = Date.parse(left);
    const validUntil = recorded.getTime();
    if (!(leftMs < validUntil)) continue;
    const id = entry.id ?? entry.fingerprint;
    const how = entry.removedAt !== undefined ? 'left the key group' : 'was revoked';
    const retired = entry.retiredAt === undefined ? '' : `; it stopped signing at ${entry.retiredAt}`;
    const lastExpiry = new Date(validUntil).toISOString();
    if (nowMs < validUntil) {
      add(
        entry.removedAt !== undefined ? 'error' : 'warning',
        'KEY_REMOVED_WHILE_VALID',
        entry.id ?? null,
        `Key ${id} ${how} at ${left}${retired}, and the last URL or cookie it signed stays valid until ${lastExpiry}: until then they are refused (403 InvalidKey).`,
        'Have callers request new URLs (they are signed with the active key); nothing restores a deleted public key id.',
      );
    } else if (entry.removedAt !== undefined) {
      add(
        'info',
        'KEY_REMOVED_WHILE_VALID',
        entry.id ?? null,
        `Key ${id} left the key group at ${left}${retired}, before the last URL or cookie it signed expired at ${lastExpiry}; none of them is valid any more.`,
        'Nothing to do now; removals through the rotator wait for the recorded bound.',
      );
    }
  }
  return foreign;
}

function keyGroupIdAsKeyId(add: Add, name: string, id: string, keyGroup: ProfileSnapshot['keyGroup']): void {
  const isGroup = keyGroup.status === 'ok' && keyGroup.group.id === id;
  add(
    'error',
    'KEY_GROUP_ID_AS_KEY_ID',
    id,
    `The ring uses ${id} as a public key id, but ${isGroup ? `it is the id of key group ${id}` : 'it has the shape of a key group id (a UUID)'}: CloudFront expects a public key id (like K2JCJMDEHXQW5F) in Key-Pair-Id and answers 403 InvalidKey ("Unknown Key").`,
    `Put the CloudFront public key id (aws cloudfront list-public-keys) in the ring instead, or replace the key: \`signet rotate --profile ${name}\`.`,
  );
}

/**
 * Reports a Signet-named key of this profile that is not this ring's. Its remedy never deletes it:
 * it may be another stage's active key, and deleting it would make every URL that stage signs fail.
 */
function reportForeignKey(add: Add, name: string, stranger: ForeignKey): void {
  const { key } = stranger;
  const label = `Public key ${key.id} (${key.name})`;
  if (stranger.reason === 'unclaimed') {
    add(
      'warning',
      'ORPHAN_PUBLIC_KEY',
      key.id,
      `${label} is named like a Signet key of profile ${name} but is in no key group and unknown to this ring: perhaps another stage's or stack's crash leftover, which its own rotator adopts or deletes. It uses one of the account’s ${MAX_PUBLIC_KEYS_PER_ACCOUNT} public keys.`,
      `Leave it to the stage that made it: run \`signet keys --profile ${name}\` against each stage that uses profile ${name}; Signet never deletes a key no ring of its own knows.`,
    );
    return;
  }
  const why =
    stranger.reason === 'other-group'
      ? `is held by key group ${stranger.groupId}, not this ring's`
      : stranger.reason === 'other-ring'
        ? `belongs to another key ring (${key.comment ?? 'named in its comment'})${stranger.groupId === undefined ? '' : `, and shares key group ${stranger.groupId} with this ring`}`
        : `sits in the adopted key group ${stranger.groupId} and is unknown to this ring: another adopter's`;
  add(
    'info',
    'FOREIGN_PUBLIC_KEY',
    key.id,
    `${label} ${why}: another stage or stack uses profile name ${name}. This ring never changes or deletes it.`,
    'Nothing to do here: the ring that owns it rotates it.',
  );
}

function diagnoseGroupSize(
  add: Add,
  name: string,
  ring: KeyRing | undefined,
  group: RegisteredKeyGroup,
  profile: Profile,
  now: Date,
  foreign: readonly ForeignKey[],
): void {
  const count = group.items.length;
  if (count < MAX_KEYS_PER_GROUP - 1) return;
  const due = ring === undefined || rotationDue(ring, profile, now);
  const ringIds = new Set(ring?.keys.flatMap((key) => (key.id === undefined ? [] : [key.id])) ?? []);
  // Another ring's keys in a shared group are that stage's to rotate: never suggested for removal.
  const foreignIds = new Set(foreign.map((stranger) => stranger.key.id));
  const strangers = group.items.filter((id) => !ringIds.has(id) && !foreignIds.has(id));
  const retiring = ring?.keys.filter((key) => key.state === 'retiring' && key.id !== undefined) ?? [];
  const severity: Severity = count >= MAX_KEYS_PER_GROUP && due ? 'error' : 'warning';
  add(
    severity,
    'GROUP_FULL',
    null,
    `Key group ${group.id} holds ${count} of CloudFront's ${MAX_KEYS_PER_GROUP} keys${strangers.length > 0 ? ` (${strangers.join(', ')} in no ring of this profile)` : ''}: ${
      count >= MAX_KEYS_PER_GROUP
        ? due
          ? 'a rotation is due and cannot introduce a key, so the active key keeps ageing.'
          : 'the next rotation will be blocked unless a key leaves first.'
        : 'one more key and rotation is blocked.'
    }`,
    strangers.length > 0
      ? `Take ${strangers.join(', ')} out of key group ${group.id} if nothing signs with them (aws cloudfront update-key-group).`
      : retiring[0] !== undefined
        ? `Wait for the retiring keys' removal (\`signet rotate --profile ${name}\` removes them when due), or signet revoke ${retiring[0].id} --profile ${name} --yes`
        : `Run \`signet rotate --profile ${name}\` once the group has room.`,
  );
}

/** Whether the profile's rotation is due now: no active key, or an active key past `rotateEvery` and no pending one. */
function rotationDue(ring: KeyRing, profile: Profile, now: Date): boolean {
  const active = ring.keys.find((key) => key.state === 'active');
  if (active === undefined) return true;
  if (ring.keys.some((key) => key.state === 'pending')) return false;
  return rotationDueAt(active, profile).getTime() <= now.getTime();
}

/**
 * Request paths that stand for what the profile signs: each grant's resource pattern with its
 * wildcards and `{claim}` placeholders filled in, so the cache behaviour CloudFront would pick for it
 * can be found. A profile without grants stands for its whole domain.
 */
export function samplePathsOf(profile: Profile): { resource: string; path: string }[] {
  const resources = profile.grants.flatMap((grant) => grant.resources);
  if (resources.length === 0) return [];
  return resources.map((resource) => {
    const rest = resource.replace(/^[a-z*]+:\/\/[^/?#]*/i, '').replace(/[?#].*$/, '');
    const path = rest.replace(/\{[^}]*\}/g, 'x').replace(/[*?]/g, 'x');
    return { resource, path: path === '' ? '/' : path };
  });
}

function diagnoseDistribution(add: Add, p: ProfileSnapshot, groupId: string | undefined): void {
  if (p.distribution.status === 'unset') return;
  if (p.distribution.status === 'missing') {
    add(
      'error',
      'DISTRIBUTION_MISSING',
      null,
      `Distribution ${p.distribution.id} (distributionId of profile ${p.name}) does not exist in CloudFront (NoSuchDistribution): its trust of the key group cannot be checked.`,
      `Set distributionId of profile ${p.name} to the distribution that serves ${p.profile.domains.join(', ')}.`,
    );
    return;
  }
  if (groupId === undefined) return;
  const distribution = p.distribution.distribution;
  const remedy = (pattern: string) =>
    `Add key group ${groupId} to TrustedKeyGroups of the ${pattern === '*' ? 'default cache behaviour' : `cache behaviour ${pattern}`} of distribution ${distribution.id} (aws cloudfront update-distribution).`;
  const samples = samplePathsOf(p.profile);
  if (samples.length === 0) {
    if (!distribution.behaviors.some((behavior) => behavior.trustedKeyGroups.includes(groupId))) {
      add(
        'error',
        'KEY_GROUP_NOT_TRUSTED',
        null,
        `No cache behaviour of distribution ${distribution.id} trusts key group ${groupId}: every URL signed for this profile is refused (403 InvalidKey).`,
        remedy(lastBehaviorPattern(distribution)),
      );
    }
    return;
  }
  const reported = new Set<string>();
  for (const { resource, path } of samples) {
    const behavior = behaviorFor(distribution, path);
    if (behavior === undefined || reported.has(behavior.pathPattern)) continue;
    if (behavior.trustedKeyGroups.includes(groupId)) continue;
    reported.add(behavior.pathPattern);
    const where = behavior.isDefault
      ? 'the default cache behaviour'
      : `cache behaviour ${behavior.pathPattern}`;
    if (behavior.trustedKeyGroups.length === 0) {
      add(
        'warning',
        'KEY_GROUP_NOT_TRUSTED',
        null,
        `${capitalise(where)} of distribution ${distribution.id}, which serves ${resource}, trusts no key group: it serves those objects without a signature, to anyone.`,
        remedy(behavior.pathPattern),
      );
    } else {
      add(
        'error',
        'KEY_GROUP_NOT_TRUSTED',
        null,
        `${capitalise(where)} of distribution ${distribution.id}, which serves ${resource}, trusts key group(s) ${behavior.trustedKeyGroups.join(', ')} but not ${groupId}: every URL signed for it is refused (403 InvalidKey, "Unknown Key").`,
        remedy(behavior.pathPattern),
      );
    }
  }
}

function lastBehaviorPattern(distribution: DistributionView): string {
  return distribution.behaviors[distribution.behaviors.length - 1]?.pathPattern ?? '*';
}

function capitalise(text: string): string {
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}`;
}

function diagnoseAccount(snapshot: DoctorSnapshot, now: Date): Finding[] {
  const used = snapshot.publicKeys.length;
  const free = MAX_PUBLIC_KEYS_PER_ACCOUNT - used;
  // Each profile needs a free slot to introduce its next key, and a revoke may need one more.
  const margin = Math.max(2, snapshot.configuredProfiles);
  const due = snapshot.profiles.some(
    (p) => p.ring.status === 'ok' && rotationDue(p.ring.ring, p.profile, now),
  );
  const base = `The account holds ${used} of CloudFront's ${MAX_PUBLIC_KEYS_PER_ACCOUNT} public keys (the default quota, adjustable), ${Math.max(free, 0)} free`;
  const remedy =
    'Delete public keys no key group uses (see ORPHAN_PUBLIC_KEY), or raise the "Public keys" quota of CloudFront in Service Quotas.';
  const finding = (severity: Severity, code: FindingCode, message: string): Finding => ({
    severity,
    code,
    profile: null,
    keyId: null,
    message,
    remedy: severity === 'info' ? 'Nothing to do.' : remedy,
  });
  if (free <= 0) {
    return [
      finding(
        due ? 'error' : 'warning',
        'ACCOUNT_KEYS_NEAR_LIMIT',
        `${base}: no rotation can introduce a key (TooManyPublicKeys)${due ? ', and one is due' : ''}.`,
      ),
    ];
  }
  if (free <= margin) {
    return [
      finding(
        'warning',
        'ACCOUNT_KEYS_NEAR_LIMIT',
        `${base}: ${snapshot.configuredProfiles} profile(s) each need a free one to rotate, and a revoke may need another.`,
      ),
    ];
  }
  return [finding('info', 'ACCOUNT_KEYS_HEADROOM', `${base}.`)];
}
