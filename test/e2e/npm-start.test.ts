import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../support/cli.ts';
import { SIGNET_BIN, startSignet } from '../support/process.ts';

interface Ready {
  api: string;
  edge: string;
  secretsManager: string;
  cloudfront: string;
  demoUrl: string;
  token: string;
  status: string;
}

async function sign(ready: Ready, token: string): Promise<{ url: string; keyId: string }> {
  const response = await fetch(`${ready.api}/v1/signed-urls`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ url: ready.demoUrl }),
  });
  expect(response.status).toBe(200);
  const body = (await response.json()) as { urls: { url: string }[]; keyId: string };
  return { url: body.urls[0]!.url, keyId: body.keyId };
}

describe('npm start (signet start) as a process', () => {
  it('prints the ready line, serves the demo, keeps its state across a restart, and stops on Ctrl-C', async () => {
    const dir = tempDir();
    const env = { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
    const first = await startSignet<Ready>(
      ['start', '--json', '--port-base', '0', '--edge-propagation', '0'],
      { cwd: dir, env, timeoutMs: 40_000 },
    );
    expect(Object.keys(first.ready)).toEqual([
      'api',
      'edge',
      'secretsManager',
      'cloudfront',
      'demoUrl',
      'token',
      'status',
    ]);
    expect(first.ready.demoUrl).toBe(`${first.ready.edge}/private/hello.txt`);
    // The demo profile's status page (signet status) on loopback, its data as JSON.
    const status = (await (await fetch(`${first.ready.status}status.json`)).json()) as { profile: string };
    expect(status.profile).toBe('demo');
    const before = await sign(first.ready, first.ready.token);
    expect((await fetch(before.url)).status).toBe(200);
    expect((await fetch(first.ready.demoUrl)).status).toBe(403);
    expect(existsSync(join(dir, '.signet/config.json'))).toBe(true);
    expect(readFileSync(join(dir, '.signet/config.json'), 'utf8')).not.toContain('PRIVATE KEY');

    // signet token, run in the same directory, uses that config and the issuer's stored key.
    const token = spawnSync(
      process.execPath,
      [SIGNET_BIN, 'token', '--sub', 'demo', '--scope', 'demo:read'],
      { cwd: dir, encoding: 'utf8', env: { ...process.env, ...env } },
    );
    expect(token.status).toBe(0);
    expect((await sign(first.ready, token.stdout.trim())).keyId).toBe(before.keyId);

    // The demo config's origins, cookie settings, API origin and distribution agree with each other
    // (docs/frontends.md): doctor, run where npm start runs, finds nothing a browser would trip on.
    const doctor = spawnSync(process.execPath, [SIGNET_BIN, 'doctor', '--json'], {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, ...env },
    });
    const diagnosis = JSON.parse(doctor.stdout) as {
      ok: boolean;
      findings: { code: string; severity: string }[];
    };
    expect(diagnosis.findings.filter((finding) => finding.severity !== 'info')).toEqual([]);
    expect(diagnosis.ok).toBe(true);
    expect(doctor.status).toBe(0);

    const stopped = await first.stop('SIGINT');
    expect(stopped.code).toBe(0);

    const second = await startSignet<Ready>(
      ['start', '--json', '--port-base', '0', '--edge-propagation', '0'],
      { cwd: dir, env, timeoutMs: 40_000 },
    );
    const after = await sign(second.ready, second.ready.token);
    expect(after.keyId).toBe(before.keyId); // the same key ring: no second bootstrap
    expect((await fetch(after.url)).status).toBe(200);
    expect((await second.stop('SIGTERM')).code).toBe(0);
  });
});
