import { createPrivateKey, createPublicKey } from 'node:crypto';
import type { KeyRing, RingKey } from '../../lib/keys/ring.ts';
import { publicKeyCommentFor, publicKeyNameFor } from '../../lib/rotation/names.ts';
import type { ListedKeyGroup, RegisteredKeyGroup, RegisteredPublicKey } from '../../lib/rotation/registry.ts';
import type { RotationState } from '../../lib/rotation/state.ts';
import { ringKey } from './rings.ts';
import { TIMINGS, testProfile } from './rotation-sandbox.ts';

// Hand-built rotation states for the planner's and the invariants' unit tests: one profile
// ('media', ring signet/test), a clock in seconds from T0, keys generated at run time.

export const PROFILE = 'media';
export const profile = testProfile();
export const T0 = Date.parse('2026-11-22T12:00:00.000Z');
export const at = (seconds: number) => new Date(T0 + seconds * 1000);
export const iso = (seconds: number) => at(seconds).toISOString();
export const GROUP_ID = '5b7a1f9e-1111-4c8e-9a43-0123456789ab';
export const OTHER_GROUP_ID = '9c2d4e6f-2222-4c8e-9a43-0123456789ab';
export { TIMINGS, testProfile };

const pool = Array.from({ length: 6 }, () => ringKey());

/** Ring key number `index` (0-5: distinct key pairs), created at 0, with the given fields. */
export function key(index: number, overrides: Partial<RingKey>): RingKey {
  const { id: _id, trustedAt: _t, activatedAt: _a, ...base } = pool[index]!;
  return { ...base, createdAt: iso(0), ...overrides };
}

/** The CloudFront public key of a ring key, named as Signet names it, under `id`. */
export function registered(
  ring: RingKey,
  id = ring.id!,
  extra: Partial<RegisteredPublicKey> = {},
): RegisteredPublicKey {
  const pem = createPublicKey(createPrivateKey(ring.privateKey!)).export({ type: 'spki', format: 'pem' });
  return {
    id,
    name: publicKeyNameFor(PROFILE, ring.fingerprint),
    encodedKey: pem.toString(),
    createdTime: iso(0),
    ...extra,
  };
}

/** The comment Signet gives the keys of this ring, or of the ring in `secretId`. */
export const commentOf = (secretId = profile.keyRing.secretId) => publicKeyCommentFor(secretId);

/** `count` public keys Signet did not make. */
export function foreignKeys(count: number): RegisteredPublicKey[] {
  const pem = registered(pool[5]!, 'KFOREIGN').encodedKey;
  return Array.from({ length: count }, (_, index) => ({
    id: `KOTHER${index}`,
    name: `other-${index}`,
    encodedKey: pem,
    createdTime: iso(0),
  }));
}

export function group(
  items: readonly string[],
  id = GROUP_ID,
  name = `signet-${PROFILE}`,
): RegisteredKeyGroup {
  return { id, name, items, etag: 'E1' };
}

export function listed(items: readonly string[], id: string, name: string): ListedKeyGroup {
  return { id, name, items };
}

export function ringOf(keys: RingKey[], extra: Partial<KeyRing> = {}): KeyRing {
  return { schema: 'signet.keyring/1', keyGroupId: GROUP_ID, keys, history: [], ...extra };
}

export function state(partial: Partial<RotationState> & { now: Date }): RotationState {
  return { ring: undefined, group: undefined, publicKeys: [], profileName: PROFILE, profile, ...partial };
}

export const ACTIVE_ID = 'KACTIVE000001';

/** The active key of {@link steady}: activated at 0, trusted long before. */
export const activeKey = () =>
  key(0, { id: ACTIVE_ID, state: 'active', trustedAt: iso(-7200), activatedAt: iso(0) });

/**
 * One active key, registered and in the group, plus `extraKeys` (registered when they have an id)
 * and `extraIds` in the group.
 */
export function steady(now: Date, extraKeys: RingKey[] = [], extraIds: string[] = []): RotationState {
  const keys = [activeKey(), ...extraKeys];
  return state({
    ring: ringOf(keys),
    group: group([ACTIVE_ID, ...extraIds]),
    publicKeys: keys.filter((k) => k.id !== undefined).map((k) => registered(k)),
    now,
  });
}
