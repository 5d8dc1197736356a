import type { Finding } from '../findings.ts';
import { type CheckInput, reporterFor, ringOf } from './check.ts';

/**
 * A profile switched back from `signer: kms` (docs/operators.md, "KMS signing", "Switching a
 * profile's signer"). Packaging reads only the config, so it keeps the KMS grants and the KMS-enabled
 * API entry only while the profile is `signer: kms` or marked `kms: retiring`. A ring that still holds
 * KMS keys under a config with neither is an error before the deploy that breaks it: that deploy drops
 * the grants while those keys sign (503) and the rotator can no longer schedule their deletion
 * (KMS_SIGNER_SWITCHED). A profile still marked retiring whose ring holds no KMS key any more is told
 * it may drop the mark (KMS_RETIRED).
 */
export function checkKmsSignerSwitch({ snapshot }: Pick<CheckInput, 'snapshot'>): Finding[] {
  const ring = ringOf(snapshot);
  if (ring === undefined) return [];
  const { name, profile } = snapshot;
  if (profile.signer === 'kms') return [];
  const report = reporterFor(name);
  const inKms = ring.keys.filter((key) => key.kmsKeyArn !== undefined);
  if (profile.kms === 'retiring') {
    if (inKms.length > 0) return [];
    return [
      report(
        'info',
        'KMS_RETIRED',
        null,
        `Profile ${name} is marked kms: retiring, and its key ring holds no KMS key any more: once the rotator has logged "KMS retired" for it (every KMS key tagged for the ring scheduled for deletion), the mark only keeps KMS permissions deployed that nothing uses.`,
        `Remove kms: retiring from profile ${name} and deploy (docs/operators.md, "KMS signing").`,
      ),
    ];
  }
  if (inKms.length === 0) return [];
  const keys = inKms.map((key) => `${key.state} key ${key.id ?? key.fingerprint}`).join(', ');
  return [
    report(
      'error',
      'KMS_SIGNER_SWITCHED',
      null,
      `Profile ${name} has signer: secrets-manager without kms: retiring, but its key ring still holds keys that sign through KMS (${keys}): a deploy of this config drops the KMS permissions and the KMS-enabled API, so the API answers 503 for this profile and the rotator cannot schedule those keys' deletion until they are rotated out.`,
      `Add kms: retiring to profile ${name} and deploy; remove it once the rotator logs "KMS retired" (docs/operators.md, "KMS signing").`,
    ),
  ];
}
