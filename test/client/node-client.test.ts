import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSignetClient, SignetError } from '../../client/signet-client.js';
import { type LocalService, startLocalService } from '../../infra/local/service.ts';
import { silentLog } from '../../lib/telemetry/ports.ts';
import { tempDir } from '../support/cli.ts';

// client/signet-client.js outside a browser (Node's fetch keeps no cookies, as an app's HTTP stack
// that does not share the browser's): the JSON body's cookies sent by hand reach the edge, and the
// refresh timer asks again `refreshIn` seconds after each answer. Against `npm start`'s service.

let service: LocalService;
let token: string;

beforeAll(async () => {
  service = await startLocalService({
    stateDir: tempDir(),
    portBase: 0,
    edgePropagationMs: 0,
    log: silentLog,
  });
  token = await service.issuer.issue({ sub: 'demo', scope: ['demo:read'] });
}, 60_000);

afterAll(async () => {
  await service?.close();
});

describe('the browser client, used by a non-browser caller', () => {
  it('signs a URL and a batch; the signed URLs open the object at the edge', async () => {
    const client = createSignetClient({ api: service.endpoints.api, token: () => token });
    const one = await client.signUrl(service.demoUrl, { expiresIn: 60 });
    expect((await fetch(one.url)).status).toBe(200);
    const batch = await client.signUrls([service.demoUrl, `${service.endpoints.edge}/private/probe.txt`], {
      resource: `${service.endpoints.edge}/private/*`,
    });
    expect(batch.urls).toHaveLength(2);
    for (const signed of batch.urls) expect((await fetch(signed.url)).status).toBe(200);
  });

  it("sends the JSON body's cookies by hand: the edge answers 200 with them and 403 MissingKey without", async () => {
    const client = createSignetClient({ api: service.endpoints.api, token: () => token });
    const session = await client.ensureCookies(`${service.endpoints.edge}/private/*`, { keepFresh: false });
    expect(session.verified).toBe(false);
    expect(session.cookies.map((c) => c.name)).toContain('CloudFront-Signature');
    const withCookies = await fetch(service.demoUrl, { headers: { cookie: session.cookieHeader } });
    expect(withCookies.status).toBe(200);
    expect(await withCookies.text()).toBe('Hello from behind a CloudFront signature.\n');
    const without = await fetch(service.demoUrl);
    expect(without.status).toBe(403);
    expect(await without.text()).toContain('MissingKey');
    // Asked again while fresh: the same cookies, no new request.
    expect(await client.ensureCookies(`${service.endpoints.edge}/private/*`, { keepFresh: false })).toBe(
      session,
    );
    client.close();
  });

  it('refreshes on its timer refreshIn seconds after each answer, and the new cookies work', async () => {
    const events: string[] = [];
    let clock = Date.now();
    const timers: (() => void)[] = [];
    const client = createSignetClient({
      api: service.endpoints.api,
      token: () => token,
      now: () => clock,
      setTimer: (callback) => timers.push(callback),
      clearTimer: () => undefined,
      onEvent: (event) => events.push(event.type),
    });
    const first = await client.ensureCookies(`${service.endpoints.edge}/private/*`, { expiresIn: 600 });
    expect(first.answer.refreshIn).toBe(480);
    expect(first.refreshAtMs - clock).toBeLessThanOrEqual(480_000);
    expect(timers).toHaveLength(1);
    // The hand clock passes the refresh time; the timer fires; the client asks again.
    clock += 481_000;
    const refreshed = new Promise<void>((done) => {
      const check = () => (events.includes('cookies-refreshed') ? done() : setTimeout(check, 20));
      check();
    });
    timers.shift()!();
    await refreshed;
    const second = await client.ensureCookies(`${service.endpoints.edge}/private/*`, { expiresIn: 600 });
    expect(second).not.toBe(first);
    expect(events).toEqual(['cookies-issued', 'cookies-issued', 'cookies-refreshed']);
    expect((await fetch(service.demoUrl, { headers: { cookie: second.cookieHeader } })).status).toBe(200);
    client.close();
  });

  it('a failed refresh is tried again while the old cookies are valid, and reported each time', async () => {
    const events: string[] = [];
    let clock = Date.now();
    const timers: (() => void)[] = [];
    let current = token;
    const client = createSignetClient({
      api: service.endpoints.api,
      token: () => current,
      now: () => clock,
      setTimer: (callback) => timers.push(callback),
      clearTimer: () => undefined,
      onEvent: (event) =>
        events.push(event.type === 'error' ? `error:${(event.error as SignetError).code}` : event.type),
    });
    await client.ensureCookies(`${service.endpoints.edge}/private/*`, { expiresIn: 600 });
    const settled = (count: number) =>
      new Promise<void>((done) => {
        const check = () => (events.length >= count ? done() : setTimeout(check, 20));
        check();
      });
    current = 'not-a-token';
    clock += 481_000;
    timers.shift()!();
    await settled(2);
    expect(events).toEqual(['cookies-issued', 'error:unauthenticated']);
    expect(timers).toHaveLength(1);
    current = token;
    clock += 2_000;
    timers.shift()!();
    await settled(4);
    expect(events.slice(2)).toEqual(['cookies-issued', 'cookies-refreshed']);
    client.close();
  });

  it("reports the API's problems as SignetErrors with the problem type and detail", async () => {
    const client = createSignetClient({ api: service.endpoints.api, token: () => token });
    const error = await client.ensureCookies('http://elsewhere.example/*').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SignetError);
    expect(error).toMatchObject({ code: 'resource-not-granted', status: 403 });
    const unauthenticated = createSignetClient({ api: service.endpoints.api });
    await expect(unauthenticated.signUrl(service.demoUrl)).rejects.toMatchObject({
      code: 'unauthenticated',
      status: 401,
    });
    const nowhere = createSignetClient({ api: 'http://127.0.0.1:9', token: 'x' });
    await expect(nowhere.signUrl(service.demoUrl)).rejects.toMatchObject({ code: 'api-unreachable' });
    expect(() => createSignetClient({} as never)).toThrow(/Expected options with `api`/);
    // A token provider's own failure reaches the caller as it is; a listener's failure is ignored.
    const failingToken = createSignetClient({
      api: service.endpoints.api,
      token: () => Promise.reject(new Error('login expired')),
    });
    await expect(failingToken.signUrl(service.demoUrl)).rejects.toThrow('login expired');
    const noisy = createSignetClient({
      api: service.endpoints.api,
      token: () => token,
      onEvent: () => {
        throw new Error('listener bug');
      },
    });
    const session = await noisy.ensureCookies(`${service.endpoints.edge}/private/*`, { keepFresh: false });
    expect(session.cookies.length).toBeGreaterThan(0);
  });
});
