import type { Profile } from '../../config/index.ts';
import { behaviorFor, type DistributionView } from '../distribution.ts';
import type { Finding } from '../findings.ts';
import { type CheckInput, reporterFor, ringOf } from './check.ts';

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

/**
 * Whether the distribution (`distributionId`, when the profile names one) trusts the key group for
 * what the profile signs. An edge checks a signature only against the key groups the cache
 * behaviour it picks trusts, so each grant's resources are matched to their behaviour; a behaviour
 * trusting no group serves without any signature, to anyone. The key group is the one the ring
 * names, else the config's. Findings: DISTRIBUTION_MISSING, KEY_GROUP_NOT_TRUSTED.
 */
export function checkDistributionTrust({ snapshot }: Pick<CheckInput, 'snapshot'>): Finding[] {
  const { name, profile } = snapshot;
  const report = reporterFor(name);
  const read = snapshot.distribution;
  if (read.status === 'unset') return [];
  if (read.status === 'missing') {
    return [
      report(
        'error',
        'DISTRIBUTION_MISSING',
        null,
        `Distribution ${read.id} (distributionId of profile ${name}) does not exist in CloudFront (NoSuchDistribution): its trust of the key group cannot be checked.`,
        `Set distributionId of profile ${name} to the distribution that serves ${profile.domains.join(', ')}.`,
      ),
    ];
  }
  const groupId = ringOf(snapshot)?.keyGroupId ?? profile.keyGroupId;
  if (groupId === undefined) return [];
  const distribution = read.distribution;
  const remedy = (pattern: string) =>
    `Add key group ${groupId} to TrustedKeyGroups of the ${pattern === '*' ? 'default cache behaviour' : `cache behaviour ${pattern}`} of distribution ${distribution.id} (aws cloudfront update-distribution).`;
  const samples = samplePathsOf(profile);
  if (samples.length === 0) {
    if (distribution.behaviors.some((behavior) => behavior.trustedKeyGroups.includes(groupId))) return [];
    return [
      report(
        'error',
        'KEY_GROUP_NOT_TRUSTED',
        null,
        `No cache behaviour of distribution ${distribution.id} trusts key group ${groupId}: every URL signed for this profile is refused (403 InvalidKey).`,
        remedy(lastBehaviorPattern(distribution)),
      ),
    ];
  }
  const findings: Finding[] = [];
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
      findings.push(
        report(
          'warning',
          'KEY_GROUP_NOT_TRUSTED',
          null,
          `${capitalise(where)} of distribution ${distribution.id}, which serves ${resource}, trusts no key group: it serves those objects without a signature, to anyone.`,
          remedy(behavior.pathPattern),
        ),
      );
    } else {
      findings.push(
        report(
          'error',
          'KEY_GROUP_NOT_TRUSTED',
          null,
          `${capitalise(where)} of distribution ${distribution.id}, which serves ${resource}, trusts key group(s) ${behavior.trustedKeyGroups.join(', ')} but not ${groupId}: every URL signed for it is refused (403 InvalidKey, "Unknown Key").`,
          remedy(behavior.pathPattern),
        ),
      );
    }
  }
  return findings;
}

/** The default cache behaviour (last in precedence order), where a profile without grants is served. */
function lastBehaviorPattern(distribution: DistributionView): string {
  return distribution.behaviors[distribution.behaviors.length - 1]?.pathPattern ?? '*';
}

function capitalise(text: string): string {
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}`;
}
