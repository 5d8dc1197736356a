import { expect } from 'vitest';
import type { RunningSecretsManager } from '../../infra/local/secrets-manager.ts';
import type { RotationResult } from '../../lib/rotation/rotator.ts';
import { type CycleContext, expectConverged, expectNoLostPrivateKey, rotate } from './rotation-cycle.ts';
import { type FaultPlan, FaultSwitch, injectSdkFaults, withFaults } from './rotation-faults.ts';
import {
  HandClock,
  observeRotation,
  startRotationSandbox,
  TIMINGS,
  testProfile,
} from './rotation-sandbox.ts';

/**
 * The crash-safety sweep of issue 5 (acceptance 3): a fault (an AWS error, or the Lambda killed)
 * before or after every call of a whole rotation cycle, then clean runs; the system must converge.
 * The planner, the applier, the adapters and the stand-ins are the real ones; only the calls
 * between them fail.
 */

/** bootstrap → activate → introduce → activate → remove, each after the clock moved this far (s). */
const CYCLE = [0, TIMINGS.propagation, TIMINGS.rotateEvery, TIMINGS.propagation, TIMINGS.removal];

/** Where faults are injected: between the rotator and its ports, or on every AWS SDK call. */
export type Layer = 'ports' | 'sdk';

let scenarioCount = 0;

/** What one scenario saw. */
export interface Outcome {
  readonly plan: FaultPlan | undefined;
  readonly calls: number;
  /** The label of each counted call, in order. */
  readonly log: readonly string[];
  readonly fired: string | undefined;
  readonly maxGroupSize: number;
}

/** Runs one whole cycle with `plan` armed, recovering with clean runs after the fault fires. */
export async function scenario(
  secretsManager: RunningSecretsManager,
  layer: Layer,
  plan: FaultPlan | undefined,
): Promise<Outcome> {
  const clock = new HandClock();
  const sandbox = await startRotationSandbox({ clock, secretsManager });
  const profileName = `crash${++scenarioCount}`;
  const store = await sandbox.newStore(`signet/${profileName}`);
  const faults = new FaultSwitch();
  faults.plan = plan;
  faults.armed = false;
  const faulty: CycleContext =
    layer === 'ports'
      ? {
          profileName,
          profile: testProfile(),
          clock,
          store: withFaults(store, faults, 'store'),
          registry: withFaults(sandbox.registry, faults, 'registry'),
        }
      : { profileName, profile: testProfile(), clock, store, registry: sandbox.registry };
  if (layer === 'sdk') {
    injectSdkFaults(sandbox.clients.secretsManager as never, faults, 'secretsmanager');
    injectSdkFaults(sandbox.clients.cloudfront as never, faults, 'cloudfront');
  }
  const clean: CycleContext = { ...faulty, store, registry: sandbox.registry };
  const attempt = async (): Promise<RotationResult | 'crashed'> => {
    faults.armed = true;
    try {
      return await rotate(faulty);
    } catch (error) {
      // Only the injected fault may fail a run; anything else is a bug.
      if (faults.fired === undefined) throw error;
      return 'crashed';
    } finally {
      faults.armed = false;
    }
  };
  try {
    for (const seconds of CYCLE) {
      clock.advance(seconds);
      const result = await attempt();
      await expectNoLostPrivateKey(clean);
      if (result !== 'crashed') {
        expect(result.ok, JSON.stringify(result.violations)).toBe(true);
        continue;
      }
      // The next scheduled runs, without faults, until nothing is left to do.
      for (let run = 0; ; run++) {
        expect(run, 'converges within 4 clean runs').toBeLessThan(4);
        const next = await rotate(clean);
        await expectNoLostPrivateKey(clean);
        if (next.action.kind === 'none') break;
      }
    }
    await expectConverged(clean);
    const { ring, publicKeys } = await observeRotation(store, sandbox.registry);
    // The cycle completed: the second key active, the first removed into history, nothing else left.
    expect(ring!.keys.map((key) => key.state)).toEqual(['active']);
    expect(ring!.history).toHaveLength(1);
    expect(publicKeys.map((key) => key.id)).toEqual([ring!.keys[0]!.id]);
    return {
      plan,
      calls: faults.calls,
      log: faults.log,
      fired: faults.fired,
      maxGroupSize: sandbox.maxGroupSize(),
    };
  } finally {
    await sandbox.close();
  }
}

const READ = /\.(load|get|list|find|Get|List|Describe)/;

/**
 * Every fault point of a cycle (the calls `only` selects), a few scenarios at a time. A fault after
 * a read is left out: nothing happened between it and the next call, so it is the same crash as a
 * fault before that next call, which is in the sweep.
 */
export async function sweep(
  secretsManager: RunningSecretsManager,
  layer: Layer,
  only: (label: string) => boolean = () => true,
): Promise<Outcome[]> {
  const { calls, log } = await scenario(secretsManager, layer, undefined);
  expect(calls).toBeGreaterThan(20);
  const plans: FaultPlan[] = [];
  for (let at = 1; at <= calls; at++) {
    const label = log[at - 1]!;
    if (!only(label)) continue;
    plans.push({ at, when: 'before' });
    if (!READ.test(label)) plans.push({ at, when: 'after' });
  }
  const outcomes: Outcome[] = [];
  for (let index = 0; index < plans.length; index += 8) {
    outcomes.push(
      ...(await Promise.all(
        plans.slice(index, index + 8).map((plan) => scenario(secretsManager, layer, plan)),
      )),
    );
  }
  return outcomes;
}
