import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { DEMO } from '../../infra/local/demo.ts';
import { type LocalService, startLocalService } from '../../infra/local/service.ts';
import { createAwsClients } from '../../lib/aws/clients.ts';
import { SecretsManagerKeyRingStore } from '../../lib/aws/secrets-manager-key-ring-store.ts';
import { liveSources } from '../../lib/cli/doctor.ts';
import { diagnose } from '../../lib/doctor/diagnose.ts';
import { readSnapshot } from '../../lib/doctor/read-snapshot.ts';
import type { Log } from '../../lib/telemetry/ports.ts';
import { tempDir } from '../support/cli.ts';

// The sequence from the issue "Rotation keeps its promise when the config changes", in real time:
// `npm start`, sign the demo URL (and cookies) for 600 s, stop; `npm start -- --fast-rotation`
// (ttl.max 30 s, maxStale 5 s) and fetch them every second. Before recorded bounds, the key that
// signed them was removed on the fast schedule (37 s after it retired, about 70 s in) and the edge
// answered 403 InvalidKey for the 8 minutes they had left. Then the reverse: a plain `npm start`
// after the fast run used to log KEY_REMOVED_TOO_EARLY for every fast key, and doctor failed.
// It runs about two minutes: long enough for the fast run to retire the first key, pass the point
// where the old schedule removed it, and remove a fast key of its own.

/** A log that keeps the lines the test asserts on. */
class Lines implements Log {
  readonly errors: string[] = [];
  removals = 0;
  retired: string | undefined;
  info(message: string, fields: Record<string, unknown> = {}): void {
    if (message === 'rotation transition' && fields.step === 'remove') this.removals++;
  }
  warn(): void {}
  error(message: string, fields: Record<string, unknown> = {}): void {
    this.errors.push(`${message} ${JSON.stringify(fields)}`);
  }
}

/** A port base whose five ports (`npm start` uses the base and the four above it) are free now, so restarts keep their URLs. */
async function freePortBase(): Promise<number> {
  const free = (port: number) =>
    new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 40_000);
    let all = true;
    for (let offset = 0; offset < 5 && all; offset++) all = await free(base + offset);
    if (all) return base;
  }
  throw new Error('Expected five free consecutive loopback ports; found none in 50 tries.');
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function status(url: string, cookie?: string): Promise<string> {
  const response = await fetch(url, cookie === undefined ? {} : { headers: { cookie } });
  const body = await response.text();
  return response.status === 200 ? '200' : `${response.status} ${/<Code>([^<]+)<\/Code>/.exec(body)?.[1]}`;
}

async function errorFindings(service: LocalService) {
  const clients = createAwsClients(service.config);
  try {
    const snapshot = await readSnapshot(service.config, [DEMO.profile], liveSources(clients));
    return diagnose(snapshot, new Date()).filter((finding) => finding.severity === 'error');
  } finally {
    clients.secretsManager.destroy();
    clients.cloudfront.destroy();
  }
}

describe('npm start, then npm start -- --fast-rotation, then npm start (real time)', () => {
  it('never refuses a URL or cookie before its expiry, and raises no false alarm afterwards', async () => {
    const stateDir = tempDir();
    const portBase = await freePortBase();
    const start = (log: Lines, fastRotation: boolean) =>
      startLocalService({ stateDir, portBase, fastRotation, edgePropagationMs: 2000, log });

    // 1. The default timings (ttl.max 1 h): a URL and cookies valid for 10 minutes.
    const plain = new Lines();
    let service = await start(plain, false);
    const token = await service.issuer.issue({ sub: 'demo', scope: ['demo:read'], expiresIn: 3600 });
    const post = async (path: string, body: unknown) => {
      const response = await fetch(`${service.endpoints.api}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify(body),
      });
      expect(response.status).toBe(200);
      return (await response.json()) as {
        urls?: { url: string }[];
        cookies?: { name: string; value: string }[];
        keyId: string;
      };
    };
    const signed = await post('/v1/signed-urls', { url: service.demoUrl, expiresIn: 600 });
    const cookies = await post('/v1/signed-cookies', {
      resource: `${service.endpoints.edge}/private/*`,
      expiresIn: 600,
    });
    const url = signed.urls![0]!.url;
    const cookie = cookies.cookies!.map((c) => `${c.name}=${c.value}`).join('; ');
    const cookieTarget = `${service.endpoints.edge}/private/users/demo/notes.txt`;
    expect([await status(url), await status(cookieTarget, cookie)]).toEqual(['200', '200']);
    await service.close();

    // 2. Fast rotation (ttl.max 30 s): fetch both once a second until a fast key has been removed,
    // which is well past the moment the old schedule removed the first key.
    const fast = new Lines();
    service = await start(fast, true);
    const statuses: string[] = [];
    const deadline = Date.now() + 170_000;
    while (Date.now() < deadline && fast.removals < 1) {
      statuses.push(await status(url), await status(cookieTarget, cookie));
      await sleep(1000);
    }
    expect(fast.removals).toBeGreaterThanOrEqual(1);
    expect(statuses.length).toBeGreaterThan(150);
    expect(statuses.filter((s) => s !== '200')).toEqual([]);
    expect(fast.errors).toEqual([]);
    // The first key retired early in the fast run, the fast schedule's removal point for it
    // (retiredAt + maxStale 5 + ttl.max 30 + clockSkew 2) has passed, and it is still trusted: it
    // stays until the last URL it signed under ttl.max 1 h expires.
    const clients = createAwsClients(service.config);
    const ring = (await new SecretsManagerKeyRingStore(clients.secretsManager, DEMO.secretId).load())!.ring;
    clients.secretsManager.destroy();
    clients.cloudfront.destroy();
    const first = ring.keys.find((key) => key.id === signed.keyId);
    expect(first).toMatchObject({ state: 'retiring', bounds: { ttlMax: 3600, maxStale: 60, clockSkew: 5 } });
    expect(Date.parse(first!.retiredAt!) + 37_000).toBeLessThan(Date.now());
    expect(await errorFindings(service)).toEqual([]);
    await service.close();

    // 3. Back to the default timings: the fast keys' history is judged by the bounds recorded then.
    const again = new Lines();
    service = await start(again, false);
    await service.rotateNow();
    await service.rotateNow();
    expect([await status(url), await status(cookieTarget, cookie)]).toEqual(['200', '200']);
    expect(again.errors).toEqual([]);
    expect(await errorFindings(service)).toEqual([]);
    await service.close();
  }, 240_000);
});
