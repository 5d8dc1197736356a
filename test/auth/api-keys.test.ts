import { timingSafeEqual } from 'node:crypto';
import { CreateSecretCommand, PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MemoryStateStore } from '../../infra/local/state.ts';
import {
  type ApiKeyCacheEvent,
  type ApiKeyRecord,
  type ApiKeySource,
  ApiKeysInvalidError,
  ApiKeysUnavailableError,
  CachedApiKeySource,
  findApiKey,
  hashApiKey,
  isApiKeyLive,
  matchApiKey,
  parseApiKeyDocument,
  principalOf,
  serializeApiKeyDocument,
} from '../../lib/auth/api-keys.ts';
import { createAuthenticator } from '../../lib/auth/authenticator.ts';
import { AuthError } from '../../lib/auth/errors.ts';
import { SecretsManagerApiKeySource } from '../../lib/aws/api-key-source.ts';
import { authSchema } from '../../lib/config/schema.ts';
import { type SecretsManagerFixture, startFixture } from '../support/secrets-manager-fixture.ts';

// Wraps the real timingSafeEqual in a spy, to check that matching goes through it for every record.
vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:crypto')>();
  return { ...actual, timingSafeEqual: vi.fn(actual.timingSafeEqual) };
});

const MOBILE_KEY = 'sk_test_mobile_5f0c2b7a9e1d4c3b';
const PARTNER_KEY = 'sk_test_partner_a1b2c3d4e5f60718';
const SECRET_ID = 'signet/api-keys';

function document(keys: { id: string; key: string }[]): string {
  return JSON.stringify({ keys: keys.map(({ id, key }) => ({ id, sha256: hashApiKey(key) })) });
}

describe('hashApiKey', () => {
  it('is the lowercase hex SHA-256 of the UTF-8 bytes', () => {
    // SHA-256("abc"), FIPS 180-2 appendix B.1.
    expect(hashApiKey('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(hashApiKey('é')).toBe(hashApiKey('\u00e9'));
    expect(hashApiKey('é')).not.toBe(hashApiKey('e\u0301'));
  });
});

describe('parseApiKeyDocument', () => {
  it('reads the documented shape and lowercases the hashes', () => {
    const upper = hashApiKey(MOBILE_KEY).toUpperCase();
    const records = parseApiKeyDocument(
      JSON.stringify({ keys: [{ id: 'mobile-app', sha256: upper, description: 'iOS and Android apps' }] }),
    );
    expect(records).toEqual([
      { id: 'mobile-app', sha256: hashApiKey(MOBILE_KEY), description: 'iOS and Android apps' },
    ]);
    expect(Object.isFrozen(records)).toBe(true);
    expect(parseApiKeyDocument('{"keys":[]}')).toEqual([]);
  });

  it('lists every bad field in one error, without quoting any hash', () => {
    const good = hashApiKey(MOBILE_KEY);
    const text = JSON.stringify({
      keys: [
        { id: 'a', sha256: MOBILE_KEY },
        { id: '', sha256: good },
        { id: 'b', sha256: good },
        { id: 'b', sha256: hashApiKey(PARTNER_KEY), extra: 1 },
      ],
    });
    let error: unknown;
    try {
      parseApiKeyDocument(text);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ApiKeysInvalidError);
    const { code, message } = error as ApiKeysInvalidError;
    expect(code).toBe('ERR_API_KEYS_INVALID');
    for (const path of ['keys.0.sha256', 'keys.1.id', 'keys.2.sha256', 'keys.3.id', 'keys.3']) {
      expect(message).toContain(`${path}:`);
    }
    expect(message).toContain('never the key itself');
    expect(message).not.toContain(MOBILE_KEY);
    expect(message).not.toContain(good);
  });

  it('refuses text that is not JSON, and a document of the wrong shape', () => {
    expect(() => parseApiKeyDocument('keys: []')).toThrow(ApiKeysInvalidError);
    expect(() => parseApiKeyDocument('[]')).toThrow(/\(root\)/);
    expect(() => parseApiKeyDocument('{"key":[]}')).toThrow(/keys/);
  });
});

describe('matchApiKey', () => {
  const records: ApiKeyRecord[] = [
    { id: 'first', sha256: hashApiKey('key-1') },
    { id: 'second', sha256: hashApiKey('key-2') },
    { id: 'third', sha256: hashApiKey('key-3') },
  ];

  beforeEach(() => {
    vi.mocked(timingSafeEqual).mockClear();
  });

  it('finds the id of the matching key', () => {
    expect(matchApiKey(records, 'key-2')).toBe('second');
    expect(matchApiKey(records, 'key-4')).toBeUndefined();
    expect(matchApiKey([], 'key-1')).toBeUndefined();
  });

  it('compares 32-byte digests in constant time against every record, even after a match', () => {
    expect(matchApiKey(records, 'key-1')).toBe('first');
    const calls = vi.mocked(timingSafeEqual).mock.calls;
    expect(calls).toHaveLength(records.length);
    for (const [a, b] of calls) {
      expect((a as Buffer).length).toBe(32);
      expect((b as Buffer).length).toBe(32);
    }
  });

  it('compares the same number of times whether or not a key matches', () => {
    matchApiKey(records, 'key-3');
    const matching = vi.mocked(timingSafeEqual).mock.calls.length;
    vi.mocked(timingSafeEqual).mockClear();
    matchApiKey(records, 'no such key');
    expect(vi.mocked(timingSafeEqual).mock.calls.length).toBe(matching);
  });

  it('ignores a record whose hash is not 32 bytes instead of throwing', () => {
    expect(matchApiKey([{ id: 'bad', sha256: 'abcd' }, ...records], 'key-3')).toBe('third');
  });

  it('matches exactly the stored keys (property)', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string({ minLength: 1, maxLength: 40 }), { minLength: 1, maxLength: 8 }),
        fc.string({ maxLength: 40 }),
        (keys, other) => {
          const stored = keys.map((key, index) => ({ id: `id-${index}`, sha256: hashApiKey(key) }));
          keys.forEach((key, index) => {
            expect(matchApiKey(stored, key)).toBe(`id-${index}`);
          });
          expect(matchApiKey(stored, other)).toBe(
            keys.includes(other) ? `id-${keys.indexOf(other)}` : undefined,
          );
        },
      ),
    );
  });
});

/** A source the test scripts: each load takes the next outcome. */
class ScriptedSource implements ApiKeySource {
  calls = 0;
  readonly #outcomes: (readonly ApiKeyRecord[] | Error)[];
  constructor(...outcomes: (readonly ApiKeyRecord[] | Error)[]) {
    this.#outcomes = outcomes;
  }
  async load(): Promise<readonly ApiKeyRecord[]> {
    this.calls += 1;
    const outcome = this.#outcomes.shift();
    if (outcome === undefined) throw new Error('The test scripted no more loads.');
    if (outcome instanceof Error) throw outcome;
    return outcome;
  }
}

describe('API key lifecycle fields', () => {
  const record = (fields: Partial<ApiKeyRecord> = {}): ApiKeyRecord => ({
    id: 'app-1',
    sha256: hashApiKey('key-1'),
    ...fields,
  });
  const at = (iso: string) => Date.parse(iso) / 1000;

  it('refuses a key from its expiry instant on, and a revoked key at once, as if unknown', () => {
    const expiring = [record({ expiresAt: '2030-01-01T00:00:00Z' })];
    expect(findApiKey(expiring, 'key-1', at('2029-12-31T23:59:59Z'))?.id).toBe('app-1');
    expect(findApiKey(expiring, 'key-1', at('2030-01-01T00:00:00Z'))).toBeUndefined();
    expect(matchApiKey(expiring, 'key-1', at('2031-01-01T00:00:00Z'))).toBeUndefined();
    const revoked = [record({ revokedAt: '2029-01-01T00:00:00Z', expiresAt: '2035-01-01T00:00:00Z' })];
    expect(findApiKey(revoked, 'key-1', at('2028-01-01T00:00:00Z'))).toBeUndefined();
    expect(isApiKeyLive(record({ expiresAt: 'not a date' }), 0)).toBe(false);
    expect(isApiKeyLive(record(), Number.MAX_SAFE_INTEGER)).toBe(true);
  });

  it('compares against every record whether the match is live, expired or revoked', () => {
    const records = [
      record({ id: 'old', sha256: hashApiKey('key-0'), revokedAt: '2020-01-01T00:00:00Z' }),
      record(),
      record({ id: 'later', sha256: hashApiKey('key-2') }),
    ];
    vi.mocked(timingSafeEqual).mockClear();
    findApiKey(records, 'key-0', at('2025-01-01T00:00:00Z'));
    const revokedCalls = vi.mocked(timingSafeEqual).mock.calls.length;
    vi.mocked(timingSafeEqual).mockClear();
    findApiKey(records, 'key-1', at('2025-01-01T00:00:00Z'));
    expect(vi.mocked(timingSafeEqual).mock.calls.length).toBe(revokedCalls);
    expect(revokedCalls).toBe(records.length);
  });

  it("names the principal grants match: the record's principal, else its id", () => {
    expect(principalOf(record())).toBe('app-1');
    expect(principalOf(record({ principal: 'app' }))).toBe('app');
  });

  it('round-trips the fields signet api-keys writes, and refuses bad ones by path', () => {
    const full = record({
      principal: 'app',
      description: 'the app',
      createdAt: '2026-01-01T00:00:00.000Z',
      expiresAt: '2027-01-01T00:00:00.000Z',
      revokedAt: '2026-06-01T00:00:00.000Z',
    });
    const text = serializeApiKeyDocument([full, record({ id: 'bare', sha256: hashApiKey('bare') })]);
    expect(parseApiKeyDocument(text)).toEqual([full, { id: 'bare', sha256: hashApiKey('bare') }]);
    expect(text).not.toContain('key-1');
    expect(() =>
      parseApiKeyDocument(
        JSON.stringify({
          keys: [{ ...full, expiresAt: '2027-01-01', principal: 'has space', revokedAt: 5 }],
        }),
      ),
    ).toThrow(/keys\.0\.principal: .*keys\.0\.expiresAt: Expected an ISO 8601 instant.*keys\.0\.revokedAt/);
    expect(() => serializeApiKeyDocument([record(), record()])).toThrow(/appears twice/);
  });
});

describe('CachedApiKeySource', () => {
  const v1 = [{ id: 'v1', sha256: hashApiKey('one') }];
  const v2 = [{ id: 'v2', sha256: hashApiKey('two') }];
  let time: number;
  const now = () => time;
  let events: ApiKeyCacheEvent[];
  const onEvent = (event: ApiKeyCacheEvent) => events.push(event);

  beforeEach(() => {
    time = Date.parse('2026-05-01T00:00:00Z');
    events = [];
  });

  it('serves the list for the TTL (default 300 s), then reloads', async () => {
    const source = new ScriptedSource(v1, v2);
    const cache = new CachedApiKeySource(source, { now });
    expect(await cache.load()).toBe(v1);
    time += 299_999;
    expect(await cache.load()).toBe(v1);
    expect(source.calls).toBe(1);
    time += 1;
    expect(await cache.load()).toBe(v2);
    expect(source.calls).toBe(2);
  });

  it('keeps serving the last good list when a reload fails, and retries only after the wait', async () => {
    const source = new ScriptedSource(v1, new Error('down'), v2);
    const cache = new CachedApiKeySource(source, {
      ttlSeconds: 60,
      retryAfterFailureSeconds: 10,
      now,
      onEvent,
    });
    await cache.load();
    time += 60_000;
    expect(await cache.load()).toBe(v1);
    expect(source.calls).toBe(2);
    time += 9_999;
    expect(await cache.load()).toBe(v1);
    expect(source.calls).toBe(2);
    time += 1;
    expect(await cache.load()).toBe(v2);
    expect(source.calls).toBe(3);
    expect(events.map((event) => event.type)).toEqual([
      'refreshed',
      'refresh-failed',
      'served-stale',
      'served-stale',
      'refreshed',
    ]);
    expect(events[1]).toMatchObject({ type: 'refresh-failed', ageSeconds: 60 });
  });

  it('throws when the first load fails, and tries again on the next call', async () => {
    const source = new ScriptedSource(new ApiKeysUnavailableError('down'), v1);
    const cache = new CachedApiKeySource(source, { now });
    await expect(cache.load()).rejects.toBeInstanceOf(ApiKeysUnavailableError);
    expect(await cache.load()).toBe(v1);
  });

  it('has at most one load in flight however many callers wait', async () => {
    let release: (records: readonly ApiKeyRecord[]) => void = () => {};
    const source: ApiKeySource & { calls: number } = {
      calls: 0,
      load() {
        this.calls += 1;
        return new Promise((resolve) => {
          release = resolve;
        });
      },
    };
    const cache = new CachedApiKeySource(source, { now });
    const waiting = Array.from({ length: 10 }, () => cache.load());
    expect(source.calls).toBe(1);
    release(v1);
    for (const result of await Promise.all(waiting)) expect(result).toBe(v1);
    time += 300_000;
    const again = [cache.load(), cache.load()];
    release(v2);
    expect(await Promise.all(again)).toEqual([v2, v2]);
    expect(source.calls).toBe(2);
  });
});

describe('SecretsManagerApiKeySource against the Secrets Manager stand-in', () => {
  let sandbox: SecretsManagerFixture;

  beforeEach(async () => {
    sandbox = await startFixture({ store: new MemoryStateStore() });
  });

  afterEach(async () => {
    await sandbox.stop();
  });

  it('reads the key hashes with the real SDK client', async () => {
    await sandbox.client.send(
      new CreateSecretCommand({
        Name: SECRET_ID,
        SecretString: document([{ id: 'mobile-app', key: MOBILE_KEY }]),
      }),
    );
    const records = await new SecretsManagerApiKeySource(sandbox.client, SECRET_ID).load();
    expect(records).toEqual([{ id: 'mobile-app', sha256: hashApiKey(MOBILE_KEY) }]);
    expect(sandbox.standIn.countCalls('GetSecretValue')).toBe(1);
  });

  it('reports a missing secret as unavailable, with the SDK error as cause', async () => {
    const error = await new SecretsManagerApiKeySource(sandbox.client, 'no/such/secret')
      .load()
      .catch((e) => e);
    expect(error).toBeInstanceOf(ApiKeysUnavailableError);
    expect(error.code).toBe('ERR_API_KEYS_UNAVAILABLE');
    expect(error.message).toContain('no/such/secret');
    expect(error.message).toContain('ResourceNotFoundException');
    expect(error.cause.name).toBe('ResourceNotFoundException');
  });

  it('reports an invalid document as invalid, naming the secret', async () => {
    await sandbox.client.send(
      new CreateSecretCommand({
        Name: SECRET_ID,
        SecretString: JSON.stringify({ keys: [{ id: 'x', sha256: 'nope' }] }),
      }),
    );
    const error = await new SecretsManagerApiKeySource(sandbox.client, SECRET_ID).load().catch((e) => e);
    expect(error).toBeInstanceOf(ApiKeysInvalidError);
    expect(error.message).toContain(SECRET_ID);
    expect(error.message).toContain('keys.0.sha256');
  });

  it('reports a binary secret as invalid', async () => {
    await sandbox.client.send(
      new CreateSecretCommand({ Name: SECRET_ID, SecretBinary: new Uint8Array([1, 2, 3]) }),
    );
    const error = await new SecretsManagerApiKeySource(sandbox.client, SECRET_ID).load().catch((e) => e);
    expect(error).toBeInstanceOf(ApiKeysInvalidError);
    expect(error.message).toContain('binary');
  });

  it('authenticates through a cached source: one call per TTL, new keys after it, stale when down', async () => {
    await sandbox.client.send(
      new CreateSecretCommand({
        Name: SECRET_ID,
        SecretString: document([{ id: 'mobile-app', key: MOBILE_KEY }]),
      }),
    );
    let time = Date.parse('2026-05-01T00:00:00Z');
    const apiKeys = new CachedApiKeySource(new SecretsManagerApiKeySource(sandbox.client, SECRET_ID), {
      ttlSeconds: 300,
      now: () => time,
    });
    const auth = createAuthenticator({
      config: authSchema.parse({ apiKeys: { secretId: SECRET_ID } }),
      apiKeys,
    });

    for (let i = 0; i < 20; i += 1) {
      await expect(auth.authenticate({ apiKey: MOBILE_KEY })).resolves.toMatchObject({
        apiKeyId: 'mobile-app',
      });
    }
    await expect(auth.authenticate({ apiKey: PARTNER_KEY })).rejects.toMatchObject({
      reason: 'invalid-api-key',
    });
    expect(sandbox.standIn.countCalls('GetSecretValue')).toBe(1);

    // The operator adds the partner key and revokes the mobile one; it takes effect after the TTL.
    await sandbox.client.send(
      new PutSecretValueCommand({
        SecretId: SECRET_ID,
        SecretString: document([{ id: 'partner', key: PARTNER_KEY }]),
      }),
    );
    await expect(auth.authenticate({ apiKey: MOBILE_KEY })).resolves.toMatchObject({
      apiKeyId: 'mobile-app',
    });
    time += 300_000;
    await expect(auth.authenticate({ apiKey: PARTNER_KEY })).resolves.toMatchObject({ apiKeyId: 'partner' });
    await expect(auth.authenticate({ apiKey: MOBILE_KEY })).rejects.toMatchObject({
      reason: 'invalid-api-key',
    });
    expect(sandbox.standIn.countCalls('GetSecretValue')).toBe(2);

    // Secrets Manager goes away: the last good list keeps serving.
    await sandbox.close();
    time += 300_000;
    await expect(auth.authenticate({ apiKey: PARTNER_KEY })).resolves.toMatchObject({ apiKeyId: 'partner' });
  });

  it('answers api-keys-unavailable (503) when the secret cannot be read and nothing is cached', async () => {
    const apiKeys = new CachedApiKeySource(new SecretsManagerApiKeySource(sandbox.client, 'no/such/secret'));
    const auth = createAuthenticator({
      config: authSchema.parse({ apiKeys: { secretId: 'no/such/secret' } }),
      apiKeys,
    });
    const error = await auth.authenticate({ apiKey: MOBILE_KEY }).catch((e) => e);
    expect(error).toBeInstanceOf(AuthError);
    expect({ reason: error.reason, status: error.status }).toEqual({
      reason: 'api-keys-unavailable',
      status: 503,
    });
    expect(error.cause).toBeInstanceOf(ApiKeysUnavailableError);
    expect(error.message).not.toContain(MOBILE_KEY);
  });
});
