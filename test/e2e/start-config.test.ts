// `signet start --config FILE` (issue 14, point 1): the user's own profiles on the sandbox, over
// local HTTPS, the edge answering by Host; the file only read; a bad file refused before anything
// starts. Runs the CLI in-process (as `npm start -- --config FILE` does) and talks to it over real
// sockets with node's https client, trusting only the CA it printed.
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { load as loadYaml } from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalTls } from '../../infra/local/tls.ts';
import { startUserService, type UserService } from '../../infra/local/user-service.ts';
import type { CliIo } from '../../lib/cli/io.ts';
import { start } from '../../lib/cli/start.ts';
import { describe as describeService } from '../../lib/cli/start-config.ts';
import { parseConfig } from '../../lib/config/index.ts';
import { runCli, tempDir } from '../support/cli.ts';

const CONFIG = `# a user's config, as they would deploy it
defaultProfile: media
api:
  publicOrigin: https://api.example.com
auth:
  jwt:
    issuer: https://auth.example.com/
    audience: media-api
    jwksUrl: https://auth.example.com/.well-known/jwks.json
profiles:
  media:
    domains: [media.example.com]
    keyRing: { secretId: signet/prod/media/key-ring }
    distributionId: EREALDISTRIBUTION
    cookie: { domain: example.com, path: /, sameSite: Lax }
    cors: { origins: [https://app.example.com] }
    grants:
      - when: { claims: { scope: media:read } }
        resources: ["https://media.example.com/videos/*"]
    rotation: { propagation: 3600, canary: { url: "https://media.example.com/canary.txt" } }
  docs:
    domains: [docs.example.com]
    keyRing: { secretId: signet/prod/docs/key-ring }
    grants:
      - when: { claims: { scope: docs:read } }
        resources: ["https://docs.example.com/files/*"]
`;

interface Ready {
  api: string;
  edge: string;
  token: string;
  caFile: string;
  spkiSha256: string;
  config: string;
  /** Each profile's status page. */
  status: Record<string, string>;
  profiles: Record<
    string,
    { distributionId: string; aliases: string[]; originFolder: string; sampleUrl?: string }
  >;
}

let dir: string;
let file: string;
let before: { bytes: Buffer; mtimeMs: number };
let ready: Ready;
let stdoutText = '';
let stop: AbortController;
let exited: Promise<number>;

/** One HTTPS request to 127.0.0.1:`port` for `host`, trusting only the printed CA. */
function get(
  port: string,
  host: string,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((done, fail) => {
    const req = httpsRequest(
      {
        host: '127.0.0.1',
        port,
        servername: host,
        path,
        method: options.method ?? 'GET',
        ca: readFileSync(ready.caFile),
        headers: { host: `${host}:${port}`, ...options.headers },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => {
          body += chunk;
        });
        res.on('end', () => done({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', fail);
    req.end(options.body);
  });
}

beforeAll(async () => {
  dir = tempDir();
  file = join(dir, 'signet.yml');
  writeFileSync(file, CONFIG);
  before = { bytes: readFileSync(file), mtimeMs: statSync(file).mtimeMs };
  stop = new AbortController();
  let resolveReady: (value: Ready) => void;
  const readyLine = new Promise<Ready>((resolve) => {
    resolveReady = resolve;
  });
  const io: CliIo = {
    stdout: (text) => {
      stdoutText += text;
      if (text.startsWith('{')) resolveReady(JSON.parse(text) as Ready);
    },
    stderr: () => undefined,
    env: {},
    cwd: dir,
    now: () => Math.floor(Date.now() / 1000),
  };
  exited = start(
    ['--config', 'signet.yml', '--https', '--json', '--port-base', '0', '--edge-propagation', '0'],
    io,
    stop.signal,
  );
  ready = await Promise.race([
    readyLine,
    exited.then((code) => {
      throw new Error(`signet start exited with ${code} before it was ready: ${stdoutText}`);
    }),
  ]);
}, 60_000);

afterAll(async () => {
  stop?.abort();
  await exited;
});

describe('signet start --config FILE --https', () => {
  it("gives each profile a local distribution aliased to the profile's domains, with an origin folder", () => {
    expect(Object.keys(ready.profiles).sort()).toEqual(['docs', 'media']);
    expect(ready.profiles.media!.aliases).toEqual(['media.example.com']);
    expect(ready.profiles.docs!.aliases).toEqual(['docs.example.com']);
    expect(ready.profiles.media!.distributionId).not.toBe('EREALDISTRIBUTION');
    expect(ready.profiles.media!.sampleUrl).toBe('https://media.example.com/videos/signet-sample.txt');
    expect(existsSync(join(ready.profiles.media!.originFolder, 'videos/signet-sample.txt'))).toBe(true);
    expect(ready.api).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(ready.edge).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
  });

  it("serves each profile's status page (signet status) on loopback, reading the local stand-ins", async () => {
    expect(Object.keys(ready.status).sort()).toEqual(['docs', 'media']);
    for (const [profile, url] of Object.entries(ready.status)) {
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      const document = (await (await fetch(`${url}status.json`)).json()) as {
        profile: string;
        keys: { state: string }[];
      };
      expect(document.profile).toBe(profile);
      expect(document.keys.length).toBeGreaterThan(0);
    }
  });

  it('signs with the user grants and serves over HTTPS by Host, trusting only the printed CA', async () => {
    const apiPort = new URL(ready.api).port;
    const edgePort = new URL(ready.edge).port;
    const signed = await get(apiPort, 'api.example.com', '/v1/signed-urls', {
      method: 'POST',
      headers: { authorization: `Bearer ${ready.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ url: 'https://media.example.com/videos/signet-sample.txt' }),
    });
    expect(signed.status).toBe(200);
    const url = new URL((JSON.parse(signed.body) as { urls: { url: string }[] }).urls[0]!.url);
    expect(url.host).toBe('media.example.com');
    const object = await get(edgePort, 'media.example.com', `${url.pathname}${url.search}`, {
      headers: { origin: 'https://app.example.com' },
    });
    expect(object.status).toBe(200);
    expect(object.body).toContain('sample object of profile media');
    // The profile allows a browser origin: its distribution answers with CORS for it.
    expect(object.headers['access-control-allow-origin']).toBe('https://app.example.com');
    expect(object.headers['access-control-allow-credentials']).toBe('true');
    // Unsigned: CloudFront's 403; on the other profile's host the same signature opens nothing.
    expect((await get(edgePort, 'media.example.com', url.pathname)).status).toBe(403);
    expect((await get(edgePort, 'docs.example.com', `${url.pathname}${url.search}`)).status).toBe(403);
    // A grant the user did not write is refused.
    const refused = await get(apiPort, 'api.example.com', '/v1/signed-urls', {
      method: 'POST',
      headers: { authorization: `Bearer ${ready.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ url: 'https://media.example.com/private/x' }),
    });
    expect(refused.status).toBe(403);
  });

  it("sets the user's cookie settings (Domain, Secure) on the API's answer", async () => {
    const apiPort = new URL(ready.api).port;
    const response = await get(apiPort, 'api.example.com', '/v1/signed-cookies', {
      method: 'POST',
      headers: { authorization: `Bearer ${ready.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ resource: 'https://media.example.com/videos/*' }),
    });
    expect(response.status).toBe(200);
    const cookies = [response.headers['set-cookie'] ?? []].flat();
    expect(cookies.length).toBeGreaterThanOrEqual(3);
    for (const cookie of cookies)
      expect(cookie).toMatch(/; Domain=example\.com; Path=\/; Secure; HttpOnly; SameSite=Lax/);
  });

  it('never touches the user file (bytes and mtime) and writes the effective config to .signet/config.json', () => {
    expect(readFileSync(file).equals(before.bytes)).toBe(true);
    expect(statSync(file).mtimeMs).toBe(before.mtimeMs);
    expect(ready.config).toBe(join(dir, '.signet', 'config.json'));
    const effective = JSON.parse(readFileSync(ready.config, 'utf8')) as {
      profiles: Record<string, { distributionId: string; rotation: { canary?: unknown } }>;
    };
    expect(effective.profiles.media!.distributionId).toBe(ready.profiles.media!.distributionId);
    expect(effective.profiles.media!.rotation.canary).toBeUndefined();
    expect(readFileSync(ready.config, 'utf8')).not.toContain('PRIVATE KEY');
  });

  it('signet doctor, run there, reads the local distributions through the SDK and finds the topology sound', async () => {
    const run = await runCli(['doctor', '--json'], { cwd: dir });
    const { findings } = JSON.parse(run.stdout) as { findings: { code: string; profile: string }[] };
    const codes = findings.filter((finding) => finding.profile === 'media').map((finding) => finding.code);
    // media: cookie Domain example.com, API on api.example.com, CORS on its distribution for the app.
    for (const code of [
      'COOKIE_SITE_MISMATCH',
      'CDN_CORS_MISSING',
      'CORS_ORIGIN_CROSS_SITE',
      'COOKIE_SECURE_OVER_HTTP',
    ]) {
      expect(codes).not.toContain(code);
    }
    // docs sets no cookie Domain while the API answers on api.example.com: its cookies stay with the API.
    expect(findings).toContainEqual(
      expect.objectContaining({ code: 'COOKIE_SITE_MISMATCH', profile: 'docs' }),
    );
  });

  it('made a CA the printed file holds, and a certificate whose key the SPKI pin names', () => {
    expect(readFileSync(ready.caFile, 'utf8')).toContain('BEGIN CERTIFICATE');
    expect(ready.spkiSha256).toMatch(/^[A-Za-z0-9+/]{43}=$/);
  });
});

describe('what signet start --config prints', () => {
  it('the CA file, curl --cacert with --resolve and --connect-to, Chromium host-resolver rules and SPKI pin', () => {
    const config = parseConfig({
      api: { publicOrigin: 'https://api.example.com' },
      profiles: {
        media: {
          domains: ['media.example.com'],
          keyRing: { secretId: 's' },
          grants: [{ when: { apiKeys: ['web'] }, resources: ['https://media.example.com/videos/*'] }],
        },
      },
    });
    const text = describeService(
      {
        endpoints: {
          api: 'https://127.0.0.1:4603',
          edge: 'https://127.0.0.1:4602',
          secretsManager: 'http://127.0.0.1:4600',
          cloudfront: 'http://127.0.0.1:4601',
          tokenIssuer: 'http://127.0.0.1:4604',
        },
        config,
        profiles: {
          media: {
            distributionId: 'E1',
            aliases: ['media.example.com'],
            originFolder: '/s/origins/media.origin.signet.local',
            sampleUrl: 'https://media.example.com/videos/signet-sample.txt',
          },
        },
        tls: {
          caFile: '/s/tls/ca.pem',
          names: ['localhost', 'media.example.com'],
          spkiSha256: 'PIN=',
        } as unknown as LocalTls,
        apiKeys: { web: 'local-abc' },
        notes: ['profiles.media.rotation.propagation: 2s locally'],
        writtenConfig: '/s/config.json',
      } as unknown as UserService,
      '/home/me/signet.yml',
      '/s',
      ['media:read'],
    );
    expect(text).toContain('/home/me/signet.yml: only read, never written');
    expect(text).toContain('CA file   /s/tls/ca.pem');
    expect(text).toContain(
      'curl --cacert /s/tls/ca.pem --resolve media.example.com:4602:127.0.0.1 "https://media.example.com:4602/',
    );
    expect(text).toContain('--connect-to media.example.com:443:127.0.0.1:4602');
    expect(text).toContain(
      '--host-resolver-rules="MAP media.example.com 127.0.0.1, MAP api.example.com 127.0.0.1"',
    );
    expect(text).toContain('--ignore-certificate-errors-spki-list=PIN=');
    expect(text).toContain('web: local-abc');
    expect(text).toContain('npx signet token --sub demo --scope media:read');
    expect(text).toContain('origin folder  /s/origins/media.origin.signet.local');
  });
});

describe('signet start --config .signet/config.json (the file the service would write)', () => {
  it('runs it and leaves it alone: the effective config is not written over the user file', async () => {
    const home = tempDir();
    const stateDir = join(home, '.signet');
    mkdirSync(stateDir);
    const own = join(stateDir, 'config.json');
    writeFileSync(own, JSON.stringify(parseConfig(loadYaml(CONFIG))));
    const bytes = readFileSync(own);
    const mtimeMs = statSync(own).mtimeMs;
    const service = await startUserService({
      config: parseConfig(JSON.parse(bytes.toString('utf8'))),
      configPath: own,
      stateDir,
      portBase: 0,
      edgePropagationMs: 0,
      log: { info: () => undefined, warn: () => undefined, error: () => undefined },
    });
    try {
      expect(service.writtenConfig).toBeUndefined();
      expect(Object.keys(service.profiles).sort()).toEqual(['docs', 'media']);
    } finally {
      await service.close();
    }
    expect(readFileSync(own).equals(bytes)).toBe(true);
    expect(statSync(own).mtimeMs).toBe(mtimeMs);
  }, 60_000);
});

describe('signet start --config with API keys in the grants', () => {
  it('makes up a key per id the grants name, stores only its hash, and the API takes it', async () => {
    const stateDir = join(tempDir(), '.signet');
    const config = parseConfig({
      auth: { apiKeys: { secretId: 'signet/prod/api-keys' } },
      profiles: {
        media: {
          domains: ['media.example.com'],
          keyRing: { secretId: 'signet/prod/media/key-ring' },
          grants: [{ when: { apiKeys: ['web-app'] }, resources: ['https://media.example.com/videos/*'] }],
        },
      },
    });
    const service = await startUserService({
      config,
      configPath: join(stateDir, '..', 'signet.json'),
      stateDir,
      portBase: 0,
      edgePropagationMs: 0,
      log: { info: () => undefined, warn: () => undefined, error: () => undefined },
    });
    try {
      const key = service.apiKeys['web-app'];
      expect(key).toMatch(/^local-/);
      const sign = (apiKey: string) =>
        fetch(`${service.endpoints.api}/v1/signed-urls`, {
          method: 'POST',
          headers: { 'x-api-key': apiKey, 'content-type': 'application/json' },
          body: JSON.stringify({ url: 'https://media.example.com/videos/a.mp4' }),
        });
      expect((await sign(key!)).status).toBe(200);
      expect((await sign('local-not-a-key')).status).toBe(401);
      expect(readFileSync(join(stateDir, 'local-api-keys.json'), 'utf8')).toContain(key!);
    } finally {
      await service.close();
    }
  }, 60_000);
});

describe('signet start --config with a bad file', () => {
  it('names the bad field, exits 3 and starts nothing', async () => {
    const bad = tempDir();
    writeFileSync(
      join(bad, 'bad.yml'),
      CONFIG.replace(
        'publicOrigin: https://api.example.com',
        'publicOrigin: https://api.example.com/v1/',
      ).replace('sameSite: Lax', 'sameSite: Loose'),
    );
    const run = await runCli(['start', '--config', 'bad.yml', '--port-base', '0'], { cwd: bad });
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('api.publicOrigin');
    expect(run.stderr).toContain('profiles.media.cookie.sameSite');
    expect(existsSync(join(bad, '.signet'))).toBe(false);
  });

  it('a missing file is an error naming it; --https without --config is a usage error', async () => {
    const empty = tempDir();
    const missing = await runCli(['start', '--config', 'nope.yml', '--port-base', '0'], { cwd: empty });
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain(join(empty, 'nope.yml'));
    const usage = await runCli(['start', '--https', '--port-base', '0'], { cwd: empty });
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('Expected --config FILE with --https');
    expect(existsSync(join(empty, '.signet'))).toBe(false);
  });
});
