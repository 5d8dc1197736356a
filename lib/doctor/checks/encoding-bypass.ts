import { behaviorFor } from '../distribution.ts';
import type { Finding } from '../findings.ts';
import { type CheckInput, reporterFor, ringOf } from './check.ts';
import { samplePathsOf } from './distribution-trust.ts';

/**
 * Protection that another spelling of a path could route around (docs/design.md, "The sandbox"):
 * the profile's signed paths are a cache behaviour other than the default, which trusts the key
 * group, while the default behaviour serves the same origin with no signature. Whether CloudFront
 * picks a behaviour by the path as received or after decoding percent-escapes is UNCONFIRMED, and
 * the origin (S3) decodes keys: so `/%70rivate/x` might fall to the default behaviour and be served
 * unsigned. The safe shape requires signatures on the default behaviour and makes public paths
 * explicit behaviours. Finding: UNSIGNED_DEFAULT_BEHAVIOR (warning).
 */
export function checkUnsignedDefaultBehavior({ snapshot }: Pick<CheckInput, 'snapshot'>): Finding[] {
  const { name, profile } = snapshot;
  if (snapshot.distribution.status !== 'ok') return [];
  const groupId = ringOf(snapshot)?.keyGroupId ?? profile.keyGroupId;
  if (groupId === undefined) return [];
  const distribution = snapshot.distribution.distribution;
  const fallback = distribution.behaviors.find((behavior) => behavior.isDefault);
  if (fallback === undefined || fallback.trustedKeyGroups.length > 0) return [];
  const signed = samplePathsOf(profile)
    .map(({ path }) => behaviorFor(distribution, path))
    .filter(
      (behavior) =>
        behavior !== undefined &&
        !behavior.isDefault &&
        behavior.trustedKeyGroups.includes(groupId) &&
        (behavior.targetOriginId === undefined || behavior.targetOriginId === fallback.targetOriginId),
    );
  const patterns = [...new Set(signed.map((behavior) => behavior!.pathPattern))];
  if (patterns.length === 0) return [];
  return [
    reporterFor(name)(
      'warning',
      'UNSIGNED_DEFAULT_BEHAVIOR',
      null,
      `Distribution ${distribution.id} requires signatures only on ${patterns.join(', ')}, while its default cache behaviour serves the same origin unsigned: another spelling of a protected path (percent-escapes, dot segments) may fall to the default behaviour and be served without a signature.`,
      `Add key group ${groupId} to TrustedKeyGroups of the default cache behaviour of distribution ${distribution.id}, and make public paths explicit cache behaviours that trust no key group.`,
    ),
  ];
}

/**
 * IP-restricted URLs on a distribution that takes IPv6 viewers: CloudFront's `IpAddress` condition
 * is IPv4 only, so a viewer arriving over IPv6 is refused (403) whatever its range. Finding:
 * IP_CONDITION_WITH_IPV6 (warning) when the profile lets callers ask for `ipAddress`.
 */
export function checkIpConditionWithIpv6({ snapshot }: Pick<CheckInput, 'snapshot'>): Finding[] {
  const { name, profile } = snapshot;
  if (snapshot.distribution.status !== 'ok' || !profile.allowIpRestriction) return [];
  const distribution = snapshot.distribution.distribution;
  if (distribution.ipv6Enabled !== true) return [];
  return [
    reporterFor(name)(
      'warning',
      'IP_CONDITION_WITH_IPV6',
      null,
      `Distribution ${distribution.id} has IPv6 enabled, and profile ${name} signs IP-restricted policies on request (ipAddress): CloudFront's IpAddress condition is IPv4 only, so viewers arriving over IPv6 are refused (403 AccessDenied).`,
      `Disable IPv6 on distribution ${distribution.id} if callers use ipAddress, or set allowIpRestriction: false in profile ${name} so the API refuses ipAddress.`,
    ),
  ];
}
