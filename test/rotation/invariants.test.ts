import { describe, expect, it } from 'vitest';
import type { HistoryEntry } from '../../lib/keys/ring.ts';
import { checkInvariants } from '../../lib/rotation/invariants.ts';
import {
  ACTIVE_ID,
  activeKey,
  at,
  commentOf,
  foreignKeys,
  GROUP_ID,
  group,
  iso,
  key,
  listed,
  OTHER_GROUP_ID,
  PROFILE,
  registered,
  ringOf,
  state,
  steady,
  testProfile,
} from '../support/rotation-states.ts';

// What the rotator reports after each run (and alarms on, for errors): every invariant of
// docs/design.md, "Invariants", with the exact finding an operator reads, and its nearest healthy
// variant reporting nothing.

describe('checkInvariants: the key group', () => {
  it('judges nothing before bootstrap', () => {
    expect(checkInvariants(state({ now: at(0) }))).toEqual([]);
  });

  it('reports a group over the 5-key quota, with the count, and accepts exactly 5', () => {
    expect(checkInvariants(steady(at(10), [], ['K2', 'K3', 'K4', 'K5', 'K6']))).toStrictEqual([
      {
        code: 'GROUP_OVER_QUOTA',
        severity: 'error',
        message: `Key group ${GROUP_ID} holds 6 keys; CloudFront allows 5.`,
      },
    ]);
    expect(checkInvariants(steady(at(10), [], ['K2', 'K3', 'K4', 'K5']))).toEqual([]);
  });

  it('warns when the account is at its public key quota', () => {
    const s = steady(at(10));
    expect(checkInvariants({ ...s, publicKeys: [...s.publicKeys, ...foreignKeys(9)] })).toStrictEqual([
      {
        code: 'ACCOUNT_AT_QUOTA',
        severity: 'warning',
        message: 'The account holds 10 of its 10 public keys; no rotation can introduce another.',
      },
    ]);
  });

  it('counts against a raised quota (aws.publicKeyQuota)', () => {
    const s = { ...steady(at(10)), profile: testProfile({ publicKeyQuota: 11 }) };
    expect(checkInvariants({ ...s, publicKeys: [...s.publicKeys, ...foreignKeys(9)] })).toStrictEqual([]);
    expect(checkInvariants({ ...s, publicKeys: [...s.publicKeys, ...foreignKeys(10)] })).toStrictEqual([
      {
        code: 'ACCOUNT_AT_QUOTA',
        severity: 'warning',
        message: 'The account holds 11 of its 11 public keys; no rotation can introduce another.',
      },
    ]);
  });

  it('reports the missing group by its id, and nothing else about the ring', () => {
    expect(checkInvariants({ ...steady(at(10)), group: undefined })).toStrictEqual([
      {
        code: 'KEY_GROUP_MISSING',
        severity: 'error',
        message: `The ring's key group ${GROUP_ID} does not exist.`,
      },
    ]);
  });

  it('does not call a group missing while a bootstrap has not made it yet', () => {
    const pending = key(1, { state: 'pending' });
    const s = state({ ring: ringOf([pending], { keyGroupId: undefined }), now: at(10) });
    expect(checkInvariants(s)).toStrictEqual([
      {
        code: 'RING_KEY_UNREGISTERED',
        severity: 'error',
        message: `The pending key ${pending.fingerprint} has no CloudFront public key.`,
      },
    ]);
  });
});

describe('checkInvariants: the active key', () => {
  it('reports an active key CloudFront no longer has', () => {
    expect(checkInvariants({ ...steady(at(10)), publicKeys: [] })).toStrictEqual([
      {
        code: 'RING_KEY_UNREGISTERED',
        severity: 'error',
        message: `The active key ${activeKey().fingerprint} has no CloudFront public key.`,
        keyId: ACTIVE_ID,
      },
    ]);
  });

  it('reports an active key the key group does not hold: every URL it signs is refused', () => {
    expect(checkInvariants({ ...steady(at(10)), group: group(['KOTHER']) })).toStrictEqual([
      {
        code: 'ACTIVE_NOT_IN_GROUP',
        severity: 'error',
        message: `The active key ${ACTIVE_ID} is not in the key group.`,
        keyId: ACTIVE_ID,
      },
    ]);
  });

  it('says when an early activation was trusted and activated, or that it never was trusted', () => {
    const s = steady(at(10));
    const withActive = (trustedAt: string | undefined) => {
      const { trustedAt: _, ...rest } = activeKey();
      const active = trustedAt === undefined ? rest : { ...rest, trustedAt };
      return { ...s, ring: ringOf([active]) };
    };
    expect(checkInvariants(withActive(iso(-10)))[0]!.message).toBe(
      `The active key ${ACTIVE_ID} was activated before it had been in the key group for 120s ` +
        `(trusted ${iso(-10)}, activated ${iso(0)}).`,
    );
    expect(checkInvariants(withActive(undefined))).toEqual([
      expect.objectContaining({
        code: 'ACTIVE_NOT_PROPAGATED',
        message: `The active key ${ACTIVE_ID} was activated before it had been in the key group for 120s (trusted never, activated ${iso(0)}).`,
      }),
    ]);
  });
});

describe('checkInvariants: pending and retiring keys', () => {
  const pending = key(1, { id: 'KPENDING00001', state: 'pending', createdAt: iso(5) });

  it('reports a pending key marked trusted that the group does not hold, not one on its way in', () => {
    const trusted = { ...pending, trustedAt: iso(6) };
    expect(checkInvariants(steady(at(10), [trusted]))).toStrictEqual([
      {
        code: 'RING_KEY_NOT_IN_GROUP',
        severity: 'error',
        message: 'The pending key KPENDING00001 is marked trusted but is not in the key group.',
        keyId: 'KPENDING00001',
      },
    ]);
    expect(checkInvariants(steady(at(10), [pending]))).toEqual([]);
  });

  it('says until when the URLs of a retiring key that left the group could be valid', () => {
    const retiring = key(2, { id: 'KRETIRING0001', state: 'retiring', retiredAt: iso(0) });
    expect(checkInvariants(steady(at(10), [retiring]))).toStrictEqual([
      {
        code: 'RETIRING_KEY_LEFT_GROUP',
        severity: 'error',
        message: `The retiring key KRETIRING0001 left the key group before ${iso(390)}: URLs it signed are refused.`,
        keyId: 'KRETIRING0001',
      },
    ]);
    const { retiredAt: _, ...undated } = retiring;
    expect(checkInvariants(steady(at(10), [undated]))[0]!.message).toBe(
      'The retiring key KRETIRING0001 left the key group before everything it signed expired: URLs it signed are refused.',
    );
  });
});

describe('checkInvariants: keys removed too early', () => {
  const s = steady(at(10));
  const withHistory = (entry: HistoryEntry) => ({ ...s, ring: { ...s.ring!, history: [entry] } });

  it('names the key (by id, else fingerprint), when it left, and until when its URLs could be valid', () => {
    const entry = { fingerprint: 'sha256:x', retiredAt: iso(0), removedAt: iso(5), validUntil: iso(390) };
    expect(checkInvariants(withHistory({ ...entry, id: 'KOLD' }))).toStrictEqual([
      {
        code: 'KEY_REMOVED_TOO_EARLY',
        severity: 'error',
        message: `Key KOLD left the key group at ${iso(5)}, but URLs and cookies it signed could be valid until ${iso(390)}.`,
        keyId: 'KOLD',
      },
    ]);
    expect(checkInvariants(withHistory(entry))[0]!.message).toBe(
      `Key sha256:x left the key group at ${iso(5)}, but URLs and cookies it signed could be valid until ${iso(390)}.`,
    );
  });

  it('does not report a key removed exactly at its bound, even by a checker whose clock runs behind', () => {
    const entry = { id: 'KOLD', fingerprint: 'sha256:x', removedAt: iso(390), validUntil: iso(390) };
    expect(checkInvariants(withHistory(entry))).toEqual([]);
  });
});

describe('checkInvariants: Signet keys in no ring', () => {
  const stray = key(3, {});
  const ourKeyGroups = [listed([ACTIVE_ID], GROUP_ID, `signet-${PROFILE}`)];

  it("reports this ring's leftover in the group as an error", () => {
    const s = steady(at(10), [], ['KSTRAY0000001']);
    expect(
      checkInvariants({ ...s, publicKeys: [...s.publicKeys, registered(stray, 'KSTRAY0000001')] }),
    ).toStrictEqual([
      {
        code: 'ORPHAN_IN_GROUP',
        severity: 'error',
        message: 'Signet key KSTRAY0000001 is in the key group but in no ring.',
        keyId: 'KSTRAY0000001',
      },
    ]);
  });

  it("warns of this ring's leftover out of the group, which the next run deletes", () => {
    const s = { ...steady(at(10)), keyGroups: ourKeyGroups };
    const ours = registered(stray, 'KSTRAY0000001', { comment: commentOf() });
    expect(checkInvariants({ ...s, publicKeys: [...s.publicKeys, ours] })).toStrictEqual([
      {
        code: 'ORPHAN_PUBLIC_KEY',
        severity: 'warning',
        message: 'Signet key KSTRAY0000001 is in no ring; the next run deletes it.',
        keyId: 'KSTRAY0000001',
      },
    ]);
  });

  it('warns of a key tied to nothing, naming it, and says it is left alone', () => {
    const s = steady(at(10));
    const unclaimed = registered(stray, 'KSTRAY0000001');
    expect(checkInvariants({ ...s, publicKeys: [...s.publicKeys, unclaimed] })).toStrictEqual([
      {
        code: 'ORPHAN_PUBLIC_KEY',
        severity: 'warning',
        message:
          `Signet key KSTRAY0000001 (${unclaimed.name}) is in no key group and unknown to this ring: ` +
          "left alone, since it may be another stage's leftover that its own rotator adopts.",
        keyId: 'KSTRAY0000001',
      },
    ]);
  });

  it("says nothing of a key another stage's group holds", () => {
    const s = steady(at(10));
    const keyGroups = [...ourKeyGroups, listed(['KPRODKEY00001'], OTHER_GROUP_ID, `signet-prod-${PROFILE}`)];
    const theirs = registered(stray, 'KPRODKEY00001');
    expect(checkInvariants({ ...s, keyGroups, publicKeys: [...s.publicKeys, theirs] })).toEqual([]);
  });
});
