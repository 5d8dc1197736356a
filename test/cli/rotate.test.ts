import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.ts';
import { HandClock, type RotationSandbox, startRotationSandbox } from '../support/rotation-sandbox.ts';

// `signet rotate`, `signet revoke` and `signet keys` in-process, against the Secrets Manager and
// CloudFront stand-ins through the same config and SDK clients the service uses. The stand-ins and
// the commands share one hand-moved clock. Profile timings: propagation 120 s, maxStale 60 s,
// ttl.max 300 s, clockSkew 30 s.

let sandbox: RotationSandbox;
let clock: HandClock;
let env: Record<string, string>;

function configFor(endpoints: { secretsManager: string; cloudfront: string }) {
  const profile = (secretId: string, extra: Record<string, unknown> = {}) => ({
    domains: ['media.example.com'],
    keyRing: { secretId },
    ttl: { default: 60, max: 300 },
    cache: { ttl: 30, maxStale: 60 },
    rotation: { rotateEvery: 3600, propagation: 120, clockSkew: 30, ...extra },
  });
  return JSON.stringify({
    defaultProfile: 'cli',
    aws: { region: 'us-east-1', endpoints },
    profiles: {
      cli: profile('signet/cli'),
      // Nothing answers on port 9: the default fetch probe fails, so activation is held.
      canaried: profile('signet/canaried', { canary: { url: 'http://127.0.0.1:9/private/canary.txt' } }),
    },
  });
}

beforeAll(async () => {
  clock = new HandClock();
  sandbox = await startRotationSandbox({ clock });
  await sandbox.newStore('signet/cli');
  await sandbox.newStore('signet/canaried');
  env = {
    SIGNET_CONFIG: configFor({
      secretsManager: sandbox.secretsManager.url,
      cloudfront: sandbox.cloudfront.url,
    }),
  };
});
afterAll(async () => {
  await sandbox?.close();
});

const signet = (...args: string[]) => runCli(args, { env, now: Math.floor(clock.millis() / 1000) });
const json = async (...args: string[]) => {
  const run = await signet(...args, '--json');
  return { ...run, body: JSON.parse(run.stdout) as Record<string, unknown> };
};
const iso = (plusSeconds = 0) => new Date(clock.millis() + plusSeconds * 1000).toISOString();

describe('signet rotate, keys and revoke against the sandbox', () => {
  let first: string;
  let second: string;

  it('rotate bootstraps, waits for propagation, then activates; each step says what it did and what is next', async () => {
    const boot = await signet('rotate');
    expect(boot).toMatchObject({ code: 0, stderr: '' });
    expect(boot.stdout).toMatch(/^profile cli: bootstrap\n {2}committed bootstrap\n/);
    expect(boot.stdout).toContain('active key: none (signing stopped until a key is activated)');
    expect(boot.stdout).toContain(`next due: ${iso(120)}`);

    const waiting = await json('rotate');
    expect(waiting.body).toMatchObject({
      ok: true,
      action: { kind: 'none' },
      nextAt: iso(120),
      activeKeyId: null,
    });
    first = waiting.body.pendingKeyId as string;
    expect(first).toMatch(/^K[A-Z0-9]+$/);

    clock.advance(120);
    const activated = await json('rotate');
    expect(activated).toMatchObject({ code: 0 });
    expect(activated.body).toMatchObject({
      ok: true,
      transitioned: true,
      action: { kind: 'activate', keyId: first },
      activeKeyId: first,
      pendingKeyId: null,
      nextAt: iso(3600),
      violations: [],
    });
  });

  it('rotate --start introduces a key early, once', async () => {
    clock.advance(60);
    const started = await json('rotate', '--start');
    expect(started.body).toMatchObject({
      ok: true,
      action: { kind: 'introduce', reason: 'requested' },
      activeKeyId: first,
      nextAt: iso(120),
    });
    second = started.body.pendingKeyId as string;
    expect(second).toMatch(/^K/);
    expect(second).not.toBe(first);

    const again = await signet('rotate', '--start');
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('--start: a rotation is already under way (a pending key exists)');
    expect(again.stdout).toContain(`pending key: ${second}`);
  });

  it('keys lists each key with state, algorithm, age and group membership, never the private key', async () => {
    const table = await signet('keys');
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(
      /^profile cli, key group [\w-]+\nID +STATE +ALGORITHM +HASH +AGE +IN GROUP +FINGERPRINT\n/,
    );
    expect(table.stdout).toMatch(new RegExp(`${first} +active +ecdsa-p256 +sha256 +3 minutes +yes +sha256:`));
    expect(table.stdout).toMatch(
      new RegExp(`${second} +pending +ecdsa-p256 +sha256 +0 seconds +yes +sha256:`),
    );
    const listing = await json('keys');
    expect(listing.body).toMatchObject({
      profile: 'cli',
      keys: [
        { id: first, state: 'active', ageSeconds: 180, inGroup: true, registered: true },
        { id: second, state: 'pending', ageSeconds: 0, inGroup: true, trustedAt: iso() },
      ],
      otherGroupKeys: [],
      history: [],
    });
    expect(table.stdout + listing.stdout).not.toContain('PRIVATE KEY');
  });

  it('revoke without --yes changes nothing, says what would happen and exits 2', async () => {
    const dry = await signet('revoke', first);
    expect(dry.code).toBe(2);
    expect(dry.stdout).toBe('');
    expect(dry.stderr).toContain(`signet revoke: nothing changed. Would revoke ${first} of profile cli:`);
    expect(dry.stderr).toContain('SIGNING STOPS');
    expect(dry.stderr).toContain('Pass --yes to do it.');
    expect((await json('keys')).body).toMatchObject({
      keys: [{ id: first, state: 'active' }, { id: second }],
    });
  });

  it('revoke --yes takes the active key out now, activates the propagated pending key and states what fails until when', async () => {
    clock.advance(120);
    const revoked = await signet('revoke', first, '--yes');
    // The log line (an audit trail on stderr), never key material.
    expect(JSON.parse(revoked.stderr)).toMatchObject({ level: 'warn', event: 'key revoked', keyId: first });
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toContain(`Revoked ${first} of profile cli:`);
    expect(revoked.stdout).toContain(`${second} (pending, propagated) became the active key`);
    expect(revoked.stdout).toContain(
      `outstanding URLs and cookies signed by ${first} between ${iso(-180)} and ${iso(60)} ` +
        `(signers may hold a cached ring that long) fail with 403 until they expire, at the latest ${iso(60 + 300 + 30)}.`,
    );
    expect(revoked.stdout).not.toContain('SIGNING STOPS');
    const listing = await json('keys');
    expect(listing.body).toMatchObject({
      keys: [{ id: second, state: 'active', inGroup: true }],
      history: [{ id: first, revokedAt: iso(), retiredAt: iso() }],
    });
    expect(listing.body.keys).toHaveLength(1);
  });

  it('revoke of the last key introduces one and says signing stops until it has propagated', async () => {
    const revoked = await json('revoke', second, '--yes');
    expect(revoked.code).toBe(0);
    expect(revoked.body).toMatchObject({
      done: true,
      previousState: 'active',
      activatedKeyId: null,
      introduce: true,
      signing: { stops: true, resumesAt: iso(120) },
      activeKeyId: null,
      violations: [],
    });
    expect(revoked.body.pendingKeyId).toMatch(/^K/);
  });

  it('revoke refuses a key Signet does not know (exit 1) and a missing KEY_ID (exit 2)', async () => {
    const unknown = await signet('revoke', 'K0000000000000', '--yes');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(
      /^signet revoke: Expected K0000000000000 to be a key of profile cli's ring .*\(ERR_REVOKE_UNKNOWN_KEY\)\n$/,
    );
    const missing = await signet('revoke', '--yes');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('Expected one KEY_ID');
  });

  it('rotate exits 1 when a failing canary holds the activation', async () => {
    expect((await signet('rotate', '--profile', 'canaried')).code).toBe(0);
    clock.advance(120);
    const held = await signet('rotate', '--profile', 'canaried');
    expect(held.code).toBe(1);
    expect(held.stdout).toContain('profile canaried: blocked (canary-failed)');
    expect(held.stderr).toContain('"event":"rotation canary failed: activation held"');
    expect(held.stderr).not.toContain('Signature=');
  });

  it('--help on each command, and exit 3 when the endpoints do not answer', async () => {
    for (const command of ['rotate', 'revoke', 'keys']) {
      const help = await signet(command, '--help');
      expect(help.code).toBe(0);
      expect(help.stdout).toMatch(new RegExp(`^Usage: signet ${command} `));
      expect(help.stdout).toContain('Exit status: 0');
    }
    const down = await runCli(['keys'], {
      env: {
        SIGNET_CONFIG: configFor({ secretsManager: 'http://127.0.0.1:9', cloudfront: 'http://127.0.0.1:9' }),
      },
    });
    expect(down.code).toBe(3);
    expect(down.stderr).toContain('signet keys: Expected to reach Secrets Manager at http://127.0.0.1:9');
  });
});
