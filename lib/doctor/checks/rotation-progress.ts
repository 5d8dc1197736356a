import { activationWaitSeconds, removableAt } from '../../rotation/bounds.ts';
import { rotationDueAt } from '../../rotation/plan.ts';
import { MAX_KEYS_PER_GROUP } from '../../rotation/quotas.ts';
import type { Finding } from '../findings.ts';
import { type CheckInput, reporterFor, ringOf, rotateCommand } from './check.ts';

// Whether the rotator keeps up (docs/design.md, "Rotation"): each phase that fell due should have
// run by now. Each check judges by the time the rotator itself honours, plus ROTATOR_SLACK_SECONDS.

/**
 * How late the rotator may be before a phase that fell due counts as stuck. It runs every few
 * minutes (docs/design.md, "Rotation") and advances one phase per run, so a phase a few runs late is normal.
 */
export const ROTATOR_SLACK_SECONDS = 15 * 60;

/**
 * The active key is older than `rotation.rotateEvery` and no rotation has started: the rotator is
 * not running, or every run fails. A run that fell due is a few runs late at worst (one run spends
 * its one phase on a removal), hence the slack. Finding: KEY_AGE.
 */
export function checkKeyAge({ snapshot, now }: Pick<CheckInput, 'snapshot' | 'now'>): Finding[] {
  const ring = ringOf(snapshot);
  const active = ring?.keys.find((key) => key.state === 'active');
  if (ring === undefined || active === undefined || ring.keys.some((key) => key.state === 'pending'))
    return [];
  const { name, profile } = snapshot;
  const due = rotationDueAt(active, profile);
  if (!(due.getTime() + ROTATOR_SLACK_SECONDS * 1000 < now.getTime())) return [];
  return [
    reporterFor(name)(
      'warning',
      'KEY_AGE',
      active.id ?? null,
      `The active key ${active.id ?? active.fingerprint} was activated at ${active.activatedAt ?? active.createdAt}, longer ago than rotation.rotateEvery (${profile.rotation.rotateEvery}s): a rotation was due at ${due.toISOString()} and has not started. Is the rotator running?`,
      `Run \`${rotateCommand(name)}\`, and check the rotator's schedule and logs.`,
    ),
  ];
}

/**
 * A pending key that should have moved on: never trusted (a rotation stopped half-way), or trusted
 * longer than the wait the rotator really honours, which a refused lower `rotation.propagation`
 * keeps at the longest earlier wait (docs/design.md, "Recorded bounds"). Finding: PENDING_STUCK.
 */
export function checkPendingStuck({ snapshot, now }: Pick<CheckInput, 'snapshot' | 'now'>): Finding[] {
  const ring = ringOf(snapshot);
  const pending = ring?.keys.find((key) => key.state === 'pending');
  if (ring === undefined || pending === undefined) return [];
  const { name, profile } = snapshot;
  const label = pending.id ?? pending.fingerprint;
  const dueMs =
    pending.trustedAt === undefined
      ? Date.parse(pending.createdAt)
      : Date.parse(pending.trustedAt) + activationWaitSeconds(ring, profile) * 1000;
  if (!(dueMs + ROTATOR_SLACK_SECONDS * 1000 < now.getTime())) return [];
  return [
    reporterFor(name)(
      'warning',
      'PENDING_STUCK',
      pending.id ?? null,
      pending.trustedAt === undefined
        ? `The pending key ${label} was created at ${pending.createdAt} and is still not in the key group: a rotation stopped half-way, and the active key keeps ageing.`
        : `The pending key ${label} has been trusted since ${pending.trustedAt} and should have been activated at ${new Date(dueMs).toISOString()}: the rotator is not advancing.`,
      `Run \`${rotateCommand(name)}\`, and check the rotator's logs for a blocked run.`,
    ),
  ];
}

/**
 * A retiring key past its removal time (docs/design.md, "Recorded bounds"): harmless to URLs, but
 * it holds a slot of the key group and of the account that the next rotation needs.
 * Finding: RETIRING_OVERDUE.
 */
export function checkRetiringOverdue({ snapshot, now }: Pick<CheckInput, 'snapshot' | 'now'>): Finding[] {
  const ring = ringOf(snapshot);
  if (ring === undefined) return [];
  const { name, profile } = snapshot;
  const report = reporterFor(name);
  return ring.keys.flatMap((key) => {
    const removeAt = removableAt(key, profile)?.getTime();
    if (removeAt === undefined || !(removeAt + ROTATOR_SLACK_SECONDS * 1000 < now.getTime())) return [];
    return [
      report(
        'warning',
        'RETIRING_OVERDUE',
        key.id ?? null,
        `The retiring key ${key.id ?? key.fingerprint} was due for removal at ${new Date(removeAt).toISOString()}: it still takes a slot of the key group (${MAX_KEYS_PER_GROUP} at most) and of the account.`,
        `Run \`${rotateCommand(name)}\` to remove it.`,
      ),
    ];
  });
}
