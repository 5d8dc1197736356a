import { classifySignetKeys, type ForeignKey } from '../../rotation/ownership.ts';
import { publicKeyQuotaOf } from '../../rotation/quotas.ts';
import type { Finding } from '../findings.ts';
import {
  type CheckInput,
  groupOf,
  type Report,
  reporterFor,
  ringOf,
  rotateCommand,
  rotationStateOf,
} from './check.ts';

/**
 * The profile's Signet-named public keys that no ring key holds, split by the rotator's ownership
 * rules (docs/design.md, "Rotation"): this ring's orphans, which the rotator deletes once none of
 * their URLs can be valid, and keys of another stage or stack sharing the profile name, which this
 * ring never touches. Both use the account's public key quota. Findings: ORPHAN_PUBLIC_KEY,
 * FOREIGN_PUBLIC_KEY.
 */
export function checkOwnership(
  input: Pick<CheckInput, 'snapshot' | 'now' | 'publicKeys' | 'keyGroups'>,
): Finding[] {
  const { snapshot, now } = input;
  const ring = ringOf(snapshot);
  const group = groupOf(snapshot);
  if (ring === undefined || group === undefined) return [];
  const { name } = snapshot;
  const report = reporterFor(name);
  const rotate = rotateCommand(name);
  const ownership = classifySignetKeys(rotationStateOf(input, ring, group));
  const findings: Finding[] = [];
  for (const orphan of ownership.orphans) {
    const deletable = orphan.deletableAt.getTime() <= now.getTime();
    findings.push(
      report(
        'warning',
        'ORPHAN_PUBLIC_KEY',
        orphan.key.id,
        `Public key ${orphan.key.id} (${orphan.key.name}) was created by Signet for this ring but is in no ring key${orphan.inGroup ? `, and takes a slot of key group ${group.id}` : ''}: it uses one of the account’s ${publicKeyQuotaOf(snapshot.profile)} public keys.`,
        deletable
          ? `Run \`${rotate}\`: it deletes the orphan.`
          : `Leave it until ${orphan.deletableAt.toISOString()} (URLs it may have signed are valid until then); \`${rotate}\` deletes it after that.`,
      ),
    );
  }
  for (const stranger of ownership.foreign)
    findings.push(foreignKeyFinding(report, name, stranger, publicKeyQuotaOf(snapshot.profile)));
  return findings;
}

/**
 * Reports a Signet-named key of this profile that is not this ring's. Its remedy never deletes it:
 * it may be another stage's active key, and deleting it would make every URL that stage signs fail.
 */
function foreignKeyFinding(report: Report, name: string, stranger: ForeignKey, quota: number): Finding {
  const { key } = stranger;
  const label = `Public key ${key.id} (${key.name})`;
  if (stranger.reason === 'unclaimed') {
    return report(
      'warning',
      'ORPHAN_PUBLIC_KEY',
      key.id,
      `${label} is named like a Signet key of profile ${name} but is in no key group and unknown to this ring: perhaps another stage's or stack's crash leftover, which its own rotator adopts or deletes. It uses one of the account’s ${quota} public keys.`,
      `Leave it to the stage that made it: run \`signet keys --profile ${name}\` against each stage that uses profile ${name}; Signet never deletes a key no ring of its own knows.`,
    );
  }
  const why =
    stranger.reason === 'other-group'
      ? `is held by key group ${stranger.groupId}, not this ring's`
      : stranger.reason === 'other-ring'
        ? `belongs to another key ring (${key.comment ?? 'named in its comment'})${stranger.groupId === undefined ? '' : `, and shares key group ${stranger.groupId} with this ring`}`
        : `sits in the adopted key group ${stranger.groupId} and is unknown to this ring: another adopter's`;
  return report(
    'info',
    'FOREIGN_PUBLIC_KEY',
    key.id,
    `${label} ${why}: another stage or stack uses profile name ${name}. This ring never changes or deletes it.`,
    'Nothing to do here: the ring that owns it rotates it.',
  );
}
