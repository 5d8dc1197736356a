import { createPublicKey } from 'node:crypto';
import { CreateKeyCommand, GetPublicKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type RunningKms, startKms } from '../../infra/local/kms.ts';
import { parseConfig } from '../../lib/config/index.ts';
import { type ActiveKey, KeyRingCache, KeysUnavailableError } from '../../lib/keys/cache.ts';
import type { KmsRingKey } from '../../lib/keys/kms.ts';
import { kmsSignerFactory } from '../../lib/keys/kms-signers.ts';
import { MemoryKeyRingStore } from '../../lib/keys/memory-store.ts';
import { KEY_RING_SCHEMA, type KeyRing, type RingKey } from '../../lib/keys/ring.ts';
import type { KeyRingStore, VersionedKeyRing } from '../../lib/keys/store.ts';
import { fingerprintOf, parseVerifyingKey, verifyRequest } from '../../lib/signing/index.ts';
import { ringKey } from '../support/rings.ts';

// The key ring cache with a `signer: kms` ring (docs/operators.md, "KMS signing"), through the KMS
// stand-in and the real KMS signer: which key a refreshed ring signs with, that a refresh that keeps
// the active key keeps its cached signatures (no new KMS call), and the clear 503 when a process
// cannot sign with the ring it loaded.

const NOW = Date.UTC(2026, 10, 22, 12);
const NOW_S = NOW / 1000;
const KEY_ID = 'K2JCJMDEHXQW5F';
const OTHER_ID = 'K9OTHERKEY0001';
const URL_TO_SIGN = 'https://media.example.com/a.mp4';

let kms: RunningKms;
let client: KMSClient;

beforeAll(async () => {
  kms = await startKms();
  client = new KMSClient({
    endpoint: kms.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'sandbox', secretAccessKey: 'sandbox' },
  });
});
afterAll(async () => {
  client.destroy();
  await kms.close();
});
beforeEach(() => kms.standIn.resetCalls());

/** A KMS key made in the stand-in, and the ring key that records it under `id` (no private key). */
async function kmsRingKey(id: string): Promise<KmsRingKey> {
  const { KeyMetadata } = await client.send(
    new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' }),
  );
  const { PublicKey } = await client.send(new GetPublicKeyCommand({ KeyId: KeyMetadata!.Arn }));
  const publicKey = createPublicKey({ key: Buffer.from(PublicKey!), format: 'der', type: 'spki' });
  const { privateKey: _none, ...rest } = ringKey({ id, hash: 'sha256' });
  return {
    ...rest,
    kmsKeyArn: KeyMetadata!.Arn!,
    publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    fingerprint: fingerprintOf(publicKey),
  };
}

const ringOf = (...keys: RingKey[]): KeyRing => ({
  schema: KEY_RING_SCHEMA,
  keyGroupId: 'group-1',
  keys,
  history: [],
});

/** A cache over the in-memory store whose KMS signers call the stand-in; a clock moved by hand. */
function cacheWith(store: KeyRingStore, options: { kmsSigner?: boolean } = {}) {
  let time = NOW;
  const config = parseConfig({
    aws: { region: 'us-east-1', endpoints: { kms: kms.url } },
    profiles: {
      media: {
        domains: ['media.example.com'],
        keyRing: { secretId: 'signet/kms-cache' },
        signer: 'kms',
        ttl: { default: 300, max: 3600 },
      },
    },
  });
  const cache = new KeyRingCache({
    store,
    ttlSeconds: 30,
    maxStaleSeconds: 600,
    now: () => time,
    ...(options.kmsSigner === false ? {} : { remoteSigner: kmsSignerFactory(config, { now: () => time }) }),
  });
  return { cache, advance: (seconds: number) => (time += seconds * 1000) };
}

/** Signs one URL with the ring's active key, as the API does (its id as Key-Pair-Id). */
async function signWith(active: ActiveKey): Promise<string> {
  const [signed] = await active.remote!.signUrls([URL_TO_SIGN], {
    keyPairId: active.id,
    hash: active.hash,
    expires: NOW_S + 600,
    now: NOW_S,
  });
  return signed!.url;
}

/** Whether CloudFront, trusting `key` under `id`, accepts the URL. */
const acceptedBy = (url: string, id: string, key: RingKey) =>
  verifyRequest({ url, now: NOW_S + 1, trustedKeys: new Map([[id, parseVerifyingKey(key.publicKey!)]]) })
    .allowed;

/** What `current()` is refused with. */
async function refusalOf(cache: KeyRingCache): Promise<Error> {
  return cache.current().then(
    () => {
      throw new Error('Expected the cache to refuse the ring');
    },
    (error: Error) => error,
  );
}

/** The ring the cache serves once it has refreshed (past its ttl, then the background refresh). */
async function refreshed(cache: KeyRingCache, advance: (seconds: number) => void) {
  advance(31);
  await cache.current();
  await new Promise((resolve) => setImmediate(resolve));
  return cache.current();
}

describe('KeyRingCache with KMS keys', () => {
  it('keeps the active key’s signer across ring versions: a policy signed before is not signed again in KMS', async () => {
    const store = new MemoryKeyRingStore();
    const active = await kmsRingKey(KEY_ID);
    const v1 = await store.save(ringOf(active), undefined, 'bootstrap');
    const { cache, advance } = cacheWith(store);
    const first = await signWith((await cache.current()).active!);
    expect(kms.standIn.countCalls('Sign')).toBe(1);

    // The rotator adds a pending key: a new ring version, the same active key.
    const pending = { ...(await kmsRingKey(OTHER_ID)), state: 'pending' as const };
    const v2 = await store.save(ringOf(active, pending), v1, 'add-pending');
    const loaded = await refreshed(cache, advance);
    expect(loaded.version).toBe(v2);
    expect(await signWith(loaded.active!)).toBe(first);
    expect(kms.standIn.countCalls('Sign')).toBe(1);
  });

  it('signs with the new KMS key when the ring names another one for the same key id', async () => {
    const store = new MemoryKeyRingStore();
    const before = await kmsRingKey(KEY_ID);
    const v1 = await store.save(ringOf(before), undefined, 'bootstrap');
    const { cache, advance } = cacheWith(store);
    await signWith((await cache.current()).active!);

    const after = await kmsRingKey(KEY_ID);
    await store.save(ringOf(after), v1, 'rekey');
    const active = (await refreshed(cache, advance)).active!;
    expect(active).toMatchObject({ id: KEY_ID, kmsKeyArn: after.kmsKeyArn });
    const url = await signWith(active);
    expect(acceptedBy(url, KEY_ID, after)).toBe(true);
    expect(acceptedBy(url, KEY_ID, before)).toBe(false);
  });

  it('sends the new key id as Key-Pair-Id when the same KMS key is recorded under another CloudFront id', async () => {
    const store = new MemoryKeyRingStore();
    const key = await kmsRingKey(KEY_ID);
    const v1 = await store.save(ringOf(key), undefined, 'bootstrap');
    const { cache, advance } = cacheWith(store);
    await signWith((await cache.current()).active!);

    await store.save(ringOf({ ...key, id: OTHER_ID }), v1, 're-registered');
    const active = (await refreshed(cache, advance)).active!;
    expect(active.id).toBe(OTHER_ID);
    const url = await signWith(active);
    expect(new URL(url).searchParams.get('Key-Pair-Id')).toBe(OTHER_ID);
    expect(acceptedBy(url, OTHER_ID, key)).toBe(true);
  });

  it('refuses (503) a KMS ring in a process built without a KMS signer, the reason kept for the log', async () => {
    const store = new MemoryKeyRingStore();
    const key = await kmsRingKey(KEY_ID);
    await store.save(ringOf(key), undefined, 'bootstrap');
    const { cache } = cacheWith(store, { kmsSigner: false });
    const refusal = await refusalOf(cache);
    expect(refusal).toBeInstanceOf(KeysUnavailableError);
    expect(refusal.message).toBe('The key ring could not be loaded from its store.');
    expect(refusal.cause).toBeInstanceOf(KeysUnavailableError);
    expect((refusal.cause as Error).message).toBe(
      `The active key ${KEY_ID} signs through KMS (${key.kmsKeyArn}), but this process was built without a KMS signer.`,
    );
    expect(kms.standIn.countCalls('Sign')).toBe(0);
  });

  it('refuses (503) an active key with neither a private key nor a KMS key from a store that does not validate', async () => {
    const { privateKey: _none, ...keyless } = ringKey({ id: KEY_ID });
    // A store that hands back what it holds as is (the real stores parse, and refuse such a ring).
    const raw: KeyRingStore = {
      load: async (): Promise<VersionedKeyRing> => ({ ring: ringOf(keyless), version: 'v1' }),
      save: async () => 'v2',
    };
    const refusal = await refusalOf(cacheWith(raw).cache);
    expect(refusal).toBeInstanceOf(KeysUnavailableError);
    expect(refusal.cause).toBeInstanceOf(KeysUnavailableError);
    expect((refusal.cause as Error).message).toBe(
      `The active key ${KEY_ID} has neither a private key nor a KMS key.`,
    );
  });
});
