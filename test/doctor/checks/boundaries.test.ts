import { describe, expect, it } from 'vitest';
import { checkAccountQuota } from '../../../lib/doctor/checks/account-quota.ts';
import { checkDistributionTrust, samplePathsOf } from '../../../lib/doctor/checks/distribution-trust.ts';
import {
  checkIpConditionWithIpv6,
  checkUnsignedDefaultBehavior,
} from '../../../lib/doctor/checks/encoding-bypass.ts';
import { checkGroupSize } from '../../../lib/doctor/checks/group-size.ts';
import { checkGroupMembership } from '../../../lib/doctor/checks/invariants.ts';
import { checkKeysRemovedWhileValid } from '../../../lib/doctor/checks/key-history.ts';
import { checkOwnership } from '../../../lib/doctor/checks/ownership.ts';
import type { RingRead } from '../../../lib/doctor/snapshot.ts';
import { publicKeyCommentFor } from '../../../lib/rotation/names.ts';
import { testProfile } from '../../support/profiles.ts';
import { ringKey } from '../../support/rings.ts';
import {
  ACTIVE_ID,
  activeKey,
  at,
  DISTRIBUTION_ID,
  GROUP_ID,
  inputOf,
  iso,
  judge,
  OTHER_GROUP_ID,
  pendingKey,
  registered,
  retiringKey,
  snapshotOf,
} from './snapshots.ts';

// What doctor says at the edges of its rules: exactly at a bound, with a part of the profile that
// could not be read, and with the keys in an order other than the usual one. Each finding is the
// one an operator reads (testProfile(): propagation 120 s, removal 390 s after retirement).

const unreadableRing = { status: 'missing', message: 'The secret signet/test does not exist.' } as const;
const missingGroup = { status: 'missing', id: GROUP_ID } as const;

describe('membership of the key group', () => {
  it('says nothing about membership when the ring or the key group could not be read', () => {
    expect(checkGroupMembership(inputOf(snapshotOf({ ring: unreadableRing, groupItems: [] })))).toEqual([]);
    const ring: RingRead = {
      status: 'ok',
      ring: { schema: 'signet.keyring/2', keys: [activeKey()], history: [] },
    };
    expect(checkGroupMembership(inputOf(snapshotOf({ ring, keyGroup: missingGroup })))).toEqual([]);
  });

  it('judges an early activation by the active key, wherever the ring lists it', () => {
    const active = activeKey({ trustedAt: iso(-60), activatedAt: iso(-30) });
    const snapshot = snapshotOf({ keys: [retiringKey('KRETIRING00001', 100), active] });
    expect(judge(checkGroupMembership, snapshot, 'ACTIVE_KEY_TOO_NEW')[0]).toMatchObject({
      severity: 'error',
      message: expect.stringContaining(`since ${iso(-60)}, less than rotation.propagation (120s)`),
    });
  });

  it("judges it by the propagation recorded at its activation, not today's setting", () => {
    const bounds = { ttlMax: 300, maxStale: 60, clockSkew: 30, propagation: 600 };
    const active = activeKey({ trustedAt: iso(-500), activatedAt: iso(-450), bounds });
    expect(
      judge(checkGroupMembership, snapshotOf({ keys: [active] }), 'ACTIVE_KEY_TOO_NEW')[0],
    ).toMatchObject({
      severity: 'error',
      message: expect.stringContaining('less than rotation.propagation (600s)'),
      remedy: expect.stringContaining(`Wait until ${iso(100)}`),
    });
  });

  it('is a warning, no longer an error, from exactly the moment the key has propagated', () => {
    const active = activeKey({ trustedAt: iso(-120), activatedAt: iso(-60) });
    expect(
      judge(checkGroupMembership, snapshotOf({ keys: [active] }), 'ACTIVE_KEY_TOO_NEW')[0],
    ).toMatchObject({
      severity: 'warning',
    });
  });

  it('says when a key that was never trusted was activated, and that it must first be in the group', () => {
    const { trustedAt: _t, ...never } = activeKey({ activatedAt: iso(-60) });
    expect(judge(checkGroupMembership, snapshotOf({ keys: [never] }), 'ACTIVE_KEY_TOO_NEW')).toEqual([
      expect.objectContaining({
        severity: 'error',
        message: `The active key ${ACTIVE_ID} has been in the key group since never, less than rotation.propagation (120s): edges that have not seen it yet refuse its URLs (403 InvalidKey).`,
        remedy: `Wait until it is in the key group, or, if 403s persist, signet revoke ${ACTIVE_ID} --profile media --yes`,
      }),
    ]);
  });

  it('gives the creation time of an early-activated key that records no activation', () => {
    const { activatedAt: _a, ...legacy } = activeKey({ createdAt: iso(-1000), trustedAt: iso(-990) });
    expect(
      judge(checkGroupMembership, snapshotOf({ keys: [legacy] }), 'ACTIVE_KEY_TOO_NEW')[0]!.message,
    ).toBe(
      `The active key ${ACTIVE_ID} was activated at ${iso(-1000)} before it had been in the key group for rotation.propagation (120s, in force then): URLs signed then may have been refused. Is something activating keys early?`,
    );
  });
});

describe('keys no ring key holds', () => {
  const stray = ringKey({ id: 'KSTRAY00000001', createdAt: iso(-390) });

  it('says nothing when the ring or the key group could not be read', () => {
    const orphan = registered(stray);
    expect(checkOwnership(inputOf(snapshotOf({ ring: unreadableRing, extraPublicKeys: [orphan] })))).toEqual(
      [],
    );
    expect(
      checkOwnership(
        inputOf(snapshotOf({ keyGroup: missingGroup, extraPublicKeys: [orphan], keyGroups: [] })),
      ),
    ).toEqual([]);
  });

  it('an orphan out of the group takes no slot of it, and goes at the next run', () => {
    const keyGroups = [{ id: GROUP_ID, name: 'signet-media', items: [ACTIVE_ID] }];
    const snapshot = snapshotOf({ extraPublicKeys: [registered(stray)], keyGroups });
    expect(judge(checkOwnership, snapshot, 'ORPHAN_PUBLIC_KEY')).toEqual([
      expect.objectContaining({
        message: `Public key KSTRAY00000001 (${registered(stray).name}) was created by Signet for this ring but is in no ring key: it uses one of the account’s 10 public keys.`,
        remedy: 'Run `signet rotate --profile media`: it deletes the orphan.',
      }),
    ]);
  });

  it('an orphan in the group may be deleted from exactly its deletable time', () => {
    const snapshot = snapshotOf({
      groupItems: [ACTIVE_ID, 'KSTRAY00000001'],
      extraPublicKeys: [registered(stray)],
    });
    expect(judge(checkOwnership, snapshot, 'ORPHAN_PUBLIC_KEY', at(0))[0]!.remedy).toBe(
      'Run `signet rotate --profile media`: it deletes the orphan.',
    );
    expect(judge(checkOwnership, snapshot, 'ORPHAN_PUBLIC_KEY', at(-1))[0]!.remedy).toBe(
      `Leave it until ${iso(0)} (URLs it may have signed are valid until then); \`signet rotate --profile media\` deletes it after that.`,
    );
  });

  it("a key of another ring outside this ring's group is not said to share it", () => {
    const other = registered(stray, { comment: publicKeyCommentFor('signet/prod') });
    const keyGroups = [{ id: GROUP_ID, name: 'signet-media', items: [ACTIVE_ID] }];
    expect(
      judge(checkOwnership, snapshotOf({ extraPublicKeys: [other], keyGroups }), 'FOREIGN_PUBLIC_KEY')[0]!
        .message,
    ).toBe(
      `Public key KSTRAY00000001 (${other.name}) belongs to another key ring (${other.comment}): another stage or stack uses profile name media. This ring never changes or deletes it.`,
    );
  });
});

describe('a full key group', () => {
  const others = ['KSTRANGER00001', 'KSTRANGER00002', 'KSTRANGER00003', 'KSTRANGER00004'];

  it('says nothing when the key group could not be read', () => {
    expect(checkGroupSize(inputOf(snapshotOf({ keyGroup: missingGroup })))).toEqual([]);
  });

  it('is an error when the ring cannot be read: nothing says rotation can wait', () => {
    const snapshot = snapshotOf({ ring: unreadableRing, groupItems: others.concat('KSTRANGER00005') });
    expect(judge(checkGroupSize, snapshot, 'GROUP_FULL')[0]).toMatchObject({ severity: 'error' });
  });

  it('is an error from exactly the moment the active key is rotateEvery old', () => {
    const exactly = activeKey({ createdAt: iso(-4000), trustedAt: iso(-4000), activatedAt: iso(-3600) });
    const snapshot = snapshotOf({ keys: [exactly], groupItems: [ACTIVE_ID, ...others] });
    expect(judge(checkGroupSize, snapshot, 'GROUP_FULL')[0]).toMatchObject({ severity: 'error' });
  });

  it('is a warning one short of full even when a rotation is due', () => {
    const due = activeKey({ createdAt: iso(-4000), trustedAt: iso(-4000), activatedAt: iso(-3700) });
    const snapshot = snapshotOf({ keys: [due], groupItems: [ACTIVE_ID, ...others.slice(0, 3)] });
    expect(judge(checkGroupSize, snapshot, 'GROUP_FULL')[0]).toMatchObject({ severity: 'warning' });
  });

  it('is a warning while a fresh active key is not due, whatever the ring lists first', () => {
    const keys = [retiringKey('KRETIRING00001', 100), activeKey()];
    const snapshot = snapshotOf({ keys, groupItems: ['KRETIRING00001', ACTIVE_ID, ...others.slice(0, 3)] });
    expect(judge(checkGroupSize, snapshot, 'GROUP_FULL')[0]).toMatchObject({ severity: 'warning' });
  });

  it('is an error without an active key, and a warning while a pending key waits to be activated', () => {
    const noActive = snapshotOf({
      keys: [retiringKey('KRETIRING00001', 100)],
      groupItems: ['KRETIRING00001', ...others],
    });
    expect(judge(checkGroupSize, noActive, 'GROUP_FULL')[0]).toMatchObject({ severity: 'error' });
    const due = activeKey({ createdAt: iso(-4000), trustedAt: iso(-4000), activatedAt: iso(-3700) });
    const pending = pendingKey('KPENDING000001', 30);
    const waiting = snapshotOf({
      keys: [due, pending],
      groupItems: [ACTIVE_ID, 'KPENDING000001', ...others.slice(0, 3)],
    });
    expect(judge(checkGroupSize, waiting, 'GROUP_FULL')[0]).toMatchObject({ severity: 'warning' });
  });

  it('says to rotate once there is room when every key belongs to a ring and none is retiring', () => {
    const theirs = others.map((id) =>
      registered(ringKey({ id }), { comment: publicKeyCommentFor('signet/prod') }),
    );
    const snapshot = snapshotOf({ groupItems: [ACTIVE_ID, ...others], extraPublicKeys: theirs });
    expect(judge(checkGroupSize, snapshot, 'GROUP_FULL')[0]!.remedy).toBe(
      'Run `signet rotate --profile media` once the group has room.',
    );
  });
});

describe('keys that left while what they signed was valid', () => {
  const entry = { id: 'KOLD0000000001', fingerprint: 'sha256:old', removedAt: iso(-100), validUntil: iso(0) };

  it('says nothing when the ring could not be read', () => {
    expect(
      checkKeysRemovedWhileValid({ snapshot: snapshotOf({ ring: unreadableRing }).profiles[0]!, now: at(0) }),
    ).toEqual([]);
  });

  it('is history, not an error, from exactly the last expiry, and names the key', () => {
    expect(
      judge(checkKeysRemovedWhileValid, snapshotOf({ history: [entry] }), 'KEY_REMOVED_WHILE_VALID', at(0)),
    ).toEqual([
      expect.objectContaining({
        severity: 'info',
        keyId: 'KOLD0000000001',
        message: `Key KOLD0000000001 left the key group at ${iso(-100)}, before the last URL or cookie it signed expired at ${iso(0)}; none of them is valid any more.`,
      }),
    ]);
    expect(
      judge(checkKeysRemovedWhileValid, snapshotOf({ history: [entry] }), 'KEY_REMOVED_WHILE_VALID', at(-1)),
    ).toEqual([
      expect.objectContaining({
        severity: 'error',
        message: `Key KOLD0000000001 left the key group at ${iso(-100)}, and the last URL or cookie it signed stays valid until ${iso(0)}: until then they are refused (403 InvalidKey).`,
      }),
    ]);
  });

  it('is not reported for a key that left exactly at its bound', () => {
    const onTime = { ...entry, removedAt: iso(0) };
    expect(
      judge(
        checkKeysRemovedWhileValid,
        snapshotOf({ history: [onTime] }),
        'KEY_REMOVED_WHILE_VALID',
        at(-10),
      ),
    ).toEqual([]);
  });
});

describe("the account's public keys", () => {
  const others = Array.from({ length: 9 }, (_, i) => ({
    id: `KOTHER00000${i}`,
    name: `hand-made-${i}`,
    encodedKey: 'not judged',
    createdTime: iso(-86_400),
  }));
  const due = activeKey({ createdAt: iso(-4000), trustedAt: iso(-4000), activatedAt: iso(-3700) });
  /** The ring key's public key without a comment: only the ring's key ids tell whose it is. */
  const uncommented = (key: ReturnType<typeof activeKey>) => {
    const { comment: _c, ...rest } = registered(key);
    return rest;
  };

  it("counts a ring's keys under its stage, and keys of an unreadable ring as unstaged", () => {
    const profile = testProfile({ stage: 'dev' });
    const read = snapshotOf({ profile, publicKeys: [uncommented(activeKey()), ...others] });
    expect(checkAccountQuota(read, at(0))[0]!.message).toContain(
      'shared by every stage and profile: dev 1, other 9)',
    );
    const unread = snapshotOf({
      profile,
      ring: unreadableRing,
      publicKeys: [uncommented(activeKey()), ...others],
    });
    expect(checkAccountQuota(unread, at(0))[0]!.message).toContain(
      'shared by every stage and profile: unstaged 1, other 9)',
    );
  });

  it('is an error when a rotation of any one profile is due', () => {
    const full = snapshotOf({ keys: [due], publicKeys: [uncommented(due), ...others] });
    const fresh = snapshotOf({ keys: [activeKey()] }).profiles[0]!;
    const twoProfiles = {
      ...full,
      profiles: [{ ...fresh, name: 'docs' }, full.profiles[0]!],
      configuredProfiles: 2,
    };
    expect(checkAccountQuota(twoProfiles, at(0))[0]).toMatchObject({
      severity: 'error',
      message: expect.stringContaining(', and one is due.'),
    });
  });
});

describe("the distribution's trust of the key group", () => {
  const THIRD = '3a3a3a3a-3333-4c8e-9a43-0123456789ab';
  const view = (behaviors: { pathPattern: string; isDefault: boolean; trustedKeyGroups: string[] }[]) =>
    ({ status: 'ok', distribution: { id: DISTRIBUTION_ID, aliases: [], behaviors } }) as const;

  it('finds nothing in a healthy profile, one without a distribution, or one without a key group', () => {
    expect(checkDistributionTrust(inputOf(snapshotOf()))).toEqual([]);
    expect(checkDistributionTrust(inputOf(snapshotOf({ distribution: { status: 'unset' } })))).toEqual([]);
    const noGroup: RingRead = {
      status: 'ok',
      ring: { schema: 'signet.keyring/2', keys: [activeKey()], history: [] },
    };
    expect(checkDistributionTrust(inputOf(snapshotOf({ ring: noGroup })))).toEqual([]);
  });

  it('names every domain the missing distribution should serve', () => {
    const profile = testProfile({ domains: ['media.example.com', 'img.example.com'] });
    const snapshot = snapshotOf({ profile, distribution: { status: 'missing', id: DISTRIBUTION_ID } });
    expect(checkDistributionTrust(inputOf(snapshot))[0]!.remedy).toBe(
      'Set distributionId of profile media to the distribution that serves media.example.com, img.example.com.',
    );
  });

  it('without grants, one behaviour trusting the group is enough', () => {
    const distribution = view([
      { pathPattern: '/public/*', isDefault: false, trustedKeyGroups: [] },
      { pathPattern: '*', isDefault: true, trustedKeyGroups: [GROUP_ID] },
    ]);
    expect(checkDistributionTrust(inputOf(snapshotOf({ distribution })))).toEqual([]);
  });

  it('without grants, points at the behaviour last in precedence order, or the default when there is none', () => {
    const lastIsPath = view([{ pathPattern: '/videos/*', isDefault: false, trustedKeyGroups: [] }]);
    expect(checkDistributionTrust(inputOf(snapshotOf({ distribution: lastIsPath })))[0]!.remedy).toBe(
      `Add key group ${GROUP_ID} to TrustedKeyGroups of the cache behaviour /videos/* of distribution ${DISTRIBUTION_ID} (aws cloudfront update-distribution).`,
    );
    const none = view([]);
    expect(checkDistributionTrust(inputOf(snapshotOf({ distribution: none })))[0]!.remedy).toBe(
      `Add key group ${GROUP_ID} to TrustedKeyGroups of the default cache behaviour of distribution ${DISTRIBUTION_ID} (aws cloudfront update-distribution).`,
    );
  });

  it('names every group a behaviour trusts instead, and the default behaviour as such', () => {
    const profile = testProfile({
      grants: [{ when: { apiKeys: ['mobile'] }, resources: ['https://media.example.com/a/*'] }],
    });
    const distribution = view([
      { pathPattern: '*', isDefault: true, trustedKeyGroups: [OTHER_GROUP_ID, THIRD] },
    ]);
    expect(checkDistributionTrust(inputOf(snapshotOf({ profile, distribution })))).toEqual([
      expect.objectContaining({
        severity: 'error',
        message: `The default cache behaviour of distribution ${DISTRIBUTION_ID}, which serves https://media.example.com/a/*, trusts key group(s) ${OTHER_GROUP_ID}, ${THIRD} but not ${GROUP_ID}: every URL signed for it is refused (403 InvalidKey, "Unknown Key").`,
      }),
    ]);
  });

  it('samples a resource without a path at the root', () => {
    const profile = testProfile({
      grants: [{ when: { apiKeys: ['mobile'] }, resources: ['https://media.example.com'] }],
    });
    expect(samplePathsOf(profile)).toEqual([{ resource: 'https://media.example.com', path: '/' }]);
  });
});

describe('protection another spelling or another IP family routes around', () => {
  const grants = [
    {
      when: { apiKeys: ['mobile'] },
      resources: ['https://media.example.com/a/*', 'https://media.example.com/b/*'],
    },
  ];
  const view = (defaultGroups: string[], ipv6Enabled?: boolean) =>
    ({
      status: 'ok',
      distribution: {
        id: DISTRIBUTION_ID,
        aliases: [],
        ...(ipv6Enabled === undefined ? {} : { ipv6Enabled }),
        behaviors: [
          { pathPattern: '/a/*', isDefault: false, trustedKeyGroups: [GROUP_ID] },
          { pathPattern: '/b/*', isDefault: false, trustedKeyGroups: [GROUP_ID] },
          { pathPattern: '*', isDefault: true, trustedKeyGroups: defaultGroups },
        ],
      },
    }) as const;
  const unsigned = (parts: Parameters<typeof snapshotOf>[0]) =>
    checkUnsignedDefaultBehavior(inputOf(snapshotOf(parts)));

  it('names every signed behaviour the unsigned default sits beside', () => {
    const profile = testProfile({ grants });
    expect(unsigned({ profile, distribution: view([]) })[0]!.message).toBe(
      `Distribution ${DISTRIBUTION_ID} requires signatures only on /a/*, /b/*, while its default cache behaviour serves the same origin unsigned: another spelling of a protected path (percent-escapes, dot segments) may fall to the default behaviour and be served without a signature.`,
    );
  });

  it('says nothing without a distribution, without a key group, with a signed default, or with no signed path', () => {
    const profile = testProfile({ grants });
    expect(unsigned({ profile, distribution: { status: 'unset' } })).toEqual([]);
    const noGroup: RingRead = {
      status: 'ok',
      ring: { schema: 'signet.keyring/2', keys: [activeKey()], history: [] },
    };
    expect(unsigned({ profile, ring: noGroup, distribution: view([]) })).toEqual([]);
    expect(unsigned({ profile, distribution: view([GROUP_ID]) })).toEqual([]);
    expect(unsigned({ distribution: view([]) })).toEqual([]);
  });

  it('names only the behaviours that require a signature, whatever origin they name', () => {
    const profile = testProfile({
      grants: [
        {
          when: { apiKeys: ['mobile'] },
          resources: ['https://media.example.com/a/*', 'https://media.example.com/pub/*'],
        },
      ],
    });
    const distribution = {
      status: 'ok',
      distribution: {
        id: DISTRIBUTION_ID,
        aliases: [],
        behaviors: [
          { pathPattern: '/a/*', isDefault: false, trustedKeyGroups: [GROUP_ID] },
          { pathPattern: '/pub/*', isDefault: false, trustedKeyGroups: [] },
          { pathPattern: '*', isDefault: true, trustedKeyGroups: [], targetOriginId: 'media' },
        ],
      },
    } as const;
    expect(unsigned({ profile, distribution })[0]!.message).toContain(
      'requires signatures only on /a/*, while',
    );
    const noDefault = {
      status: 'ok',
      distribution: {
        ...distribution.distribution,
        behaviors: distribution.distribution.behaviors.slice(0, 2),
      },
    } as const;
    expect(unsigned({ profile, distribution: noDefault })).toEqual([]);
  });

  it('says nothing of IPv6 when the profile refuses ipAddress or names no distribution', () => {
    const refusing = testProfile({ allowIpRestriction: false });
    expect(
      checkIpConditionWithIpv6(
        inputOf(snapshotOf({ profile: refusing, distribution: view([GROUP_ID], true) })),
      ),
    ).toEqual([]);
    const allowing = testProfile({ allowIpRestriction: true });
    expect(
      checkIpConditionWithIpv6(inputOf(snapshotOf({ profile: allowing, distribution: { status: 'unset' } }))),
    ).toEqual([]);
  });

  it('says how to keep IP-restricted URLs working on an IPv6 distribution, and nothing on an IPv4-only one', () => {
    const profile = testProfile({ allowIpRestriction: true });
    expect(
      checkIpConditionWithIpv6(inputOf(snapshotOf({ profile, distribution: view([GROUP_ID], true) }))),
    ).toEqual([
      expect.objectContaining({
        remedy: `Disable IPv6 on distribution ${DISTRIBUTION_ID} if callers use ipAddress, or set allowIpRestriction: false in profile media so the API refuses ipAddress.`,
      }),
    ]);
    expect(
      checkIpConditionWithIpv6(inputOf(snapshotOf({ profile, distribution: view([GROUP_ID], false) }))),
    ).toEqual([]);
  });
});
