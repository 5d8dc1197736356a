import { describe, expect, it } from 'vitest';
import {
  encodeClaimSegment,
  globContains,
  interpolatePattern,
  pathAmbiguity,
  patternContains,
} from '../../lib/access/index.ts';
import { MEDIA, user } from '../support/access.ts';

describe('globContains', () => {
  it.each([
    ['/videos/*', '/videos/*', true],
    ['/videos/*', '/videos/a/*', true],
    ['/videos/*', '/videos/*.mp4', true],
    ['/videos/*', '/videos/?', true],
    ['/videos/*.mp4', '/videos/*/x.mp4', true],
    ['/a/?', '/a/?', true],
    ['/a/?', '/a/b', true],
    ['/videos/*', '/video*', false],
    ['/videos/*', '/*', false],
    ['/a/?', '/a/*', false],
    ['/a/?', '/a/bc', false],
    ['/a/b', '/a/?', false],
    ['/a/b', '/a/*', false],
    ['/a/*b', '/a/*', false],
    ['/a/*', '/a', false],
  ])('%s contains %s: %s', (granted, requested, expected) => {
    expect(globContains(granted, requested)).toBe(expected);
  });
});

describe('patternContains', () => {
  it('requires the same scheme and host (case-insensitive) and a literal requested host', () => {
    expect(patternContains(`${MEDIA}/v/*`, 'https://MEDIA.example.com/v/a')).toBe(true);
    expect(patternContains(`${MEDIA}/v/*`, 'http://media.example.com/v/a')).toBe(false);
    expect(patternContains(`${MEDIA}/v/*`, '*://media.example.com/v/a')).toBe(false);
    expect(patternContains(`${MEDIA}/v/*`, 'https://media.example.com:8443/v/a')).toBe(false);
    expect(patternContains('https://*.example.com/v/*', 'https://*.example.com/v/a')).toBe(false);
    expect(patternContains(`${MEDIA}/v/*`, '*')).toBe(false);
  });

  it('keeps a * in the host from reaching into the path', () => {
    expect(patternContains('https://media*/v/*', 'https://media.example.com/x/v/a')).toBe(false);
  });

  it.each([
    // No * reaches across the ? into the query (the review's exploits).
    [`${MEDIA}/public/*.mp4`, `${MEDIA}/public/secret.txt?.mp4`, false],
    [`${MEDIA}/*/public/*`, `${MEDIA}/admin/payroll.csv?x=/public/`, false],
    // A granted trailing * on the path covers any requested query, concrete or wildcard.
    [`${MEDIA}/videos/*`, `${MEDIA}/videos/a.mp4?x=1`, true],
    [`${MEDIA}/videos/*`, `${MEDIA}/videos/a/*`, true],
    [`${MEDIA}/videos/*`, `${MEDIA}/videos/a.mp4?*`, true],
    [`${MEDIA}/videos/*`, `${MEDIA}/videos?x=/videos/a`, false],
    // A granted path without a trailing * and no query part: no query at all.
    [`${MEDIA}/a/*.mp4`, `${MEDIA}/a/b.mp4`, true],
    [`${MEDIA}/a/*.mp4`, `${MEDIA}/a/b.mp4?x`, false],
    [`${MEDIA}/a/*.mp4`, `${MEDIA}/a/b*`, false],
    [`${MEDIA}/a/*.mp4`, `${MEDIA}/a/b.mp4?`, true],
    // A granted query part: path within path, query within query.
    [`${MEDIA}/a/*.mp4?*`, `${MEDIA}/a/b.mp4?x`, true],
    [`${MEDIA}/a/*.mp4?*`, `${MEDIA}/a/x/*.mp4`, true],
    [`${MEDIA}/a/*.mp4?*`, `${MEDIA}/a/*`, false],
    [`${MEDIA}/search?q=*`, `${MEDIA}/search?q=a*`, true],
    [`${MEDIA}/search?q=*`, `${MEDIA}/search?*`, false],
    [`${MEDIA}/search?q=*`, `${MEDIA}/search*`, false],
    [`${MEDIA}/search?q=*`, `${MEDIA}/search`, false],
  ])('section by section: %s contains %s: %s', (granted, requested, expected) => {
    expect(patternContains(granted, requested)).toBe(expected);
  });
});

describe('interpolatePattern', () => {
  it('fills {sub} from the subject and other placeholders from claims', () => {
    const caller = user('alice', { tenant: 'acme', org: 42 });
    expect(interpolatePattern(`${MEDIA}/{tenant}/{org}/{sub}/*`, caller)).toBe(`${MEDIA}/acme/42/alice/*`);
  });

  it.each([
    ['alice/*', 'alice%2F%2A'],
    ['../bob', '..%2Fbob'],
    ['%2f', '%252f'],
    ['a?b#c', 'a%3Fb%23c'],
    ['...', '...'],
  ])('encodes %j as %j', (value, encoded) => {
    expect(encodeClaimSegment(value)).toBe(encoded);
  });

  it.each([[''], ['.'], ['..'], ['a\nb'], ['\u0085'], ['\ud800']])('refuses %j', (value) => {
    expect(encodeClaimSegment(value)).toBeUndefined();
    expect(interpolatePattern(`${MEDIA}/{x}/*`, user('a', { x: value }))).toBeUndefined();
  });

  it('refuses a missing or non-text claim, and one found only on the prototype', () => {
    expect(interpolatePattern(`${MEDIA}/{tenant}/*`, user('a', {}))).toBeUndefined();
    expect(interpolatePattern(`${MEDIA}/{tenant}/*`, user('a', { tenant: { id: 1 } }))).toBeUndefined();
    expect(interpolatePattern(`${MEDIA}/{tenant}/*`, user('a', { tenant: 1.5 }))).toBeUndefined();
    expect(interpolatePattern(`${MEDIA}/{toString}/*`, user('a', {}))).toBeUndefined();
  });
});

describe('pathAmbiguity', () => {
  it.each([
    ['/users/alice/a.mp4', undefined],
    ['/users/alice/a%20b%C3%A9.mp4', undefined],
    ['/users/alice/100%25', undefined],
    ['/users/alice/a%2A', undefined],
    ['/a%2fb', 'an encoded slash or backslash (%2F or %5C)'],
    ['/a%5cb', 'an encoded slash or backslash (%2F or %5C)'],
    ['/a\\b', 'a backslash'],
    ['/a/%252fb', 'double percent-encoding (%25 followed by two hex digits)'],
    ['/a/%2e%2e/b', 'a dot segment (. or ..)'],
    ['/a/.%2E;x/b', 'a dot segment (. or ..)'],
    ['/a/%zz', 'a "%" that does not start a percent-encoded byte'],
    ['/a/%0a', 'an encoded control character'],
    ['/a/%c3', 'percent-encoding that is not UTF-8'],
  ])('%s: %s', (path, reason) => {
    expect(pathAmbiguity(path)).toBe(reason);
  });
});
