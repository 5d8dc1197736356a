import { describe, expect, it } from 'vitest';
import {
  checkKeyAge,
  checkPendingStuck,
  checkRetiringOverdue,
  ROTATOR_SLACK_SECONDS,
} from '../../../lib/doctor/checks/rotation-progress.ts';
import { ACTIVE_ID, activeKey, iso, judge, pendingKey, retiringKey, snapshotOf } from './snapshots.ts';

// Whether the rotator keeps up (docs/design.md, "Rotation"): each phase that fell due has run,
// allowing the rotator 15 minutes of slack. testProfile(): rotateEvery 3600 s, propagation 120 s,
// removal 390 s after retirement.

it('allows the rotator 15 minutes', () => {
  expect(ROTATOR_SLACK_SECONDS).toBe(900);
});

/** An active key activated `activatedAgo` seconds ago (trusted long enough before). */
const activatedAgo = (seconds: number) =>
  activeKey({ createdAt: iso(-seconds - 400), trustedAt: iso(-seconds - 400), activatedAt: iso(-seconds) });

describe('KEY_AGE', () => {
  it('the active key is past rotateEvery plus the slack and no rotation started', () => {
    const snapshot = snapshotOf({ keys: [activatedAgo(4600)] });
    expect(judge(checkKeyAge, snapshot, 'KEY_AGE')).toEqual([
      {
        severity: 'warning',
        code: 'KEY_AGE',
        profile: 'media',
        keyId: ACTIVE_ID,
        message: `The active key ${ACTIVE_ID} was activated at ${iso(-4600)}, longer ago than rotation.rotateEvery (3600s): a rotation was due at ${iso(-1000)} and has not started. Is the rotator running?`,
        remedy: "Run `signet rotate --profile media`, and check the rotator's schedule and logs.",
      },
    ]);
  });

  it('is not reported within the slack after the rotation fell due', () => {
    expect(judge(checkKeyAge, snapshotOf({ keys: [activatedAgo(4400)] }), 'KEY_AGE')).toEqual([]);
  });

  it('is not reported once a rotation has started (a pending key)', () => {
    const snapshot = snapshotOf({ keys: [activatedAgo(4600), pendingKey('KPENDING000001', 60)] });
    expect(judge(checkKeyAge, snapshot, 'KEY_AGE')).toEqual([]);
  });
});

describe('PENDING_STUCK', () => {
  it('a pending key never trusted, created longer ago than the slack: a rotation stopped half-way', () => {
    const pending = pendingKey('KPENDING000001', undefined, { createdAt: iso(-1000) });
    const snapshot = snapshotOf({ keys: [activeKey(), pending], groupItems: [ACTIVE_ID] });
    expect(judge(checkPendingStuck, snapshot, 'PENDING_STUCK')).toEqual([
      {
        severity: 'warning',
        code: 'PENDING_STUCK',
        profile: 'media',
        keyId: 'KPENDING000001',
        message: `The pending key KPENDING000001 was created at ${iso(-1000)} and is still not in the key group: a rotation stopped half-way, and the active key keeps ageing.`,
        remedy: "Run `signet rotate --profile media`, and check the rotator's logs for a blocked run.",
      },
    ]);
  });

  it('a trusted pending key past propagation plus the slack: the rotator is not advancing', () => {
    const snapshot = snapshotOf({ keys: [activeKey(), pendingKey('KPENDING000001', 1100)] });
    const [finding] = judge(checkPendingStuck, snapshot, 'PENDING_STUCK');
    expect(finding).toMatchObject({
      severity: 'warning',
      message: `The pending key KPENDING000001 has been trusted since ${iso(-1100)} and should have been activated at ${iso(-980)}: the rotator is not advancing.`,
    });
  });

  it('is not reported within the slack after activation fell due', () => {
    const snapshot = snapshotOf({ keys: [activeKey(), pendingKey('KPENDING000001', 1000)] });
    expect(judge(checkPendingStuck, snapshot, 'PENDING_STUCK')).toEqual([]);
  });
});

describe('RETIRING_OVERDUE', () => {
  it('a retiring key past its removal time plus the slack', () => {
    const snapshot = snapshotOf({ keys: [activeKey(), retiringKey('KRETIRING00001', 1300)] });
    expect(judge(checkRetiringOverdue, snapshot, 'RETIRING_OVERDUE')).toEqual([
      {
        severity: 'warning',
        code: 'RETIRING_OVERDUE',
        profile: 'media',
        keyId: 'KRETIRING00001',
        message: `The retiring key KRETIRING00001 was due for removal at ${iso(-910)}: it still takes a slot of the key group (5 at most) and of the account.`,
        remedy: 'Run `signet rotate --profile media` to remove it.',
      },
    ]);
  });

  it('is not reported within the slack after its removal time', () => {
    const snapshot = snapshotOf({ keys: [activeKey(), retiringKey('KRETIRING00001', 1200)] });
    expect(judge(checkRetiringOverdue, snapshot, 'RETIRING_OVERDUE')).toEqual([]);
  });
});
