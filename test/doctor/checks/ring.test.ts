import { describe, expect, it } from 'vitest';
import { checkActiveKey } from '../../../lib/doctor/checks/active-key.ts';
import { checkRingReadable } from '../../../lib/doctor/checks/ring-readable.ts';
import { activeKey, judge, pendingKey, retiringKey, snapshotOf } from './snapshots.ts';

// Whether the profile can sign at all: a readable, valid ring with an active key
// (docs/design.md, "The key ring document").

describe('checkRingReadable', () => {
  it('RING_UNREADABLE: the secret does not exist, so the service cannot sign', () => {
    const snapshot = snapshotOf({ ring: { status: 'missing', message: 'does not exist' } });
    expect(judge(checkRingReadable, snapshot, 'RING_UNREADABLE')).toEqual([
      {
        severity: 'error',
        code: 'RING_UNREADABLE',
        profile: 'media',
        keyId: null,
        message:
          'The key ring secret signet/test does not exist: the service cannot sign for this profile (503 keys-unavailable).',
        remedy:
          'Check keyRing.secretId in the config; for a new secret, bootstrap it with `signet rotate --profile media`.',
      },
    ]);
  });

  it('no RING_UNREADABLE when the secret holds a ring', () => {
    expect(judge(checkRingReadable, snapshotOf(), 'RING_UNREADABLE')).toEqual([]);
  });

  it('RING_INVALID: the secret holds something that is not a ring; signers stop once their cache is maxStale old', () => {
    const snapshot = snapshotOf({
      ring: { status: 'invalid', message: 'Expected schema signet.keyring/2', keyIds: [] },
    });
    const [finding, ...rest] = judge(checkRingReadable, snapshot, 'RING_INVALID');
    expect(rest).toEqual([]);
    expect(finding).toMatchObject({ severity: 'error', keyId: null });
    expect(finding!.message).toBe(
      'The key ring secret signet/test does not hold a valid key ring (Expected schema signet.keyring/2): signers refuse it and stop signing once their cached ring is 60s old.',
    );
    expect(finding!.remedy).toContain(
      'aws secretsmanager update-secret-version-stage --secret-id signet/test --version-stage AWSCURRENT',
    );
  });

  it('no RING_INVALID for a valid ring', () => {
    expect(judge(checkRingReadable, snapshotOf(), 'RING_INVALID')).toEqual([]);
  });
});

describe('checkActiveKey', () => {
  it('NO_ACTIVE_KEY: a ring with only a pending key says which key activates once propagated', () => {
    const snapshot = snapshotOf({ keys: [pendingKey('KPENDING000001', 60)] });
    expect(judge(checkActiveKey, snapshot, 'NO_ACTIVE_KEY')).toEqual([
      {
        severity: 'error',
        code: 'NO_ACTIVE_KEY',
        profile: 'media',
        keyId: null,
        message:
          'The ring has no active key: the service cannot sign for this profile (503 keys-unavailable); pending key KPENDING000001 activates once it has propagated.',
        remedy: 'Run `signet rotate --profile media` to introduce (or activate) a key.',
      },
    ]);
  });

  it('NO_ACTIVE_KEY: names the pending key, not a retiring one listed before it', () => {
    const snapshot = snapshotOf({
      keys: [retiringKey('KRETIRING00001', 60), pendingKey('KPENDING000001', 60)],
    });
    const [finding] = judge(checkActiveKey, snapshot, 'NO_ACTIVE_KEY');
    expect(finding!.message).toContain('; pending key KPENDING000001 activates once it has propagated.');
    expect(finding!.message).not.toContain('KRETIRING00001');
  });

  it('NO_ACTIVE_KEY: an empty ring', () => {
    const [finding] = judge(checkActiveKey, snapshotOf({ keys: [] }), 'NO_ACTIVE_KEY');
    expect(finding).toMatchObject({
      severity: 'error',
      message: 'The ring has no active key: the service cannot sign for this profile (503 keys-unavailable).',
    });
  });

  it('no NO_ACTIVE_KEY once the pending key is active', () => {
    const snapshot = snapshotOf({ keys: [activeKey({ id: 'KPENDING000001' })] });
    expect(judge(checkActiveKey, snapshot, 'NO_ACTIVE_KEY')).toEqual([]);
  });
});
