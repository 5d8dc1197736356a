import { ringKeyPublicKey } from '../../keys/kms.ts';
import type { RingKey } from '../../keys/ring.ts';
import { leftKeyValidUntil } from '../../rotation/bounds.ts';
import { fingerprintOfRegistered } from '../../rotation/ownership.ts';
import { fingerprintOf } from '../../signing/index.ts';
import type { Finding } from '../findings.ts';
import { type CheckInput, reporterFor, revokeCommand, ringOf, rotateCommand } from './check.ts';
import { isKeyGroupIdAsKeyId } from './key-group-id-as-key-id.ts';

/**
 * Each ring key against CloudFront: its public key exists, its private key parses and is the one
 * the ring's fingerprint names, and CloudFront's public key under its id is the public half of it.
 * Any of these breaks every URL the key signs. A retiring key past its removal time may be
 * mid-removal (gone from CloudFront, not yet from the ring; docs/design.md, "Rotation"), so its
 * missing public key is not reported. Findings: PUBLIC_KEY_MISSING, RING_INVALID (per key),
 * PUBLIC_KEY_MISMATCH.
 */
export function checkRingKeys({
  snapshot,
  now,
  publicKeys,
}: Pick<CheckInput, 'snapshot' | 'now' | 'publicKeys'>): Finding[] {
  const ring = ringOf(snapshot);
  if (ring === undefined) return [];
  const { name, profile } = snapshot;
  const report = reporterFor(name);
  const rotate = rotateCommand(name);
  const registered = new Map(publicKeys.map((key) => [key.id, key]));
  const removalDue = (key: RingKey) =>
    (leftKeyValidUntil(key, profile)?.getTime() ?? Number.POSITIVE_INFINITY) <= now.getTime();
  const findings: Finding[] = [];
  for (const key of ring.keys) {
    if (key.id !== undefined && isKeyGroupIdAsKeyId(key.id, snapshot.keyGroup)) continue;
    const label = key.id ?? key.fingerprint;
    const publicKey = key.id === undefined ? undefined : registered.get(key.id);
    if (key.id !== undefined && publicKey === undefined && !removalDue(key)) {
      findings.push(
        report(
          key.state === 'pending' ? 'warning' : 'error',
          'PUBLIC_KEY_MISSING',
          key.id,
          key.state === 'pending'
            ? `The pending key ${key.id} has no CloudFront public key (NoSuchPublicKey): it cannot be activated.`
            : `The ${key.state} key ${key.id} has no CloudFront public key (NoSuchPublicKey): every URL it signed${key.state === 'active' ? ' or signs' : ''} is refused (403 InvalidKey, "Unknown Key").`,
          key.state === 'pending' ? `Run \`${rotate}\` to register it again.` : revokeCommand(key.id, name),
        ),
      );
    }
    let actual: string | undefined;
    try {
      actual = fingerprintOf(ringKeyPublicKey(key));
    } catch (error) {
      findings.push(
        report(
          'error',
          'RING_INVALID',
          key.id ?? null,
          `The private key of the ${key.state} key ${label} does not parse (${(error as Error).message}): nothing can be signed with it.`,
          key.id === undefined ? `Run \`${rotate}\`.` : revokeCommand(key.id, name),
        ),
      );
    }
    if (actual !== undefined && actual !== key.fingerprint) {
      findings.push(
        report(
          'error',
          'RING_INVALID',
          key.id ?? null,
          `The ring records fingerprint ${key.fingerprint} for the ${key.state} key ${label}, but its private key’s is ${actual}: the ring was edited by hand.`,
          key.id === undefined ? `Run \`${rotate}\`.` : revokeCommand(key.id, name),
        ),
      );
    }
    if (actual !== undefined && publicKey !== undefined) {
      const published = fingerprintOfRegistered(publicKey);
      if (published !== actual) {
        findings.push(
          report(
            'error',
            'PUBLIC_KEY_MISMATCH',
            key.id ?? null,
            `CloudFront’s public key ${publicKey.id} (${publicKey.name}, ${published ?? 'unparseable PEM'}) is not the public half of the ring’s ${key.state} private key (${actual}): every URL it signs fails verification (403 AccessDenied).`,
            revokeCommand(publicKey.id, name),
          ),
        );
      }
    }
  }
  return findings;
}
