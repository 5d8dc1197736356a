import { describe, expect, it } from 'vitest';
import { checkDistributionTrust, samplePathsOf } from '../../../lib/doctor/checks/distribution-trust.ts';
import type { DistributionView } from '../../../lib/doctor/distribution.ts';
import { testProfile } from '../../support/profiles.ts';
import {
  DISTRIBUTION_ID,
  distributionTrusting,
  GROUP_ID,
  judge,
  OTHER_GROUP_ID,
  snapshotOf,
} from './snapshots.ts';

// An edge verifies a signature only against the key groups trusted by the cache behaviour it picks
// for the path (docs/design.md, "The sandbox": the edge enforces the key groups its distribution trusts).

const PRIVATE = 'https://media.example.com/private/*';
const withGrant = testProfile({ grants: [{ when: { apiKeys: ['mobile'] }, resources: [PRIVATE] }] });

/** `/private/*` trusting `privateGroups`, and a default behaviour trusting this profile's group. */
function distribution(privateGroups: string[]): DistributionView {
  return {
    id: DISTRIBUTION_ID,
    aliases: ['media.example.com'],
    behaviors: [
      { pathPattern: '/private/*', isDefault: false, trustedKeyGroups: privateGroups },
      { pathPattern: '*', isDefault: true, trustedKeyGroups: [GROUP_ID] },
    ],
  };
}

describe('DISTRIBUTION_MISSING', () => {
  it('the distribution the profile names does not exist', () => {
    const snapshot = snapshotOf({ distribution: { status: 'missing', id: DISTRIBUTION_ID } });
    expect(judge(checkDistributionTrust, snapshot, 'DISTRIBUTION_MISSING')).toEqual([
      {
        severity: 'error',
        code: 'DISTRIBUTION_MISSING',
        profile: 'media',
        keyId: null,
        message: `Distribution ${DISTRIBUTION_ID} (distributionId of profile media) does not exist in CloudFront (NoSuchDistribution): its trust of the key group cannot be checked.`,
        remedy: 'Set distributionId of profile media to the distribution that serves media.example.com.',
      },
    ]);
  });

  it('is not reported when CloudFront has it, or when the profile names none', () => {
    expect(judge(checkDistributionTrust, snapshotOf(), 'DISTRIBUTION_MISSING')).toEqual([]);
    const unset = snapshotOf({ distribution: { status: 'unset' } });
    expect(judge(checkDistributionTrust, unset, 'DISTRIBUTION_MISSING')).toEqual([]);
  });
});

describe('KEY_GROUP_NOT_TRUSTED', () => {
  it('a profile without grants: no cache behaviour trusts the key group', () => {
    const snapshot = snapshotOf({
      distribution: { status: 'ok', distribution: distributionTrusting(OTHER_GROUP_ID) },
    });
    expect(judge(checkDistributionTrust, snapshot, 'KEY_GROUP_NOT_TRUSTED')).toEqual([
      {
        severity: 'error',
        code: 'KEY_GROUP_NOT_TRUSTED',
        profile: 'media',
        keyId: null,
        message: `No cache behaviour of distribution ${DISTRIBUTION_ID} trusts key group ${GROUP_ID}: every URL signed for this profile is refused (403 InvalidKey).`,
        remedy: `Add key group ${GROUP_ID} to TrustedKeyGroups of the default cache behaviour of distribution ${DISTRIBUTION_ID} (aws cloudfront update-distribution).`,
      },
    ]);
  });

  it('the behaviour serving a granted resource trusts other key groups only', () => {
    const snapshot = snapshotOf({
      profile: withGrant,
      distribution: { status: 'ok', distribution: distribution([OTHER_GROUP_ID]) },
    });
    expect(judge(checkDistributionTrust, snapshot, 'KEY_GROUP_NOT_TRUSTED')).toEqual([
      expect.objectContaining({
        severity: 'error',
        message: `Cache behaviour /private/* of distribution ${DISTRIBUTION_ID}, which serves ${PRIVATE}, trusts key group(s) ${OTHER_GROUP_ID} but not ${GROUP_ID}: every URL signed for it is refused (403 InvalidKey, "Unknown Key").`,
        remedy: `Add key group ${GROUP_ID} to TrustedKeyGroups of the cache behaviour /private/* of distribution ${DISTRIBUTION_ID} (aws cloudfront update-distribution).`,
      }),
    ]);
  });

  it('a warning when that behaviour trusts no key group: it serves without a signature', () => {
    const snapshot = snapshotOf({
      profile: withGrant,
      distribution: { status: 'ok', distribution: distribution([]) },
    });
    const [finding] = judge(checkDistributionTrust, snapshot, 'KEY_GROUP_NOT_TRUSTED');
    expect(finding).toMatchObject({
      severity: 'warning',
      message: `Cache behaviour /private/* of distribution ${DISTRIBUTION_ID}, which serves ${PRIVATE}, trusts no key group: it serves those objects without a signature, to anyone.`,
    });
  });

  it('is not reported when the behaviour serving each granted resource trusts the key group', () => {
    const snapshot = snapshotOf({
      profile: withGrant,
      distribution: { status: 'ok', distribution: distribution([OTHER_GROUP_ID, GROUP_ID]) },
    });
    expect(judge(checkDistributionTrust, snapshot, 'KEY_GROUP_NOT_TRUSTED')).toEqual([]);
  });

  it('is not reported for a profile without grants when some behaviour trusts the key group', () => {
    expect(judge(checkDistributionTrust, snapshotOf(), 'KEY_GROUP_NOT_TRUSTED')).toEqual([]);
  });
});

describe('samplePathsOf', () => {
  it('fills wildcards and claim placeholders so a cache behaviour can be picked for them', () => {
    const profile = testProfile({
      grants: [
        { when: { claims: { scope: 'read' } }, resources: ['https://media.example.com/users/{sub}/*?x=1'] },
      ],
    });
    expect(samplePathsOf(profile)).toEqual([
      { resource: 'https://media.example.com/users/{sub}/*?x=1', path: '/users/x/x' },
    ]);
    expect(samplePathsOf(testProfile())).toEqual([]);
  });
});
