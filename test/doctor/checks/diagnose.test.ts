import { describe, expect, it } from 'vitest';
import { diagnose } from '../../../lib/doctor/diagnose.ts';
import { activeKey, at, iso, pendingKey, retiringKey, snapshotOf } from './snapshots.ts';

// diagnose runs every check of lib/doctor/checks on each profile, then the account's, and sorts.

describe('diagnose', () => {
  it('finds nothing wrong with a healthy profile: only the account’s headroom, as information', () => {
    expect(diagnose(snapshotOf(), at(0))).toEqual([
      {
        severity: 'info',
        code: 'ACCOUNT_KEYS_HEADROOM',
        profile: null,
        keyId: null,
        message:
          "The account holds 1 of CloudFront's 10 public keys (the default quota, adjustable, shared by every stage and profile: unstaged 1, other 0), 9 free.",
        remedy: 'Nothing to do.',
      },
    ]);
  });

  it('finds nothing wrong in the middle of a rotation either: a key propagating, one retiring', () => {
    const keys = [
      activeKey({ createdAt: iso(-4000), trustedAt: iso(-4000), activatedAt: iso(-3700) }),
      pendingKey('KPENDING000001', 60),
      retiringKey('KRETIRING00001', 100),
    ];
    expect(diagnose(snapshotOf({ keys }), at(0)).map((finding) => finding.code)).toEqual([
      'ACCOUNT_KEYS_HEADROOM',
    ]);
  });

  it('sorts errors first, then warnings, then information', () => {
    // No public keys (errors), a pending key out of the group (a warning), headroom (information).
    const snapshot = snapshotOf({
      keys: [activeKey(), pendingKey('KPENDING000001', undefined, { createdAt: iso(-1000) })],
      publicKeys: [],
    });
    const severities = diagnose(snapshot, at(0)).map((finding) => finding.severity);
    expect(severities).toEqual([...severities].sort((a, b) => order[a] - order[b]));
    expect(new Set(severities)).toEqual(new Set(['error', 'warning', 'info']));
  });
});

const order = { error: 0, warning: 1, info: 2 } as const;
