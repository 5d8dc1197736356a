import { describe, expect, it } from 'vitest';
import { checkKeysRemovedWhileValid } from '../../../lib/doctor/checks/key-history.ts';
import type { HistoryEntry } from '../../../lib/keys/ring.ts';
import { at, iso, judge, snapshotOf } from './snapshots.ts';

// Keys that left the key group are judged by the validUntil recorded when they left
// (docs/design.md, "Recorded bounds"). test/doctor/diagnose-history.test.ts pins the same through
// diagnose under a changed config.

const left = (
  validUntil: number | undefined,
  how: 'removedAt' | 'revokedAt' = 'removedAt',
): HistoryEntry => ({
  id: 'KOLDKEY0000001',
  fingerprint: 'sha256:old',
  activatedAt: iso(-10_000),
  retiredAt: iso(-3600),
  [how]: iso(-3000),
  ...(validUntil === undefined ? {} : { validUntil: iso(validUntil) }),
});

describe('KEY_REMOVED_WHILE_VALID', () => {
  it('an error while URLs the removed key signed are still valid', () => {
    const snapshot = snapshotOf({ history: [left(600)] });
    expect(judge(checkKeysRemovedWhileValid, snapshot, 'KEY_REMOVED_WHILE_VALID')).toEqual([
      {
        severity: 'error',
        code: 'KEY_REMOVED_WHILE_VALID',
        profile: 'media',
        keyId: 'KOLDKEY0000001',
        message: `Key KOLDKEY0000001 left the key group at ${iso(-3000)}; it stopped signing at ${iso(-3600)}, and the last URL or cookie it signed stays valid until ${iso(600)}: until then they are refused (403 InvalidKey).`,
        remedy:
          'Have callers request new URLs (they are signed with the active key); nothing restores a deleted public key id.',
      },
    ]);
  });

  it('a warning for a revocation: it was deliberate', () => {
    const snapshot = snapshotOf({ history: [left(600, 'revokedAt')] });
    const [finding] = judge(checkKeysRemovedWhileValid, snapshot, 'KEY_REMOVED_WHILE_VALID');
    expect(finding).toMatchObject({ severity: 'warning' });
    expect(finding!.message).toContain(`Key KOLDKEY0000001 was revoked at ${iso(-3000)};`);
  });

  it('information once everything it signed has expired', () => {
    const snapshot = snapshotOf({ history: [left(600)] });
    expect(judge(checkKeysRemovedWhileValid, snapshot, 'KEY_REMOVED_WHILE_VALID', at(601))).toEqual([
      expect.objectContaining({
        severity: 'info',
        message: `Key KOLDKEY0000001 left the key group at ${iso(-3000)}; it stopped signing at ${iso(-3600)}, before the last URL or cookie it signed expired at ${iso(600)}; none of them is valid any more.`,
        remedy: 'Nothing to do now; removals through the rotator wait for the recorded bound.',
      }),
    ]);
  });

  it('is not reported for a key removed after its recorded bound', () => {
    expect(
      judge(checkKeysRemovedWhileValid, snapshotOf({ history: [left(-3001)] }), 'KEY_REMOVED_WHILE_VALID'),
    ).toEqual([]);
  });

  it('is not reported for an expired revocation, nor an entry without a recorded bound', () => {
    const snapshot = snapshotOf({ history: [left(600, 'revokedAt'), left(undefined)] });
    expect(judge(checkKeysRemovedWhileValid, snapshot, 'KEY_REMOVED_WHILE_VALID', at(601))).toEqual([]);
  });
});
