import type { Finding } from '../findings.ts';
import { type CheckInput, reporterFor, ringOf, rotateCommand } from './check.ts';

/**
 * A valid ring with no active key: signers have nothing to sign with, however healthy the rest is.
 * A pending key is named, since the rotator activates it once it has propagated (docs/design.md,
 * "Rotation"). Finding: NO_ACTIVE_KEY.
 */
export function checkActiveKey({ snapshot }: Pick<CheckInput, 'snapshot'>): Finding[] {
  const ring = ringOf(snapshot);
  if (ring === undefined || ring.keys.some((key) => key.state === 'active')) return [];
  const pending = ring.keys.find((key) => key.state === 'pending');
  return [
    reporterFor(snapshot.name)(
      'error',
      'NO_ACTIVE_KEY',
      null,
      `The ring has no active key: the service cannot sign for this profile (503 keys-unavailable)${pending === undefined ? '' : `; pending key ${pending.id ?? pending.fingerprint} activates once it has propagated`}.`,
      `Run \`${rotateCommand(snapshot.name)}\` to introduce (or activate) a key.`,
    ),
  ];
}
