import { recordedValidUntil } from '../../rotation/bounds.ts';
import type { Finding } from '../findings.ts';
import { type CheckInput, reporterFor, ringOf } from './check.ts';

/**
 * A key that left the key group (removed or revoked) before the last URL or cookie it signed
 * expired. Each is judged by the bound recorded when it left (the configs in force while it
 * signed), never by today's config; entries from before bounds were recorded are not judged
 * (docs/design.md, "Recorded bounds"). While such URLs can still be presented it is an error (a
 * warning for a revocation, which was deliberate); afterwards a removal is noted as information.
 * Finding: KEY_REMOVED_WHILE_VALID.
 */
export function checkKeysRemovedWhileValid({
  snapshot,
  now,
}: Pick<CheckInput, 'snapshot' | 'now'>): Finding[] {
  const ring = ringOf(snapshot);
  if (ring === undefined) return [];
  const report = reporterFor(snapshot.name);
  const findings: Finding[] = [];
  for (const entry of ring.history) {
    const left = entry.removedAt ?? entry.revokedAt;
    const recorded = recordedValidUntil(entry);
    if (left === undefined || recorded === undefined) continue;
    const leftMs = Date.parse(left);
    const validUntil = recorded.getTime();
    if (!(leftMs < validUntil)) continue;
    const id = entry.id ?? entry.fingerprint;
    const how = entry.removedAt !== undefined ? 'left the key group' : 'was revoked';
    const retired = entry.retiredAt === undefined ? '' : `; it stopped signing at ${entry.retiredAt}`;
    const lastExpiry = new Date(validUntil).toISOString();
    if (now.getTime() < validUntil) {
      findings.push(
        report(
          entry.removedAt !== undefined ? 'error' : 'warning',
          'KEY_REMOVED_WHILE_VALID',
          entry.id ?? null,
          `Key ${id} ${how} at ${left}${retired}, and the last URL or cookie it signed stays valid until ${lastExpiry}: until then they are refused (403 InvalidKey).`,
          'Have callers request new URLs (they are signed with the active key); nothing restores a deleted public key id.',
        ),
      );
    } else if (entry.removedAt !== undefined) {
      findings.push(
        report(
          'info',
          'KEY_REMOVED_WHILE_VALID',
          entry.id ?? null,
          `Key ${id} left the key group at ${left}${retired}, before the last URL or cookie it signed expired at ${lastExpiry}; none of them is valid any more.`,
          'Nothing to do now; removals through the rotator wait for the recorded bound.',
        ),
      );
    }
  }
  return findings;
}
