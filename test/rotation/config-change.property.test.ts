import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningSecretsManager, startSecretsManager } from '../../infra/local/secrets-manager.ts';
import type { Profile } from '../../lib/config/schema.ts';
import { checkInvariants } from '../../lib/rotation/invariants.ts';
import { type GeneratedKeyPair, generateKeyPair } from '../../lib/rotation/keygen.ts';
import { planRotation } from '../../lib/rotation/plan.ts';
import { observe, type RotationResult, stateOf } from '../../lib/rotation/rotator.ts';
import { validateRotationTimings } from '../../lib/rotation/timings.ts';
import type { KeyAlgorithm } from '../../lib/signing/index.ts';
import { rotate } from '../support/rotation-cycle.ts';
import { type FaultPlan, FaultSwitch, InjectedFaultError, withFaults } from '../support/rotation-faults.ts';
import {
  HandClock,
  type RotationSandbox,
  startRotationSandbox,
  testProfile,
} from '../support/rotation-sandbox.ts';
import { type SigningLimits, SigningOracle } from '../support/signing-oracle.ts';

// The acceptance property for recorded bounds: over random sequences of config deploys, rotator
// runs (some forced, as `signet rotate --start`), runs killed mid-way and clock advances, after every
// step no key has left the key group while anything it signed under a config a rotator run saw can
// still be valid, the group never held more than 5 keys, the ring's history never claims a key's
// signatures expired before they can have, and (unless a killed run's work is still unfinished) the
// rotator's own invariants hold.
//
// What a key may have signed comes from the test's own model (test/support/signing-oracle.ts), fed
// only the ring's activation and retirement times and the configs deployed, never the bounds the
// rotator recorded. "Seen" means a run completed under the deploy: signing between a deploy and that
// run is beyond what the rotator can know. The rotator, planner, adapters, SDK clients and stand-ins
// are the real ones; the ports are wrapped only to kill a run before or after its Nth call.

const PROPERTY_RUNS = 70;
/**
 * Each case makes real HTTP calls to the stand-ins (~0.5 s), so shrinking a failure could run for
 * many minutes: past this limit fast-check stops and reports the smallest counterexample found so far.
 */
const TIME_LIMIT_MS = 120_000;
const MAX_KEYS_PER_GROUP = 5;

let secretsManager: RunningSecretsManager;
beforeAll(async () => {
  secretsManager = await startSecretsManager({ port: 0 });
});
afterAll(async () => {
  await secretsManager?.close();
});

/** One config's rotation timings, in seconds; `rotateEvery: 'tight'` is the shortest valid value. */
interface Timings {
  readonly ttlMax: number;
  readonly maxStale: number;
  readonly clockSkew: number;
  readonly removeAfter: number;
  readonly propagation: number;
  readonly rotateEvery: number;
  readonly algorithm: KeyAlgorithm;
}

function profileOf(timings: Timings, secretId: string): Profile {
  return testProfile({
    keyRing: { secretId },
    algorithm: timings.algorithm,
    ttl: { default: Math.min(60, timings.ttlMax), max: timings.ttlMax },
    cache: { ttl: Math.min(30, timings.maxStale), maxStale: timings.maxStale },
    rotation: {
      rotateEvery: timings.rotateEvery,
      propagation: timings.propagation,
      clockSkew: timings.clockSkew,
      removeAfter: timings.removeAfter,
    },
  });
}

/** Seconds a URL can outlive its key's retirement under these timings alone. */
function validityOf(timings: Timings): number {
  return timings.maxStale + timings.ttlMax + timings.clockSkew;
}

function limitsOf(timings: Timings): SigningLimits {
  return { ttlMax: timings.ttlMax, maxStale: timings.maxStale, clockSkew: timings.clockSkew };
}

/** A config as drawn, before `rotateEvery: 'tight'` is resolved. */
type DrawnTimings = Omit<Timings, 'rotateEvery'> & { readonly rotateEvery: number | 'tight' };

/**
 * A few values per field, so that deploys often lengthen one bound while shortening another;
 * `tight` rotates as often as the removal delay allows, which is when keys held by longer past
 * configs fill the group.
 */
const drawnTimings: fc.Arbitrary<DrawnTimings> = fc.record({
  ttlMax: fc.constantFrom(300, 60, 900, 3600, 7200),
  maxStale: fc.constantFrom(60, 30, 300, 1800),
  clockSkew: fc.constantFrom(30, 0, 300),
  removeAfter: fc.constantFrom(0, 60, 900),
  propagation: fc.constantFrom(120, 30, 600),
  rotateEvery: fc.constantFrom<number | 'tight'>(3600, 'tight', 600, 14_400),
  // RSA-2048 key generation is slow; a rare RSA config is enough to mix algorithms in one ring.
  algorithm: fc.oneof(
    { arbitrary: fc.constant<KeyAlgorithm>('ecdsa-p256'), weight: 7 },
    { arbitrary: fc.constant<KeyAlgorithm>('rsa-2048'), weight: 1 },
  ),
});

/** The fields that bound how long a signature lives, and the rest. */
const BOUND_FIELDS = ['ttlMax', 'maxStale', 'clockSkew'] as const;
const OTHER_FIELDS = ['removeAfter', 'propagation', 'rotateEvery', 'algorithm'] as const;

/** The timings, if an operator could deploy them (they pass config validation). */
function resolve(drawn: DrawnTimings): Timings | undefined {
  const removal = drawn.maxStale + drawn.ttlMax + drawn.clockSkew + drawn.removeAfter;
  const rotateEvery =
    drawn.rotateEvery === 'tight'
      ? Math.max(60, Math.ceil((removal - drawn.propagation) / 2))
      : drawn.rotateEvery;
  const timings = { ...drawn, rotateEvery };
  const problems = validateRotationTimings(profileOf(timings, 'signet/x'), { allowZeroPropagation: false });
  return problems.length === 0 ? timings : undefined;
}

/**
 * The configs a scenario deploys: a first one, then mostly edits of it that change one or two of the
 * bounds and perhaps one other field (as operators do: a bound that changes alone is what recorded
 * bounds must notice), sometimes a wholly different one. Those that fail validation are left out.
 */
const configsArbitrary: fc.Arbitrary<readonly Timings[]> = fc
  .tuple(
    drawnTimings.filter((drawn) => resolve(drawn) !== undefined),
    fc.array(
      fc.oneof(
        {
          weight: 2,
          arbitrary: fc.tuple(
            drawnTimings,
            fc.subarray([...BOUND_FIELDS], { minLength: 1, maxLength: 2 }),
            fc.subarray([...OTHER_FIELDS], { maxLength: 1 }),
          ),
        },
        { weight: 1, arbitrary: fc.tuple(drawnTimings, fc.constant([...BOUND_FIELDS, ...OTHER_FIELDS])) },
      ),
      { maxLength: 3 },
    ),
  )
  .map(([base, edits]) => {
    const edited = edits.map(([other, ...fieldLists]) => {
      const changes = Object.fromEntries(fieldLists.flat().map((field) => [field, other[field]]));
      return resolve({ ...base, ...changes });
    });
    return [resolve(base)!, ...edited.filter((timings) => timings !== undefined)];
  });

/**
 * A wait in seconds, or one that ends just inside or just past the current config's stale window
 * (`cache.maxStale` ± 1 s): where a key that has just retired stops being usable.
 */
type Wait = number | 'inside-stale' | 'past-stale';

type Step =
  | { readonly kind: 'advance'; readonly seconds: Wait }
  /** Advance to when the planner says the next phase falls due, plus `offset` seconds (often just before). */
  | { readonly kind: 'until-due'; readonly offset: number }
  | { readonly kind: 'run'; readonly force: boolean }
  /** until-due, then a run: the scheduled run that finds a phase due, the common case. */
  | { readonly kind: 'tick'; readonly offset: number }
  /** A run killed before or after its Nth call to the ring store or the registry. */
  | { readonly kind: 'crash'; readonly at: number; readonly when: 'before' | 'after' }
  /**
   * Deploy configs[index % configs.length]; with `runAfter`, the scheduled run that first sees it
   * comes that much later (measured against the stale window of the config it replaces).
   */
  | { readonly kind: 'deploy'; readonly index: number; readonly runAfter?: Wait }
  /**
   * Rewrite the ring without `bounds`, as the previous version wrote it. Never generated: only the
   * negative control uses it, to show the oracle catches what recorded bounds prevent.
   */
  | { readonly kind: 'legacy-ring' };

const staleEdge = fc.constantFrom<Wait>('inside-stale', 'past-stale');

const stepArbitrary: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc
      .oneof(
        fc.integer({ min: 1, max: 120 }),
        fc.integer({ min: 121, max: 3600 }),
        fc.integer({ min: 3601, max: 30_000 }),
        staleEdge,
      )
      .map((seconds): Step => ({ kind: 'advance', seconds })),
  },
  {
    weight: 2,
    arbitrary: fc.constantFrom(0, -1, 1, -30, -120).map((offset): Step => ({ kind: 'until-due', offset })),
  },
  {
    weight: 4,
    arbitrary: fc.constantFrom(0, 1, -1).map((offset): Step => ({ kind: 'tick', offset })),
  },
  {
    weight: 4,
    arbitrary: fc
      .oneof({ weight: 6, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) })
      .map((force): Step => ({ kind: 'run', force })),
  },
  {
    weight: 2,
    arbitrary: fc
      .record({
        at: fc.integer({ min: 1, max: 16 }),
        when: fc.constantFrom<'before' | 'after'>('after', 'before'),
      })
      .map(({ at, when }): Step => ({ kind: 'crash', at, when })),
  },
  {
    weight: 2,
    arbitrary: fc
      .record({
        index: fc.integer({ min: 0, max: 3 }),
        runAfter: fc.option(fc.oneof(fc.integer({ min: 0, max: 120 }), staleEdge), { nil: undefined }),
      })
      .map(
        ({ index, runAfter }): Step =>
          runAfter === undefined ? { kind: 'deploy', index } : { kind: 'deploy', index, runAfter },
      ),
  },
);

interface Scenario {
  /** configs[0] is deployed at the start. */
  readonly configs: readonly Timings[];
  readonly steps: readonly Step[];
}

const scenarioArbitrary: fc.Arbitrary<Scenario> = fc.record({
  configs: configsArbitrary,
  steps: fc.array(stepArbitrary, { minLength: 20, maxLength: 50 }),
});

/** Short timings for the seeded examples: a retired key's removal is due 390 s after it retires. */
const BASE: Timings = {
  ttlMax: 300,
  maxStale: 60,
  clockSkew: 30,
  removeAfter: 0,
  propagation: 120,
  rotateEvery: 3600,
  algorithm: 'ecdsa-p256',
};

/**
 * A shape random search rarely builds: a key retires (at 240 s); a deploy lengthens one bound while
 * the key may still sign, and the first run to see it comes `firstRun` later; the old config
 * returns and its first run falls when the key's removal is due under the old config alone (630 s).
 * Only bounds recorded while the key could sign keep it in the group then.
 */
function lengthenedWhileRetiring(longer: Partial<Timings>, firstRun: 30 | 'past-stale'): Scenario {
  return {
    configs: [BASE, { ...BASE, ...longer }],
    steps: [
      { kind: 'run', force: false },
      { kind: 'tick', offset: 0 },
      { kind: 'run', force: true },
      { kind: 'tick', offset: 0 },
      { kind: 'deploy', index: 1, runAfter: firstRun },
      { kind: 'advance', seconds: firstRun === 30 ? 330 : 299 },
      { kind: 'deploy', index: 0, runAfter: 30 },
    ],
  };
}

const SEEDED_EXAMPLES: [Scenario][] = [
  // A longer ttl.max seen inside the stale window: the retiring key's bounds must be raised.
  [lengthenedWhileRetiring({ ttlMax: 3600 }, 30)],
  // A longer maxStale alone, seen inside the window: raised too, though ttl.max and clockSkew are unchanged.
  [lengthenedWhileRetiring({ maxStale: 1800 }, 30)],
  // A longer maxStale deployed inside the window but first seen past the recorded one: the key can
  // still sign under the new maxStale, so the run must still record it.
  [lengthenedWhileRetiring({ maxStale: 1800 }, 'past-stale')],
];

/** RSA key pairs, generated once and handed out in order within each scenario (keys of one ring must differ). */
const rsaPool: GeneratedKeyPair[] = [];
function keySource(): (algorithm: KeyAlgorithm) => GeneratedKeyPair {
  let next = 0;
  return (algorithm) => {
    if (algorithm !== 'rsa-2048') return generateKeyPair(algorithm);
    rsaPool[next] ??= generateKeyPair('rsa-2048');
    return rsaPool[next++]!;
  };
}

/** Counts over all scenarios, to show the property did not pass vacuously. */
const coverage = {
  steps: 0,
  crashes: 0,
  removals: 0,
  /** Removals judged by bounds longer than the config in force at removal (a past config's). */
  heldByPastConfig: 0,
  recordBounds: 0,
};

let scenarioCount = 0;

/**
 * Plays a scenario against fresh stand-ins and answers the problems found after the first step
 * that had any (empty when every check held after every step).
 */
async function play(scenario: Scenario): Promise<string[]> {
  const clock = new HandClock();
  // A CloudFront stand-in per scenario: the account quota (10 public keys) and the group-size
  // high-water mark are per account, and a scenario may leave keys behind.
  const sandbox = await startRotationSandbox({ clock, secretsManager });
  try {
    return await playIn(sandbox, scenario);
  } finally {
    await sandbox.close();
  }
}

async function playIn(sandbox: RotationSandbox, scenario: Scenario): Promise<string[]> {
  const { clock, registry } = sandbox;
  const profileName = `cfg${++scenarioCount}`;
  const secretId = `signet/${profileName}`;
  const store = await sandbox.newStore(secretId);
  const generateKeyPair = keySource();
  let timings = scenario.configs[0]!;
  let profile = profileOf(timings, secretId);
  const oracle = new SigningOracle(limitsOf(timings));
  // A run killed mid-way may leave work (a pending key not yet registered) that breaks an invariant
  // until the next completed run finishes it; invariants are judged only when no such run is pending.
  let settled = true;
  const removed = new Set<string>();

  /** Lets `wait` pass; a stale-window wait is measured against `against`'s maxStale. */
  const advance = (wait: Wait, against: Timings = timings) => {
    const from = clock.millis();
    const stale = against.maxStale;
    clock.advance(
      wait === 'inside-stale' ? Math.max(0, stale - 1) : wait === 'past-stale' ? stale + 1 : wait,
    );
    oracle.elapse(from, clock.millis());
  };
  /** Seconds until the planner's next phase (plus `offset`); 0 when one is due now or none is scheduled. */
  const secondsUntilDue = async (offset: number): Promise<number> => {
    const observed = await observe({ store, registry, profileName, profile });
    const next = planRotation(stateOf({ profileName, profile }, observed, clock.now()));
    if (next.kind !== 'none' || next.nextAt === undefined) return 0;
    return Math.max(0, (next.nextAt.getTime() - clock.millis()) / 1000 + offset);
  };
  /** One rotator run; `fault` kills it at that call. Answers its result, or `undefined` if killed. */
  const run = async (options: { force?: boolean; fault?: FaultPlan } = {}) => {
    const faults = new FaultSwitch();
    faults.plan = options.fault;
    const ports =
      options.fault === undefined
        ? { store, registry }
        : { store: withFaults(store, faults, 'store'), registry: withFaults(registry, faults, 'registry') };
    try {
      const result = await rotate(
        { profileName, profile, clock, ...ports },
        { generateKeyPair, forceIntroduce: options.force === true },
      );
      oracle.runCompleted();
      settled = true;
      return result;
    } catch (error) {
      if (!(error instanceof InjectedFaultError)) throw error;
      coverage.crashes++;
      settled = false;
      return undefined;
    }
  };

  for (const [index, step] of scenario.steps.entries()) {
    coverage.steps++;
    let result: RotationResult | undefined;
    switch (step.kind) {
      case 'advance':
        advance(step.seconds);
        break;
      case 'until-due':
        advance(await secondsUntilDue(step.offset));
        break;
      case 'tick':
        advance(await secondsUntilDue(step.offset));
        result = await run();
        break;
      case 'run':
        result = await run({ force: step.force });
        break;
      case 'crash':
        // A fault planned past the run's last call never fires: then the run simply completed.
        result = await run({ fault: { at: step.at, when: step.when } });
        break;
      case 'deploy': {
        const next = scenario.configs[step.index % scenario.configs.length]!;
        const replaced = timings;
        if (next !== timings) {
          timings = next;
          profile = profileOf(timings, secretId);
          oracle.deploy(limitsOf(timings));
        }
        if (step.runAfter !== undefined) {
          advance(step.runAfter, replaced);
          result = await run();
        }
        break;
      }
      case 'legacy-ring': {
        const loaded = (await store.load())!;
        const keys = loaded.ring.keys.map(({ bounds: _dropped, ...key }) => key);
        await store.save({ ...loaded.ring, keys }, loaded.version, `legacy:${clock.now().toISOString()}`);
        break;
      }
    }

    const problems: string[] = [];
    const now = clock.millis();
    const observed = await observe({ store, registry, profileName, profile });
    const ring = observed.versioned?.ring;
    const items = new Set(observed.group?.items ?? []);
    problems.push(...oracle.observe(ring, now));
    problems.push(...oracle.leftEarly(now, items));
    problems.push(...oracle.understatedHistory(ring));
    if (items.size > MAX_KEYS_PER_GROUP) problems.push(`the key group holds ${items.size} keys`);
    if (sandbox.maxGroupSize() > MAX_KEYS_PER_GROUP)
      problems.push(`the key group held ${sandbox.maxGroupSize()} keys at some point`);
    if (settled) {
      const violations = checkInvariants(stateOf({ profileName, profile }, observed, clock.now()));
      for (const violation of violations.filter((candidate) => candidate.severity === 'error'))
        problems.push(`invariant ${violation.code}: ${violation.message}`);
    }
    // A full group is the designed answer to keys held longer by a past config; nothing else should block.
    if (result?.action.kind === 'blocked' && result.action.reason !== 'group-full')
      problems.push(`run blocked: ${result.action.reason}: ${result.action.message}`);

    coverage.recordBounds += result?.commits.filter((commit) => commit.step === 'record-bounds').length ?? 0;
    for (const entry of ring?.history ?? []) {
      if (entry.removedAt === undefined || removed.has(entry.fingerprint)) continue;
      removed.add(entry.fingerprint);
      coverage.removals++;
      if (entry.retiredAt === undefined || entry.validUntil === undefined) continue;
      if (Date.parse(entry.validUntil) > Date.parse(entry.retiredAt) + validityOf(timings) * 1000)
        coverage.heldByPastConfig++;
    }

    if (problems.length > 0)
      return [`after step ${index} (${JSON.stringify(step)}) at ${clock.now().toISOString()}:`, ...problems];
  }
  return [];
}

describe('rotation under config changes (property)', () => {
  it('never removes a key while anything it signed under a config seen can be valid; never more than 5 keys', async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArbitrary, async (scenario) => {
        expect(await play(scenario)).toEqual([]);
      }),
      {
        numRuns: PROPERTY_RUNS,
        examples: SEEDED_EXAMPLES,
        plugins: [fc.interruptAfterTimeLimit(TIME_LIMIT_MS)],
      },
    );
    // Not vacuous: keys were removed, some later than today's config alone would have, runs were
    // killed mid-way, and deploys made the rotator record longer bounds.
    expect(coverage.removals).toBeGreaterThan(0);
    expect(coverage.heldByPastConfig).toBeGreaterThan(0);
    expect(coverage.crashes).toBeGreaterThan(0);
    expect(coverage.recordBounds).toBeGreaterThan(0);
  }, 180_000);

  // Negative control: a ring written before bounds were recorded, then a deploy that shortens ttl.max.
  // The rotator can only take the current config for such keys, so the long-lived URLs the active key
  // signed under the old config outlive it in the group: the oracle must see that. The same sequence
  // without the legacy rewrite must pass, so it is the missing bounds the oracle catches.
  const LONG: Timings = {
    ttlMax: 7200,
    maxStale: 60,
    clockSkew: 30,
    removeAfter: 0,
    propagation: 120,
    rotateEvery: 3700,
    algorithm: 'ecdsa-p256',
  };
  const SHORT: Timings = { ...LONG, ttlMax: 60, rotateEvery: 3600 };
  const control = (legacy: boolean): Scenario => ({
    configs: [LONG, SHORT],
    steps: [
      { kind: 'run', force: false }, // bootstrap: the first key, pending
      { kind: 'advance', seconds: 120 },
      { kind: 'run', force: false }, // activated under LONG: signs 2-hour URLs
      { kind: 'advance', seconds: 600 },
      ...(legacy ? [{ kind: 'legacy-ring' } as const] : []),
      { kind: 'deploy', index: 1 },
      { kind: 'run', force: true }, // a second key, pending
      { kind: 'advance', seconds: 120 },
      { kind: 'run', force: false }, // the first key retires
      { kind: 'until-due', offset: 0 },
      { kind: 'run', force: false }, // and is removed when the planner says
    ],
  });

  it('negative control: the oracle reports a key removed early from a ring without recorded bounds', async () => {
    const problems = await play(control(true));
    expect(problems[0]).toMatch(/^after step 10 /);
    expect(problems.some((problem) => /is not in the key group at .* can be valid until/.test(problem))).toBe(
      true,
    );
    expect(await play(control(false))).toEqual([]);
  });
});
