import { execFileSync, spawnSync } from 'node:child_process';
import { createPublicKey, verify } from 'node:crypto';
import { chmodSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeCloudFrontBase64 } from '../../lib/signing/index.ts';
import { runCli, tempDir } from '../support/cli.ts';

const NOW = 1_800_000_000;
const KEY_ID = 'K2JCJMDEHXQW5F';
const BIN = resolve(import.meta.dirname, '../../bin/signet.mjs');

describe('signet keygen', () => {
  it.each(['ecdsa-p256', 'rsa-2048'])(
    'writes a %s key pair with a private key only its owner can read',
    async (algorithm) => {
      const dir = tempDir();
      const run = await runCli(['keygen', '--algorithm', algorithm, '--out', 'keys'], { cwd: dir });
      expect(run.code).toBe(0);
      const privatePem = readFileSync(join(dir, 'keys/private.pem'), 'utf8');
      const publicPem = readFileSync(join(dir, 'keys/public.pem'), 'utf8');
      expect(privatePem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
      expect(publicPem).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
      expect(statSync(join(dir, 'keys/private.pem')).mode & 0o777).toBe(0o600);
      expect(createPublicKey(publicPem).asymmetricKeyType).toBe(algorithm === 'rsa-2048' ? 'rsa' : 'ec');
      const der = createPublicKey(publicPem).export({ type: 'spki', format: 'der' });
      const expected = execFileSync('openssl', ['dgst', '-sha256', '-binary'], { input: der }).toString(
        'base64url',
      );
      expect(run.stdout).toBe(`sha256:${expected}\n`);
      expect(run.stdout + run.stderr).not.toContain('PRIVATE KEY');
    },
  );

  it('refuses to overwrite a key without --force, and an unknown algorithm', async () => {
    const dir = tempDir();
    expect((await runCli(['keygen', '--out', dir])).code).toBe(0);
    const again = await runCli(['keygen', '--out', dir]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('--force');
    chmodSync(join(dir, 'private.pem'), 0o644);
    expect((await runCli(['keygen', '--out', dir, '--force'])).code).toBe(0);
    expect(statSync(join(dir, 'private.pem')).mode & 0o777).toBe(0o600);
    const bad = await runCli(['keygen', '--algorithm', 'ed25519', '--out', tempDir()]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('Expected --algorithm ecdsa-p256 or rsa-2048; got ed25519');
  });
});

describe('signet sign, cookies and explain', () => {
  let dir: string;
  let ecdsa: string;
  let rsa: string;

  beforeAll(async () => {
    dir = tempDir();
    await runCli(['keygen', '--out', 'ec'], { cwd: dir });
    await runCli(['keygen', '--algorithm', 'rsa-2048', '--out', 'rsa'], { cwd: dir });
    ecdsa = join(dir, 'ec');
    rsa = join(dir, 'rsa');
  });

  const signArgs = (keyDir: string, ...more: string[]) => [
    '--key-file',
    join(keyDir, 'private.pem'),
    '--key-pair-id',
    KEY_ID,
    ...more,
  ];

  it('prints a canned SHA-256 URL for an ECDSA key and the exact signed policy with --json', async () => {
    const url = 'https://media.example.com/videos/a b.mp4';
    const run = await runCli(['sign', ...signArgs(ecdsa, '--url', url, '--expires-in', '600', '--json')], {
      now: NOW,
    });
    expect(run.code).toBe(0);
    const out = JSON.parse(run.stdout);
    const expires = NOW + 600;
    expect(out.expires).toBe(expires);
    expect(out.keyPairId).toBe(KEY_ID);
    expect(out.policy).toBe(
      `{"Statement":[{"Resource":"https://media.example.com/videos/a%20b.mp4","Condition":{"DateLessThan":{"AWS:EpochTime":${expires}}}}]}`,
    );
    const match =
      /^https:\/\/media\.example\.com\/videos\/a%20b\.mp4\?Expires=(\d+)&Signature=([^&]+)&Key-Pair-Id=K2JCJMDEHXQW5F&Hash-Algorithm=SHA256$/.exec(
        out.url,
      );
    expect(match?.[1]).toBe(String(expires));
    const publicPem = readFileSync(join(ecdsa, 'public.pem'));
    expect(verify('sha256', Buffer.from(out.policy), publicPem, decodeCloudFrontBase64(match![2]!)!)).toBe(
      true,
    );
  });

  it('defaults RSA keys to SHA-1 and makes the policy custom for --resource, --not-before and --ip', async () => {
    const run = await runCli(
      [
        'sign',
        ...signArgs(
          rsa,
          '--url',
          'https://media.example.com/videos/x.mp4',
          '--resource',
          'https://media.example.com/videos/*',
        ),
        '--expires',
        String(NOW + 60),
        '--not-before',
        String(NOW - 60),
        '--ip',
        '203.0.113.0/24',
        '--json',
      ],
      { now: NOW },
    );
    expect(run.code).toBe(0);
    const out = JSON.parse(run.stdout);
    expect(out.policy).toBe(
      `{"Statement":[{"Resource":"https://media.example.com/videos/*","Condition":{"DateLessThan":{"AWS:EpochTime":${NOW + 60}},"DateGreaterThan":{"AWS:EpochTime":${NOW - 60}},"IpAddress":{"AWS:SourceIp":"203.0.113.0/24"}}}]}`,
    );
    expect(out.url).toMatch(/\?Policy=[A-Za-z0-9~_-]+&Signature=[A-Za-z0-9~_-]+&Key-Pair-Id=K2JCJMDEHXQW5F$/);
  });

  it('prints Set-Cookie lines with Secure; HttpOnly and the attributes asked for', async () => {
    const run = await runCli(
      [
        'cookies',
        ...signArgs(ecdsa, '--resource', 'https://media.example.com/videos/*', '--expires-in', '300'),
        '--domain',
        'example.com',
        '--path',
        '/videos/',
        '--same-site',
        'None',
      ],
      { now: NOW },
    );
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines.map((line) => line.split('=')[0])).toEqual([
      'Set-Cookie: CloudFront-Policy',
      'Set-Cookie: CloudFront-Signature',
      'Set-Cookie: CloudFront-Key-Pair-Id',
      'Set-Cookie: CloudFront-Hash-Algorithm',
    ]);
    for (const line of lines)
      expect(line).toMatch(/; Domain=example\.com; Path=\/videos\/; Secure; HttpOnly; SameSite=None$/);
    const json = JSON.parse(
      (
        await runCli(
          [
            'cookies',
            ...signArgs(ecdsa, '--url', 'https://media.example.com/a.mp4', '--expires-in', '300', '--json'),
          ],
          { now: NOW },
        )
      ).stdout,
    );
    expect(json.cookies[0]).toEqual({
      name: 'CloudFront-Expires',
      value: String(NOW + 300),
      domain: null,
      path: '/',
      sameSite: 'Lax',
      secure: true,
      httpOnly: true,
    });
  });

  it('cookies --persistent sets Max-Age and Expires at the policy expiry (session cookies without it)', async () => {
    const run = async (...extra: string[]) =>
      (
        await runCli(
          [
            'cookies',
            ...signArgs(ecdsa, '--url', 'https://media.example.com/a.mp4', '--expires-in', '300', ...extra),
          ],
          { now: NOW },
        )
      ).stdout;
    const expires = new Date((NOW + 300) * 1000).toUTCString();
    for (const line of (await run('--persistent')).trim().split('\n')) {
      expect(line).toContain(`; Path=/; Max-Age=300; Expires=${expires}; Secure; HttpOnly; SameSite=Lax`);
    }
    expect(await run()).not.toMatch(/Max-Age|Expires=[A-Z]/);
    const json = JSON.parse(await run('--persistent', '--json'));
    expect(json.cookies[0]).toMatchObject({
      maxAge: 300,
      expiresAt: new Date((NOW + 300) * 1000).toISOString().replace('.000Z', 'Z'),
    });
  });

  it('explains an allowed URL (exit 0), and an expired one and an untrusted key (exit 1)', async () => {
    const signed = JSON.parse(
      (
        await runCli(
          [
            'sign',
            ...signArgs(ecdsa, '--url', 'https://media.example.com/a.mp4', '--expires-in', '60', '--json'),
          ],
          { now: NOW },
        )
      ).stdout,
    );
    const trust = ['--public-key-file', join(ecdsa, 'public.pem'), '--key-pair-id', KEY_ID];
    const ok = await runCli(['explain', signed.url, ...trust, '--at', String(NOW + 1), '--json']);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({
      allowed: true,
      code: null,
      keyPairId: KEY_ID,
      policy: signed.policy,
    });

    const late = await runCli(['explain', signed.url, ...trust, '--at', String(NOW + 60 + 12 * 60)]);
    expect(late.code).toBe(1);
    expect(late.stdout).toContain('DENIED  AccessDenied');
    expect(late.stdout).toContain('expired 12 minutes ago');
    expect(late.stdout).toContain('"AWS:EpochTime"');

    const other = ['--public-key-file', join(rsa, 'public.pem'), '--key-pair-id', 'K9OTHERKEY0001'];
    const unknown = await runCli(['explain', signed.url, ...other, '--at', String(NOW), '--json']);
    expect(unknown.code).toBe(1);
    expect(JSON.parse(unknown.stdout)).toMatchObject({ allowed: false, code: 'InvalidKey' });
  });

  it('explains signed cookies given as a Cookie header', async () => {
    const cookies = JSON.parse(
      (
        await runCli(
          [
            'cookies',
            ...signArgs(
              ecdsa,
              '--resource',
              'https://media.example.com/videos/*',
              '--expires-in',
              '60',
              '--json',
            ),
          ],
          { now: NOW },
        )
      ).stdout,
    ) as { cookies: { name: string; value: string }[] };
    const header = cookies.cookies.map((c) => `${c.name}=${c.value}`).join('; ');
    const trust = ['--public-key-file', join(ecdsa, 'public.pem'), '--key-pair-id', KEY_ID];
    const inside = await runCli([
      'explain',
      'https://media.example.com/videos/a.mp4',
      '--cookie',
      header,
      ...trust,
      '--at',
      String(NOW + 1),
      '--json',
    ]);
    expect(inside.code).toBe(0);
    expect(JSON.parse(inside.stdout)).toMatchObject({ allowed: true, keyPairId: KEY_ID });
    const outside = await runCli([
      'explain',
      'https://media.example.com/admin/a.mp4',
      '--cookie',
      header,
      ...trust,
      '--at',
      String(NOW + 1),
    ]);
    expect(outside.code).toBe(1);
    expect(outside.stdout).toContain('does not match https://media.example.com/videos/*');
  });

  it('answers usage errors with exit 2 and a message naming what was expected', async () => {
    const cases: [string[], string][] = [
      [
        ['sign', ...signArgs(ecdsa, '--url', 'https://a.example/x')],
        'exactly one of --expires EPOCH or --expires-in SECONDS',
      ],
      [
        ['sign', ...signArgs(ecdsa, '--url', 'https://a.example/x*', '--expires-in', '60')],
        'ERR_AMBIGUOUS_WILDCARD',
      ],
      [
        ['sign', ...signArgs(ecdsa, '--url', 'https://a.example/x', '--expires', String(NOW * 1000))],
        'looks like milliseconds',
      ],
      [
        ['sign', ...signArgs(ecdsa, '--url', 'https://a.example/x', '--expires-in', 'soon')],
        'Expected --expires-in to be a whole number',
      ],
      [['sign', '--bogus'], "Unknown option '--bogus'"],
      [['explain', 'https://a.example/x'], 'Expected each --public-key-file to come with a --key-pair-id'],
      [['frobnicate'], 'unknown command "frobnicate"'],
    ];
    for (const [argv, message] of cases) {
      const run = await runCli(argv, { now: NOW });
      expect(run.code, argv.join(' ')).toBe(2);
      expect(run.stderr).toContain(message);
    }
  });

  it('answers a missing key file with exit 3 (environment)', async () => {
    const run = await runCli([
      'sign',
      '--key-file',
      join(dir, 'nope.pem'),
      '--key-pair-id',
      KEY_ID,
      '--url',
      'https://a.example/x',
      '--expires-in',
      '60',
    ]);
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('Could not read the key file');
  });
});

describe('the signet executable', () => {
  it('runs from the package bin with --help on every command', () => {
    for (const command of [[], ['keygen'], ['sign'], ['cookies'], ['explain']]) {
      const result = spawnSync(process.execPath, [BIN, ...command, '--help'], { encoding: 'utf8' });
      expect(result.status, command.join(' ')).toBe(0);
      expect(result.stdout).toMatch(/^Usage: signet/);
    }
    const none = spawnSync(process.execPath, [BIN], { encoding: 'utf8' });
    expect(none.status).toBe(2);
  });
});
