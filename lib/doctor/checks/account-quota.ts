import {
  countAccountKeys,
  describeAccountKeys,
  MAX_PUBLIC_KEYS_PER_ACCOUNT,
  publicKeyQuotaOf,
} from '../../rotation/quotas.ts';
import type { Finding, FindingCode, Severity } from '../findings.ts';
import type { DoctorSnapshot } from '../snapshot.ts';
import { rotationDue } from './check.ts';

/**
 * The account's public key quota, shared by every profile and stage (docs/design.md, "The
 * sandbox": 10 keys per account). Each profile needs a free slot to introduce its next key, and a
 * revoke may need one more; with none free, it is an error once a rotation is due. Always reports
 * something: the headroom is worth knowing, and which stage holds how many of the keys
 * (`countAccountKeys`, the planner's count). Findings: ACCOUNT_KEYS_NEAR_LIMIT, ACCOUNT_KEYS_HEADROOM.
 */
export function checkAccountQuota(
  snapshot: Pick<DoctorSnapshot, 'profiles' | 'publicKeys' | 'configuredProfiles' | 'keyGroups'>,
  now: Date,
): Finding[] {
  const used = snapshot.publicKeys.length;
  const owners = snapshot.profiles.map((p) => ({
    stage: p.profile.stage,
    secretId: p.profile.keyRing.secretId,
    keyIds:
      p.ring.status === 'ok' ? p.ring.ring.keys.flatMap((key) => (key.id === undefined ? [] : [key.id])) : [],
  }));
  const byStage = describeAccountKeys(countAccountKeys(snapshot.publicKeys, snapshot.keyGroups, owners));
  // Every profile of one config carries the same quota (the config's aws.publicKeyQuota).
  const quota =
    snapshot.profiles.length === 0
      ? MAX_PUBLIC_KEYS_PER_ACCOUNT
      : publicKeyQuotaOf(snapshot.profiles[0]!.profile);
  const raised = quota !== MAX_PUBLIC_KEYS_PER_ACCOUNT;
  const free = quota - used;
  const margin = Math.max(2, snapshot.configuredProfiles);
  const due = snapshot.profiles.some(
    (p) => p.ring.status === 'ok' && rotationDue(p.ring.ring, p.profile, now),
  );
  const base = `The account holds ${used} of CloudFront's ${quota} public keys (${raised ? `aws.publicKeyQuota; the default is ${MAX_PUBLIC_KEYS_PER_ACCOUNT}` : 'the default quota, adjustable'}, shared by every stage and profile: ${byStage}), ${Math.max(free, 0)} free`;
  const remedy =
    'Delete public keys no key group uses (see ORPHAN_PUBLIC_KEY), or raise the "Public keys" quota of CloudFront in Service Quotas and set aws.publicKeyQuota in the config to the new value.';
  const finding = (severity: Severity, code: FindingCode, message: string): Finding => ({
    severity,
    code,
    profile: null,
    keyId: null,
    message,
    remedy: severity === 'info' ? 'Nothing to do.' : remedy,
  });
  if (free <= 0) {
    return [
      finding(
        due ? 'error' : 'warning',
        'ACCOUNT_KEYS_NEAR_LIMIT',
        `${base}: no rotation can introduce a key (TooManyPublicKeys)${due ? ', and one is due' : ''}.`,
      ),
    ];
  }
  if (free <= margin) {
    return [
      finding(
        'warning',
        'ACCOUNT_KEYS_NEAR_LIMIT',
        `${base}: ${snapshot.configuredProfiles} profile(s) each need a free one to rotate, and a revoke may need another.`,
      ),
    ];
  }
  return [finding('info', 'ACCOUNT_KEYS_HEADROOM', `${base}.`)];
}
