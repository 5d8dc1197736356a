import { normaliseCidr } from './cidr.ts';
import { SigningError } from './errors.ts';

/** The latest `AWS:EpochTime` CloudFront accepts (the largest signed 32-bit integer: 2038-01-19). */
export const MAX_EPOCH_SECONDS = 2_147_483_647;

/** Above this an epoch is certainly milliseconds: in seconds it would be after the year 5000. */
const MILLISECONDS_THRESHOLD = 100_000_000_000;

/** What a policy grants beyond its resource. Times are epoch seconds. */
export interface PolicyConditions {
  readonly expires: number;
  readonly notBefore?: number | undefined;
  /** An IPv4 CIDR, already normalized by {@link normaliseCidr}. */
  readonly ipAddress?: string | undefined;
}

/**
 * The canned policy CloudFront rebuilds from a URL carrying `Expires`: compact JSON, array
 * `Statement`, exactly these bytes.
 */
export function cannedPolicy(resource: string, expires: number): string {
  return `{"Statement":[{"Resource":${jsonString(resource)},"Condition":{"DateLessThan":{"AWS:EpochTime":${expires}}}}]}`;
}

/** A custom policy: one statement, array form, compact JSON, conditions in a fixed order. */
export function customPolicy(resource: string, conditions: PolicyConditions): string {
  // Built as text rather than JSON.stringify of an object: the same bytes, a few microseconds less on
  // the signing path. The times are validated integers and the CIDR a normalized dotted quad.
  const notBefore =
    conditions.notBefore === undefined ? '' : `,"DateGreaterThan":{"AWS:EpochTime":${conditions.notBefore}}`;
  const ip =
    conditions.ipAddress === undefined
      ? ''
      : `,"IpAddress":{"AWS:SourceIp":${JSON.stringify(conditions.ipAddress)}}`;
  return `{"Statement":[{"Resource":${jsonString(resource)},"Condition":{"DateLessThan":{"AWS:EpochTime":${conditions.expires}}${notBefore}${ip}}}]}`;
}

/**
 * Characters JSON.stringify may escape in a string (quote, backslash, controls, surrogates): text
 * without any is its own JSON between quotes.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: the controls are what JSON.stringify escapes.
const JSON_ESCAPED = /["\\\u0000-\u001f\ud800-\udfff]/;

/**
 * `JSON.stringify(text)` for a string, without its cost in the common case: a canonical URL is ASCII
 * without quotes or backslashes, and quoting it is a tenth of the price (`npm run bench`).
 */
function jsonString(text: string): string {
  return JSON_ESCAPED.test(text) ? JSON.stringify(text) : `"${text}"`;
}

/**
 * Checks the times and IP range of a request to sign, against `now` (epoch seconds), and returns
 * them normalized. Catches the classic unit mistakes: milliseconds where seconds belong, and a
 * duration passed as an absolute time.
 */
export function validateConditions(
  input: { expires: number; notBefore?: number | undefined; ipAddress?: string | undefined },
  now: number,
): PolicyConditions {
  const expires = validateEpoch(input.expires, 'expires');
  if (expires <= now) {
    const hint =
      expires < 1_000_000_000 ? ' It looks like a duration: pass it as expiresIn (seconds from now).' : '';
    throw new SigningError(
      'ERR_EXPIRY_IN_PAST',
      `Expected \`expires\` in the future (epoch seconds after ${now}); got ${expires} (${isoOf(expires)}), ` +
        `${describeDuration(now - expires)} ago.${hint}`,
    );
  }
  let notBefore: number | undefined;
  if (input.notBefore !== undefined) {
    notBefore = validateEpoch(input.notBefore, 'notBefore');
    if (notBefore >= expires) {
      throw new SigningError(
        'ERR_NOT_BEFORE_AFTER_EXPIRY',
        `Expected \`notBefore\` (${isoOf(notBefore)}) before \`expires\` (${isoOf(expires)}).`,
      );
    }
  }
  const ipAddress = input.ipAddress === undefined ? undefined : normaliseCidr(input.ipAddress);
  return { expires, notBefore, ipAddress };
}

/** Formats a number of seconds for people: "45 seconds", "12 minutes", "3 hours", "2 days". */
export function describeDuration(seconds: number): string {
  const s = Math.abs(Math.round(seconds));
  const [value, unit] =
    s < 90
      ? [s, 'second']
      : s < 5400
        ? [Math.round(s / 60), 'minute']
        : s < 129600
          ? [Math.round(s / 3600), 'hour']
          : [Math.round(s / 86400), 'day'];
  return `${value} ${unit}${value === 1 ? '' : 's'}`;
}

/** ISO 8601 UTC without milliseconds, for epoch seconds. */
export function isoOf(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString().replace('.000Z', 'Z');
}

function validateEpoch(value: number, field: string): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new SigningError(
      'ERR_INVALID_EXPIRY',
      `Expected \`${field}\` as a whole number of epoch seconds; got ${typeof value === 'number' ? String(value) : JSON.stringify(value)}.`,
    );
  }
  if (value >= MILLISECONDS_THRESHOLD) {
    throw new SigningError(
      'ERR_EXPIRY_IN_MILLISECONDS',
      `Expected \`${field}\` in epoch seconds; got ${value}, which looks like milliseconds ` +
        `(${isoOf(Math.floor(value / 1000))} if divided by 1000).`,
    );
  }
  if (value > MAX_EPOCH_SECONDS) {
    throw new SigningError(
      'ERR_EXPIRY_TOO_LATE',
      `Expected \`${field}\` at most ${MAX_EPOCH_SECONDS} (${isoOf(MAX_EPOCH_SECONDS)}, CloudFront's limit); got ${value}.`,
    );
  }
  return value;
}
