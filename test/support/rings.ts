import { generateKeyPairSync } from 'node:crypto';
import { KEY_RING_SCHEMA, type KeyRing, type RingKey } from '../../lib/keys/ring.ts';
import { fingerprintOf } from '../../lib/signing/index.ts';

/** A ring key generated at run time (never committed). */
export function ringKey(
  overrides: Partial<RingKey> & { algorithm?: 'ecdsa-p256' | 'rsa-2048' } = {},
): RingKey {
  const algorithm = overrides.algorithm ?? 'ecdsa-p256';
  const { privateKey, publicKey } =
    algorithm === 'rsa-2048'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return {
    algorithm,
    hash: algorithm === 'rsa-2048' ? 'sha1' : 'sha256',
    privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    fingerprint: fingerprintOf(publicKey),
    state: 'active',
    id: 'K2JCJMDEHXQW5F',
    createdAt: '2026-11-01T00:00:00Z',
    trustedAt: '2026-11-01T00:00:00Z',
    activatedAt: '2026-11-01T01:00:00Z',
    // The bounds a rotator running testProfile() records (ttl.max 300, maxStale 60, clockSkew 30).
    bounds: { ttlMax: 300, maxStale: 60, clockSkew: 30 },
    ...overrides,
  };
}

/** A ring with one active key. */
export function activeRing(key: RingKey = ringKey()): KeyRing {
  return {
    schema: KEY_RING_SCHEMA,
    keyGroupId: '5b7a1f9e-1111-4c8e-9a43-0123456789ab',
    keys: [key],
    history: [],
  };
}
