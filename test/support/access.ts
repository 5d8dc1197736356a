import { expect } from 'vitest';
import { AccessError, type AccessErrorCode, type Caller } from '../../lib/access/index.ts';
import { type Profile, profileSchema } from '../../lib/config/schema.ts';

export const MEDIA = 'https://media.example.com';

/** A profile on media.example.com and cdn.example.com with the given grants, parsed as config is. */
export function profileWith(grants: unknown[], ttlMax = 86_400): Profile {
  return profileSchema.parse({
    domains: ['media.example.com', 'cdn.example.com'],
    keyRing: { secretId: 'signet/media' },
    ttl: { default: 300, max: ttlMax },
    grants,
  });
}

/** A JWT caller with `scope: "media:read"` unless claims say otherwise. */
export function user(subject: string, claims: Record<string, unknown> = { scope: 'media:read' }): Caller {
  return { subject, claims: { sub: subject, ...claims } };
}

/** Runs `action`, expecting an AccessError with `code` whose message holds every one of `fragments`. */
export function expectDenied(
  action: () => unknown,
  code: AccessErrorCode,
  ...fragments: string[]
): AccessError {
  let caught: unknown;
  try {
    action();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(AccessError);
  const error = caught as AccessError;
  expect({ code: error.code }).toEqual({ code });
  for (const fragment of fragments) expect(error.message).toContain(fragment);
  return error;
}
