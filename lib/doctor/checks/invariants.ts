import { propagationOf } from '../../rotation/bounds.ts';
import { checkInvariants } from '../../rotation/invariants.ts';
import type { Finding } from '../findings.ts';
import {
  type CheckInput,
  groupOf,
  reporterFor,
  revokeCommand,
  ringOf,
  rotateCommand,
  rotationStateOf,
} from './check.ts';
import { isKeyGroupIdAsKeyId } from './key-group-id-as-key-id.ts';

/**
 * The rotator's own invariants on key group membership (docs/design.md, "Invariants"), worded for
 * an operator: the active key is in the key group and was there for `propagation` before it was
 * activated; a trusted pending key and a retiring key are still there. The other violations are
 * reported by the checks that give them their own wording and remedy, and a key group id used as
 * a key id only as KEY_GROUP_ID_AS_KEY_ID. Findings: ACTIVE_KEY_NOT_IN_GROUP, ACTIVE_KEY_TOO_NEW,
 * PENDING_NOT_IN_GROUP, RETIRING_KEY_NOT_IN_GROUP.
 */
export function checkGroupMembership(
  input: Pick<CheckInput, 'snapshot' | 'now' | 'publicKeys' | 'keyGroups'>,
): Finding[] {
  const { snapshot, now } = input;
  const ring = ringOf(snapshot);
  const group = groupOf(snapshot);
  if (ring === undefined || group === undefined) return [];
  const { name, profile } = snapshot;
  const report = reporterFor(name);
  const rotate = rotateCommand(name);
  const findings: Finding[] = [];
  for (const violation of checkInvariants(rotationStateOf(input, ring, group))) {
    const keyId = violation.keyId ?? null;
    if (keyId !== null && isKeyGroupIdAsKeyId(keyId, snapshot.keyGroup)) continue;
    const key = ring.keys.find((candidate) => candidate.id === keyId);
    switch (violation.code) {
      case 'ACTIVE_NOT_IN_GROUP':
        findings.push(
          report(
            'error',
            'ACTIVE_KEY_NOT_IN_GROUP',
            keyId,
            `The active key ${keyId} is not in key group ${group.id}: every URL it signs is refused (403 InvalidKey, "Unknown Key").`,
            `Put ${keyId} back into key group ${group.id} (aws cloudfront update-key-group), or switch to a new key: ${revokeCommand(keyId ?? '', name)}`,
          ),
        );
        break;
      case 'ACTIVE_NOT_PROPAGATED': {
        const trusted = key?.trustedAt === undefined ? Number.NaN : Date.parse(key.trustedAt);
        // The wait recorded at its activation, so a later change of the setting judges nothing past.
        const propagation = key === undefined ? profile.rotation.propagation : propagationOf(key, profile);
        const propagatedAt = trusted + propagation * 1000;
        const stillEarly = !(propagatedAt <= now.getTime());
        findings.push(
          report(
            stillEarly ? 'error' : 'warning',
            'ACTIVE_KEY_TOO_NEW',
            keyId,
            stillEarly
              ? `The active key ${keyId} has been in the key group since ${key?.trustedAt ?? 'never'}, less than rotation.propagation (${propagation}s): edges that have not seen it yet refuse its URLs (403 InvalidKey).`
              : `The active key ${keyId} was activated at ${key?.activatedAt ?? key?.createdAt} before it had been in the key group for rotation.propagation (${propagation}s, in force then): URLs signed then may have been refused. Is something activating keys early?`,
            stillEarly
              ? `Wait until ${Number.isNaN(propagatedAt) ? 'it is in the key group' : new Date(propagatedAt).toISOString()}, or, if 403s persist, ${revokeCommand(keyId ?? '', name)}`
              : `Activate keys only through the rotator (\`${rotate}\`), which waits for propagation.`,
          ),
        );
        break;
      }
      case 'RING_KEY_NOT_IN_GROUP':
        findings.push(
          report(
            'warning',
            'PENDING_NOT_IN_GROUP',
            keyId,
            `The pending key ${keyId} is marked trusted but is not in key group ${group.id}: activating it would make every new URL fail.`,
            `Run \`${rotate}\` to add it to the key group again before it is activated.`,
          ),
        );
        break;
      case 'RETIRING_KEY_LEFT_GROUP':
        findings.push(
          report(
            'error',
            'RETIRING_KEY_NOT_IN_GROUP',
            keyId,
            `${violation.message.replace(/ URLs it signed are refused\.$/, '')} URLs and cookies it signed are refused (403 InvalidKey) until they expire.`,
            `Put ${keyId} back into key group ${group.id} (aws cloudfront update-key-group) until its removal time.`,
          ),
        );
        break;
      default:
        // The rest are reported by the other checks, with their own wording and remedy.
        break;
    }
  }
  return findings;
}
