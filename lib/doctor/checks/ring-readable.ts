import type { Finding } from '../findings.ts';
import { type CheckInput, reporterFor } from './check.ts';

/**
 * The key ring secret cannot be used at all: it is missing (not bootstrapped, or the config names
 * the wrong secret) or does not hold a valid ring (docs/design.md, "The key ring document"). Both
 * stop signing, so they come before anything the ring's keys could tell. Findings: RING_UNREADABLE,
 * RING_INVALID.
 */
export function checkRingReadable({ snapshot }: Pick<CheckInput, 'snapshot'>): Finding[] {
  const { name, profile, ring } = snapshot;
  const report = reporterFor(name);
  const secretId = profile.keyRing.secretId;
  if (ring.status === 'missing') {
    return [
      report(
        'error',
        'RING_UNREADABLE',
        null,
        `The key ring secret ${secretId} ${ring.message}: the service cannot sign for this profile (503 keys-unavailable).`,
        `Check keyRing.secretId in the config; for a new secret, bootstrap it with \`signet rotate --profile ${name}\`.`,
      ),
    ];
  }
  if (ring.status === 'invalid') {
    // Signers keep their cached ring until it is cache.maxStale old (docs/design.md, "The key ring cache").
    return [
      report(
        'error',
        'RING_INVALID',
        null,
        `The key ring secret ${secretId} does not hold a valid key ring (${ring.message}): signers refuse it and stop signing once their cached ring is ${profile.cache.maxStale}s old.`,
        `Restore the previous version: aws secretsmanager update-secret-version-stage --secret-id ${secretId} --version-stage AWSCURRENT --move-to-version-id <AWSPREVIOUS id> --remove-from-version-id <AWSCURRENT id>`,
      ),
    ];
  }
  return [];
}
