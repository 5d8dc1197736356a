import { describe, expect, it } from 'vitest';
import {
  checkIpConditionWithIpv6,
  checkUnsignedDefaultBehavior,
} from '../../../lib/doctor/checks/encoding-bypass.ts';
import type { DistributionView } from '../../../lib/doctor/distribution.ts';
import { testProfile } from '../../support/profiles.ts';
import { DISTRIBUTION_ID, distributionTrusting, GROUP_ID, judge, snapshotOf } from './snapshots.ts';

// Protection that another spelling of a path, or another IP family, routes around.

const withGrant = testProfile({
  grants: [{ when: { apiKeys: ['mobile'] }, resources: ['https://media.example.com/private/*'] }],
});

/** `/private/*` trusting the profile's group; the default behaviour trusting `defaultGroups`. */
function distribution(defaultGroups: string[], defaultOrigin = 'media'): DistributionView {
  return {
    id: DISTRIBUTION_ID,
    aliases: ['media.example.com'],
    behaviors: [
      { pathPattern: '/private/*', isDefault: false, trustedKeyGroups: [GROUP_ID], targetOriginId: 'media' },
      { pathPattern: '*', isDefault: true, trustedKeyGroups: defaultGroups, targetOriginId: defaultOrigin },
    ],
  };
}
const ok = (view: DistributionView) => ({ status: 'ok' as const, distribution: view });

describe('UNSIGNED_DEFAULT_BEHAVIOR', () => {
  it('signed paths in their own behaviour while the default serves the same origin unsigned', () => {
    const snapshot = snapshotOf({ profile: withGrant, distribution: ok(distribution([])) });
    expect(judge(checkUnsignedDefaultBehavior, snapshot, 'UNSIGNED_DEFAULT_BEHAVIOR')).toEqual([
      expect.objectContaining({
        severity: 'warning',
        message: expect.stringContaining('requires signatures only on /private/*'),
        remedy: `Add key group ${GROUP_ID} to TrustedKeyGroups of the default cache behaviour of distribution ${DISTRIBUTION_ID}, and make public paths explicit cache behaviours that trust no key group.`,
      }),
    ]);
  });

  it('is not reported when the default behaviour requires signatures, or serves another origin', () => {
    const signedDefault = snapshotOf({ profile: withGrant, distribution: ok(distribution([GROUP_ID])) });
    expect(judge(checkUnsignedDefaultBehavior, signedDefault, 'UNSIGNED_DEFAULT_BEHAVIOR')).toEqual([]);
    const otherOrigin = snapshotOf({ profile: withGrant, distribution: ok(distribution([], 'website')) });
    expect(judge(checkUnsignedDefaultBehavior, otherOrigin, 'UNSIGNED_DEFAULT_BEHAVIOR')).toEqual([]);
  });
});

describe('IP_CONDITION_WITH_IPV6', () => {
  const ipv6 = { ...distributionTrusting(GROUP_ID), ipv6Enabled: true };
  it('a profile that signs IP-restricted policies for a distribution with IPv6 enabled', () => {
    const snapshot = snapshotOf({ distribution: ok(ipv6) });
    expect(judge(checkIpConditionWithIpv6, snapshot, 'IP_CONDITION_WITH_IPV6')).toEqual([
      expect.objectContaining({
        severity: 'warning',
        message: expect.stringContaining('IPv4 only, so viewers arriving over IPv6 are refused'),
      }),
    ]);
  });

  it('is not reported without IPv6, or when the profile refuses ipAddress', () => {
    expect(judge(checkIpConditionWithIpv6, snapshotOf(), 'IP_CONDITION_WITH_IPV6')).toEqual([]);
    const refusing = snapshotOf({
      profile: testProfile({ allowIpRestriction: false }),
      distribution: ok(ipv6),
    });
    expect(judge(checkIpConditionWithIpv6, refusing, 'IP_CONDITION_WITH_IPV6')).toEqual([]);
  });
});
