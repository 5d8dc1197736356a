import * as z from 'zod';

/**
 * The schema tag this version writes. The number changes only when a reader of an older number
 * could not use the ring safely; fields added since keep the number, and every reader keeps the
 * fields it does not know through a read-modify-write (docs/design.md, "The key ring document").
 */
export const KEY_RING_SCHEMA = 'signet.keyring/2';

/** The highest schema number this version reads. */
export const KEY_RING_SCHEMA_VERSION = 3;

/**
 * The tag of a ring holding a KMS key (no private key): a version that does not know KMS keys must
 * refuse such a ring rather than fail on a missing private key, so these rings carry number 3; rings
 * without KMS keys keep number 2, which older versions still read (docs/design.md, "The key ring document").
 */
export const KMS_KEY_RING_SCHEMA = 'signet.keyring/3';

/** A KMS key ARN: `arn:<partition>:kms:<region>:<account>:key/<id>`. */
export const KMS_KEY_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]{1,128}$/;

const isoTime = z.iso.datetime({ offset: false });
const seconds = z.number().int().nonnegative();

/**
 * What a key may have signed, recorded while it could sign (docs/design.md, "Recorded bounds"):
 * the largest `ttl.max`, `cache.maxStale` and `rotation.clockSkew` of any config a rotator ran with
 * while the key was pending, active, or retiring but still usable by a signer holding a cached
 * ring. A later, shorter config never shortens them. `propagation` is the wait its activation
 * honoured. Seconds.
 */
export const signingBoundsSchema = z.looseObject({
  ttlMax: seconds,
  maxStale: seconds,
  clockSkew: seconds,
  propagation: seconds.optional(),
});

/** One key of a ring. The public key id and the private key always travel together (docs/design.md). */
export const ringKeySchema = z.looseObject({
  /** The CloudFront public key id; absent while a pending key is not yet created in CloudFront. */
  id: z
    .string()
    .regex(/^[A-Z0-9]{8,128}$/)
    .optional(),
  algorithm: z.enum(['ecdsa-p256', 'rsa-2048']),
  hash: z.enum(['sha1', 'sha256']),
  /** The private key PEM, for `secrets-manager` keys; absent for KMS keys (the key stays in KMS). */
  privateKey: z.string().startsWith('-----BEGIN').optional(),
  /** The KMS key that signs for this key (`signer: kms`), recorded beside the CloudFront id. */
  kmsKeyArn: z.string().regex(KMS_KEY_ARN).optional(),
  /** KMS keys: the SPKI public key PEM from GetPublicKey, to verify and compare without a KMS call. */
  publicKey: z.string().startsWith('-----BEGIN PUBLIC KEY-----').optional(),
  fingerprint: z.string().regex(/^sha256:[A-Za-z0-9_-]{43}$/),
  state: z.enum(['pending', 'active', 'retiring']),
  createdAt: isoTime,
  trustedAt: isoTime.optional(),
  activatedAt: isoTime.optional(),
  retiredAt: isoTime.optional(),
  /** Absent in rings written before bounds were recorded: the current config stands in until a run records them. */
  bounds: signingBoundsSchema.optional(),
});

/** A key that has left the ring: enough to say it was Signet's, never the private key. */
export const historyEntrySchema = z.looseObject({
  id: z.string().optional(),
  fingerprint: z.string(),
  /** The KMS key of a KMS-signed key: scheduled for deletion when the key left the ring. */
  kmsKeyArn: z.string().optional(),
  activatedAt: isoTime.optional(),
  retiredAt: isoTime.optional(),
  removedAt: isoTime.optional(),
  revokedAt: isoTime.optional(),
  /**
   * The last instant a URL or cookie it signed could be valid, under the bounds recorded when it
   * left. Absent in entries written before bounds were recorded: such entries are not judged.
   */
  validUntil: isoTime.optional(),
});

/**
 * An error-severity invariant violation the rotator has already reported (counted and alarmed once).
 * It stays listed while it persists, so later runs neither count it again nor fail on it.
 */
export const incidentSchema = z.looseObject({
  code: z.string().min(1),
  keyId: z.string().optional(),
  firstSeenAt: isoTime,
});

/** The key ring document kept (as AWSCURRENT) in one Secrets Manager secret per profile. */
export const keyRingSchema = z
  .looseObject({
    schema: z.string().regex(/^signet\.keyring\/\d+$/),
    /** The CloudFront key group; absent only while bootstrap has not yet created or adopted it. */
    keyGroupId: z.string().min(1).optional(),
    keys: z.array(ringKeySchema),
    history: z.array(historyEntrySchema).default([]),
    incidents: z.array(incidentSchema).optional(),
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
      if ((key.privateKey === undefined) === (key.kmsKeyArn === undefined)) {
        ctx.addIssue({
          code: 'custom',
          path: ['keys', index],
          message: 'Expected either privateKey (secrets-manager) or kmsKeyArn (kms), exactly one',
        });
      }
      if (key.kmsKeyArn !== undefined && key.publicKey === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['keys', index, 'publicKey'],
          message: 'Expected the public key PEM of a KMS key',
        });
      }
      if (key.kmsKeyArn !== undefined && key.hash !== 'sha256') {
        ctx.addIssue({
          code: 'custom',
          path: ['keys', index, 'hash'],
          message: 'Expected sha256 with a KMS key (KMS signs with SHA-256)',
        });
      }
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
/** What a key may have signed, as recorded in the ring. */
export type SigningBounds = z.output<typeof signingBoundsSchema>;
/** An invariant violation already reported. */
export type Incident = z.output<typeof incidentSchema>;

/** A key ring document that does not parse or breaks the ring's rules. */
export class KeyRingError extends Error {
  readonly code = 'ERR_KEY_RING_INVALID';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KeyRingError';
  }
}

/**
 * The reader chain: each entry lifts a document of schema number `n` to `n + 1`. A change that
 * older readers could not use safely bumps {@link KEY_RING_SCHEMA_VERSION} and adds its step here;
 * rings of every earlier number then still load.
 */
const UPGRADES: Readonly<Record<number, (document: Record<string, unknown>) => Record<string, unknown>>> = {
  // 1 -> 2: keys gained `bounds`, history entries `validUntil`, the ring `incidents`; all optional,
  // so a version-1 document is a valid version-2 one once tagged. Its keys' bounds are recorded by
  // the next rotator run (from the config in force then).
  1: (document) => ({ ...document, schema: 'signet.keyring/2' }),
};

/**
 * Parses a key ring document written by this version, an earlier one (lifted through the reader
 * chain), or a later one that kept the schema number (its unknown fields are kept, so a rollback
 * keeps signing and writes them back unchanged). The error names the fields that are wrong, never
 * their values: a ring holds private keys, and this message may reach a log.
 */
export function parseKeyRing(text: string): KeyRing {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new KeyRingError('Expected the key ring secret to hold JSON; it does not.', { cause });
  }
  return readKeyRing(json);
}

/** Validates (and lifts, through the reader chain) a key ring document already parsed from JSON. */
export function readKeyRing(json: unknown): KeyRing {
  let document = json;
  if (typeof document === 'object' && document !== null && !Array.isArray(document)) {
    const tag = (document as { schema?: unknown }).schema;
    const number = typeof tag === 'string' ? /^signet\.keyring\/(\d+)$/.exec(tag)?.[1] : undefined;
    let version = number === undefined ? Number.NaN : Number(number);
    if (version > KEY_RING_SCHEMA_VERSION) {
      throw new KeyRingError(
        `Expected a key ring of schema signet.keyring/${KEY_RING_SCHEMA_VERSION} or earlier; got ${tag}, ` +
          'written by a newer Signet that this version cannot use safely. Deploy that version (or newer) again.',
      );
    }
    while (UPGRADES[version] !== undefined) {
      document = UPGRADES[version]!(document as Record<string, unknown>);
      version++;
    }
  }
  const result = keyRingSchema.safeParse(document);
  if (!result.success) {
    const problems = result.error.issues.map(
      (issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`,
    );
    throw new KeyRingError(`Expected a ${KEY_RING_SCHEMA} key ring; ${problems.join('; ')}.`);
  }
  return result.data;
}

/** Serializes a ring for storage (no whitespace; fields this version does not know are kept). */
export function serializeKeyRing(ring: KeyRing): string {
  const checked = readKeyRing(JSON.parse(JSON.stringify(ring)));
  // The lowest number that describes the ring: 3 only while it holds a KMS key (see KMS_KEY_RING_SCHEMA).
  const hasKms = checked.keys.some((key) => key.kmsKeyArn !== undefined);
  const schema = hasKms ? KMS_KEY_RING_SCHEMA : KEY_RING_SCHEMA;
  return JSON.stringify({ ...checked, schema });
}
