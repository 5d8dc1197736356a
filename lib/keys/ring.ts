import * as z from 'zod';

/** The schema tag of a key ring document. */
export const KEY_RING_SCHEMA = 'signet.keyring/1';

const isoTime = z.iso.datetime({ offset: false });

/** One key of a ring. The public key id and the private key always travel together (DESIGN §3). */
export const ringKeySchema = z.strictObject({
  /** The CloudFront public key id; absent while a pending key is not yet created in CloudFront. */
  id: z
    .string()
    .regex(/^[A-Z0-9]{8,128}$/)
    .optional(),
  algorithm: z.enum(['ecdsa-p256', 'rsa-2048']),
  hash: z.enum(['sha1', 'sha256']),
  privateKey: z.string().startsWith('-----BEGIN'),
  fingerprint: z.string().regex(/^sha256:[A-Za-z0-9_-]{43}$/),
  state: z.enum(['pending', 'active', 'retiring']),
  createdAt: isoTime,
  trustedAt: isoTime.optional(),
  activatedAt: isoTime.optional(),
  retiredAt: isoTime.optional(),
});

/** A key that has left the ring: enough to say it was Signet's, never the private key. */
export const historyEntrySchema = z.strictObject({
  id: z.string().optional(),
  fingerprint: z.string(),
  activatedAt: isoTime.optional(),
  retiredAt: isoTime.optional(),
  removedAt: isoTime.optional(),
  revokedAt: isoTime.optional(),
});

/** The key ring document kept (as AWSCURRENT) in one Secrets Manager secret per profile. */
export const keyRingSchema = z
  .strictObject({
    schema: z.literal(KEY_RING_SCHEMA),
    /** The CloudFront key group; absent only while bootstrap has not yet created or adopted it. */
    keyGroupId: z.string().min(1).optional(),
    keys: z.array(ringKeySchema),
    history: z.array(historyEntrySchema).default([]),
  })
  .superRefine((ring, ctx) => {
    const active = ring.keys.filter((key) => key.state === 'active');
    if (active.length > 1)
      ctx.addIssue({ code: 'custom', path: ['keys'], message: 'Expected at most one active key' });
    if (active.some((key) => key.id === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['keys'],
        message: 'Expected the active key to have its CloudFront id',
      });
    }
    const fingerprints = new Set<string>();
    for (const [index, key] of ring.keys.entries()) {
      if (fingerprints.has(key.fingerprint)) {
        ctx.addIssue({
          code: 'custom',
          path: ['keys', index, 'fingerprint'],
          message: 'Expected each key once',
        });
      }
      fingerprints.add(key.fingerprint);
      if (key.algorithm === 'ecdsa-p256' && key.hash !== 'sha256') {
        ctx.addIssue({
          code: 'custom',
          path: ['keys', index, 'hash'],
          message: 'Expected sha256 with an ECDSA key',
        });
      }
    }
  });

/** A key ring as stored. */
export type KeyRing = z.output<typeof keyRingSchema>;
/** One key of a ring. */
export type RingKey = z.output<typeof ringKeySchema>;
/** A key that left the ring. */
export type HistoryEntry = z.output<typeof historyEntrySchema>;

/** A key ring document that does not parse or breaks the ring's rules. */
export class KeyRingError extends Error {
  readonly code = 'ERR_KEY_RING_INVALID';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KeyRingError';
  }
}

/**
 * Parses a key ring document. The error names the fields that are wrong, never their values: a
 * ring holds private keys, and this message may reach a log.
 */
export function parseKeyRing(text: string): KeyRing {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new KeyRingError('Expected the key ring secret to hold JSON; it does not.', { cause });
  }
  const result = keyRingSchema.safeParse(json);
  if (!result.success) {
    const problems = result.error.issues.map(
      (issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`,
    );
    throw new KeyRingError(`Expected a ${KEY_RING_SCHEMA} key ring; ${problems.join('; ')}.`);
  }
  return result.data;
}

/** Serializes a ring for storage (stable key order, no whitespace). */
export function serializeKeyRing(ring: KeyRing): string {
  return JSON.stringify(keyRingSchema.parse(ring));
}
