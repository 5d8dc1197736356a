import { leftKeyValidUntil, propagationOf, recordedValidUntil, validUntilOf } from './bounds.ts';
import { classifySignetKeys, ownKeyGroup } from './ownership.ts';
import { MAX_KEYS_PER_GROUP, publicKeyQuotaOf } from './quotas.ts';
import type { RotationState } from './state.ts';

/** Stable codes of the rotation invariants (docs/design.md, "Invariants"). */
export type ViolationCode =
  | 'KEY_GROUP_MISSING'
  | 'GROUP_OVER_QUOTA'
  | 'ACTIVE_NOT_IN_GROUP'
  | 'ACTIVE_NOT_PROPAGATED'
  | 'RING_KEY_NOT_IN_GROUP'
  | 'RING_KEY_UNREGISTERED'
  | 'RETIRING_KEY_LEFT_GROUP'
  | 'KEY_REMOVED_TOO_EARLY'
  | 'ORPHAN_IN_GROUP'
  | 'ORPHAN_PUBLIC_KEY'
  | 'ACCOUNT_AT_QUOTA';

/**
 * One broken invariant. `error` fails the run (a URL may be refused, or a private key lost);
 * `warning` is logged and counted but is work the next runs finish on their own.
 */
export interface Violation {
  readonly code: ViolationCode;
  readonly severity: 'error' | 'warning';
  readonly message: string;
  readonly keyId?: string;
}

/** Switches of {@link checkInvariants}. */
export interface InvariantOptions {
  /** Report an activation that did not wait for propagation as a warning (the test-only setting). */
  readonly activatedWithoutPropagation?: boolean;
}

/**
 * Checks the rotation invariants (docs/design.md, "Invariants") on what CloudFront and the ring say now: the active key was in
 * the group for `propagation` before it was activated and is still there; no key that may have
 * signed a still-valid URL left the group; the group holds at most 5 keys; every ring key is in the
 * group and every Signet key tied to this ring (see `classifySignetKeys`) is in the ring; a Signet-named
 * key tied to nothing (perhaps another stage's) is a warning, never an orphan. Pure; `state.now` is the clock.
 */
export function checkInvariants(state: RotationState, options: InvariantOptions = {}): Violation[] {
  const { ring, publicKeys, now, profile } = state;
  // A group found only by name that holds none of the ring's keys is another stage's: not judged as ours.
  const group = ownKeyGroup(state);
  const violations: Violation[] = [];
  const add = (
    code: ViolationCode,
    message: string,
    keyId?: string,
    severity: Violation['severity'] = 'error',
  ) => violations.push({ code, severity, message, ...(keyId === undefined ? {} : { keyId }) });

  if (group !== undefined && group.items.length > MAX_KEYS_PER_GROUP)
    add(
      'GROUP_OVER_QUOTA',
      `Key group ${group.id} holds ${group.items.length} keys; CloudFront allows ${MAX_KEYS_PER_GROUP}.`,
    );
  if (publicKeys.length >= publicKeyQuotaOf(profile)) {
    add(
      'ACCOUNT_AT_QUOTA',
      `The account holds ${publicKeys.length} of its ${publicKeyQuotaOf(profile)} public keys; no rotation can introduce another.`,
      undefined,
      'warning',
    );
  }
  if (ring === undefined) return violations;
  if (ring.keyGroupId !== undefined && group === undefined) {
    add('KEY_GROUP_MISSING', `The ring's key group ${ring.keyGroupId} does not exist.`);
    return violations;
  }
  const inGroup = new Set(group?.items ?? []);
  const registered = new Set(publicKeys.map((key) => key.id));

  for (const key of ring.keys) {
    // A retiring key past its removal delay may be mid-removal (gone from CloudFront, not yet from
    // the ring); the next run finishes that, and no URL it signed is still valid.
    // Everything it signed has expired: leaving the group breaks nothing (it may be mid-removal).
    const removalDue =
      (leftKeyValidUntil(key, profile)?.getTime() ?? Number.POSITIVE_INFINITY) <= now.getTime();
    if (removalDue) continue;
    if (key.id === undefined || !registered.has(key.id)) {
      add(
        'RING_KEY_UNREGISTERED',
        `The ${key.state} key ${key.fingerprint} has no CloudFront public key.`,
        key.id,
      );
      continue;
    }
    if (key.state === 'active') {
      if (!inGroup.has(key.id))
        add('ACTIVE_NOT_IN_GROUP', `The active key ${key.id} is not in the key group.`, key.id);
      const trusted = key.trustedAt === undefined ? Number.NaN : Date.parse(key.trustedAt);
      const activated = Date.parse(key.activatedAt ?? key.createdAt);
      // Judged by the wait in force when it was activated (recorded then), not today's.
      const propagation = propagationOf(key, profile);
      if (!(trusted + propagation * 1000 <= activated)) {
        add(
          'ACTIVE_NOT_PROPAGATED',
          `The active key ${key.id} was activated before it had been in the key group for ` +
            `${propagation}s (trusted ${key.trustedAt ?? 'never'}, activated ${key.activatedAt}).`,
          key.id,
          options.activatedWithoutPropagation === true ? 'warning' : 'error',
        );
      }
    } else if (key.state === 'retiring') {
      if (!inGroup.has(key.id)) {
        const until =
          key.retiredAt === undefined
            ? 'everything it signed expired'
            : validUntilOf(key, profile, new Date(key.retiredAt)).toISOString();
        add(
          'RETIRING_KEY_LEFT_GROUP',
          `The retiring key ${key.id} left the key group before ${until}: URLs it signed are refused.`,
          key.id,
        );
      }
    } else if (!inGroup.has(key.id) && key.trustedAt !== undefined) {
      add(
        'RING_KEY_NOT_IN_GROUP',
        `The pending key ${key.id} is marked trusted but is not in the key group.`,
        key.id,
      );
    }
  }
  // The past is judged by the bound recorded when each key left: what was in force while it signed.
  for (const entry of ring.history) {
    const validUntil = recordedValidUntil(entry);
    if (entry.removedAt === undefined || validUntil === undefined) continue;
    // Only while such URLs can still be presented: afterwards it is history (doctor notes it as info).
    if (Date.parse(entry.removedAt) < validUntil.getTime() && now.getTime() < validUntil.getTime()) {
      add(
        'KEY_REMOVED_TOO_EARLY',
        `Key ${entry.id ?? entry.fingerprint} left the key group at ${entry.removedAt}, but URLs and cookies it ` +
          `signed could be valid until ${validUntil.toISOString()}.`,
        entry.id,
      );
    }
  }
  const { orphans, foreign } = classifySignetKeys(state);
  for (const orphan of orphans) {
    if (orphan.inGroup) {
      add(
        'ORPHAN_IN_GROUP',
        `Signet key ${orphan.key.id} is in the key group but in no ring.`,
        orphan.key.id,
      );
    } else {
      add(
        'ORPHAN_PUBLIC_KEY',
        `Signet key ${orphan.key.id} is in no ring; the next run deletes it.`,
        orphan.key.id,
        'warning',
      );
    }
  }
  for (const stranger of foreign) {
    // Keys another group holds, or that name another ring, are that stage's business; a key that
    // nothing claims uses the account's quota and may be a crash leftover, so it is worth a look.
    if (stranger.reason !== 'unclaimed') continue;
    add(
      'ORPHAN_PUBLIC_KEY',
      `Signet key ${stranger.key.id} (${stranger.key.name}) is in no key group and unknown to this ring: ` +
        "left alone, since it may be another stage's leftover that its own rotator adopts.",
      stranger.key.id,
      'warning',
    );
  }
  return violations;
}
