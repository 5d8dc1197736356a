import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { revokeKey } from '../../lib/rotation/revoke.ts';
import { runRotation } from '../../lib/rotation/rotator.ts';
import {
  type RotationSandbox,
  startRotationSandbox,
  TIMINGS,
  testProfile,
} from '../support/rotation-sandbox.ts';
import { RecordingMetrics } from '../support/rotation-telemetry.ts';

// ActiveKeyAgeSeconds feeds ActiveKeyTooOldAlarm, which counts no data as breaching
// (docs/operators.md, "ActiveKeyTooOldAlarm"). A new stage has no active key until its first key has
// propagated: the gauge must still report from the first run, or every new stage pages for an hour.
// Once a key was ever active, a ring without one (a revocation) reports nothing, so the alarm fires.

let sandbox: RotationSandbox;
beforeEach(async () => {
  sandbox = await startRotationSandbox();
});
afterEach(async () => {
  await sandbox.close();
});

describe('ActiveKeyAgeSeconds', () => {
  it('reports from the bootstrap on: the waiting key’s age, then the active key’s', async () => {
    const profile = testProfile({ keyRing: { secretId: 'signet/age' } });
    const store = await sandbox.newStore('signet/age');
    const metrics = new RecordingMetrics();
    const run = () =>
      runRotation({
        profileName: 'media',
        profile,
        store,
        registry: sandbox.registry,
        now: sandbox.clock.now,
        metrics,
      });
    const ages = () => metrics.of('ActiveKeyAgeSeconds').map((point) => point.value);

    expect((await run()).action.kind).toBe('bootstrap');
    expect(ages()).toEqual([0]);
    sandbox.clock.advance(TIMINGS.propagation - 10);
    expect((await run()).action.kind).toBe('none');
    // Still waiting to activate: the first key's age, growing, so a first activation that never
    // comes crosses the alarm's threshold like a stuck rotation.
    expect(ages().at(-1)).toBe(TIMINGS.propagation - 10);
    sandbox.clock.advance(10);
    expect((await run()).action.kind).toBe('activate');
    expect(ages().at(-1)).toBe(0);
    sandbox.clock.advance(600);
    await run();
    expect(ages().at(-1)).toBe(600);
    expect(metrics.of('ActiveKeyAgeSeconds').every((point) => point.dimensions.profile === 'media')).toBe(
      true,
    );

    // The active key revoked with nothing to take over: signing has stopped, so the gauge goes
    // silent (no data is breaching) instead of reporting the replacement's young age.
    const activeId = (await store.load())!.ring.keys.find((key) => key.state === 'active')!.id!;
    const revoked = await revokeKey({
      profileName: 'media',
      profile,
      store,
      registry: sandbox.registry,
      now: sandbox.clock.now,
      keyId: activeId,
    });
    expect(revoked.activeKeyId).toBeUndefined();
    expect(revoked.pendingKeyId).toBeDefined();
    const reported = ages().length;
    sandbox.clock.advance(10);
    expect((await run()).action.kind).toBe('none');
    expect(ages().length).toBe(reported);
  });
});
