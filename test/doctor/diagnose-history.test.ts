import { createPrivateKey, createPublicKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { diagnose } from '../../lib/doctor/diagnose.ts';
import type { DoctorSnapshot } from '../../lib/doctor/snapshot.ts';
import { type HistoryEntry, KEY_RING_SCHEMA } from '../../lib/keys/ring.ts';
import { publicKeyNameFor } from '../../lib/rotation/names.ts';
import { ringKey } from '../support/rings.ts';
import { testProfile } from '../support/rotation-sandbox.ts';

// Doctor judges keys that left the ring by the bound recorded when they left (docs/design.md,
// "Recorded bounds"), never by today's config: raising ttl.max afterwards must not turn a timely
// removal into an error, and each message says when the last valid URL expired and when the key left.

const T0 = Date.parse('2026-11-22T12:00:00.000Z');
const iso = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();
const GROUP_ID = '5b7a1f9e-1111-4c8e-9a43-0123456789ab';
const active = ringKey({
  id: 'KACTIVE0000001',
  createdAt: iso(-7200),
  trustedAt: iso(-7200),
  activatedAt: iso(-3600),
});

function snapshot(history: HistoryEntry[], profile = testProfile()): DoctorSnapshot {
  const pem = createPublicKey(createPrivateKey(active.privateKey!)).export({ type: 'spki', format: 'pem' });
  return {
    profiles: [
      {
        name: 'media',
        profile,
        ring: {
          status: 'ok',
          ring: { schema: KEY_RING_SCHEMA, keyGroupId: GROUP_ID, keys: [active], history },
        },
        keyGroup: {
          status: 'ok',
          group: { id: GROUP_ID, name: 'signet-media', items: [active.id!], etag: 'E1' },
        },
        distribution: { status: 'unset' },
      },
    ],
    publicKeys: [
      {
        id: active.id!,
        name: publicKeyNameFor('media', active.fingerprint),
        encodedKey: pem.toString(),
        createdTime: iso(-7200),
      },
    ],
    configuredProfiles: 1,
  };
}

const removed = (validUntil: number | undefined): HistoryEntry => ({
  id: 'KOLDKEY0000001',
  fingerprint: 'sha256:old',
  activatedAt: iso(-10_000),
  retiredAt: iso(-3600),
  removedAt: iso(-3000),
  ...(validUntil === undefined ? {} : { validUntil: iso(validUntil) }),
});

const historyFindings = (s: DoctorSnapshot, now = 0) =>
  diagnose(s, new Date(T0 + now * 1000)).filter((finding) => finding.code === 'KEY_REMOVED_WHILE_VALID');

describe('doctor on keys that left the ring', () => {
  it('finds nothing when the key left after its recorded bound, even under a much longer ttl.max today', () => {
    const raised = testProfile({
      ttl: { default: 60, max: 86_400 },
      rotation: { rotateEvery: 86_400, propagation: 120, clockSkew: 30 },
    });
    expect(historyFindings(snapshot([removed(-3100)], raised))).toEqual([]);
  });

  it('does not judge entries written before bounds were recorded', () => {
    expect(historyFindings(snapshot([removed(undefined)]))).toEqual([]);
  });

  it('is an error while URLs the key signed are still valid, saying when it left and when the last one expires', () => {
    expect(historyFindings(snapshot([removed(600)]))).toEqual([
      expect.objectContaining({
        severity: 'error',
        keyId: 'KOLDKEY0000001',
        message: `Key KOLDKEY0000001 left the key group at ${iso(-3000)}; it stopped signing at ${iso(-3600)}, and the last URL or cookie it signed stays valid until ${iso(600)}: until then they are refused (403 InvalidKey).`,
      }),
    ]);
  });

  it('is information once every URL it signed has expired, with the removal before the expiry', () => {
    const [finding] = historyFindings(snapshot([removed(-2000)]));
    expect(finding).toMatchObject({ severity: 'info' });
    expect(finding!.message).toBe(
      `Key KOLDKEY0000001 left the key group at ${iso(-3000)}; it stopped signing at ${iso(-3600)}, before the last URL or cookie it signed expired at ${iso(-2000)}; none of them is valid any more.`,
    );
  });

  it('reports a revocation while its URLs are valid as a warning: it was deliberate', () => {
    const revoked = { ...removed(600), removedAt: undefined, revokedAt: iso(-3000) } as HistoryEntry;
    const { removedAt: _r, ...entry } = revoked;
    expect(historyFindings(snapshot([entry]))).toEqual([
      expect.objectContaining({ severity: 'warning', message: expect.stringContaining('was revoked at') }),
    ]);
  });
});
