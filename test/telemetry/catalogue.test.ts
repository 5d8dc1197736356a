// Metrics stay cheap (issue 17, point 5): CloudWatch bills each distinct dimension combination as a
// custom metric, so a dimension whose values a request chooses (a URL, a caller, a request id) would
// grow the bill with traffic. The catalogue (lib/telemetry/catalogue.ts) gives every dimension a
// bound; these tests check the bounds are real: fixed lists match the code's own lists, and the real
// API, driven through signing, denials and a 503, records only catalogue dimensions with values
// inside their bounds, never a URL or a caller, and only the ring's key ids.
import { describe, expect, it } from 'vitest';
import { PROBLEM_TYPES } from '../../lib/http/problems.ts';
import { MAX_KEYS_PER_GROUP, MAX_PUBLIC_KEYS_PER_ACCOUNT } from '../../lib/rotation/quotas.ts';
import {
  DENIAL_REASONS,
  type DimensionBound,
  METRICS,
  type MetricSpec,
  SERVER_ERROR_REASONS,
} from '../../lib/telemetry/catalogue.ts';
import { testApp } from '../support/api.ts';
import { activeRing, ringKey } from '../support/rings.ts';
import { type CycleContext, rotate } from '../support/rotation-cycle.ts';
import { HandClock, startRotationSandbox, TIMINGS, testProfile } from '../support/rotation-sandbox.ts';
import { RecordingMetrics } from '../support/rotation-telemetry.ts';

const CATALOGUE = METRICS as Readonly<Record<string, MetricSpec>>;

/** Names that say a dimension would carry what a request chooses. */
const UNBOUNDED_NAMES =
  /url|uri|path|resource|caller|sub|principal|user|client|request|ip|address|agent|token|apikey|origin|claim/i;

describe('the metrics catalogue', () => {
  it('gives every dimension of a per-request metric a bound: a profile, a key id of the ring, or a fixed list', () => {
    for (const [name, spec] of Object.entries(CATALOGUE)) {
      for (const [dimension, bound] of Object.entries(spec.dimensions) as [string, DimensionBound][]) {
        expect(dimension, `${name}.${dimension}`).not.toMatch(UNBOUNDED_NAMES);
        if (spec.perRequest)
          expect(['profile', 'key-id', 'enum'], `${name}.${dimension}`).toContain(bound.kind);
        // Error codes come only from the scheduled rotator, never from a request.
        if (bound.kind === 'error-code') expect(spec.service, `${name}.${dimension}`).toBe('signet-rotator');
        if (bound.kind === 'enum') {
          expect(bound.values.length, `${name}.${dimension}`).toBeGreaterThan(0);
          expect(bound.values.length, `${name}.${dimension}`).toBeLessThanOrEqual(20);
          expect(new Set(bound.values).size, `${name}.${dimension}`).toBe(bound.values.length);
        }
      }
      // CloudWatch allows 30 dimensions; a metric with more than `service` and three is too fine to read.
      expect(Object.keys(spec.dimensions).length, name).toBeLessThanOrEqual(3);
    }
  });

  it('lists as denial reasons exactly the problem types answered with 401, 403 or 422, and as 5xx reasons those answered with 5xx', () => {
    const withStatus = (test: (status: number) => boolean) =>
      Object.entries(PROBLEM_TYPES)
        .filter(([, problem]) => test(problem.status))
        .map(([type]) => type)
        .sort();
    expect([...DENIAL_REASONS].sort()).toEqual(withStatus((s) => s === 401 || s === 403 || s === 422));
    expect([...SERVER_ERROR_REASONS].sort()).toEqual(withStatus((s) => s >= 500));
  });

  it("bounds a key id by the ring: at most CloudFront's 5 keys per key group", () => {
    expect(MAX_KEYS_PER_GROUP).toBe(5);
    const withKeyId = Object.entries(CATALOGUE).filter(([, spec]) =>
      Object.values(spec.dimensions).some((bound) => bound.kind === 'key-id'),
    );
    // Only issuance carries a key id, and always with its profile: the ring it comes from.
    expect(withKeyId.map(([name]) => name)).toEqual(['SignaturesIssued']);
    expect(Object.keys(withKeyId[0]![1].dimensions)).toContain('profile');
  });
});

describe('what the API records while serving', () => {
  it('has exactly the catalogue dimensions, values inside their bounds, only ring key ids, and never the URL or the caller', async () => {
    const MARK = `m${Date.now().toString(36)}x`;
    const active = ringKey({ id: 'KACTIVEKEY0001' });
    const pending = ringKey({ id: 'KPENDINGKEY002', state: 'pending', activatedAt: undefined });
    const ring = { ...activeRing(active), keys: [active, pending] };
    // `docs` has no ring: its requests meet 503 keys-unavailable.
    const t = await testApp({ rings: { media: ring, docs: undefined } });
    const caller = await t.token(`${MARK}-caller`, ['media:read', 'media:user', 'docs:read']);
    const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
      t.app.request(path, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${caller}`, ...headers },
        body: JSON.stringify(body),
      });
    const url = (n: number) => `https://media.example.com/videos/${MARK}-${n}.mp4`;
    const statuses = [
      (await post('/v1/signed-urls', { url: url(1) })).status,
      (await post('/v1/signed-urls', { urls: [url(2), url(3)] })).status,
      (await post('/v1/signed-cookies', { resource: `https://media.example.com/videos/${MARK}/*` })).status,
      (await post('/v1/signed-urls', { url: url(4) }, { authorization: `Bearer ${MARK}.not.a.token` }))
        .status,
      (await post('/v1/signed-urls', { url: `https://media.example.com/private/${MARK}` })).status,
      (await post('/v1/signed-urls', { url: url(5), expiresIn: 86_400 })).status,
      (await post('/v1/signed-urls', { url: url(6) }, { origin: `https://${MARK}.example` })).status,
      (await post('/v1/signed-urls', { url: `https://docs.example.com/${MARK}`, profile: 'docs' })).status,
    ];
    expect(statuses).toEqual([200, 200, 200, 401, 403, 422, 403, 503]);

    const recorded = [...t.metrics.counts.keys()].map((key) => {
      const [name, ...pairs] = key.split('|');
      return {
        name: name!,
        dimensions: Object.fromEntries(pairs.map((p) => p.split('=') as [string, string])),
      };
    });
    expect(new Set(recorded.map((r) => r.name))).toEqual(
      new Set(['SignaturesIssued', 'Denials', 'ServerErrors']),
    );
    const keyIds = new Set<string>();
    for (const { name, dimensions } of recorded) {
      const spec = CATALOGUE[name];
      expect(spec, name).toBeDefined();
      expect(spec!.service).toBe('signet-api');
      expect(Object.keys(dimensions).sort(), name).toEqual(Object.keys(spec!.dimensions).sort());
      for (const [dimension, value] of Object.entries(dimensions)) {
        expect(value, `${name}.${dimension}`).not.toContain(MARK);
        const bound = spec!.dimensions[dimension]!;
        if (bound.kind === 'enum') expect(bound.values, `${name}.${dimension}`).toContain(value);
        if (bound.kind === 'profile') expect(['media', 'docs']).toContain(value);
        if (bound.kind === 'key-id') keyIds.add(value);
      }
    }
    // Only the ring's active key signs, so only its id is a dimension value.
    expect([...keyIds]).toEqual(['KACTIVEKEY0001']);
    expect(t.metrics.total('SignaturesIssued', { kind: 'url' })).toBe(3);
    expect(t.metrics.total('SignaturesIssued', { kind: 'cookies' })).toBe(1);
    for (const reason of ['unauthenticated', 'resource-not-granted', 'ttl-exceeded', 'origin-not-allowed'])
      expect(t.metrics.total('Denials', { reason }), reason).toBe(1);
    expect(t.metrics.total('ServerErrors', { reason: 'keys-unavailable' })).toBe(1);
  });
});

describe('what the rotator records through a rotation', () => {
  it("has exactly the catalogue dimensions, values inside their bounds, and the account's public keys against the quota", async () => {
    const clock = new HandClock();
    const sandbox = await startRotationSandbox({ clock });
    try {
      const metrics = new RecordingMetrics();
      const context: CycleContext = {
        profileName: 'media',
        profile: testProfile(),
        store: await sandbox.newStore('signet/media'),
        registry: sandbox.registry,
        clock,
        extra: { metrics },
      };
      // Bootstrap, activate, then a whole rotation: introduce, activate, remove.
      await rotate(context);
      clock.advance(TIMINGS.propagation);
      await rotate(context);
      clock.advance(TIMINGS.rotateEvery);
      await rotate(context);
      clock.advance(TIMINGS.propagation);
      await rotate(context);
      clock.advance(TIMINGS.removal);
      await rotate(context);

      for (const point of metrics.points) {
        const spec = CATALOGUE[point.name];
        expect(spec, point.name).toBeDefined();
        expect(spec!.service).toBe('signet-rotator');
        expect(point.kind, point.name).toBe(spec!.type);
        expect(Object.keys(point.dimensions).sort(), point.name).toEqual(
          Object.keys(spec!.dimensions).sort(),
        );
        for (const [dimension, value] of Object.entries(point.dimensions)) {
          const bound = spec!.dimensions[dimension]!;
          if (bound.kind === 'enum') expect(bound.values, `${point.name}.${dimension}`).toContain(value);
          if (bound.kind === 'profile') expect(value).toBe('media');
        }
      }
      const actions = metrics.of('RotationTransitions').map((p) => p.dimensions.action);
      expect(actions).toEqual(expect.arrayContaining(['bootstrap', 'activate', 'introduce', 'remove']));
      // Every run reports the account's public keys (what the stand-in holds now) against the quota.
      const keys = metrics.of('AccountPublicKeys');
      expect(keys).toHaveLength(5);
      expect(keys.at(-1)).toEqual({
        kind: 'gauge',
        name: 'AccountPublicKeys',
        value: (await sandbox.registry.listPublicKeys()).length,
        dimensions: {},
      });
      expect(Math.max(...keys.map((p) => p.value))).toBe(2);
      expect(metrics.of('AccountPublicKeyQuota').map((p) => p.value)).toEqual(
        Array(5).fill(MAX_PUBLIC_KEYS_PER_ACCOUNT),
      );
    } finally {
      await sandbox.close();
    }
  });
});
