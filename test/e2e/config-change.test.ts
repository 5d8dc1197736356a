import { CreateDistributionCommand } from '@aws-sdk/client-cloudfront';
import { CreateSecretCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterEach, describe, expect, it } from 'vitest';
import { hashApiKey } from '../../lib/auth/api-keys.ts';
import { liveSources } from '../../lib/cli/doctor.ts';
import { type Config, parseConfig } from '../../lib/config/index.ts';
import { diagnose } from '../../lib/doctor/diagnose.ts';
import type { Finding } from '../../lib/doctor/findings.ts';
import { readSnapshot } from '../../lib/doctor/read-snapshot.ts';
import { createApp } from '../../lib/http/app.ts';

import type { KeyRing } from '../../lib/keys/ring.ts';
import { MemoryMetrics } from '../../lib/telemetry/memory-metrics.ts';
import { silentLog } from '../../lib/telemetry/ports.ts';
import { buildApiDependencies } from '../../lib/wiring/api.ts';
import { startEdgeWithFile } from '../support/edge.ts';
import { type CycleContext, rotate } from '../support/rotation-cycle.ts';
import { HandClock, type RotationSandbox, startRotationSandbox } from '../support/rotation-sandbox.ts';

// Changing a timing in the config must never make CloudFront refuse a URL or cookie before its own
// expiry, and never make `signet doctor` report an error that is not there (docs/operators.md,
// "Changing timings in a deploy"). The ring records, per key, the longest ttl.max, cache.maxStale
// and rotation.clockSkew of every config in force while the key could sign; removal waits for the
// later of those and the current config.
//
// Each case runs one config change, in one direction, end to end: the rotator against the Secrets
// Manager and CloudFront API stand-ins, the API signing URLs and cookies for its profile's full
// ttl.max, and the sandbox edge enforcing them with key group changes applied EDGE_DELAY_S late. One
// hand-moved clock drives all of them, so an hour of rotations takes a second or two.
//
// The change is made while a key is retiring and URLs and cookies the old keys signed are
// outstanding. The new config gets a new API app, as a deploy builds; the old app is not switched
// off at once but keeps signing at its worst: its Secrets Manager reads fail from the switch on, so
// it signs from the ring it cached just before the switch's rotator run (when that run activated a
// key, one naming the now retiring key active) for as long as its own cache.maxStale allows, with
// its own ttl.max. That is the signer the recorded bounds exist for; a healthy cache would never be
// older than cache.ttl.
//
// The clock then steps on until every key that signed under the old config has been removed, a key
// made under the new config has signed, and everything signed has expired. At every step the API
// signs, the rotator runs once, doctor judges the live state, and every URL and cookie whose expiry
// is still ahead is fetched through the edge: every answer must be 200, and no finding an error.
// Because the edge lags EDGE_DELAY_S behind (and shares the clock, so clockSkew is invisible to it),
// each removal is also checked directly: not before the last expiry of anything the key signed plus
// the clockSkew of the config it was signed under.
//
// Lowering rotation.propagation is the exception the docs name: without rotation.canary the rotator
// refuses it (every run fails naming the field, activations keep the longer wait); with a canary
// the lower value applies. Both are cases below.
//
// The negative control replays one change against a ring whose keys carry no recorded bounds (as
// the previous ring version wrote them): the old key is then removed on the new, shorter schedule
// and the edge does answer 403 InvalidKey for URLs that had not expired, so the checks can fail.

const PROFILE = 'media';
const RING_SECRET = 'signet/media';
const API_KEYS_SECRET = 'signet/api-keys';
const API_KEY_ID = 'config-change';
const API_KEY = 'config-change-test-key';
/** How late the edge applies a key group change; below every rotation.propagation used here. */
const EDGE_DELAY_S = 30;
/** Clock step between rounds of signing, one rotator run, doctor and fetches. */
const STEP_S = 30;
const MAX_STEPS = 200;
const FILE = 'behind a signature\n';

/** The settings a case varies; the rest of the config is fixed. Seconds. */
interface Settings {
  readonly algorithm: 'rsa-2048' | 'ecdsa-p256';
  readonly hash?: 'sha1' | 'sha256';
  readonly ttlMax: number;
  readonly maxStale: number;
  readonly clockSkew: number;
  readonly removeAfter: number;
  readonly rotateEvery: number;
  readonly propagation: number;
  /** Set rotation.canary to the protected file at the edge. */
  readonly canary?: boolean;
}

// rotateEvery (240) is shorter than ttl.max (300): when the next key is introduced, URLs the retiring
// key signed are still outstanding. Every variant passes validateRotationTimings
// (2 * rotateEvery + propagation >= maxStale + ttl.max + clockSkew + removeAfter).
const BASE: Settings = {
  algorithm: 'ecdsa-p256',
  ttlMax: 300,
  maxStale: 60,
  clockSkew: 30,
  removeAfter: 0,
  rotateEvery: 240,
  propagation: 120,
};

/**
 * When the config changes: `retired`, in the run that activates the second key (the first one now
 * retiring, everything it signed outstanding); `pending`, in the run that introduces the third key
 * while the first is still retiring (what a change of propagation acts on).
 */
type SwitchPoint = 'retired' | 'pending';

interface Change {
  readonly name: string;
  readonly from: Partial<Settings>;
  readonly to: Partial<Settings>;
  readonly at?: SwitchPoint;
  /** Config fields every rotator run after the switch refuses (and fails on). */
  readonly refused?: readonly string[];
  /** The wait (recorded as bounds.propagation) of every activation after the switch. */
  readonly activationWait?: number;
}

const CHANGES: readonly Change[] = [
  { name: 'ttl.max lowered 480 → 120', from: { ttlMax: 480 }, to: { ttlMax: 120 } },
  { name: 'ttl.max raised 120 → 480', from: { ttlMax: 120 }, to: { ttlMax: 480 } },
  { name: 'cache.maxStale lowered 180 → 30', from: { maxStale: 180 }, to: { maxStale: 30 } },
  { name: 'cache.maxStale raised 30 → 180', from: { maxStale: 30 }, to: { maxStale: 180 } },
  { name: 'rotation.clockSkew lowered 180 → 5', from: { clockSkew: 180 }, to: { clockSkew: 5 } },
  { name: 'rotation.clockSkew raised 5 → 180', from: { clockSkew: 5 }, to: { clockSkew: 180 } },
  { name: 'rotation.removeAfter lowered 180 → 0', from: { removeAfter: 180 }, to: { removeAfter: 0 } },
  { name: 'rotation.removeAfter raised 0 → 180', from: { removeAfter: 0 }, to: { removeAfter: 180 } },
  { name: 'rotation.rotateEvery lowered 600 → 150', from: { rotateEvery: 600 }, to: { rotateEvery: 150 } },
  { name: 'rotation.rotateEvery raised 150 → 600', from: { rotateEvery: 150 }, to: { rotateEvery: 600 } },
  {
    name: 'rotation.propagation lowered 240 → 60 without a canary: refused, activations keep waiting 240 s',
    from: { propagation: 240 },
    to: { propagation: 60 },
    at: 'pending',
    refused: ['rotation.propagation'],
    activationWait: 240,
  },
  {
    name: 'rotation.propagation lowered 240 → 60 with rotation.canary: applies',
    from: { propagation: 240, canary: true },
    to: { propagation: 60, canary: true },
    at: 'pending',
    activationWait: 60,
  },
  {
    name: 'rotation.propagation raised 60 → 240',
    from: { propagation: 60 },
    to: { propagation: 240 },
    at: 'pending',
    activationWait: 240,
  },
  {
    name: 'algorithm rsa-2048 → ecdsa-p256',
    from: { algorithm: 'rsa-2048', hash: 'sha256' },
    to: { algorithm: 'ecdsa-p256' },
  },
  {
    name: 'algorithm ecdsa-p256 → rsa-2048',
    from: { algorithm: 'ecdsa-p256' },
    to: { algorithm: 'rsa-2048', hash: 'sha256' },
  },
  {
    name: 'hash sha1 → sha256 (rsa-2048)',
    from: { algorithm: 'rsa-2048', hash: 'sha1' },
    to: { algorithm: 'rsa-2048', hash: 'sha256' },
  },
];

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

/** Where the profile signs for: the edge on loopback. */
interface Site {
  readonly edgeUrl: string;
  readonly distributionId?: string;
}

function configOf(settings: Settings, site: Site): Config {
  return parseConfig(
    {
      auth: { apiKeys: { secretId: API_KEYS_SECRET } },
      profiles: {
        [PROFILE]: {
          domains: [new URL(site.edgeUrl).host],
          keyRing: { secretId: RING_SECRET },
          ...(site.distributionId === undefined ? {} : { distributionId: site.distributionId }),
          algorithm: settings.algorithm,
          ...(settings.hash === undefined ? {} : { hash: settings.hash }),
          ttl: { default: 60, max: settings.ttlMax },
          cache: { ttl: 30, maxStale: settings.maxStale },
          rotation: {
            rotateEvery: settings.rotateEvery,
            propagation: settings.propagation,
            clockSkew: settings.clockSkew,
            removeAfter: settings.removeAfter,
            ...(settings.canary === true ? { canary: { url: `${site.edgeUrl}/private/file.txt` } } : {}),
          },
          grants: [{ when: { apiKeys: [API_KEY_ID] }, resources: [`${site.edgeUrl}/private/*`] }],
        },
      },
    },
    'the test config',
  );
}

/**
 * An API app's own Secrets Manager client, which can be cut off, with a way to wait for the reads
 * it runs in the background: a ring refresh still in flight when the hand clock moves would stamp
 * the ring it read with the later time, and the cache would serve it longer than maxStale allows.
 */
function apiClient(client: SecretsManagerClient) {
  const inFlight = new Set<Promise<unknown>>();
  let down = false;
  const tracked = new Proxy(client, {
    get(target, property, receiver) {
      if (property !== 'send') return Reflect.get(target, property, receiver);
      return (...args: Parameters<SecretsManagerClient['send']>) => {
        const sent = down
          ? Promise.reject(new Error('Secrets Manager unreachable (test outage)'))
          : (target.send as (...a: unknown[]) => Promise<unknown>)(...args);
        inFlight.add(sent);
        sent.then(
          () => inFlight.delete(sent),
          () => inFlight.delete(sent),
        );
        return sent;
      };
    },
  });
  return {
    client: tracked,
    cutOff() {
      down = true;
    },
    async settled(): Promise<void> {
      while (inFlight.size > 0) {
        await Promise.allSettled([...inFlight]);
        // What the cache does with the answer runs in the continuations that follow.
        await new Promise((resolve) => setImmediate(resolve));
      }
    },
  };
}

/** One deployment of the API: its config and app. */
interface Deployment {
  readonly name: 'old' | 'new';
  readonly config: Config;
  readonly app: ReturnType<typeof createApp>;
  readonly client: ReturnType<typeof apiClient>;
}

interface Issued {
  readonly kind: 'url' | 'cookie';
  readonly by: Deployment['name'];
  readonly url: string;
  readonly cookie?: string;
  readonly keyId: string;
  readonly signedAt: number;
  /** Epoch seconds. */
  readonly expires: number;
  /** The clockSkew of the config it was signed under: how long after `expires` an edge may honour it. */
  readonly skew: number;
}

interface Fetched {
  readonly item: Issued;
  readonly at: number;
  readonly status: number;
  readonly code: string | undefined;
  readonly afterSwitch: boolean;
}

interface KeySeen {
  readonly algorithm: string;
  readonly hash: string;
  readonly trustedAt?: string;
  readonly activatedAt?: string;
  readonly propagation?: number;
}

interface Report {
  readonly fetched: readonly Fetched[];
  readonly refused: readonly Fetched[];
  readonly issued: readonly Issued[];
  readonly keys: ReadonlyMap<string, KeySeen>;
  readonly switchedAt: number;
  /** Every key the ring held when the config changed (any other was made under the new config). */
  readonly keysBeforeSwitch: ReadonlySet<string>;
  readonly retiringAtSwitch: readonly string[];
  readonly activeAtSwitch: string;
  readonly finalRing: KeyRing;
  /** Error findings of doctor, each with the moment it was seen. */
  readonly doctorErrors: readonly (Finding & { at: string })[];
  readonly maxGroupSize: number;
  readonly steps: number;
}

async function runChange(change: Change, options: { stripBoundsAtSwitch?: boolean } = {}): Promise<Report> {
  const before: Settings = { ...BASE, ...change.from };
  const after: Settings = { ...BASE, ...change.to };
  const clock = new HandClock();
  const sandbox: RotationSandbox = await startRotationSandbox({ clock });
  closers.push(() => sandbox.close());
  const edge = await startEdgeWithFile(sandbox, EDGE_DELAY_S, FILE);
  closers.push(() => edge.close());
  await sandbox.clients.secretsManager.send(
    new CreateSecretCommand({
      Name: API_KEYS_SECRET,
      SecretString: JSON.stringify({ keys: [{ id: API_KEY_ID, sha256: hashApiKey(API_KEY) }] }),
    }),
  );
  const store = await sandbox.newStore(RING_SECRET);

  // Both configs are parsed (and so validated) before anything runs.
  configOf(after, { edgeUrl: edge.url });
  let rotation: CycleContext = {
    profileName: PROFILE,
    profile: configOf(before, { edgeUrl: edge.url }).profiles[PROFILE]!,
    store,
    registry: sandbox.registry,
    clock,
  };

  const boot = await rotate(rotation);
  expect(boot.action.kind).toBe('bootstrap');
  const created = await sandbox.clients.cloudfront.send(
    new CreateDistributionCommand({
      DistributionConfig: {
        CallerReference: 'config-change',
        Comment: 'config change',
        Enabled: true,
        Origins: { Quantity: 1, Items: [{ Id: 'origin', DomainName: 'origin.example' }] },
        DefaultCacheBehavior: {
          TargetOriginId: 'origin',
          ViewerProtocolPolicy: 'allow-all',
          TrustedKeyGroups: { Enabled: true, Quantity: 1, Items: [boot.keyGroupId!] },
        },
      },
    }),
  );
  // From here on doctor also checks that the distribution trusts the key group.
  const site: Site = { edgeUrl: edge.url, distributionId: created.Distribution!.Id! };
  const deploy = (name: Deployment['name'], settings: Settings): Deployment => {
    const config = configOf(settings, site);
    const client = apiClient(sandbox.clients.secretsManager);
    const deps = buildApiDependencies({
      config,
      secretsManager: client.client,
      log: silentLog,
      metrics: new MemoryMetrics(),
      now: clock.millis,
    });
    return { name, config, app: createApp(deps), client };
  };
  let current = deploy('old', before);
  /** The old deployment after the switch, while it can still sign. */
  let lingering: Deployment | undefined;
  rotation = { ...rotation, profile: current.config.profiles[PROFILE]! };
  for (let wait = 0; ; wait++) {
    expect(wait).toBeLessThan(MAX_STEPS);
    clock.advance(STEP_S);
    const result = await rotate(rotation);
    expect(result.ok, JSON.stringify(result.action)).toBe(true);
    if (result.activeKeyId !== undefined) break;
  }

  const issued: Issued[] = [];
  const fetched: Fetched[] = [];
  const keys = new Map<string, KeySeen>();
  const doctorErrors: (Finding & { at: string })[] = [];
  let afterSwitch = false;

  /** Signs one URL or cookie for the deployment's ttl.max; `false` once its ring is too old (503). */
  const issue = async (by: Deployment, kind: 'url' | 'cookie'): Promise<boolean> => {
    const profile = by.config.profiles[PROFILE]!;
    const ttl = profile.ttl.max;
    const body =
      kind === 'url'
        ? { url: `${edge.url}/private/file.txt`, expiresIn: ttl }
        : { resource: `${edge.url}/private/*`, expiresIn: ttl };
    const response = await by.app.request(`/v1/signed-${kind === 'url' ? 'urls' : 'cookies'}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': API_KEY },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    if (by === lingering && response.status === 503) return false;
    expect(response.status, `${by.name}: ${text}`).toBe(200);
    const answer = JSON.parse(text) as {
      urls?: { url: string }[];
      cookies?: { name: string; value: string }[];
      expires: number;
      keyId: string;
    };
    expect(answer.expires).toBe(Math.floor(clock.millis() / 1000) + ttl);
    issued.push({
      kind,
      by: by.name,
      url: kind === 'url' ? answer.urls![0]!.url : `${edge.url}/private/file.txt`,
      ...(kind === 'cookie'
        ? { cookie: answer.cookies!.map((cookie) => `${cookie.name}=${cookie.value}`).join('; ') }
        : {}),
      keyId: answer.keyId,
      signedAt: clock.millis(),
      expires: answer.expires,
      skew: profile.rotation.clockSkew,
    });
    return true;
  };

  /** Every URL and cookie whose expiry is still ahead, through the edge. */
  const fetchOutstanding = async () => {
    for (const item of issued) {
      if (item.expires * 1000 <= clock.millis()) continue;
      const response = await fetch(
        item.url,
        item.cookie === undefined ? {} : { headers: { cookie: item.cookie } },
      );
      const body = await response.text();
      fetched.push({
        item,
        at: clock.millis(),
        status: response.status,
        code: /<Code>([^<]+)<\/Code>/.exec(body)?.[1],
        afterSwitch,
      });
    }
  };

  const doctor = async () => {
    const snapshot = await readSnapshot(current.config, [PROFILE], liveSources(sandbox.clients));
    const at = clock.now().toISOString();
    for (const finding of diagnose(snapshot, clock.now())) {
      if (finding.severity === 'error') doctorErrors.push({ ...finding, at });
    }
  };

  const readRing = async (): Promise<KeyRing> => {
    const ring = (await store.load())!.ring;
    for (const key of ring.keys) {
      if (key.id === undefined) continue;
      keys.set(key.id, {
        algorithm: key.algorithm,
        hash: key.hash,
        ...(key.trustedAt === undefined ? {} : { trustedAt: key.trustedAt }),
        ...(key.activatedAt === undefined ? {} : { activatedAt: key.activatedAt }),
        ...(key.bounds?.propagation === undefined ? {} : { propagation: key.bounds.propagation }),
      });
    }
    return ring;
  };

  let stepCount = 0;
  let signing = true;
  /** One moment: the API signs, the rotator runs once, doctor looks, the edge is asked about everything. */
  const step = async (seconds: number): Promise<KeyRing> => {
    stepCount++;
    clock.advance(seconds);
    const at = clock.now().toISOString();
    if (signing) {
      // Alternating keeps both kinds outstanding at every moment at half the fetches.
      await issue(current, stepCount % 2 === 0 ? 'url' : 'cookie');
      if (lingering !== undefined && !(await issue(lingering, stepCount % 2 === 0 ? 'cookie' : 'url')))
        lingering = undefined;
    }
    // Signing happens before the run at the same instant: the old deployment's ring is then the
    // one from before the activation that triggers the switch.
    await current.client.settled();
    await lingering?.client.settled();
    const result = await rotate(rotation);
    const refused = afterSwitch ? (change.refused ?? []) : [];
    expect(result.action.kind === 'blocked' ? result.action : 'not blocked', at).toBe('not blocked');
    expect(result.newViolations, at).toEqual([]);
    expect(
      result.refused.map((entry) => entry.field),
      at,
    ).toEqual(refused);
    expect(result.ok, at).toBe(refused.length === 0);
    const ring = await readRing();
    await doctor();
    await fetchOutstanding();
    return ring;
  };

  // Under the old config until the switch point.
  let ring = await step(0);
  const switchDue = (now: KeyRing) => {
    const retiring = now.keys.some((key) => key.state === 'retiring');
    if (change.at === 'pending')
      return retiring && now.keys.some((key) => key.state === 'pending' && key.trustedAt !== undefined);
    return retiring;
  };
  while (!switchDue(ring)) {
    expect(stepCount).toBeLessThan(MAX_STEPS);
    ring = await step(STEP_S);
  }
  const switchedAt = clock.millis();
  const keysBeforeSwitch = new Set(keys.keys());
  const retiringAtSwitch = ring.keys.filter((key) => key.state === 'retiring').map((key) => key.id!);
  const activeAtSwitch = ring.keys.find((key) => key.state === 'active')!.id!;
  if (options.stripBoundsAtSwitch === true) {
    const loaded = (await store.load())!;
    const legacy: KeyRing = {
      ...loaded.ring,
      keys: loaded.ring.keys.map(({ bounds: _bounds, ...key }) => key),
    };
    await store.save(legacy, loaded.version, 'strip-bounds');
  }
  lingering = current;
  lingering.client.cutOff();
  current = deploy('new', after);
  rotation = { ...rotation, profile: current.config.profiles[PROFILE]! };
  afterSwitch = true;
  ring = await step(0);

  // On until every key that signed under the old config is gone, the old deployment can no longer
  // sign, and a key made under the new config has signed both a URL and cookies.
  const oldSigners = new Set([...retiringAtSwitch, activeAtSwitch]);
  const signedByNewKey = (kind: Issued['kind']) =>
    issued.some((item) => item.kind === kind && !keysBeforeSwitch.has(item.keyId));
  const finished = (now: KeyRing) =>
    lingering === undefined &&
    !now.keys.some((key) => key.id !== undefined && oldSigners.has(key.id)) &&
    signedByNewKey('url') &&
    signedByNewKey('cookie');
  while (!finished(ring)) {
    expect(stepCount).toBeLessThan(MAX_STEPS);
    ring = await step(STEP_S);
  }
  // Then on until everything outstanding has expired.
  signing = false;
  while (issued.some((item) => item.expires * 1000 > clock.millis())) {
    expect(stepCount).toBeLessThan(MAX_STEPS);
    ring = await step(STEP_S);
  }

  return {
    fetched,
    refused: fetched.filter((entry) => entry.status !== 200),
    issued,
    keys,
    switchedAt,
    keysBeforeSwitch,
    retiringAtSwitch,
    activeAtSwitch,
    finalRing: ring,
    doctorErrors,
    maxGroupSize: sandbox.maxGroupSize(),
    steps: stepCount,
  };
}

/** Removals that came before something the key signed stopped being valid (expiry + its config's clockSkew). */
function earlyRemovals(report: Report) {
  return report.finalRing.history.flatMap((entry) => {
    if (entry.id === undefined || entry.removedAt === undefined) return [];
    const removedAt = Date.parse(entry.removedAt);
    const mustLiveUntil = Math.max(
      ...report.issued
        .filter((item) => item.keyId === entry.id)
        .map((item) => (item.expires + item.skew) * 1000),
    );
    return removedAt < mustLiveUntil
      ? [{ keyId: entry.id, removedAt: entry.removedAt, neededUntil: new Date(mustLiveUntil).toISOString() }]
      : [];
  });
}

function describeRefusal(entry: Fetched) {
  return {
    kind: entry.item.kind,
    by: entry.item.by,
    keyId: entry.item.keyId,
    signedAt: new Date(entry.item.signedAt).toISOString(),
    expires: new Date(entry.item.expires * 1000).toISOString(),
    fetchedAt: new Date(entry.at).toISOString(),
    status: entry.status,
    code: entry.code,
  };
}

describe('config changes seen through the sandbox edge: no early 403, no false doctor error', () => {
  it.each(CHANGES)('$name', async (change) => {
    const report = await runChange(change);
    const before: Settings = { ...BASE, ...change.from };
    const after: Settings = { ...BASE, ...change.to };

    expect(report.refused.map(describeRefusal)).toEqual([]);
    expect(earlyRemovals(report)).toEqual([]);
    expect(report.doctorErrors).toEqual([]);
    expect(report.maxGroupSize).toBeLessThanOrEqual(5);

    // What makes the above meaningful: the keys that signed under the old config, the retiring one
    // included, were still fetched after the switch; the old deployment signed after the switch
    // with the retiring key for as long as its maxStale allowed; every old signer was removed; a
    // key made under the new config signed both kinds, and the edge accepted them.
    const postSwitch = report.fetched.filter((entry) => entry.afterSwitch);
    expect(report.fetched.length).toBeGreaterThan(150);
    expect(report.retiringAtSwitch).toHaveLength(1);
    for (const keyId of [...report.retiringAtSwitch, report.activeAtSwitch]) {
      expect(postSwitch.filter((entry) => entry.item.keyId === keyId).length, keyId).toBeGreaterThan(0);
      expect(report.finalRing.history.map((entry) => entry.id)).toContain(keyId);
    }
    const lateOld = report.issued.filter((item) => item.by === 'old' && item.signedAt > report.switchedAt);
    expect(lateOld.length).toBe(Math.ceil(before.maxStale / STEP_S) - 1);
    const stale = change.at === 'pending' ? report.activeAtSwitch : report.retiringAtSwitch[0];
    for (const item of lateOld) expect(item.keyId).toBe(stale);

    const newKeys = [...report.keys].filter(([id]) => !report.keysBeforeSwitch.has(id));
    expect(newKeys.length).toBeGreaterThan(0);
    for (const [, key] of newKeys) {
      expect(key.algorithm).toBe(after.algorithm);
      expect(key.hash).toBe(after.hash ?? (after.algorithm === 'rsa-2048' ? 'sha1' : 'sha256'));
    }
    const newKeyIds = new Set(newKeys.map(([id]) => id));
    for (const kind of ['url', 'cookie'] as const) {
      expect(
        postSwitch.filter((entry) => entry.item.kind === kind && newKeyIds.has(entry.item.keyId)).length,
        kind,
      ).toBeGreaterThan(0);
    }

    if (change.activationWait !== undefined) {
      const activatedAfter = [...report.keys.values()].filter(
        (key) => key.activatedAt !== undefined && Date.parse(key.activatedAt) > report.switchedAt,
      );
      expect(activatedAfter.length).toBeGreaterThan(0);
      for (const key of activatedAfter) {
        expect(key.propagation).toBe(change.activationWait);
        const waited = (Date.parse(key.activatedAt!) - Date.parse(key.trustedAt!)) / 1000;
        expect(waited).toBeGreaterThanOrEqual(change.activationWait);
        expect(waited).toBeLessThan(change.activationWait + STEP_S);
      }
    }
  });

  // Without recorded bounds the planner can only go by the new config. Lowering ttl.max then cuts
  // short URLs the keys signed before; lowering cache.maxStale cuts short those the old deployment
  // signed from its stale ring after the switch.
  it.each([
    {
      name: 'ttl.max lowered 480 → 120',
      change: { name: 'ttl.max', from: { ttlMax: 480 }, to: { ttlMax: 120 } },
      staleSignerRefused: false,
    },
    {
      name: 'cache.maxStale lowered 180 → 30',
      change: { name: 'cache.maxStale', from: { maxStale: 180 }, to: { maxStale: 30 } },
      staleSignerRefused: true,
    },
  ])(
    'does see 403 InvalidKey when the ring has no recorded bounds and $name (the test can fail)',
    async ({ change, staleSignerRefused }) => {
      const report = await runChange(change, { stripBoundsAtSwitch: true });
      const stripped = new Set([...report.retiringAtSwitch, report.activeAtSwitch]);
      const refused = report.refused.filter((entry) => stripped.has(entry.item.keyId));
      expect(refused.length).toBeGreaterThan(0);
      for (const entry of refused) {
        expect(entry).toMatchObject({ status: 403, code: 'InvalidKey' });
        // Refused while it had not expired: exactly what the cases above must never see.
        expect(entry.at).toBeLessThan(entry.item.expires * 1000);
      }
      expect(earlyRemovals(report).length).toBeGreaterThan(0);
      if (staleSignerRefused) {
        expect(
          refused.some((entry) => entry.item.by === 'old' && entry.item.signedAt > report.switchedAt),
        ).toBe(true);
      }
    },
  );
});
