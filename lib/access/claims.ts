import type { Grant } from '../config/schema.ts';
import type { Caller } from './types.ts';

/**
 * Claims that OAuth 2.0 servers send as one space-separated string (RFC 8693 section 4.2 for `scope`;
 * Microsoft Entra ID uses `scp`): each word is held on its own.
 */
const SPACE_SEPARATED_CLAIMS: ReadonlySet<string> = new Set(['scope', 'scp']);

/**
 * Whether a grant applies to a caller: every one of `when.claims` holds, or the caller used one of
 * `when.apiKeys`. An empty `claims` object applies to no one: deny by default, so a grant meant for
 * every caller has to say which claim they all share.
 */
export function grantApplies(when: Grant['when'], caller: Caller): boolean {
  if (when.apiKeys !== undefined && caller.apiKeyId !== undefined && when.apiKeys.includes(caller.apiKeyId)) {
    return true;
  }
  const wanted = when.claims === undefined ? [] : Object.entries(when.claims);
  if (wanted.length === 0) return false;
  return wanted.every(([name, expected]) => claimHolds(caller.claims, name, expected));
}

/**
 * Whether the caller's claim `name` holds `expected` (any one of them, for a list): equal to it, or
 * containing it when the claim is an array or a space-separated `scope`/`scp` string. Numbers and
 * booleans compare by their text, since config values are strings.
 */
export function claimHolds(
  claims: Readonly<Record<string, unknown>>,
  name: string,
  expected: string | readonly string[],
): boolean {
  // Own properties only: `constructor` or `__proto__` must not be found on the prototype.
  if (!Object.hasOwn(claims, name)) return false;
  const held = heldValues(name, claims[name]);
  const wanted = typeof expected === 'string' ? [expected] : expected;
  return wanted.some((value) => held.includes(value));
}

function heldValues(name: string, value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap((item: unknown) => scalarText(item) ?? []);
  if (typeof value === 'string' && SPACE_SEPARATED_CLAIMS.has(name)) {
    return value.split(' ').filter((word) => word !== '');
  }
  const text = scalarText(value);
  return text === undefined ? [] : [text];
}

function scalarText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'boolean') return String(value);
  return undefined;
}

/**
 * The text a claim stands for inside a pattern: a string, or an integer (tenant ids often are).
 * `{sub}` is the caller's subject. Anything else (missing, object, array) gives `undefined`.
 */
export function claimForPattern(caller: Caller, name: string): string | undefined {
  if (name === 'sub') return caller.subject;
  if (!Object.hasOwn(caller.claims, name)) return undefined;
  const value = caller.claims[name];
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  return undefined;
}
