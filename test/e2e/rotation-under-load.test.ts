import { describe, expect, it, type TestContext } from 'vitest';
import {
  type LocalRotationTimings,
  type LocalService,
  startLocalService,
} from '../../infra/local/service.ts';
import type { Log } from '../../lib/telemetry/ports.ts';
import { tempDir } from '../support/cli.ts';

// Issue 5, acceptance 7: rotation under load, end to end in the sandbox. A loop keeps issuing signed
// URLs and cookies through the API and fetching them (and earlier ones still valid) through the
// edge while the rotator rotates the demo profile; the edge applies key group changes EDGE_DELAY
// after they are made.
//
// The positive test runs `npm start -- --fast-rotation` as documented (a new key about every 30 s,
// expiries of 10 to 30 s, the edge 2 s behind the control plane, propagation 4 s) until three
// complete rotations have happened: three keys introduced, activated, and removed once nothing they
// signed could still be valid (removal delay maxStale 5 + ttl.max 30 + clockSkew 2 = 37 s). That is
// about two and a half minutes. The negative control uses the fastest timings the invariants allow
// (expiries up to 30 s give a removal delay of 34 s, and 2 * rotateEvery + propagation must cover it).

const FAST: LocalRotationTimings = {
  rotateEvery: 16,
  propagation: 2,
  clockSkew: 1,
  ttl: { default: 20, max: 30 },
  cache: { ttl: 1, maxStale: 3 },
};

/** A silent log that counts the rotator's activations and removals. */
class ActivationLog implements Log {
  activations = 0;
  removals = 0;
  errors: string[] = [];
  info(message: string, fields: Record<string, unknown> = {}): void {
    if (message === 'rotation transition' && fields.step === 'activate') this.activations++;
    if (message === 'rotation transition' && fields.step === 'remove') this.removals++;
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
  readonly removalsAfterStart: number;
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
  const startRemovals = log.removals;
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
    removalsAfterStart: log.removals - startRemovals,
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
  options: {
    activateWithoutPropagation?: boolean;
    edgePropagationMs: number;
    rotation?: LocalRotationTimings;
  },
) {
  const log = new ActivationLog();
  const service = await startLocalService({
    stateDir: tempDir(),
    portBase: 0,
    edgePropagationMs: options.edgePropagationMs,
    fastRotation: true,
    ...(options.rotation === undefined ? {} : { rotation: options.rotation }),
    log,
    ...(options.activateWithoutPropagation === true ? { activateWithoutPropagation: true } : {}),
  });
  context.onTestFinished(() => service.close());
  return { service, log };
}

describe.concurrent('rotation under load: API → signed URLs and cookies → edge', () => {
  it('counts zero 403s across three complete rotations with the documented --fast-rotation timings', async (context) => {
    const { service, log } = await start(context, { edgePropagationMs: 2000 });
    let thirdRemovedAt: number | undefined;
    const report = await runLoad(
      service,
      log,
      (current) => {
        if (current.removalsAfterStart < 3) return false;
        thirdRemovedAt ??= Date.now();
        // Keep going a little so the newest key signs and its URLs are fetched.
        return Date.now() - thirdRemovedAt > 3000;
      },
      210_000,
    );
    expect(report.removalsAfterStart).toBeGreaterThanOrEqual(3);
    expect(report.activationsAfterStart).toBeGreaterThanOrEqual(3);
    expect(report.forbidden).toEqual([]);
    expect(report.apiFailures).toEqual([]);
    expect(log.errors).toEqual([]);
    expect(report.keyIds.size).toBeGreaterThanOrEqual(4);
    expect(report.issued).toBeGreaterThan(200);
    expect(report.refetches).toBeGreaterThan(200);
  }, 240_000);

  it('does see 403 InvalidKey when activation does not wait for propagation (the test can fail)', async (context) => {
    const { service, log } = await start(context, {
      edgePropagationMs: 3000,
      activateWithoutPropagation: true,
      rotation: FAST,
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
