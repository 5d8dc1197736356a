import { classifySignetKeys } from '../../rotation/ownership.ts';
import { MAX_KEYS_PER_GROUP } from '../../rotation/quotas.ts';
import type { Finding, Severity } from '../findings.ts';
import { type CheckInput, groupOf, reporterFor, ringOf, rotationDue, rotationStateOf } from './check.ts';

/**
 * A key group at or one short of CloudFront's 5 keys: a rotation needs a free slot, and a full
 * group blocks it, never forced (docs/design.md, "Invariants"). It is an error only when full and a
 * rotation is due now (or there is no ring to tell). The remedy names keys no ring of this profile
 * holds; another ring's keys in a shared group are that stage's to rotate, so never suggested for
 * removal. Finding: GROUP_FULL.
 */
export function checkGroupSize(
  input: Pick<CheckInput, 'snapshot' | 'now' | 'publicKeys' | 'keyGroups'>,
): Finding[] {
  const { snapshot, now } = input;
  const group = groupOf(snapshot);
  if (group === undefined) return [];
  const count = group.items.length;
  if (count < MAX_KEYS_PER_GROUP - 1) return [];
  const { name, profile } = snapshot;
  const ring = ringOf(snapshot);
  const due = ring === undefined || rotationDue(ring, profile, now);
  const ringIds = new Set(ring?.keys.flatMap((key) => (key.id === undefined ? [] : [key.id])) ?? []);
  const foreign = ring === undefined ? [] : classifySignetKeys(rotationStateOf(input, ring, group)).foreign;
  const foreignIds = new Set(foreign.map((stranger) => stranger.key.id));
  const strangers = group.items.filter((id) => !ringIds.has(id) && !foreignIds.has(id));
  const retiring = ring?.keys.filter((key) => key.state === 'retiring' && key.id !== undefined) ?? [];
  const severity: Severity = count >= MAX_KEYS_PER_GROUP && due ? 'error' : 'warning';
  return [
    reporterFor(name)(
      severity,
      'GROUP_FULL',
      null,
      `Key group ${group.id} holds ${count} of CloudFront's ${MAX_KEYS_PER_GROUP} keys${strangers.length > 0 ? ` (${strangers.join(', ')} in no ring of this profile)` : ''}: ${
        count >= MAX_KEYS_PER_GROUP
          ? due
            ? 'a rotation is due and cannot introduce a key, so the active key keeps ageing.'
            : 'the next rotation will be blocked unless a key leaves first.'
          : 'one more key and rotation is blocked.'
      }`,
      strangers.length > 0
        ? `Take ${strangers.join(', ')} out of key group ${group.id} if nothing signs with them (aws cloudfront update-key-group).`
        : retiring[0] !== undefined
          ? `Wait for the retiring keys' removal (\`signet rotate --profile ${name}\` removes them when due), or signet revoke ${retiring[0].id} --profile ${name} --yes`
          : `Run \`signet rotate --profile ${name}\` once the group has room.`,
    ),
  ];
}
