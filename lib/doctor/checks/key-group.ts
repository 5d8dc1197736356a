import type { Finding } from '../findings.ts';
import { type CheckInput, reporterFor, ringOf } from './check.ts';

/**
 * The key group the profile's keys must be in: none is named, CloudFront has none with the named
 * id, or the ring and the config name different ones (the rotator refuses to run then, and the
 * distribution may trust the wrong one). Findings: KEY_GROUP_MISSING, KEY_GROUP_MISMATCH.
 */
export function checkKeyGroup({ snapshot }: Pick<CheckInput, 'snapshot'>): Finding[] {
  const { name, profile, keyGroup } = snapshot;
  const report = reporterFor(name);
  const findings: Finding[] = [];
  if (keyGroup.status === 'unset') {
    findings.push(
      report(
        'error',
        'KEY_GROUP_MISSING',
        null,
        'Neither the key ring nor the config names a key group: no CloudFront edge trusts this profile’s keys.',
        `Bootstrap the profile with \`signet rotate --profile ${name}\`, or set keyGroupId to the key group the distribution trusts.`,
      ),
    );
  } else if (keyGroup.status === 'missing') {
    findings.push(
      report(
        'error',
        'KEY_GROUP_MISSING',
        null,
        `Key group ${keyGroup.id} does not exist in CloudFront: every URL signed for this profile is refused (403 InvalidKey), and rotation is blocked.`,
        'Set keyGroupId (config and ring) to the key group the distribution trusts, or restore the group with the ring’s keys.',
      ),
    );
  }
  const ring = ringOf(snapshot);
  if (
    ring?.keyGroupId !== undefined &&
    profile.keyGroupId !== undefined &&
    ring.keyGroupId !== profile.keyGroupId
  ) {
    findings.push(
      report(
        'error',
        'KEY_GROUP_MISMATCH',
        null,
        `The ring names key group ${ring.keyGroupId} but the config names ${profile.keyGroupId}: the rotator refuses to run until they agree, and the distribution may trust the wrong one.`,
        `Set keyGroupId of profile ${name} in the config to ${ring.keyGroupId} (the group the rotator maintains).`,
      ),
    );
  }
  return findings;
}
