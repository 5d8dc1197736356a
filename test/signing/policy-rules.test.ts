import { describe, expect, it } from 'vitest';
import {
  cannedPolicy,
  customPolicy,
  describeDuration,
  isoOf,
  MAX_EPOCH_SECONDS,
  validateConditions,
} from '../../lib/signing/policy.ts';
import { expectRefusal, NOW } from '../support/signing.ts';

// One test per rule of lib/signing/policy.ts (issue 18): the exact policy bytes, and each time or
// range CloudFront would read otherwise than the caller meant, refused with its code and message.

const RESOURCE = 'https://media.example.com/videos/*';

describe('the policy bytes', () => {
  it('writes a canned policy exactly as CloudFront rebuilds it', () => {
    expect(cannedPolicy('https://media.example.com/a.mp4', 1_750_003_600)).toBe(
      '{"Statement":[{"Resource":"https://media.example.com/a.mp4","Condition":{"DateLessThan":{"AWS:EpochTime":1750003600}}}]}',
    );
  });

  it('escapes the resource as JSON', () => {
    expect(cannedPolicy('https://h/a"b\\c', 1)).toContain('"Resource":"https://h/a\\"b\\\\c"');
    expect(customPolicy('https://h/a"b', { expires: 1 })).toContain('"Resource":"https://h/a\\"b"');
  });

  it('writes the resource exactly as JSON.stringify would, for every character it escapes and at both ends of each range', () => {
    // The resource is quoted as is when nothing in it needs escaping (the fast path): these are the
    // characters that do, each alone and inside a URL, and their neighbours that do not.
    const escaped = ['"', '\\', '\u0000', '\u0001', '\u001f', '\ud800', '\udbff', '\udc00', '\udfff'];
    const plain = [
      ' ',
      '!',
      '#',
      '[',
      ']',
      '~',
      '\u007f',
      '\u00e9',
      '\u2028',
      '\ud7ff',
      '\ue000',
      '\ud83d\ude00',
    ];
    for (const character of [...escaped, ...plain]) {
      for (const resource of [character, `https://h/a${character}b`]) {
        const expected = `{"Statement":[{"Resource":${JSON.stringify(resource)},"Condition":{"DateLessThan":{"AWS:EpochTime":5}}}]}`;
        expect(cannedPolicy(resource, 5), JSON.stringify(resource)).toBe(expected);
        expect(customPolicy(resource, { expires: 5 }), JSON.stringify(resource)).toBe(expected);
      }
    }
  });

  it('writes a custom policy with only an expiry', () => {
    expect(customPolicy(RESOURCE, { expires: 1_750_003_600 })).toBe(
      '{"Statement":[{"Resource":"https://media.example.com/videos/*","Condition":{"DateLessThan":{"AWS:EpochTime":1750003600}}}]}',
    );
  });

  it('writes notBefore and the IP range after the expiry, in that order', () => {
    expect(
      customPolicy(RESOURCE, {
        expires: 1_750_003_600,
        notBefore: 1_750_000_000,
        ipAddress: '203.0.113.0/24',
      }),
    ).toBe(
      '{"Statement":[{"Resource":"https://media.example.com/videos/*","Condition":{"DateLessThan":{"AWS:EpochTime":1750003600},' +
        '"DateGreaterThan":{"AWS:EpochTime":1750000000},"IpAddress":{"AWS:SourceIp":"203.0.113.0/24"}}}]}',
    );
    expect(customPolicy(RESOURCE, { expires: 1_750_003_600, notBefore: 0 })).toBe(
      '{"Statement":[{"Resource":"https://media.example.com/videos/*","Condition":{"DateLessThan":{"AWS:EpochTime":1750003600},' +
        '"DateGreaterThan":{"AWS:EpochTime":0}}}]}',
    );
    expect(customPolicy(RESOURCE, { expires: 1_750_003_600, ipAddress: '198.51.100.7/32' })).toBe(
      '{"Statement":[{"Resource":"https://media.example.com/videos/*","Condition":{"DateLessThan":{"AWS:EpochTime":1750003600},' +
        '"IpAddress":{"AWS:SourceIp":"198.51.100.7/32"}}}]}',
    );
  });
});

describe('validateConditions: expires', () => {
  it('accepts an expiry one second after now and returns the conditions normalized', () => {
    expect(validateConditions({ expires: NOW + 1 }, NOW)).toEqual({
      expires: NOW + 1,
      notBefore: undefined,
      ipAddress: undefined,
    });
  });

  it('refuses an expiry equal to now or before it, saying how long ago', () => {
    expectRefusal(
      () => validateConditions({ expires: NOW }, NOW),
      'ERR_EXPIRY_IN_PAST',
      `Expected \`expires\` in the future (epoch seconds after ${NOW}); got ${NOW} (2025-06-15T15:06:40Z), 0 seconds ago.`,
    );
    expectRefusal(
      () => validateConditions({ expires: NOW - 7200 }, NOW),
      'ERR_EXPIRY_IN_PAST',
      'got 1749992800 (2025-06-15T13:06:40Z), 2 hours ago.',
    );
  });

  it('hints at expiresIn when the expiry looks like a duration (below 1,000,000,000)', () => {
    expectRefusal(
      () => validateConditions({ expires: 3600 }, NOW),
      'ERR_EXPIRY_IN_PAST',
      'ago. It looks like a duration: pass it as expiresIn (seconds from now).',
    );
    expectRefusal(
      () => validateConditions({ expires: 999_999_999 }, NOW),
      'ERR_EXPIRY_IN_PAST',
      'It looks like a duration',
    );
    let message = '';
    try {
      validateConditions({ expires: 1_000_000_000 }, NOW);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/ago\.$/);
  });

  it.each([
    [1.5, 'got 1.5.'],
    [Number.NaN, 'got NaN.'],
    [Number.POSITIVE_INFINITY, 'got Infinity.'],
    [-1, 'got -1.'],
    [2 ** 53, `got ${2 ** 53}.`],
    ['1750003600' as unknown as number, 'got "1750003600".'],
  ])('refuses %s as expires: not a whole number of epoch seconds', (expires, fragment) => {
    expectRefusal(
      () => validateConditions({ expires }, NOW),
      'ERR_INVALID_EXPIRY',
      'Expected `expires` as a whole number of epoch seconds;',
      fragment,
    );
  });

  it('refuses milliseconds from 100,000,000,000 on, showing the time divided by 1000', () => {
    expectRefusal(
      () => validateConditions({ expires: 1_750_003_600_999 }, NOW),
      'ERR_EXPIRY_IN_MILLISECONDS',
      'Expected `expires` in epoch seconds; got 1750003600999, which looks like milliseconds (2025-06-15T16:06:40Z if divided by 1000).',
    );
    expectRefusal(() => validateConditions({ expires: 100_000_000_000 }, NOW), 'ERR_EXPIRY_IN_MILLISECONDS');
    expectRefusal(() => validateConditions({ expires: 99_999_999_999 }, NOW), 'ERR_EXPIRY_TOO_LATE');
  });

  it("accepts CloudFront's last second (2038-01-19T03:14:07Z) and refuses the next", () => {
    expect(MAX_EPOCH_SECONDS).toBe(2_147_483_647);
    expect(validateConditions({ expires: MAX_EPOCH_SECONDS }, NOW).expires).toBe(MAX_EPOCH_SECONDS);
    expectRefusal(
      () => validateConditions({ expires: MAX_EPOCH_SECONDS + 1 }, NOW),
      'ERR_EXPIRY_TOO_LATE',
      "Expected `expires` at most 2147483647 (2038-01-19T03:14:07Z, CloudFront's limit); got 2147483648.",
    );
  });
});

describe('validateConditions: notBefore', () => {
  it('accepts a start up to one second before the expiry, in the past or at 0', () => {
    expect(validateConditions({ expires: NOW + 60, notBefore: NOW + 59 }, NOW).notBefore).toBe(NOW + 59);
    expect(validateConditions({ expires: NOW + 60, notBefore: NOW - 60 }, NOW).notBefore).toBe(NOW - 60);
    expect(validateConditions({ expires: NOW + 60, notBefore: 0 }, NOW).notBefore).toBe(0);
  });

  it('refuses a start at or after the expiry, showing both times', () => {
    expectRefusal(
      () => validateConditions({ expires: NOW + 60, notBefore: NOW + 60 }, NOW),
      'ERR_NOT_BEFORE_AFTER_EXPIRY',
      'Expected `notBefore` (2025-06-15T15:07:40Z) before `expires` (2025-06-15T15:07:40Z).',
    );
    expectRefusal(
      () => validateConditions({ expires: NOW + 60, notBefore: NOW + 3600 }, NOW),
      'ERR_NOT_BEFORE_AFTER_EXPIRY',
    );
  });

  it.each([
    [-1, 'got -1.'],
    [1.5, 'got 1.5.'],
    [Number.NaN, 'got NaN.'],
  ])('refuses %s as notBefore, naming the field', (notBefore, fragment) => {
    expectRefusal(
      () => validateConditions({ expires: NOW + 60, notBefore }, NOW),
      'ERR_INVALID_EXPIRY',
      'Expected `notBefore` as a whole number of epoch seconds;',
      fragment,
    );
  });

  it('refuses milliseconds and times past 2038 as notBefore, naming the field', () => {
    expectRefusal(
      () => validateConditions({ expires: NOW + 60, notBefore: NOW * 1000 }, NOW),
      'ERR_EXPIRY_IN_MILLISECONDS',
      'Expected `notBefore` in epoch seconds',
    );
    expectRefusal(
      () => validateConditions({ expires: NOW + 60, notBefore: MAX_EPOCH_SECONDS + 1 }, NOW),
      'ERR_EXPIRY_TOO_LATE',
      'Expected `notBefore` at most 2147483647',
    );
  });
});

describe('validateConditions: ipAddress', () => {
  it('normalizes an address to a /32 and keeps a CIDR', () => {
    expect(validateConditions({ expires: NOW + 60, ipAddress: '203.0.113.7' }, NOW).ipAddress).toBe(
      '203.0.113.7/32',
    );
    expect(validateConditions({ expires: NOW + 60, ipAddress: '203.0.113.0/24' }, NOW).ipAddress).toBe(
      '203.0.113.0/24',
    );
  });

  it('refuses IPv6 and host bits set', () => {
    expectRefusal(
      () => validateConditions({ expires: NOW + 60, ipAddress: '2001:db8::1' }, NOW),
      'ERR_IPV6_UNSUPPORTED',
    );
    expectRefusal(
      () => validateConditions({ expires: NOW + 60, ipAddress: '203.0.113.7/24' }, NOW),
      'ERR_INVALID_CIDR',
      'like 203.0.113.0/24',
    );
  });
});

describe('describeDuration and isoOf: how times read in messages', () => {
  it.each([
    [0, '0 seconds'],
    [0.6, '1 second'],
    [1, '1 second'],
    [-1, '1 second'],
    [2, '2 seconds'],
    [89, '89 seconds'],
    [90, '2 minutes'],
    [-90, '2 minutes'],
    [3600, '60 minutes'],
    [5399, '90 minutes'],
    [5400, '2 hours'],
    [86_400, '24 hours'],
    [129_599, '36 hours'],
    [129_600, '2 days'],
    [30 * 86_400, '30 days'],
  ])('%s seconds read as %s', (seconds, text) => {
    expect(describeDuration(seconds)).toBe(text);
  });

  it('writes ISO 8601 UTC without milliseconds', () => {
    expect(isoOf(NOW)).toBe('2025-06-15T15:06:40Z');
    expect(isoOf(0)).toBe('1970-01-01T00:00:00Z');
  });
});
