import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  parseConfig,
  profileName,
  readConfig,
  readConfigFromEnvironment,
} from '../../lib/config/index.ts';
import { tempDir } from '../support/cli.ts';

const minimal = {
  profiles: {
    media: {
      domains: ['media.example.com'],
      keyRing: { secretId: 'signet/media' },
      grants: [
        {
          when: { claims: { scope: 'media:read' } },
          resources: ['https://media.example.com/videos/*'],
          maxTtl: '1h',
        },
      ],
    },
  },
};

function problemsOf(document: unknown): readonly string[] {
  try {
    parseConfig(document);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('Expected the config to be refused.');
}

describe('config', () => {
  it('applies defaults, reads durations like "1h" and "30d", and freezes the result', () => {
    const config = parseConfig(minimal);
    const media = config.profiles.media!;
    expect(media.grants[0]!.maxTtl).toBe(3600);
    expect(media.ttl).toEqual({ default: 300, max: 86_400 });
    expect(media.cache).toEqual({ ttl: 300, maxStale: 3600 });
    expect(media.rotation).toMatchObject({ rotateEvery: 30 * 86_400, propagation: 3600, clockSkew: 300 });
    expect(media.algorithm).toBe('ecdsa-p256');
    expect(Object.isFrozen(media.grants[0])).toBe(true);
    expect(profileName(config, undefined)).toBe('media');
    expect(profileName(config, 'nope')).toBeUndefined();
  });

  it('lists every bad field in one error, each with what was expected', () => {
    const problems = problemsOf({
      profiles: {
        Media: { domains: ['media.example.com'], keyRing: { secretId: 'x' } },
        docs: {
          domains: ['Not A Host'],
          keyRing: {},
          ttl: { default: 7200, max: 3600 },
          hash: 'sha1',
          cache: { ttl: 'soon' },
          grants: [
            { when: {}, resources: ['https://other.example.com/*'] },
            { when: { apiKeys: ['app'] }, resources: ['ftp://docs.example.com/x'], maxTtl: 99_999 },
          ],
          surprise: true,
        },
      },
    });
    const text = problems.join('\n');
    for (const expected of [
      'profiles.Media: Expected a profile name of lowercase letters, digits and dashes; got "Media"',
      'profiles.docs.domains.0: Expected a lowercase host name',
      'profiles.docs.keyRing.secretId: Expected a string here; it is missing',
      'profiles.docs.cache.ttl: Expected seconds or a duration like "90s", "5m", "1h", "30d"; got "soon"',
      'profiles.docs.grants.0.when: Expected `claims` or `apiKeys`',
      'profiles.docs.grants.1.resources.0: Expected an https:// (or http://) URL pattern',
      'surprise',
    ]) {
      expect(text).toContain(expected);
    }
    expect(problems.length).toBeGreaterThanOrEqual(7);
  });

  it('refuses cross-field mistakes: default TTL over the maximum, a grant on another host, ECDSA with SHA-1', () => {
    const text = problemsOf({
      defaultProfile: 'missing',
      profiles: {
        media: {
          domains: ['media.example.com'],
          keyRing: { secretId: 'x' },
          ttl: { default: 7200, max: 3600 },
          hash: 'sha1',
          grants: [{ when: { apiKeys: ['app'] }, resources: ['https://other.example.com/*'], maxTtl: 7200 }],
        },
      },
    }).join('\n');
    expect(text).toContain('defaultProfile: Expected one of the profiles (media); got missing');
    expect(text).toContain('Expected ttl.default (7200s) at most ttl.max (3600s)');
    expect(text).toContain(
      'Expected a resource on one of the profile\'s domains (media.example.com); got host "other.example.com"',
    );
    expect(text).toContain("Expected maxTtl at most the profile's ttl.max (3600s); got 7200s");
    expect(text).toContain('Expected sha256 with ecdsa-p256 keys');
  });

  it('refuses cookie attributes the API could never set, at load time rather than on every request', () => {
    const text = problemsOf({
      profiles: {
        media: {
          domains: ['media.example.com'],
          keyRing: { secretId: 'x' },
          cookie: { domain: 'cloudfront.net', path: '/videos/*' },
        },
      },
    }).join('\n');
    expect(text).toContain('profiles.media.cookie: Expected a cookie Domain no wider than one distribution');
  });

  it('reads inline JSON, a JSON file and a YAML file', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'signet.json'), JSON.stringify(minimal));
    writeFileSync(
      join(dir, 'signet.yaml'),
      'profiles:\n  media:\n    domains: [media.example.com]\n    keyRing: { secretId: signet/media }\n',
    );
    expect(readConfig(JSON.stringify(minimal), dir).profiles.media).toBeDefined();
    expect(readConfig('signet.json', dir).profiles.media).toBeDefined();
    expect(readConfig('signet.yaml', dir).profiles.media?.domains).toEqual(['media.example.com']);
    writeFileSync(join(dir, 'bad.yml'), 'profiles: [unclosed');
    expect(() => readConfig('bad.yml', dir)).toThrow(/Expected YAML in .*bad\.yml/);
    expect(() => readConfig('missing.json', dir)).toThrow(/Could not read the configuration file/);
    expect(() => readConfig('{"profiles": ', dir)).toThrow(/Expected JSON in the inline configuration/);
  });

  it('reads a JSON file named by SIGNET_CONFIG at a Lambda cold start, and refuses a YAML one clearly (the functions bundle no YAML parser)', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'signet.json'), JSON.stringify(minimal));
    expect(
      readConfigFromEnvironment({ SIGNET_CONFIG: 'signet.json' }, dir).profiles.media?.keyRing.secretId,
    ).toBe(minimal.profiles.media.keyRing.secretId);
    writeFileSync(
      join(dir, 'signet.yml'),
      'profiles:\n  media:\n    domains: [media.example.com]\n    keyRing: { secretId: signet/media }\n',
    );
    expect(() => readConfigFromEnvironment({ SIGNET_CONFIG: 'signet.yml' }, dir)).toThrow(
      /Expected a JSON configuration \(inline, or a \.json file\); got the YAML file .*signet\.yml/,
    );
    // The CLI's reader (lib/config/index.ts) still reads it.
    expect(readConfig('signet.yml', dir).profiles.media?.keyRing.secretId).toBe('signet/media');
  });

  it('fails a Lambda cold start with a clear error when SIGNET_CONFIG is missing or invalid', () => {
    expect(() => readConfigFromEnvironment({}, '/')).toThrow(
      /Expected the SIGNET_CONFIG environment variable/,
    );
    expect(() => readConfigFromEnvironment({ SIGNET_CONFIG: '{"profiles":{}}' }, '/')).toThrow(
      /Expected at least one profile/,
    );
  });
});
