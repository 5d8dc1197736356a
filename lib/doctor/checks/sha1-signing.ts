import type { Finding } from '../findings.ts';
import { type CheckInput, reporterFor, ringOf, rotateCommand } from './check.ts';
import { isKeyGroupIdAsKeyId } from './key-group-id-as-key-id.ts';

/**
 * A key that signs, or will sign, with RSA-SHA1 (docs/design.md, "Signing"): CloudFront still
 * verifies it, but SHA-1 is deprecated. A retiring key no longer signs, so it is left to leave on
 * its own. Finding: SHA1_SIGNING.
 */
export function checkSha1Signing({ snapshot }: Pick<CheckInput, 'snapshot'>): Finding[] {
  const ring = ringOf(snapshot);
  if (ring === undefined) return [];
  const { name, profile } = snapshot;
  const report = reporterFor(name);
  return ring.keys.flatMap((key) => {
    if (key.id !== undefined && isKeyGroupIdAsKeyId(key.id, snapshot.keyGroup)) return [];
    if (key.hash !== 'sha1' || key.state === 'retiring') return [];
    return [
      report(
        'warning',
        'SHA1_SIGNING',
        key.id ?? null,
        `The ${key.state} key ${key.id ?? key.fingerprint} signs with RSA-SHA1${profile.hash === 'sha1' ? ', and the profile makes new keys sign with SHA-1 too' : ''}: SHA-1 is deprecated; CloudFront verifies SHA-256 (Hash-Algorithm=SHA256) and ECDSA P-256 keys.`,
        `Set "algorithm": "ecdsa-p256" (or "hash": "sha256") in profile ${name}, then rotate: \`${rotateCommand(name)}\`.`,
      ),
    ];
  });
}
