import { describe, expect, it } from 'vitest';
import { type HistoryEntry, KEY_RING_SCHEMA, type KeyRing, type RingKey } from '../../lib/keys/ring.ts';
import { KMS_DELETION_WINDOW_DAYS, kmsSweepDue } from '../../lib/rotation/kms-keys.ts';
import { ringKey } from '../support/rings.ts';
import { testProfile } from '../support/rotation-sandbox.ts';

// When a rotator run sweeps the KMS keys tagged for a ring (docs/design.md, "Rotation"): always for a
// signer: kms profile or one marked kms: retiring; otherwise only while the ring names a KMS key or
// lost one within KMS's 30-day deletion window. A profile that never used KMS makes no KMS call.

const NOW = new Date('2026-11-22T12:00:00.000Z');
const DAY_MS = 86_400_000;
const ARN = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const daysAgo = (days: number) => new Date(NOW.getTime() - days * DAY_MS).toISOString();

const secretsManager = testProfile();
const local = ringKey();

function ringOf(keys: readonly RingKey[], history: readonly HistoryEntry[] = []): KeyRing {
  return { schema: KEY_RING_SCHEMA, keyGroupId: 'group-1', keys: [...keys], history: [...history] };
}

function kmsKey(): RingKey {
  const { privateKey: _private, ...rest } = ringKey({ hash: 'sha256' });
  return { ...rest, kmsKeyArn: ARN, publicKey: '-----BEGIN PUBLIC KEY-----\n' };
}

const left = (fields: Partial<HistoryEntry>): HistoryEntry => ({
  id: 'KREMOVED000001',
  fingerprint: 'sha256:removed',
  kmsKeyArn: ARN,
  ...fields,
});

describe('kmsSweepDue', () => {
  it('always for signer: kms and kms: retiring, with or without a ring', () => {
    for (const profile of [testProfile({ signer: 'kms' }), testProfile({ kms: 'retiring' })]) {
      expect(kmsSweepDue(profile, undefined, NOW)).toBe(true);
      expect(kmsSweepDue(profile, ringOf([local]), NOW)).toBe(true);
    }
  });

  it('never for a secrets-manager profile whose ring never named a KMS key', () => {
    expect(kmsSweepDue(secretsManager, undefined, NOW)).toBe(false);
    expect(kmsSweepDue(secretsManager, ringOf([local]), NOW)).toBe(false);
    expect(
      kmsSweepDue(
        secretsManager,
        ringOf([local], [{ id: 'K1', fingerprint: 'sha256:x', removedAt: daysAgo(1) }]),
        NOW,
      ),
    ).toBe(false);
  });

  it('while a ring key signs through KMS (switched back without the mark)', () => {
    expect(kmsSweepDue(secretsManager, ringOf([local, kmsKey()]), NOW)).toBe(true);
  });

  it('while a KMS key left the ring within the deletion window, by removal or revocation', () => {
    const window = KMS_DELETION_WINDOW_DAYS;
    expect(kmsSweepDue(secretsManager, ringOf([local], [left({ removedAt: daysAgo(1) })]), NOW)).toBe(true);
    expect(
      kmsSweepDue(secretsManager, ringOf([local], [left({ removedAt: daysAgo(window - 0.01) })]), NOW),
    ).toBe(true);
    expect(kmsSweepDue(secretsManager, ringOf([local], [left({ removedAt: daysAgo(window) })]), NOW)).toBe(
      false,
    );
    expect(
      kmsSweepDue(secretsManager, ringOf([local], [left({ removedAt: daysAgo(window + 1) })]), NOW),
    ).toBe(false);
    expect(kmsSweepDue(secretsManager, ringOf([local], [left({ revokedAt: daysAgo(2) })]), NOW)).toBe(true);
    expect(
      kmsSweepDue(secretsManager, ringOf([local], [left({ revokedAt: daysAgo(window + 1) })]), NOW),
    ).toBe(false);
    // When it left is not recorded: swept, rather than a key left billing.
    expect(kmsSweepDue(secretsManager, ringOf([local], [left({})]), NOW)).toBe(true);
    // Any one recent entry is enough.
    expect(
      kmsSweepDue(
        secretsManager,
        ringOf([local], [left({ removedAt: daysAgo(90) }), left({ removedAt: daysAgo(3) })]),
        NOW,
      ),
    ).toBe(true);
  });
});
