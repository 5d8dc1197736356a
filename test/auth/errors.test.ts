import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AuthError, type AuthFailureReason, challengeFor, tokenHint } from '../../lib/auth/errors.ts';

const REASONS: AuthFailureReason[] = [
  'missing-credentials',
  'unsupported-credentials',
  'ambiguous-credentials',
  'malformed-token',
  'missing-subject',
  'token-expired',
  'token-not-yet-valid',
  'wrong-issuer',
  'wrong-audience',
  'algorithm-not-allowed',
  'unknown-signing-key',
  'invalid-signature',
  'invalid-api-key',
  'jwks-unavailable',
  'api-keys-unavailable',
];

describe('AuthError', () => {
  it('carries a stable code, the reason, the message and a chained cause', () => {
    const cause = new Error('jose said no');
    const error = new AuthError('token-expired', 'Expected a token that has not expired.', { cause });
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({
      name: 'AuthError',
      code: 'ERR_UNAUTHENTICATED',
      reason: 'token-expired',
      status: 401,
      message: 'Expected a token that has not expired.',
    });
    expect(error.cause).toBe(cause);
  });

  it('is 503 only for the reasons that are the service fault', () => {
    const unavailable = REASONS.filter((reason) => new AuthError(reason, 'x').status === 503);
    expect(unavailable).toEqual(['jwks-unavailable', 'api-keys-unavailable']);
  });
});

describe('challengeFor (RFC 6750 section 3)', () => {
  it('gives the bare challenge when no credentials came, and when the service is at fault', () => {
    expect(challengeFor('missing-credentials')).toBe('Bearer realm="signet"');
    expect(challengeFor('jwks-unavailable')).toBe('Bearer realm="signet"');
    expect(challengeFor('api-keys-unavailable')).toBe('Bearer realm="signet"');
  });

  it('gives invalid_token for a bad token and invalid_request for a bad request', () => {
    expect(challengeFor('token-expired')).toBe(
      'Bearer realm="signet", error="invalid_token", error_description="The token has expired"',
    );
    expect(challengeFor('wrong-audience')).toBe(
      'Bearer realm="signet", error="invalid_token", error_description="The token was not issued for this service"',
    );
    expect(challengeFor('ambiguous-credentials')).toMatch(/error="invalid_request"/);
    expect(challengeFor('unsupported-credentials')).toMatch(/error="invalid_request"/);
  });

  it('only ever holds characters a quoted error_description allows', () => {
    for (const reason of REASONS) {
      const challenge = challengeFor(reason);
      expect(new AuthError(reason, 'x').wwwAuthenticate).toBe(challenge);
      const description = /error_description="(.*)"$/.exec(challenge)?.[1];
      if (description !== undefined) expect(description).toMatch(/^[\x20\x21\x23-\x5b\x5d-\x7e]+$/);
    }
  });
});

describe('tokenHint', () => {
  it('shows the first six characters of a long token', () => {
    expect(tokenHint('eyJhbGciOiJFUzI1NiJ9.e30.sig')).toBe('eyJhbG…');
  });

  it('never shows a whole token, however short (property)', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z0-9_.~+/=-]{1,64}$/), (token) => {
        const hint = tokenHint(token);
        expect(hint.endsWith('…')).toBe(true);
        expect(hint).not.toContain(token);
        expect(hint.length).toBeLessThanOrEqual(7);
      }),
    );
  });
});
