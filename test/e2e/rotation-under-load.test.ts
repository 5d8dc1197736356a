import { describe, expect, it, type TestContext } from 'vitest';
import {
  type LocalRotationTimings,
  type LocalService,
  startLocalService,
} from '../../infra/local/service.ts';
import type { Log } from '../../lib/http/telemetry.ts';
import { tempDir } from '../support/cli.ts';

// Issue 5, acceptance 7: rotation under load, end to end in the sandbox. A loop keeps issuing signed
// URLs and cookies through the API and fetching them (and earlier ones still valid) through the
// edge while the rotator rotates the demo profile; the edge applies key group changes EDGE_DELAY
// after they are made.
//
// Timings: expiries of 10 to 30 s need ttl.max 30, so the removal delay is maxStale 3 + ttl.max 30 +
// clockSkew 1 = 34 s; config load requires 2 * rotateEvery + propagation >= that (at most 3 keys in
// the group), so rotateEvery 16 s with propagation 2 s (edge delay 1 s + 1 s) is the fastest cycle
// the invariants allow: three rotations after bootstrap take about 3 * 18 s.

const FAST: LocalRotationTimings = {
  rotateEvery: 16,
  propagation: 2,
  clockSkew: 1,
  ttl: { default: 20, max: 30 },
  cache: { ttl: 1, maxStale: 3 },
};

/** A silent log that counts the rotator's activations. */
class ActivationLog implements Log {
  activations = 0;
  errors: string[] = [];
  info(message: string, fields: Record<string, unknown> = {}): void {
    if (message === 'rotation transition' && fields.step === 'activate') this.activations++;
  }
  warn(): void {}
  error(message: string, fields: Record<string, unknown> = {}): void {
    this.errors.push(`${message} ${JSON.stringify(fields)}`);
  }
}

interface Issued {
  readonly kind: 'url' | 'cookie';
  readonly url: string;
  readonly cookie?: string;
  readonly expires: number;
  readonly keyId: string;
}

interface LoadReport {
  readonly fetches: number;
  readonly refetches: number;
  readonly issued: number;
  readonly keyIds: ReadonlySet<string>;
  readonly forbidden: { kind: string; keyId: string; code: string | undefined; reason: string | null }[];
  readonly apiFailures: string[];
  readonly activationsAfterStart: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Issues a URL or cookies every PACE ms (alternating), fetches each at once and re-fetches up to
 * three earlier ones that are still valid, until `done` says so or `deadlineMs` passes.
 */
async function runLoad(
  service: LocalService,
  log: ActivationLog,
  done: (report: LoadReport) => boolean,
  deadlineMs: number,
): Promise<LoadReport> {
  const token = await service.issuer.issue({ sub: 'demo', scope: ['demo:read'] });
  const edge = service.endpoints.edge;
  const startActivations = log.activations;
  const outstanding: Issued[] = [];
  const keyIds = new Set<string>();
  const forbidden: LoadReport['forbidden'] = [];
  const apiFailures: string[] = [];
  let fetches = 0;
  let refetches = 0;
  let issued = 0;
  const report = (): LoadReport => ({
    fetches,
    refetches,
    issued,
    keyIds,
    forbidden,
    apiFailures,
    activationsAfterStart: log.activations - startActivations,
  });
  const fetchAtEdge = async (item: Issued) => {
    const target = item.kind === 'url' ? item.url : `${edge}/private/users/demo/notes.txt`;
    const response = await fetch(
      target,
      item.cookie === undefined ? {} : { headers: { cookie: item.cookie } },
    );
    const body = await response.text();
    fetches++;
    if (response.status === 403) {
      forbidden.push({
        kind: item.kind,
        keyId: item.keyId,
        code: /<Code>([^<]+)<\/Code>/.exec(body)?.[1],
        reason: decodeURIComponent(response.headers.get('x-signet-reason') ?? ''),
      });
    } else if (response.status !== 200) {
      apiFailures.push(`edge answered ${response.status} for a ${item.kind}`);
    }
  };

  const deadline = Date.now() + deadlineMs;
  for (let tick = 0; Date.now() < deadline && !done(report()); tick++) {
    const kind = tick % 2 === 0 ? 'url' : 'cookie';
    const expiresIn = 10 + (tick % 21);
    const response = await fetch(
      `${service.endpoints.api}/v1/${kind === 'url' ? 'signed-urls' : 'signed-cookies'}`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify(
          kind === 'url' ? { url: service.demoUrl, expiresIn } : { resource: `${edge}/private/*`, expiresIn },
        ),
      },
    );
    if (response.status !== 200) {
      apiFailures.push(`API answered ${response.status}: ${await response.text()}`);
    } else {
      const body = (await response.json()) as {
        urls?: { url: string }[];
        cookies?: { name: string; value: string }[];
        expires: number;
        keyId: string;
      };
      const item: Issued =
        kind === 'url'
          ? { kind, url: body.urls![0]!.url, expires: body.expires, keyId: body.keyId }
          : {
              kind,
              url: '',
              cookie: body.cookies!.map((cookie) => `${cookie.name}=${cookie.value}`).join('; '),
              expires: body.expires,
              keyId: body.keyId,
            };
      issued++;
      keyIds.add(item.keyId);
      outstanding.push(item);
      await fetchAtEdge(item);
    }
    // Earlier URLs and cookies, oldest first, while at least a second of validity remains.
    const now = Date.now() / 1000;
    const valid = outstanding.filter((item) => item.expires > now + 1);
    outstanding.splice(0, outstanding.length, ...valid);
    for (const item of valid
      .slice(0, -1)
      .filter((_, index) => index % 5 === tick % 5)
      .slice(0, 3)) {
      refetches++;
      await fetchAtEdge(item);
    }
    await sleep(250);
  }
  return report();
}

/** Starts the local service for one test; it closes when that test finishes (the tests run concurrently). */
async function start(
  context: TestContext,
  options: { activateWithoutPropagation?: boolean; edgePropagationMs: number },
) {
  const log = new ActivationLog();
  const service = await startLocalService({
    stateDir: tempDir(),
    portBase: 0,
    edgePropagationMs: options.edgePropagationMs,
    fastRotation: true,
    rotation: FAST,
    log,
    ...(options.activateWithoutPropagation === true ? { activateWithoutPropagation: true } : {}),
  });
  context.onTestFinished(() => service.close());
  return { service, log };
}

describe.concurrent('rotation under load: API → signed URLs and cookies → edge', () => {
  it('counts zero 403s across three rotations when activation waits for propagation', async (context) => {
    const { service, log } = await start(context, { edgePropagationMs: 1000 });
    let thirdSeenAt: number | undefined;
    const report = await runLoad(
      service,
      log,
      (current) => {
        if (current.activationsAfterStart < 3) return false;
        thirdSeenAt ??= Date.now();
        // Keep going a little so the last key signs and its URLs are fetched.
        return Date.now() - thirdSeenAt > 3000;
      },
      75_000,
    );
    expect(report.activationsAfterStart).toBeGreaterThanOrEqual(3);
    expect(report.forbidden).toEqual([]);
    expect(report.apiFailures).toEqual([]);
    expect(log.errors).toEqual([]);
    expect(report.keyIds.size).toBeGreaterThanOrEqual(3);
    expect(report.issued).toBeGreaterThan(60);
    expect(report.refetches).toBeGreaterThan(60);
  }, 90_000);

  it('does see 403 InvalidKey when activation does not wait for propagation (the test can fail)', async (context) => {
    const { service, log } = await start(context, {
      edgePropagationMs: 3000,
      activateWithoutPropagation: true,
    });
    const report = await runLoad(
      service,
      log,
      (current) => current.forbidden.some((entry) => entry.code === 'InvalidKey'),
      40_000,
    );
    expect(report.forbidden).toContainEqual(expect.objectContaining({ code: 'InvalidKey' }));
  }, 60_000);
});
