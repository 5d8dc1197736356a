import { checkAccountQuota } from './checks/account-quota.ts';
import { checkActiveKey } from './checks/active-key.ts';
import {
  checkCookieSite,
  checkCorsOnDistribution,
  checkCorsOriginsSite,
  checkInsecureCookies,
} from './checks/browser-topology.ts';
import type { CheckInput, ProfileCheck } from './checks/check.ts';
import { checkConfigChangeRefused } from './checks/config-change.ts';
import { checkDistributionTrust } from './checks/distribution-trust.ts';
import { checkIpConditionWithIpv6, checkUnsignedDefaultBehavior } from './checks/encoding-bypass.ts';
import { checkGroupSize } from './checks/group-size.ts';
import { checkGroupMembership } from './checks/invariants.ts';
import { checkKeyGroup } from './checks/key-group.ts';
import { checkKeyGroupIdAsKeyId } from './checks/key-group-id-as-key-id.ts';
import { checkKeysRemovedWhileValid } from './checks/key-history.ts';
import { checkKmsKeys } from './checks/kms-keys.ts';
import { checkKmsSignerSwitch } from './checks/kms-signer-switch.ts';
import { checkOwnership } from './checks/ownership.ts';
import { checkRingKeys } from './checks/ring-keys.ts';
import { checkRingReadable } from './checks/ring-readable.ts';
import { checkKeyAge, checkPendingStuck, checkRetiringOverdue } from './checks/rotation-progress.ts';
import { checkSha1Signing } from './checks/sha1-signing.ts';
import { type Finding, sortFindings } from './findings.ts';
import type { DoctorSnapshot } from './snapshot.ts';

export { samplePathsOf } from './checks/distribution-trust.ts';
export { looksLikeKeyGroupId } from './checks/key-group-id-as-key-id.ts';
export { ROTATOR_SLACK_SECONDS } from './checks/rotation-progress.ts';

/** The checks run on each profile, in this order (findings are sorted afterwards anyway). */
export const PROFILE_CHECKS: readonly ProfileCheck[] = [
  checkRingReadable,
  checkKeyGroupIdAsKeyId,
  checkKeyGroup,
  checkActiveKey,
  checkRingKeys,
  checkKmsKeys,
  checkKmsSignerSwitch,
  checkSha1Signing,
  checkGroupMembership,
  checkOwnership,
  checkConfigChangeRefused,
  checkKeyAge,
  checkPendingStuck,
  checkRetiringOverdue,
  checkKeysRemovedWhileValid,
  checkGroupSize,
  checkDistributionTrust,
  checkUnsignedDefaultBehavior,
  checkIpConditionWithIpv6,
  checkCookieSite,
  checkInsecureCookies,
  checkCorsOriginsSite,
  checkCorsOnDistribution,
];

/**
 * Judges what was read from Secrets Manager and CloudFront: every configuration drift that makes
 * CloudFront answer 403 (or will, at the next rotation), each with why it matters and one remedy.
 * Pure: no I/O, `now` is the clock. Findings come sorted, errors first.
 */
export function diagnose(snapshot: DoctorSnapshot, now: Date): Finding[] {
  const findings = snapshot.profiles.flatMap((profile) => {
    const input: CheckInput = {
      snapshot: profile,
      now,
      publicKeys: snapshot.publicKeys,
      ...(snapshot.keyGroups === undefined ? {} : { keyGroups: snapshot.keyGroups }),
      ...(snapshot.apiPublicOrigin === undefined ? {} : { apiPublicOrigin: snapshot.apiPublicOrigin }),
    };
    return PROFILE_CHECKS.flatMap((check) => check(input));
  });
  return sortFindings([...findings, ...checkAccountQuota(snapshot, now)]);
}
