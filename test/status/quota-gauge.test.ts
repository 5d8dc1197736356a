import { describe, expect, it } from 'vitest';
import { buildStatus } from '../../lib/status/model.ts';
import { at, foreignKeys, steady, testProfile } from '../support/rotation-states.ts';

// The status page's account gauge counts against the quota the planner uses (docs/operators.md,
// "Several stages in one account"): CloudFront's default 10, or aws.publicKeyQuota once raised.

describe('status: the account gauge', () => {
  it('shows the default quota, and a raised one when the config names it', () => {
    const s = steady(at(10));
    const state = { ...s, publicKeys: [...s.publicKeys, ...foreignKeys(11)] };
    const status = (profile = s.profile) =>
      buildStatus({ state: { ...state, profile }, findings: [], source: 'test', pollSeconds: 5 });
    expect(status().gauges.account).toMatchObject({ used: 12, max: 10 });
    expect(status(testProfile({ publicKeyQuota: 30 })).gauges.account).toMatchObject({ used: 12, max: 30 });
  });
});
