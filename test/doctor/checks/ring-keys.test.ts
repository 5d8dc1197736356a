import { describe, expect, it } from 'vitest';
import { checkRingKeys } from '../../../lib/doctor/checks/ring-keys.ts';
import { ringKey } from '../../support/rings.ts';
import {
  ACTIVE_ID,
  activeKey,
  judge,
  pendingKey,
  publicPemOf,
  registered,
  retiringKey,
  snapshotOf,
} from './snapshots.ts';

// Each ring key against CloudFront: a public key under its id, a private key that parses and
// matches the ring's fingerprint and CloudFront's public key (docs/design.md, "The key ring document").

describe('PUBLIC_KEY_MISSING', () => {
  it('is an error for the active key, with a revoke as remedy', () => {
    const snapshot = snapshotOf({ publicKeys: [] });
    expect(judge(checkRingKeys, snapshot, 'PUBLIC_KEY_MISSING')).toEqual([
      {
        severity: 'error',
        code: 'PUBLIC_KEY_MISSING',
        profile: 'media',
        keyId: ACTIVE_ID,
        message: `The active key ${ACTIVE_ID} has no CloudFront public key (NoSuchPublicKey): every URL it signed or signs is refused (403 InvalidKey, "Unknown Key").`,
        remedy: `signet revoke ${ACTIVE_ID} --profile media --yes`,
      },
    ]);
  });

  it('is an error for a retiring key before its removal time: what it signed is still presented', () => {
    const active = activeKey();
    const snapshot = snapshotOf({
      keys: [active, retiringKey('KRETIRING00001', 100)],
      publicKeys: [registered(active)],
    });
    const [finding] = judge(checkRingKeys, snapshot, 'PUBLIC_KEY_MISSING');
    expect(finding).toMatchObject({
      severity: 'error',
      keyId: 'KRETIRING00001',
      message:
        'The retiring key KRETIRING00001 has no CloudFront public key (NoSuchPublicKey): every URL it signed is refused (403 InvalidKey, "Unknown Key").',
    });
  });

  it('is a warning for a pending key: it only cannot be activated yet', () => {
    const active = activeKey();
    const snapshot = snapshotOf({
      keys: [active, pendingKey('KPENDING000001', 60)],
      publicKeys: [registered(active)],
    });
    expect(judge(checkRingKeys, snapshot, 'PUBLIC_KEY_MISSING')).toEqual([
      expect.objectContaining({
        severity: 'warning',
        keyId: 'KPENDING000001',
        message:
          'The pending key KPENDING000001 has no CloudFront public key (NoSuchPublicKey): it cannot be activated.',
        remedy: 'Run `signet rotate --profile media` to register it again.',
      }),
    ]);
  });

  it('is not reported when CloudFront has the key', () => {
    expect(judge(checkRingKeys, snapshotOf(), 'PUBLIC_KEY_MISSING')).toEqual([]);
  });

  it('is not reported for a retiring key past its removal time: a removal half done, which the next run finishes', () => {
    const active = activeKey();
    const snapshot = snapshotOf({
      keys: [active, retiringKey('KRETIRING00001', 400)],
      publicKeys: [registered(active)],
    });
    expect(judge(checkRingKeys, snapshot, 'PUBLIC_KEY_MISSING')).toEqual([]);
  });
});

describe('RING_INVALID (a ring key)', () => {
  it('a private key that does not parse: here a public key where the private key belongs', () => {
    const key = activeKey();
    const broken = { ...key, privateKey: publicPemOf(key) };
    const snapshot = snapshotOf({ keys: [broken], publicKeys: [registered(key)] });
    const [finding, ...rest] = judge(checkRingKeys, snapshot, 'RING_INVALID');
    expect(rest).toEqual([]);
    expect(finding).toMatchObject({
      severity: 'error',
      keyId: ACTIVE_ID,
      remedy: `signet revoke ${ACTIVE_ID} --profile media --yes`,
    });
    expect(finding!.message).toMatch(
      new RegExp(
        `^The private key of the active key ${ACTIVE_ID} does not parse \\(Expected a private key PEM .*\\): nothing can be signed with it\\.$`,
      ),
    );
  });

  it('a fingerprint in the ring that is not its private key’s: the ring was edited by hand', () => {
    const key = activeKey();
    const other = ringKey();
    const snapshot = snapshotOf({
      keys: [{ ...key, fingerprint: other.fingerprint }],
      publicKeys: [registered(key)],
    });
    expect(judge(checkRingKeys, snapshot, 'RING_INVALID')).toEqual([
      {
        severity: 'error',
        code: 'RING_INVALID',
        profile: 'media',
        keyId: ACTIVE_ID,
        message: `The ring records fingerprint ${other.fingerprint} for the active key ${ACTIVE_ID}, but its private key’s is ${key.fingerprint}: the ring was edited by hand.`,
        remedy: `signet revoke ${ACTIVE_ID} --profile media --yes`,
      },
    ]);
  });

  it('a key without a CloudFront id is named by its fingerprint, and the remedy is a rotation', () => {
    const active = activeKey();
    const { id: _id, ...pending } = pendingKey('KPENDING000001', undefined);
    const snapshot = snapshotOf({ keys: [active, { ...pending, privateKey: publicPemOf(pending) }] });
    const [finding] = judge(checkRingKeys, snapshot, 'RING_INVALID');
    expect(finding).toMatchObject({
      severity: 'error',
      keyId: null,
      remedy: 'Run `signet rotate --profile media`.',
    });
    expect(finding!.message).toContain(
      `The private key of the pending key ${pending.fingerprint} does not parse`,
    );
  });

  it('is not reported when every private key parses and matches its fingerprint', () => {
    expect(judge(checkRingKeys, snapshotOf(), 'RING_INVALID')).toEqual([]);
  });
});

describe('PUBLIC_KEY_MISMATCH', () => {
  it('CloudFront’s public key under the id is another key’s', () => {
    const key = activeKey();
    const other = ringKey();
    const impostor = registered(key, { encodedKey: publicPemOf(other) });
    const snapshot = snapshotOf({ keys: [key], publicKeys: [impostor] });
    expect(judge(checkRingKeys, snapshot, 'PUBLIC_KEY_MISMATCH')).toEqual([
      {
        severity: 'error',
        code: 'PUBLIC_KEY_MISMATCH',
        profile: 'media',
        keyId: ACTIVE_ID,
        message: `CloudFront’s public key ${ACTIVE_ID} (${impostor.name}, ${other.fingerprint}) is not the public half of the ring’s active private key (${key.fingerprint}): every URL it signs fails verification (403 AccessDenied).`,
        remedy: `signet revoke ${ACTIVE_ID} --profile media --yes`,
      },
    ]);
  });

  it('CloudFront’s public key does not parse', () => {
    const key = activeKey();
    const snapshot = snapshotOf({ keys: [key], publicKeys: [registered(key, { encodedKey: 'not a PEM' })] });
    const [finding] = judge(checkRingKeys, snapshot, 'PUBLIC_KEY_MISMATCH');
    expect(finding).toMatchObject({ severity: 'error', keyId: ACTIVE_ID });
    expect(finding!.message).toContain(', unparseable PEM) is not the public half');
  });

  it('is not reported when CloudFront holds the public half of the ring’s key', () => {
    expect(judge(checkRingKeys, snapshotOf(), 'PUBLIC_KEY_MISMATCH')).toEqual([]);
  });
});
