import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SignatureCache } from '../../lib/signing/remote.ts';

const signature = () => Promise.resolve(Buffer.from('sig'));

describe('SignatureCache (KMS signatures by policy)', () => {
  it('serves a signature until its policy expires, never after', async () => {
    let now = 1_000_000;
    const cache = new SignatureCache({ now: () => now });
    cache.set('p', signature(), 1_100);
    expect(await cache.get('p')).toEqual(Buffer.from('sig'));
    now = 1_100_000;
    expect(cache.get('p')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('forgets a signing that failed, so the next request asks KMS again', async () => {
    const cache = new SignatureCache({ now: () => 0 });
    const failed = Promise.reject(new Error('throttled'));
    cache.set('p', failed, 10);
    await failed.catch(() => undefined);
    await Promise.resolve();
    expect(cache.get('p')).toBeUndefined();
  });

  it('never holds more entries or policy characters than its bounds, whatever is stored', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.string({ minLength: 1, maxLength: 40 }), fc.integer({ min: 0, max: 20 })), {
          maxLength: 200,
        }),
        (writes) => {
          let now = 0;
          const cache = new SignatureCache({ now: () => now * 1000, maxEntries: 10, maxChars: 100 });
          for (const [policy, expires] of writes) {
            now++;
            cache.set(policy, signature(), expires + now);
            expect(cache.size).toBeLessThanOrEqual(10);
            expect(cache.chars).toBeLessThanOrEqual(100);
          }
        },
      ),
    );
  });
});
