import { describe, expect, it } from 'vitest';
import { checkGroupMembership } from '../../../lib/doctor/checks/invariants.ts';
import {
  ACTIVE_ID,
  activeKey,
  GROUP_ID,
  iso,
  judge,
  pendingKey,
  retiringKey,
  snapshotOf,
} from './snapshots.ts';

// The rotator's invariants on key group membership (docs/design.md, "Invariants"), as doctor words
// them. testProfile() waits 120 s of propagation and removes a key 390 s after it retired.

describe('ACTIVE_KEY_NOT_IN_GROUP', () => {
  it('the active key is not in the key group', () => {
    const snapshot = snapshotOf({ groupItems: [] });
    expect(judge(checkGroupMembership, snapshot, 'ACTIVE_KEY_NOT_IN_GROUP')).toEqual([
      {
        severity: 'error',
        code: 'ACTIVE_KEY_NOT_IN_GROUP',
        profile: 'media',
        keyId: ACTIVE_ID,
        message: `The active key ${ACTIVE_ID} is not in key group ${GROUP_ID}: every URL it signs is refused (403 InvalidKey, "Unknown Key").`,
        remedy: `Put ${ACTIVE_ID} back into key group ${GROUP_ID} (aws cloudfront update-key-group), or switch to a new key: signet revoke ${ACTIVE_ID} --profile media --yes`,
      },
    ]);
  });

  it('is not reported when the group holds it', () => {
    expect(judge(checkGroupMembership, snapshotOf(), 'ACTIVE_KEY_NOT_IN_GROUP')).toEqual([]);
  });
});

describe('ACTIVE_KEY_TOO_NEW', () => {
  it('an error while the key is still propagating: edges that lack it refuse its URLs', () => {
    const snapshot = snapshotOf({ keys: [activeKey({ trustedAt: iso(-60), activatedAt: iso(-30) })] });
    expect(judge(checkGroupMembership, snapshot, 'ACTIVE_KEY_TOO_NEW')).toEqual([
      {
        severity: 'error',
        code: 'ACTIVE_KEY_TOO_NEW',
        profile: 'media',
        keyId: ACTIVE_ID,
        message: `The active key ${ACTIVE_ID} has been in the key group since ${iso(-60)}, less than rotation.propagation (120s): edges that have not seen it yet refuse its URLs (403 InvalidKey).`,
        remedy: `Wait until ${iso(60)}, or, if 403s persist, signet revoke ${ACTIVE_ID} --profile media --yes`,
      },
    ]);
  });

  it('a warning once it has propagated: it was activated early, and something may activate keys early', () => {
    const snapshot = snapshotOf({ keys: [activeKey({ trustedAt: iso(-1000), activatedAt: iso(-950) })] });
    expect(judge(checkGroupMembership, snapshot, 'ACTIVE_KEY_TOO_NEW')).toEqual([
      expect.objectContaining({
        severity: 'warning',
        message: `The active key ${ACTIVE_ID} was activated at ${iso(-950)} before it had been in the key group for rotation.propagation (120s, in force then): URLs signed then may have been refused. Is something activating keys early?`,
        remedy:
          'Activate keys only through the rotator (`signet rotate --profile media`), which waits for propagation.',
      }),
    ]);
  });

  it('is not reported for a key activated after propagation', () => {
    expect(judge(checkGroupMembership, snapshotOf(), 'ACTIVE_KEY_TOO_NEW')).toEqual([]);
  });

  it('is judged by the propagation recorded at activation, not today’s longer one', () => {
    const key = activeKey({
      trustedAt: iso(-1000),
      activatedAt: iso(-950),
      bounds: { ttlMax: 300, maxStale: 60, clockSkew: 30, propagation: 30 },
    });
    expect(judge(checkGroupMembership, snapshotOf({ keys: [key] }), 'ACTIVE_KEY_TOO_NEW')).toEqual([]);
  });
});

describe('PENDING_NOT_IN_GROUP', () => {
  it('a pending key marked trusted that the group does not hold', () => {
    const snapshot = snapshotOf({
      keys: [activeKey(), pendingKey('KPENDING000001', 60)],
      groupItems: [ACTIVE_ID],
    });
    expect(judge(checkGroupMembership, snapshot, 'PENDING_NOT_IN_GROUP')).toEqual([
      {
        severity: 'warning',
        code: 'PENDING_NOT_IN_GROUP',
        profile: 'media',
        keyId: 'KPENDING000001',
        message: `The pending key KPENDING000001 is marked trusted but is not in key group ${GROUP_ID}: activating it would make every new URL fail.`,
        remedy:
          'Run `signet rotate --profile media` to add it to the key group again before it is activated.',
      },
    ]);
  });

  it('is not reported when the group holds it', () => {
    const snapshot = snapshotOf({ keys: [activeKey(), pendingKey('KPENDING000001', 60)] });
    expect(judge(checkGroupMembership, snapshot, 'PENDING_NOT_IN_GROUP')).toEqual([]);
  });

  it('is not reported for a pending key not yet trusted: the rotator adds it next', () => {
    const snapshot = snapshotOf({
      keys: [activeKey(), pendingKey('KPENDING000001', undefined)],
      groupItems: [ACTIVE_ID],
    });
    expect(judge(checkGroupMembership, snapshot, 'PENDING_NOT_IN_GROUP')).toEqual([]);
  });
});

describe('RETIRING_KEY_NOT_IN_GROUP', () => {
  it('a retiring key out of the group before everything it signed expired', () => {
    const snapshot = snapshotOf({
      keys: [activeKey(), retiringKey('KRETIRING00001', 100)],
      groupItems: [ACTIVE_ID],
    });
    expect(judge(checkGroupMembership, snapshot, 'RETIRING_KEY_NOT_IN_GROUP')).toEqual([
      {
        severity: 'error',
        code: 'RETIRING_KEY_NOT_IN_GROUP',
        profile: 'media',
        keyId: 'KRETIRING00001',
        message: `The retiring key KRETIRING00001 left the key group before ${iso(290)}: URLs and cookies it signed are refused (403 InvalidKey) until they expire.`,
        remedy: `Put KRETIRING00001 back into key group ${GROUP_ID} (aws cloudfront update-key-group) until its removal time.`,
      },
    ]);
  });

  it('is not reported while the group holds it', () => {
    const snapshot = snapshotOf({ keys: [activeKey(), retiringKey('KRETIRING00001', 100)] });
    expect(judge(checkGroupMembership, snapshot, 'RETIRING_KEY_NOT_IN_GROUP')).toEqual([]);
  });

  it('is not reported once its removal time has passed: leaving the group is then the plan', () => {
    const snapshot = snapshotOf({
      keys: [activeKey(), retiringKey('KRETIRING00001', 400)],
      groupItems: [ACTIVE_ID],
    });
    expect(judge(checkGroupMembership, snapshot, 'RETIRING_KEY_NOT_IN_GROUP')).toEqual([]);
  });
});
