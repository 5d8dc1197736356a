import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningSecretsManager, startSecretsManager } from '../../infra/local/secrets-manager.ts';
import { sweep } from '../support/rotation-crash.ts';

// Issue 5, acceptance 3: a fault before or after every call of a whole rotation cycle
// (bootstrap → activate → introduce → activate → remove), then clean runs until nothing is left to
// do; after each run no private key is lost, the group never holds more than 5 keys, and at the end
// the cycle has completed with no orphaned Signet public key and every invariant holding.

let secretsManager: RunningSecretsManager;
beforeAll(async () => {
  secretsManager = await startSecretsManager({ port: 0 });
});
afterAll(async () => {
  await secretsManager?.close();
});

describe('crash safety: faults on the AWS calls the adapters make', () => {
  it('converges after a fault before or after every write to Secrets Manager and CloudFront', async () => {
    // One port call may be several AWS calls (a ring save is PutSecretValue then
    // UpdateSecretVersionStage; an adopting CreatePublicKey lists keys): this sweep fails each write
    // in between. Faults on reads are the port-level sweep's.
    const outcomes = await sweep(secretsManager, 'sdk', (label) => !/\.(Get|List|Describe)/.test(label));
    expect(outcomes.length).toBeGreaterThan(20);
    expect(outcomes.filter((outcome) => outcome.fired === undefined).map((outcome) => outcome.plan)).toEqual(
      [],
    );
    expect(Math.max(...outcomes.map((outcome) => outcome.maxGroupSize))).toBeLessThanOrEqual(5);
  }, 60_000);
});
