import { ringKeyPublicKey } from '../../keys/kms.ts';
import { fingerprintOf, parseVerifyingKey } from '../../signing/index.ts';
import type { Finding } from '../findings.ts';
import type { KmsKeyRead } from '../snapshot.ts';
import { type CheckInput, reporterFor, revokeCommand, ringOf, rotateCommand } from './check.ts';

/**
 * The KMS keys behind a `signer: kms` ring (docs/operators.md, "KMS signing"): a disabled,
 * pending-deletion or missing KMS key behind an active or retiring key stops signing (the API answers
 * 503) and is an error; a KMS public key that differs from the one the ring recorded or from the one
 * CloudFront holds for that key id means every URL it signs fails at the edge (the API refuses them:
 * 503). Keys whose KMS state could not be read are a warning: the check could not be made.
 */
export function checkKmsKeys(input: Pick<CheckInput, 'snapshot' | 'publicKeys'>): Finding[] {
  const { snapshot, publicKeys } = input;
  const ring = ringOf(snapshot);
  const reads = snapshot.kmsKeys;
  if (ring === undefined || reads === undefined) return [];
  const report = reporterFor(snapshot.name);
  const findings: Finding[] = [];
  for (const key of ring.keys) {
    if (key.kmsKeyArn === undefined) continue;
    const arn = key.kmsKeyArn;
    const read: KmsKeyRead | undefined = reads.find((candidate) => candidate.arn === arn);
    const label = key.id ?? key.fingerprint;
    const signs = key.state === 'active' || key.state === 'retiring';
    if (read === undefined || read.status === 'unreadable') {
      findings.push(
        report(
          'warning',
          'KMS_KEY_UNREADABLE',
          key.id ?? null,
          `The KMS key ${arn} of the ${key.state} key ${label} could not be read${read?.status === 'unreadable' ? ` (${read.message})` : ''}: whether it can sign is unknown.`,
          'Grant the doctor kms:DescribeKey and kms:GetPublicKey on keys tagged signet:key-ring (docs/operators.md, "Rotating and revoking by hand").',
        ),
      );
      continue;
    }
    if (read.status === 'missing' || read.state !== 'Enabled') {
      const what =
        read.status === 'missing'
          ? 'does not exist (deleted)'
          : read.state === 'PendingDeletion'
            ? `is scheduled for deletion${read.deletionDate === undefined ? '' : ` on ${read.deletionDate.toISOString()}`}`
            : `is ${read.state}`;
      const remedy =
        read.status === 'missing'
          ? key.id === undefined
            ? `Run \`${rotateCommand(snapshot.name)}\`.`
            : revokeCommand(key.id, snapshot.name)
          : read.state === 'PendingDeletion'
            ? `aws kms cancel-key-deletion --key-id ${arn} && aws kms enable-key --key-id ${arn}`
            : `aws kms enable-key --key-id ${arn}`;
      findings.push(
        report(
          signs ? 'error' : 'warning',
          'KMS_KEY_UNUSABLE',
          key.id ?? null,
          signs
            ? `The KMS key ${arn} behind the ${key.state} key ${label} ${what}: ${key.state === 'active' ? 'the API cannot sign (503) for this profile' : 'signers holding a cached ring cannot sign with it'}.`
            : `The KMS key ${arn} behind the pending key ${label} ${what}: it cannot be activated.`,
          remedy,
        ),
      );
      continue;
    }
    if (read.publicKeyPem === undefined) continue;
    const kmsFingerprint = fingerprintOf(parseVerifyingKey(read.publicKeyPem).publicKey);
    if (kmsFingerprint !== fingerprintOf(ringKeyPublicKey(key)) || kmsFingerprint !== key.fingerprint) {
      findings.push(
        report(
          'error',
          'KMS_PUBLIC_KEY_MISMATCH',
          key.id ?? null,
          `The KMS key ${arn} has public key ${kmsFingerprint}, but the ring records ${key.fingerprint} for the ${key.state} key ${label}: the ring names the wrong KMS key, and the API refuses to sign with it (503).`,
          key.id === undefined
            ? `Run \`${rotateCommand(snapshot.name)}\`.`
            : revokeCommand(key.id, snapshot.name),
        ),
      );
      continue;
    }
    // A key without an id is registered nowhere yet: no public key has an undefined id.
    const registered = publicKeys.find((candidate) => candidate.id === key.id);
    if (registered === undefined) continue;
    let cloudfront: string;
    try {
      cloudfront = fingerprintOf(parseVerifyingKey(registered.encodedKey).publicKey);
    } catch {
      cloudfront = 'not a valid public key';
    }
    if (cloudfront !== kmsFingerprint) {
      findings.push(
        report(
          'error',
          'KMS_PUBLIC_KEY_MISMATCH',
          key.id ?? null,
          `CloudFront's public key ${key.id} (${cloudfront}) is not the public key of its KMS key ${arn} (${kmsFingerprint}): every URL signed with it is refused (403 InvalidSignature).`,
          revokeCommand(key.id!, snapshot.name),
        ),
      );
    }
  }
  return findings;
}
