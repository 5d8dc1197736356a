import { generateKeyPairSync } from 'node:crypto';
import { request } from 'node:http';
import { GetSecretValueCommand, PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../lib/cli/io.ts';
import { serveStatus, status } from '../../lib/cli/status.ts';
import { parseConfig } from '../../lib/config/index.ts';
import type { StatusDocument } from '../../lib/status/model.ts';
import { renderPage, renderStatus } from '../../lib/status/page.ts';
import type { StatusServer } from '../../lib/status/server.ts';
import { runCli } from '../support/cli.ts';
import { HandClock, type RotationSandbox, startRotationSandbox } from '../support/rotation-sandbox.ts';

// `signet status` against the Secrets Manager and CloudFront stand-ins through the real SDK clients
// and the same config loading as `signet keys` and `doctor`; the rotation is driven by `signet
// rotate` on one hand-moved clock. Timings: propagation 120 s, maxStale 60 s + ttl.max 300 s +
// clockSkew 30 s = a URL outlives its key's last signature by at most 390 s.

const HOSTILE = `<script>alert("x")</script><img src=x onerror=alert(1)>'&`;

let sandbox: RotationSandbox;
let clock: HandClock;
let configJson: string;
let page: StatusServer;

const io = (): CliIo & { out: () => string; err: () => string } => {
  let out = '';
  let err = '';
  return {
    stdout: (text) => {
      out += text;
    },
    stderr: (text) => {
      err += text;
    },
    env: { SIGNET_CONFIG: configJson },
    cwd: process.cwd(),
    now: () => Math.floor(clock.millis() / 1000),
    out: () => out,
    err: () => err,
  };
};

const signet = (...args: string[]) =>
  runCli(args, { env: { SIGNET_CONFIG: configJson }, now: Math.floor(clock.millis() / 1000) });
const iso = (plusSeconds = 0) => new Date(clock.millis() + plusSeconds * 1000).toISOString();

/** A GET with a chosen Host header and method (fetch() does not let a test set Host). */
function raw(url: string, options: { host?: string; method?: string } = {}) {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: string }>(
    (resolve, reject) => {
      const target = new URL(url);
      const req = request(
        {
          host: target.hostname,
          port: target.port,
          path: target.pathname,
          method: options.method ?? 'GET',
          headers: options.host === undefined ? {} : { host: options.host },
        },
        (response) => {
          let body = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => {
            body += chunk;
          });
          response.on('end', () =>
            resolve({ status: response.statusCode!, headers: response.headers, body }),
          );
        },
      );
      req.on('error', reject);
      req.end();
    },
  );
}

async function documentOf(server: StatusServer): Promise<StatusDocument> {
  const response = await fetch(`${server.url}status.json`);
  expect(response.status).toBe(200);
  return (await response.json()) as StatusDocument;
}

/** The document once the server has read a state other than `version` (it reads at most once a second). */
async function changedFrom(server: StatusServer, version: string): Promise<StatusDocument> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const document = await documentOf(server);
    if (document.version !== version) return document;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`Expected the status document to change from version ${version}.`);
}

beforeAll(async () => {
  clock = new HandClock();
  sandbox = await startRotationSandbox({ clock });
  await sandbox.newStore('signet/status');
  // A second profile whose secret holds something that is not a key ring (with key-like text in it).
  await sandbox.newStore('signet/broken');
  await sandbox.clients.secretsManager.send(
    new PutSecretValueCommand({
      SecretId: 'signet/broken',
      SecretString: JSON.stringify({
        schema: 'signet.keyring/2',
        keys: [{ privateKey: '-----BEGIN PRIVATE KEY-----\nNOT-TO-BE-SHOWN\n-----END PRIVATE KEY-----' }],
      }),
    }),
  );
  configJson = JSON.stringify({
    stage: 'test',
    defaultProfile: 'status',
    aws: {
      region: 'us-east-1',
      endpoints: { secretsManager: sandbox.secretsManager.url, cloudfront: sandbox.cloudfront.url },
    },
    profiles: {
      broken: {
        domains: ['media.example.com'],
        keyRing: { secretId: 'signet/broken' },
        ttl: { default: 60, max: 300 },
        cache: { ttl: 30, maxStale: 60 },
        rotation: { rotateEvery: 3600, propagation: 120, clockSkew: 30 },
      },
      status: {
        domains: ['media.example.com'],
        keyRing: { secretId: 'signet/status' },
        ttl: { default: 60, max: 300 },
        cache: { ttl: 30, maxStale: 60 },
        rotation: { rotateEvery: 3600, propagation: 120, clockSkew: 30 },
      },
    },
  });
  expect((await signet('rotate')).code).toBe(0);
  clock.advance(120);
  expect((await signet('rotate')).code).toBe(0);
  // Another tool's key in the group, with a comment no page may run as markup.
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const other = await sandbox.registry.createPublicKey({
    name: 'other-tool-key',
    callerReference: 'other-tool-key',
    encodedKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    comment: HOSTILE,
  });
  const groups = await sandbox.registry.listKeyGroups();
  const group = await sandbox.registry.getKeyGroup(groups[0]!.id);
  await sandbox.registry.updateKeyGroup(group, [...group.items, other.id]);
  page = await serveStatus({
    config: parseConfig(JSON.parse(configJson)),
    profileName: 'status',
    port: 0,
    intervalSeconds: 1,
    io: io(),
    firstRead: true,
  });
});

afterAll(async () => {
  await page?.close();
  await sandbox?.close();
});

describe('signet status: the JSON endpoint and the page', () => {
  let activeId: string;

  it('status.json: the active key with its times, the next transition, both gauges and the timings', async () => {
    const document = await documentOf(page);
    activeId = document.activeKeyId!;
    expect(activeId).toMatch(/^K[A-Z0-9]+$/);
    expect(document).toMatchObject({
      schema: 'signet.status/1',
      profile: 'status',
      stage: 'test',
      generatedAt: iso(),
      pollSeconds: 1,
      timings: { propagation: 120, activationWait: 120, ttlMax: 300, maxStale: 60, clockSkew: 30 },
      next: { kind: 'introduce', at: iso(3600), blocked: null },
    });
    expect(document.source).toContain(sandbox.secretsManager.url);
    const active = document.keys.find((key) => key.id === activeId)!;
    expect(active).toMatchObject({
      state: 'active',
      inGroup: true,
      registered: true,
      createdAt: iso(-120),
      trustedAt: iso(-120),
      activatedAt: iso(),
      rotationDueAt: iso(3600),
      validUntil: null,
      validitySeconds: 390,
    });
    expect(active.comment).toContain('signet/status');
    expect(document.gauges.group).toMatchObject({ used: 2, max: 5 });
    expect(document.gauges.group.slots.map((slot) => slot.state).sort()).toEqual(['active', 'other']);
    expect(document.gauges.account).toMatchObject({
      used: 2,
      max: 10,
      byStage: [{ stage: 'test', count: 1 }],
    });
    expect(document.gauges.account.summary).toBe('test 1, other 1');
    for (const finding of document.findings) expect(finding).toHaveProperty('remedy');
  });

  it('never holds a private key, in the JSON or in the page', async () => {
    const ring = await sandbox.clients.secretsManager.send(
      new GetSecretValueCommand({
        SecretId: 'signet/status',
      }),
    );
    const privateKey = (JSON.parse(ring.SecretString!) as { keys: { privateKey: string }[] }).keys[0]!
      .privateKey;
    const body = privateKey.split('\n')[1]!;
    for (const path of ['status.json', '', 'fragment']) {
      const text = await (await fetch(`${page.url}${path}`)).text();
      expect(text).not.toContain('PRIVATE KEY');
      expect(text).not.toContain('privateKey');
      expect(text).not.toContain(body);
    }
  });

  it("the page is one self-contained document: the key's comment escaped, one inline script under a nonce CSP", async () => {
    const response = await fetch(page.url);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('cache-control')).toBe('no-store');
    const csp = response.headers.get('content-security-policy')!;
    const nonce = /script-src 'nonce-([^']+)'/.exec(csp)?.[1];
    expect(nonce).toBeDefined();
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("connect-src 'self'");
    const html = await response.text();
    expect(html).toContain(
      '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;&#39;&amp;',
    );
    expect(html).not.toContain('<script>alert');
    expect(html).not.toContain('<img src=x');
    expect(html.match(/<script/g)).toHaveLength(1);
    expect(html).toContain(`<script nonce="${nonce}">`);
    // Nothing from elsewhere: no absolute URL in src or href, no stylesheet or script by URL.
    expect(html).not.toMatch(/\s(src|href)="(https?:)?\/\//);
    expect(html).toContain('<title>Signet status: status</title>');
    expect(html).toContain(`data-active="${activeId}"`);
    expect(html).toContain('id="timeline"');
    expect(html).toContain('aria-label="2 of 5 key group slots used"');
    expect(html).toContain('<strong>2 of 10</strong> public keys in the account: test 1, other 1');
    expect(html).toContain('introduce a new key');
    // The fragment the page swaps in is escaped the same way.
    const fragment = await (await fetch(`${page.url}fragment`)).text();
    expect(fragment.startsWith('<section id="status"')).toBe(true);
    expect(fragment).toContain('&lt;script&gt;alert(&quot;x&quot;)');
    expect(fragment).not.toContain('<script');
  });

  it('a rotation shows: the pending key with its planned activation, then the old key retiring with its bound', async () => {
    const before = await documentOf(page);
    expect((await signet('rotate', '--start')).code).toBe(0);
    const started = await changedFrom(page, before.version);
    const pending = started.keys.find((key) => key.state === 'pending')!;
    expect(pending).toMatchObject({ trustedAt: iso(), activatesAt: iso(120), inGroup: true });
    expect(started.next).toMatchObject({ kind: 'activate', keyId: pending.id, at: iso(120) });
    expect(started.gauges.group.used).toBe(3);

    clock.advance(120);
    expect((await signet('rotate')).code).toBe(0);
    const rotated = await changedFrom(page, started.version);
    expect(rotated.activeKeyId).toBe(pending.id);
    const retiring = rotated.keys.find((key) => key.id === activeId)!;
    expect(retiring).toMatchObject({
      state: 'retiring',
      retiredAt: iso(),
      validUntil: iso(390),
      removableAt: iso(390),
    });
    expect(rotated.next).toMatchObject({ kind: 'remove', keyId: activeId, at: iso(390) });
    const html = await (await fetch(page.url)).text();
    expect(html).toContain(`data-active="${pending.id}"`);
    expect(html).toContain(
      `${activeId}: URLs it signed valid until ${iso(390).slice(0, 10)} ${iso(390).slice(11, 19)} UTC`,
    );

    clock.advance(390);
    expect((await signet('rotate')).code).toBe(0);
    const removed = await changedFrom(page, rotated.version);
    expect(removed.keys.find((key) => key.id === activeId)).toMatchObject({
      state: 'removed',
      removedAt: iso(),
      validUntil: iso(),
    });
    expect(removed.gauges.group.used).toBe(2);
  });

  it('every string of the document is escaped where the page puts it (text and attributes), not only comments', async () => {
    // The live document with a payload added to each string that is not a time: profile, source,
    // key ids, names, comments, findings, the next step's description, gauge summaries.
    const payload = `<b>"x'</b>`;
    const time = /^\d{4}-\d\d-\d\dT/;
    const poison = (value: unknown): unknown => {
      if (typeof value === 'string') return time.test(value) ? value : `${value}${payload}`;
      if (Array.isArray(value)) return value.map(poison);
      if (value !== null && typeof value === 'object')
        return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, poison(inner)]));
      return value;
    };
    const live = await documentOf(page);
    const hostile = poison({
      ...live,
      findings: [
        ...live.findings,
        { severity: 'error', code: 'RING_INVALID', keyId: 'K1', message: 'message', remedy: 'remedy' },
      ],
      next: { ...live.next, blocked: { reason: 'group-full', message: 'blocked' } },
    }) as StatusDocument;
    for (const html of [
      renderStatus(hostile),
      renderPage(hostile, 'nonce'),
      renderPage({ error: payload, profile: payload }, 'n'),
    ]) {
      expect(html).not.toContain('<b>');
      expect(html).not.toContain(`"x'`);
      expect(html).toContain('&lt;b&gt;&quot;x&#39;&lt;/b&gt;');
    }
    const rendered = renderStatus(hostile);
    // Profile, source, a key id, a comment, a finding's message and remedy, the blocked message.
    expect(rendered.split('&lt;b&gt;').length - 1).toBeGreaterThanOrEqual(10);
  });

  it('a key ring that is not valid: doctor says why, the next step is blocked on it, and nothing of the secret shows', async () => {
    const broken = await serveStatus({
      config: parseConfig(JSON.parse(configJson)),
      profileName: 'broken',
      port: 0,
      intervalSeconds: 1,
      io: io(),
      firstRead: true,
    });
    try {
      const document = await documentOf(broken);
      expect(document).toMatchObject({ profile: 'broken', activeKeyId: null, keys: [] });
      expect(document.next).toMatchObject({ kind: 'blocked', blocked: { reason: 'ring-unreadable' } });
      expect(document.next.blocked!.message).toContain(
        'The key ring secret signet/broken is not a valid key ring',
      );
      expect(document.findings.map((finding) => finding.code)).toContain('RING_INVALID');
      const html = await (await fetch(broken.url)).text();
      expect(html).toContain('RING_INVALID');
      for (const text of [JSON.stringify(document), html]) {
        expect(text).not.toContain('NOT-TO-BE-SHOWN');
        expect(text).not.toContain('PRIVATE KEY');
      }
    } finally {
      await broken.close();
    }
  });

  it('answers only on loopback names and only GET: another Host is refused (DNS rebinding), POST too', async () => {
    const evil = await raw(`${page.url}status.json`, { host: 'evil.example' });
    expect(evil.status).toBe(421);
    expect(evil.body).toContain('answers only on loopback');
    const port = new URL(page.url).port;
    expect((await raw(`${page.url}status.json`, { host: `localhost:${port}` })).status).toBe(200);
    const post = await raw(`${page.url}status.json`, { method: 'POST' });
    expect(post).toMatchObject({ status: 405, headers: { allow: 'GET, HEAD' } });
    expect((await raw(`${page.url}nope`)).status).toBe(404);
  });
});

describe('signet status: the command', () => {
  it('prints the URL it serves on 127.0.0.1 and stops on abort', async () => {
    const controller = new AbortController();
    const run = io();
    const done = status(['--interval', '1'], run, controller.signal);
    for (let attempt = 0; attempt < 100 && !run.out().includes('http://'); attempt++)
      await new Promise((resolve) => setTimeout(resolve, 50));
    const url = /Status page for profile status: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(run.out())?.[1];
    expect(url).toBeDefined();
    expect(run.out()).toContain(`reads Secrets Manager at ${sandbox.secretsManager.url}`);
    expect(((await (await fetch(`${url}status.json`)).json()) as StatusDocument).profile).toBe('status');
    controller.abort();
    expect(await done).toBe(0);
    await expect(fetch(`${url}status.json`)).rejects.toThrow();
  });

  it('refuses bad options with what it expected (exit 2)', async () => {
    const port = await signet('status', '--port', 'http');
    expect(port).toMatchObject({ code: 2 });
    expect(port.stderr).toContain('Expected --port to be a port number from 0 to 65535; got "http"');
    const interval = await signet('status', '--interval', '0');
    expect(interval.stderr).toContain('Expected --interval to be a whole number of seconds from 1 to 3600');
    const profile = await signet('status', '--profile', 'nope');
    expect(profile).toMatchObject({ code: 2 });
    expect(profile.stderr).toContain('Expected --profile to name a configured profile (broken, status)');
  });

  it('an unreachable endpoint fails at start (exit 3); on the page, status.json answers 503 with the cause', async () => {
    const dead = JSON.parse(configJson) as { aws: { endpoints: Record<string, string> } };
    dead.aws.endpoints = { secretsManager: 'http://127.0.0.1:9', cloudfront: 'http://127.0.0.1:9' };
    const failed = await runCli(['status'], { env: { SIGNET_CONFIG: JSON.stringify(dead) } });
    expect(failed.code).toBe(3);
    expect(failed.stderr).toContain(
      'Could not read the live configuration from Secrets Manager at http://127.0.0.1:9',
    );

    const unread = await serveStatus({
      config: parseConfig(dead),
      profileName: 'status',
      port: 0,
      intervalSeconds: 1,
      io: io(),
    });
    try {
      const json = await fetch(`${unread.url}status.json`);
      expect(json.status).toBe(503);
      const body = (await json.json()) as { error: string; detail: string; lastReadAt: null };
      expect(body).toMatchObject({ error: 'unavailable', lastReadAt: null });
      expect(body.detail).toContain('http://127.0.0.1:9');
      const html = await (await fetch(unread.url)).text();
      expect(html).toContain('Could not read the live state: Could not read the live configuration');
    } finally {
      await unread.close();
    }
  });
});
