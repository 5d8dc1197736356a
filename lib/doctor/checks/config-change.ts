import { refusedConfigChanges } from '../../rotation/bounds.ts';
import type { Finding } from '../findings.ts';
import { type CheckInput, reporterFor, ringOf } from './check.ts';

/**
 * A timing change the rotator refuses: a lowered `rotation.propagation` without a canary
 * (docs/design.md, "Recorded bounds"). Nothing is refused at the edge, but every rotator run fails
 * until the config is set back or a canary guards the lower value. Finding: CONFIG_CHANGE_REFUSED.
 */
export function checkConfigChangeRefused({ snapshot }: Pick<CheckInput, 'snapshot'>): Finding[] {
  const ring = ringOf(snapshot);
  if (ring === undefined) return [];
  const { name, profile } = snapshot;
  const report = reporterFor(name);
  return refusedConfigChanges(ring, profile).map((refused) =>
    report(
      'warning',
      'CONFIG_CHANGE_REFUSED',
      null,
      `${refused.message} Until then every rotator run fails (RotationConfigRefused).`,
      `Set ${refused.field} of profile ${name} back, or configure rotation.canary for it.`,
    ),
  );
}
