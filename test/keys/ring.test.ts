import { describe, expect, it } from 'vitest';
import { KEY_RING_SCHEMA, parseKeyRing, serializeKeyRing } from '../../lib/keys/ring.ts';
import { ringKey } from '../support/rings.ts';

// The ring document's reader chain (docs/design.md, "The key ring document"): rings written by the
// previous version load, rings written by a later version that kept the schema number load with
// their unknown fields kept, and a ring this version cannot use safely is refused, saying why.

const key = ringKey({ state: 'active' });

/** A ring exactly as version 0.1 wrote it: schema 1, no bounds, no validUntil, no incidents. */
function versionOneDocument() {
  const { bounds: _bounds, ...withoutBounds } = key;
  return {
    schema: 'signet.keyring/1',
    keyGroupId: '5b7a1f9e-1111-4c8e-9a43-0123456789ab',
    keys: [withoutBounds],
    history: [
      {
        id: 'KOLDKEY0000001',
        fingerprint: 'sha256:old',
        activatedAt: '2026-10-01T00:00:00.000Z',
        retiredAt: '2026-10-31T00:00:00.000Z',
        removedAt: '2026-11-01T02:00:00.000Z',
      },
    ],
  };
}

describe('parseKeyRing: the reader chain', () => {
  it('loads a ring written by the previous version (schema 1) and writes it back as schema 2', () => {
    const ring = parseKeyRing(JSON.stringify(versionOneDocument()));
    expect(ring.schema).toBe(KEY_RING_SCHEMA);
    expect(ring.keys[0]).toMatchObject({ id: key.id, state: 'active', fingerprint: key.fingerprint });
    // Nothing is invented: what was in force while it signed is unknown until a rotator run records it.
    expect(ring.keys[0]!.bounds).toBeUndefined();
    expect(ring.history[0]!.validUntil).toBeUndefined();
    expect(JSON.parse(serializeKeyRing(ring)).schema).toBe('signet.keyring/2');
  });

  it('keeps fields written by a later version through a read-modify-write, at every level', () => {
    const later = {
      schema: KEY_RING_SCHEMA,
      keyGroupId: '5b7a1f9e-1111-4c8e-9a43-0123456789ab',
      keys: [
        {
          ...key,
          futureKeyRef: 'ref-1',
          bounds: { ...key.bounds, extra: 1 },
        },
      ],
      history: [
        { id: 'KOLDKEY0000001', fingerprint: 'sha256:old', removedAt: '2026-11-01T02:00:00.000Z', note: 'x' },
      ],
      retention: { historyDays: 400 },
    };
    const ring = parseKeyRing(JSON.stringify(later));
    // What an older writer does: change a key's state and write the ring back.
    const changed = {
      ...ring,
      keys: ring.keys.map((k) => ({
        ...k,
        state: 'retiring' as const,
        retiredAt: '2026-11-02T00:00:00.000Z',
      })),
    };
    const written = JSON.parse(serializeKeyRing(changed));
    expect(written.retention).toEqual({ historyDays: 400 });
    expect(written.keys[0]).toMatchObject({
      state: 'retiring',
      futureKeyRef: 'ref-1',
      bounds: { ttlMax: 300, maxStale: 60, clockSkew: 30, extra: 1 },
    });
    expect(written.history[0].note).toBe('x');
  });

  it('refuses a ring of a later schema number, naming it, and never echoes key material', () => {
    const document = { ...versionOneDocument(), schema: 'signet.keyring/4' };
    expect(() => parseKeyRing(JSON.stringify(document))).toThrow(
      expect.objectContaining({
        code: 'ERR_KEY_RING_INVALID',
        message: expect.stringMatching(/signet\.keyring\/3 or earlier; got signet\.keyring\/4.*newer Signet/),
      }),
    );
    try {
      parseKeyRing(JSON.stringify({ ...document, schema: 'signet.keyring/4' }));
    } catch (error) {
      expect((error as Error).message).not.toContain('PRIVATE KEY');
    }
  });

  it('refuses a document without a schema tag, or with bounds that are not whole seconds', () => {
    const { schema: _schema, ...untagged } = versionOneDocument();
    expect(() => parseKeyRing(JSON.stringify(untagged))).toThrow(/schema/);
    const badBounds = {
      ...versionOneDocument(),
      schema: KEY_RING_SCHEMA,
      keys: [{ ...key, bounds: { ttlMax: -1, maxStale: 60, clockSkew: 30 } }],
    };
    expect(() => parseKeyRing(JSON.stringify(badBounds))).toThrow(/keys\.0\.bounds\.ttlMax/);
  });
});
