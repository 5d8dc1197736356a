import { describe, expect, it } from 'vitest';
import { SigningError } from '../../lib/signing/errors.ts';
import {
  assertNoWildcard,
  assertNoWildcardInCustomResource,
  canonicalResource,
  canonicalUrl,
  globMatches,
  MAX_RESOURCE_BYTES,
  MAX_RESOURCE_WILDCARDS,
  MAX_URL_BYTES,
  parseHttpUrl,
  queryGlob,
  queryParameterNames,
  resourceMatches,
  stripSigningParameters,
  urlSections,
} from '../../lib/signing/url.ts';
import { expectRefusal, simpleGlobMatches } from '../support/signing.ts';

// One test per rule of lib/signing/url.ts (issue 18: every rule has a test that fails when the rule is
// removed). Each asserts what a caller sees: the canonical bytes that get signed, or the refusal and
// its code and message.

const MEDIA = 'https://media.example.com';

/** A URL of exactly `bytes` bytes on MEDIA, padded in its path. */
function urlOfBytes(bytes: number, base = `${MEDIA}/`): string {
  return base + 'a'.repeat(bytes - base.length);
}

describe('canonicalUrl: what gets signed', () => {
  it('signs the WHATWG serialization: lowercase scheme and host, encoded path, no fragment', () => {
    expect(canonicalUrl('HTTPS://Media.Example.COM/a b/é.mp4#t=10')).toBe(`${MEDIA}/a%20b/%C3%A9.mp4`);
  });

  it('drops a bare trailing "?" (an empty query) but keeps a "?" inside a query', () => {
    expect(canonicalUrl(`${MEDIA}/a.mp4?`)).toBe(`${MEDIA}/a.mp4`);
    expect(canonicalUrl(`${MEDIA}/a.mp4?#frag`)).toBe(`${MEDIA}/a.mp4`);
    expect(canonicalUrl(`${MEDIA}/a.mp4#t?x=1`)).toBe(`${MEDIA}/a.mp4`);
    expect(canonicalUrl(`${MEDIA}/a.mp4?x=1#t`)).toBe(`${MEDIA}/a.mp4?x=1`);
    expect(canonicalUrl(`${MEDIA}/search?q=what?`)).toBe(`${MEDIA}/search?q=what?`);
    expect(canonicalUrl(`${MEDIA}/search?q=a`)).toBe(`${MEDIA}/search?q=a`);
  });

  it('refuses a lone high or low surrogate, anywhere, and accepts a proper pair', () => {
    for (const bad of [`${MEDIA}/a\ud800`, `${MEDIA}/a\ud800b`, `${MEDIA}/\udc00a`, `${MEDIA}/x?q=\udfff`]) {
      expectRefusal(() => canonicalUrl(bad), 'ERR_INVALID_URL', 'valid Unicode', 'lone surrogate');
    }
    // A low surrogate before a high one is two lone surrogates, not a pair.
    expectRefusal(() => canonicalUrl(`${MEDIA}/\udc00\ud800`), 'ERR_INVALID_URL', 'lone surrogate');
    expect(canonicalUrl(`${MEDIA}/\ud83d\ude00.png`)).toBe(`${MEDIA}/%F0%9F%98%80.png`);
  });

  it('accepts a URL of exactly 8,192 bytes and refuses one byte more, saying how long it was', () => {
    expect(MAX_URL_BYTES).toBe(8192);
    expect(canonicalUrl(urlOfBytes(8192))).toHaveLength(8192);
    expectRefusal(
      () => canonicalUrl(urlOfBytes(8193)),
      'ERR_URL_TOO_LONG',
      "at most 8192 bytes (CloudFront's limit); got 8193 bytes.",
    );
  });

  it('counts the limit in bytes of the canonical form, not in characters of the input', () => {
    // 1,400 "é" are 1,400 characters but 8,400 bytes once percent-encoded.
    expectRefusal(() => canonicalUrl(`${MEDIA}/${'é'.repeat(1400)}`), 'ERR_URL_TOO_LONG', 'got 8426 bytes');
  });

  it.each(['Expires', 'Policy', 'Signature', 'Key-Pair-Id', 'Hash-Algorithm'])(
    'refuses a caller parameter named %s (CloudFront reads it as the signature)',
    (name) => {
      expectRefusal(
        () => canonicalUrl(`${MEDIA}/a.mp4?x=1&${name}=2`),
        'ERR_RESERVED_QUERY_PARAMETER',
        'Expected no query parameter named Expires, Policy, Signature, Key-Pair-Id, Hash-Algorithm',
        `got ${name} in ${MEDIA}/a.mp4?x=1&${name}=2`,
        'strip an old signature first',
      );
    },
  );

  it('reads parameter names decoded and without a value, and lists every reserved one', () => {
    expectRefusal(
      () => canonicalUrl(`${MEDIA}/a.mp4?Key%2DPair%2DId=K&Signature&Expires=1`),
      'ERR_RESERVED_QUERY_PARAMETER',
      'got Key-Pair-Id, Signature, Expires in',
    );
  });

  it.each([
    ['Expires=1', 'Expires'],
    ['Signature&a=1', 'Signature'],
    ['a=1&Hash-Algorithm', 'Hash-Algorithm'],
    ['Policy', 'Policy'],
    ['a=%20&Key-Pair-Id=K', 'Key-Pair-Id'],
    ['Key%2DPair%2DId=K', 'Key-Pair-Id'],
    ['a=1&%53ignature=x', 'Signature'],
    ['a+b=1&Expires=2', 'Expires'],
  ])(
    'refuses the query %s: a parameter named %s first, last, alone, without a value or encoded',
    (query, name) => {
      expectRefusal(
        () => canonicalUrl(`${MEDIA}/a.mp4?${query}`),
        'ERR_RESERVED_QUERY_PARAMETER',
        `got ${name} in`,
      );
    },
  );

  it('leaves names that only resemble signing parameters alone (names are case-sensitive)', () => {
    for (const query of [
      'expires=1',
      'Expires2=1',
      'x=Expires',
      'xExpires=1',
      'Policy+=1',
      '%ZZ=1',
      'a=1&&b=2',
      'a=%41',
    ]) {
      expect(canonicalUrl(`${MEDIA}/a.mp4?${query}`)).toBe(`${MEDIA}/a.mp4?${query}`);
    }
  });
});

describe('parseHttpUrl: which URLs are accepted at all', () => {
  it('accepts absolute http and https URLs', () => {
    expect(parseHttpUrl('http://media.example.com/a', 'url').href).toBe('http://media.example.com/a');
    expect(parseHttpUrl(`${MEDIA}/a`, 'url').href).toBe(`${MEDIA}/a`);
  });

  it('refuses text that is not an absolute URL, naming the field and quoting the input', () => {
    expectRefusal(
      () => parseHttpUrl('/videos/a.mp4', 'urls[2]'),
      'ERR_INVALID_URL',
      'Expected `urls[2]` to be an absolute URL like https://media.example.com/file.mp4; got "/videos/a.mp4".',
    );
  });

  it("keeps the URL parser's error as the cause, for whoever debugs it", () => {
    for (const run of [
      () => parseHttpUrl('not a url', 'url'),
      () => canonicalResource('https://media example.com/*'),
    ]) {
      let thrown: unknown;
      try {
        run();
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(SigningError);
      expect((thrown as SigningError).cause).toBeInstanceOf(TypeError);
    }
  });

  it('quotes at most 200 characters of an unparsable input', () => {
    const long = `${'x'.repeat(200)}YZ`;
    let message = '';
    try {
      parseHttpUrl(long, 'url');
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain(`got "${'x'.repeat(200)}…".`);
    expect(message).not.toContain('Y');
    const exact = 'x'.repeat(200);
    expectRefusal(() => parseHttpUrl(exact, 'url'), 'ERR_INVALID_URL', `got "${exact}".`);
  });

  it.each([
    ['ftp://media.example.com/a', 'ftp'],
    ['file:///etc/passwd', 'file'],
    ['javascript:alert(1)', 'javascript'],
  ])('refuses %s as an unsupported scheme, naming it', (input, scheme) => {
    expectRefusal(
      () => parseHttpUrl(input, 'url'),
      'ERR_UNSUPPORTED_SCHEME',
      `Expected \`url\` to use http or https; got ${scheme}.`,
    );
  });

  it.each([
    'https://user:s3cret@media.example.com/a',
    'https://user@media.example.com/a',
    'https://:s3cret@media.example.com/a',
  ])('refuses credentials in %s without echoing them', (input) => {
    let thrown: unknown;
    try {
      canonicalUrl(input);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(SigningError);
    expect((thrown as SigningError).code).toBe('ERR_INVALID_URL');
    expect((thrown as SigningError).message).toBe(
      'Expected `url` without a user name or password (user:pass@host); browsers do not send them to CloudFront.',
    );
  });
});

describe('assertNoWildcard: a canned policy names one exact object', () => {
  it('refuses a * in the path or the host', () => {
    for (const href of [`${MEDIA}/videos/*`, `${MEDIA}/v*/a.mp4`, 'https://*.example.com/a.mp4']) {
      expectRefusal(
        () => assertNoWildcard(href),
        'ERR_AMBIGUOUS_WILDCARD',
        `got a "*" in the host or path of ${href}`,
        'pass it as `resource`',
        '%2A',
      );
    }
    expectRefusal(() => assertNoWildcard(`${MEDIA}/v*?q=1`), 'ERR_AMBIGUOUS_WILDCARD');
  });

  it('lets a * in the query through (an ordinary character there)', () => {
    expect(() => assertNoWildcard(`${MEDIA}/a.mp4?q=*`)).not.toThrow();
    expect(() => assertNoWildcard(`${MEDIA}/a.mp4?q=*&r=?*`)).not.toThrow();
    expect(() => assertNoWildcard(`${MEDIA}/a.mp4`)).not.toThrow();
  });
});

describe('assertNoWildcardInCustomResource: an exact URL as a custom policy Resource', () => {
  it('accepts a URL with or without a plain query', () => {
    expect(() => assertNoWildcardInCustomResource(`${MEDIA}/a.mp4`)).not.toThrow();
    expect(() => assertNoWildcardInCustomResource(`${MEDIA}/a.mp4?x=1&y=2`)).not.toThrow();
  });

  it('refuses a second "?" (a one-character wildcard there), pointing at %3F', () => {
    expectRefusal(
      () => assertNoWildcardInCustomResource(`${MEDIA}/a.mp4?q=what?`),
      'ERR_AMBIGUOUS_WILDCARD',
      `Expected no "?" in the query of ${MEDIA}/a.mp4?q=what?`,
      '%3F',
    );
  });

  it('refuses a * anywhere, the query included, pointing at %2A', () => {
    for (const href of [`${MEDIA}/a.mp4?q=*`, `${MEDIA}/*.mp4`]) {
      expectRefusal(
        () => assertNoWildcardInCustomResource(href),
        'ERR_AMBIGUOUS_WILDCARD',
        `Expected no "*" in ${href}`,
        '%2A',
      );
    }
  });
});

describe('canonicalResource: a wildcard resource, as signed', () => {
  it('lowercases the scheme and host, encodes the path, and keeps * and ? as written', () => {
    expect(canonicalResource('HTTPS://Media.Example.com/Videos/é/*')).toBe(`${MEDIA}/Videos/%C3%A9/*`);
    expect(canonicalResource('http://media.example.com/a/*')).toBe('http://media.example.com/a/*');
    expect(canonicalResource('*://media.example.com/a/*.mp4?*')).toBe('*://media.example.com/a/*.mp4?*');
    expect(canonicalResource('https://*.example.com/*')).toBe('https://*.example.com/*');
    expect(canonicalResource(`${MEDIA}/r/20??/x.pdf`)).toBe(`${MEDIA}/r/20??/x.pdf`);
  });

  it.each([
    'ftp://media.example.com/*',
    'media.example.com/videos/*',
    'https:/media.example.com/*',
    'xhttps://media.example.com/*',
    '**://media.example.com/*',
  ])('refuses %s: scheme http, https or * followed by ://', (pattern) => {
    expectRefusal(
      () => canonicalResource(pattern),
      'ERR_INVALID_RESOURCE',
      `Expected a resource like https://media.example.com/videos/* (scheme http, https or *); got ${JSON.stringify(pattern)}.`,
    );
  });

  it.each([
    ['*://media.example.com:443/*', '443', 'https'],
    ['*://media.example.com:0443/*', '443', 'https'],
    ['*://media.example.com:80/videos/*', '80', 'http'],
  ])('refuses %s: a scheme wildcard cannot name a default port', (pattern, port, scheme) => {
    expectRefusal(
      () => canonicalResource(pattern),
      'ERR_INVALID_RESOURCE',
      `Expected http:// or https:// in a resource that names port ${port}; got ${JSON.stringify(pattern)}. ` +
        `Port ${port} is the default of ${scheme}, whose URLs carry no port, so "*://" cannot cover it for both schemes.`,
    );
  });

  it('keeps a port that is no scheme default, and lets a named scheme drop its own default', () => {
    expect(canonicalResource('*://media.example.com:8443/*')).toBe('*://media.example.com:8443/*');
    expect(canonicalResource('*://media.example.com:4430/*')).toBe('*://media.example.com:4430/*');
    expect(canonicalResource('https://media.example.com:443/*')).toBe('https://media.example.com/*');
    expect(
      resourceMatches(canonicalResource('*://media.example.com:8443/*'), 'http://media.example.com:8443/a'),
    ).toBe(true);
    expect(
      resourceMatches(canonicalResource('*://media.example.com/*'), 'http://media.example.com:443/a'),
    ).toBe(false);
  });

  it('refuses a line break rather than letting the parser drop it', () => {
    expectRefusal(
      () => canonicalResource(`${MEDIA}/a\n/*`),
      'ERR_INVALID_RESOURCE',
      'Expected a resource like',
    );
  });

  it('refuses a "?" in the host, pointing at *', () => {
    expectRefusal(
      () => canonicalResource('https://media?.example.com/*'),
      'ERR_INVALID_RESOURCE',
      'Expected no "?" in the host of a resource (use "*"); got "https://media?.example.com/*".',
    );
  });

  it('refuses a host the URL parser cannot read', () => {
    expectRefusal(
      () => canonicalResource('https://media example.com/*'),
      'ERR_INVALID_RESOURCE',
      'Expected a resource URL pattern; could not parse "https://media example.com/*".',
    );
  });

  it.each([
    'https://user:s3cret@media.example.com/*',
    'https://user@media.example.com/*',
    'https://:s3cret@media.example.com/*',
    '*://user:s3cret@media.example.com/*',
  ])('refuses credentials in the resource %s without echoing them', (pattern) => {
    let thrown: unknown;
    try {
      canonicalResource(pattern);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(SigningError);
    expect((thrown as SigningError).code).toBe('ERR_INVALID_RESOURCE');
    expect((thrown as SigningError).message).toBe(
      'Expected a resource without a user name or password (user:pass@host).',
    );
  });

  it('refuses a fragment, empty or not (no URL the edge sees has one)', () => {
    for (const pattern of [`${MEDIA}/videos/*#top`, `${MEDIA}/videos/*#`]) {
      expectRefusal(
        () => canonicalResource(pattern),
        'ERR_INVALID_RESOURCE',
        `Expected a resource without a #fragment; got ${JSON.stringify(pattern)}.`,
      );
    }
  });

  it('holds a caller resource to 2,048 bytes once canonical, and says how long it was', () => {
    expect(MAX_RESOURCE_BYTES).toBe(2048);
    const exact = `${urlOfBytes(2047)}*`;
    expect(canonicalResource(exact)).toBe(exact);
    expectRefusal(
      () => canonicalResource(`${urlOfBytes(2048)}*`),
      'ERR_RESOURCE_TOO_LONG',
      'Expected a resource of at most 2048 bytes once canonical; got 2049 bytes.',
      'end it with * to cover a folder',
    );
    // 400 "é" are 400 characters but 2,400 bytes once percent-encoded.
    expectRefusal(
      () => canonicalResource(`${MEDIA}/${'é'.repeat(400)}*`),
      'ERR_RESOURCE_TOO_LONG',
      'got 2427 bytes',
    );
  });

  it("keeps only CloudFront's 8,192-byte limit for a trusted (configured) pattern", () => {
    const long = `${urlOfBytes(8191)}*`;
    expect(canonicalResource(long, { trusted: true })).toBe(long);
    expectRefusal(
      () => canonicalResource(`${urlOfBytes(8192)}*`, { trusted: true }),
      'ERR_URL_TOO_LONG',
      'Expected a resource of at most 8192 bytes.',
    );
    // The URL limit comes first for a caller's resource too.
    expectRefusal(() => canonicalResource(`${urlOfBytes(8192)}*`), 'ERR_URL_TOO_LONG');
    // `trusted: false` is a caller's resource.
    expectRefusal(
      () => canonicalResource(`${urlOfBytes(2048)}*`, { trusted: false }),
      'ERR_RESOURCE_TOO_LONG',
    );
  });

  it('allows 16 wildcards in a caller resource and refuses 17, saying how many', () => {
    expect(MAX_RESOURCE_WILDCARDS).toBe(16);
    const sixteen = `${MEDIA}/${'*a'.repeat(16)}`;
    expect(canonicalResource(sixteen)).toBe(sixteen);
    expectRefusal(
      () => canonicalResource(`${MEDIA}/${'*a'.repeat(17)}`),
      'ERR_TOO_MANY_WILDCARDS',
      'Expected at most 16 wildcard characters (* and ? together, the ? that starts the query not counted) in a resource; got 17.',
    );
  });

  it('counts * and ? together, but not the ? that starts the query nor a * scheme', () => {
    // 8 * in the path, the query-starting ?, then 8 ? in the query: 16.
    const mixed = `*://media.example.com/${'*a'.repeat(8)}?${'?'.repeat(8)}`;
    expect(canonicalResource(mixed)).toBe(mixed);
    expectRefusal(() => canonicalResource(`${mixed}*`), 'ERR_TOO_MANY_WILDCARDS', 'got 17.');
    // 16 in the path and a query start: still 16.
    const withQuery = `${MEDIA}/${'*a'.repeat(16)}?x=1`;
    expect(canonicalResource(withQuery)).toBe(withQuery);
    expectRefusal(
      () => canonicalResource(`${MEDIA}/${'*a'.repeat(17)}?x=1`),
      'ERR_TOO_MANY_WILDCARDS',
      'got 17.',
    );
  });

  it('never lets a pattern accepted as trusted through for a caller, nor the other way round', () => {
    const long = `${urlOfBytes(3000)}*`;
    const many = `${MEDIA}/${'*b'.repeat(20)}`;
    expect(canonicalResource(long, { trusted: true })).toBe(long);
    expect(canonicalResource(many, { trusted: true })).toBe(many);
    expectRefusal(() => canonicalResource(long), 'ERR_RESOURCE_TOO_LONG');
    expectRefusal(() => canonicalResource(many), 'ERR_TOO_MANY_WILDCARDS');
    const fine = `${MEDIA}/fine/*`;
    expect(canonicalResource(fine)).toBe(fine);
    expect(canonicalResource(fine, { trusted: true })).toBe(fine);
    expect(canonicalResource(fine)).toBe(fine);
  });

  it('gives the same answer when asked again, and refuses again what it refused', () => {
    const url = `${MEDIA}/again.mp4?x=1#f`;
    expect(canonicalUrl(url)).toBe(`${MEDIA}/again.mp4?x=1`);
    expect(canonicalUrl(url)).toBe(`${MEDIA}/again.mp4?x=1`);
    const bad = `${MEDIA}/again.mp4?Signature=x`;
    expectRefusal(() => canonicalUrl(bad), 'ERR_RESERVED_QUERY_PARAMETER');
    expectRefusal(() => canonicalUrl(bad), 'ERR_RESERVED_QUERY_PARAMETER');
    expectRefusal(() => canonicalResource(`${MEDIA}/a#`), 'ERR_INVALID_RESOURCE');
    expectRefusal(() => canonicalResource(`${MEDIA}/a#`), 'ERR_INVALID_RESOURCE');
  });

  it('does not count wildcards in a trusted pattern', () => {
    const many = `${MEDIA}/${'*a'.repeat(40)}`;
    expect(canonicalResource(many, { trusted: true })).toBe(many);
  });
});

describe('urlSections and queryGlob: where the matcher cuts', () => {
  it.each([
    [`${MEDIA}/a/b.mp4?x=1`, { scheme: 'https', host: 'media.example.com', path: '/a/b.mp4', query: 'x=1' }],
    [`${MEDIA}/a/b.mp4`, { scheme: 'https', host: 'media.example.com', path: '/a/b.mp4', query: undefined }],
    [`${MEDIA}/a?`, { scheme: 'https', host: 'media.example.com', path: '/a', query: '' }],
    [`${MEDIA}?x=/a`, { scheme: 'https', host: 'media.example.com', path: '', query: 'x=/a' }],
    [`${MEDIA}/p?a?b/c`, { scheme: 'https', host: 'media.example.com', path: '/p', query: 'a?b/c' }],
    ['*://h:8443/p?q\nr', { scheme: '*', host: 'h:8443', path: '/p', query: 'q\nr' }],
    ['HTTP://H', { scheme: 'HTTP', host: 'H', path: '', query: undefined }],
  ])('cuts %j', (text, sections) => {
    expect(urlSections(text)).toEqual(sections);
  });

  it.each(['media.example.com/a', '/a/b', 'https:/a', '://h/a', 'ht/tp://h/a', 'a:b://h/a'])(
    'finds no scheme://host in %j',
    (text) => {
      expect(urlSections(text)).toBeUndefined();
    },
  );

  it('gives the query glob: the query part, else * after a trailing *, else the empty query', () => {
    const sections = (text: string) => urlSections(text)!;
    expect(queryGlob(sections(`${MEDIA}/a/*?x=*`))).toBe('x=*');
    expect(queryGlob(sections(`${MEDIA}/a/*?`))).toBe('');
    expect(queryGlob(sections(`${MEDIA}/a/*`))).toBe('*');
    expect(queryGlob(sections(`${MEDIA}/a/*.mp4`))).toBe('');
    expect(queryGlob(sections(`${MEDIA}/*/a`))).toBe('');
  });
});

describe('resourceMatches: each section decides', () => {
  it('matches everything with "*" alone, even text that is no URL', () => {
    expect(resourceMatches('*', `${MEDIA}/a`)).toBe(true);
    expect(resourceMatches('*', 'not a url')).toBe(true);
  });

  it('matches nothing when either side has no scheme://', () => {
    expect(resourceMatches(`${MEDIA}/*`, 'media.example.com/a')).toBe(false);
    expect(resourceMatches('media.example.com/*', `${MEDIA}/a`)).toBe(false);
  });

  it('compares the scheme case-insensitively, * matching any', () => {
    expect(resourceMatches('*://media.example.com/*', 'http://media.example.com/a')).toBe(true);
    expect(resourceMatches('*://media.example.com/*', `${MEDIA}/a`)).toBe(true);
    expect(resourceMatches('http://media.example.com/*', `${MEDIA}/a`)).toBe(false);
    expect(resourceMatches(`${MEDIA}/*`, 'http://media.example.com/a')).toBe(false);
    expect(resourceMatches('HTTPS://media.example.com/*', `${MEDIA}/a`)).toBe(true);
    expect(resourceMatches(`${MEDIA}/*`, 'HTTPS://media.example.com/a')).toBe(true);
  });

  it('compares the host case-insensitively, either side in capitals', () => {
    expect(resourceMatches('https://MEDIA.example.com/*', `${MEDIA}/a`)).toBe(true);
    expect(resourceMatches(`${MEDIA}/*`, 'https://MEDIA.EXAMPLE.COM/a')).toBe(true);
    expect(resourceMatches('https://*.EXAMPLE.com/*', 'https://cdn.example.COM/a')).toBe(true);
    expect(resourceMatches(`${MEDIA}/*`, 'https://cdn.example.com/a')).toBe(false);
  });

  it('keeps a host * inside the host', () => {
    expect(resourceMatches('https://*/a/*', `${MEDIA}/a/b`)).toBe(true);
    expect(resourceMatches('https://media*/*', 'https://media.example.com/x')).toBe(true);
    expect(resourceMatches('https://media*', 'https://media.example.com/x')).toBe(false);
  });

  it('compares the path case-sensitively', () => {
    expect(resourceMatches(`${MEDIA}/Videos/*`, `${MEDIA}/videos/a.mp4`)).toBe(false);
    expect(resourceMatches(`${MEDIA}/videos/*`, `${MEDIA}/videos/a.mp4`)).toBe(true);
  });

  it('gives a URL without a query the empty query, and an empty query too', () => {
    expect(resourceMatches(`${MEDIA}/a.mp4?`, `${MEDIA}/a.mp4`)).toBe(true);
    expect(resourceMatches(`${MEDIA}/a.mp4?`, `${MEDIA}/a.mp4?`)).toBe(true);
    expect(resourceMatches(`${MEDIA}/a.mp4?x*`, `${MEDIA}/a.mp4`)).toBe(false);
    expect(resourceMatches(`${MEDIA}/a.mp4`, `${MEDIA}/a.mp4?`)).toBe(true);
    expect(resourceMatches(`${MEDIA}/a.mp4`, `${MEDIA}/a.mp4?x`)).toBe(false);
    expect(resourceMatches(`${MEDIA}/a/*`, `${MEDIA}/a/b?x=1`)).toBe(true);
    expect(resourceMatches(`${MEDIA}/a/*?y=*`, `${MEDIA}/a/b?x=1`)).toBe(false);
  });
});

describe('stripSigningParameters and queryParameterNames', () => {
  it('returns a URL without a query as is', () => {
    expect(stripSigningParameters(`${MEDIA}/a.mp4`)).toBe(`${MEDIA}/a.mp4`);
  });

  it('removes the signing parameters and keeps the others in order, byte for byte', () => {
    expect(
      stripSigningParameters(
        `${MEDIA}/a.mp4?b=2&Expires=1&a=%41&Signature=x&Key-Pair-Id=K&Hash-Algorithm=SHA256`,
      ),
    ).toBe(`${MEDIA}/a.mp4?b=2&a=%41`);
    expect(stripSigningParameters(`${MEDIA}/a.mp4?Policy=p&Signature=s&Key-Pair-Id=K`)).toBe(
      `${MEDIA}/a.mp4`,
    );
    expect(stripSigningParameters(`${MEDIA}/a.mp4?Expires=1&x`)).toBe(`${MEDIA}/a.mp4?x`);
  });

  it('lists the decoded names of the parameters, skipping empty pairs, keeping undecodable ones raw', () => {
    expect(queryParameterNames(`${MEDIA}/a`)).toEqual([]);
    expect(queryParameterNames(`${MEDIA}/a?`)).toEqual([]);
    expect(queryParameterNames(`${MEDIA}/a?x=1&&y&a+b=2&%41%2D=3&%ZZ=4&=5`)).toEqual([
      'x',
      'y',
      'a b',
      'A-',
      '%ZZ',
      '',
    ]);
  });
});

describe('globMatches: * any run, ? one character', () => {
  it.each([
    ['abc', 'abc', true],
    ['abc', 'abcd', false],
    ['abc', 'ab', false],
    ['a?c', 'abc', true],
    ['a?c', 'ac', false],
    ['', '', true],
    ['*', '', true],
    ['ab*', 'ab', true],
    ['*ab', 'ab', true],
    ['a*a', 'a', false],
    ['a*a', 'aa', true],
    ['ab*ba', 'aba', false],
    ['*ab*ab*', 'xab', false],
    ['*ab*ab*', 'abab', true],
    ['x*ab*y', 'xaby', true],
    ['x*ab*b', 'xcab', false],
    ['x*ab*b', 'xcabb', true],
    ['x**y', 'xy', true],
    ['x*a?c*y', 'xzabcy', true],
    ['x*a?c*y', 'xzacy', false],
    ['*a?b?c*', 'zzaxbycz', true],
    ['*a?b?c*', 'zzaxbyzc', false],
    ['x*aa?y*', 'xaaaby', true],
    ['x*aab?*', 'xaaabz', true],
    ['x*abab?*', 'xabababz', true],
    ['x*aabaa?*', 'xaabaabaaz', true],
    ['x*ab?*', 'xab', false],
    ['x*?ab*y', 'xqaby', true],
    ['x*?ab*y', 'xaby', false],
    // Pieces whose own prefixes repeat: the search must fall back within the piece, never skip or invent a fit.
    ['x*bbaa?*y', 'xbbabaaaaay', false],
    ['x*aabb?*y', 'xaaababbaby', false],
    ['x*babb?*y', 'xbababbbaay', true],
    ['x*bab?ba*y', 'xabababbbay', true],
  ])('%j against %j: %s', (pattern, text, expected) => {
    expect(globMatches(pattern, text)).toBe(expected);
  });

  it('never lets a ? match the unmatchable character', () => {
    expect(globMatches('a?', 'a*', '*')).toBe(false);
    expect(globMatches('a?', 'ab', '*')).toBe(true);
    expect(globMatches('x*?*y', 'x*y', '*')).toBe(false);
    expect(globMatches('x*?*y', 'x*ay', '*')).toBe(true);
    expect(globMatches('x*?a*', 'x*a', '*')).toBe(false);
    expect(globMatches('x*?a*', 'xb*a', '*')).toBe(false);
    expect(globMatches('x*?a*', 'x*ba', '*')).toBe(true);
    expect(globMatches('x*a?*', 'xa*', '*')).toBe(false);
    expect(globMatches('x*a??b*', 'xa*cbxadcb', '*')).toBe(true);
    expect(globMatches('x*a??b*', 'xa*cb', '*')).toBe(false);
  });

  it('agrees with the plain definition on every pattern and text of a small alphabet', () => {
    const words = (alphabet: string, maxLength: number): string[] => {
      const all = [''];
      for (let at = 0; at < all.length; at++) {
        if (all[at]!.length < maxLength) for (const char of alphabet) all.push(all[at]! + char);
      }
      return all;
    };
    const texts = words('ab*', 4);
    let checked = 0;
    for (const pattern of words('ab?*', 5)) {
      for (const text of texts) {
        for (const unmatchable of [undefined, '*']) {
          const expected = simpleGlobMatches(pattern, text, unmatchable);
          if (globMatches(pattern, text, unmatchable) !== expected) {
            expect({ pattern, text, unmatchable, matches: !expected }).toEqual({
              pattern,
              text,
              unmatchable,
              matches: expected,
            });
          }
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(300_000);
  });
});
