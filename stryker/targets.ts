/**
 * What `npm run mutation` mutates, and with which tests (see README, "Tests"). Each group is one
 * Stryker run: its files are mutated and only its tests run against them (per-test coverage then
 * picks, for each mutant, the tests that reach it). The tests of a group are the unit tests of its
 * files: the slow end-to-end and property suites are left out so the run fits in CI.
 * lib/rotation/ownership.ts holds the planner's ownership rules (which keys and groups are this
 * ring's), so it is mutated with the planner.
 */
export interface MutationGroup {
  readonly name: string;
  /** Files mutated, relative to the repository root. */
  readonly mutate: readonly string[];
  /** Test files (or globs) run against them. */
  readonly tests: readonly string[];
  /** Files the `mutate` globs match that are not mutated yet, each with the reason. */
  readonly exclude?: Readonly<Record<string, string>>;
}

/** Below this score (percent) for any one file, `npm run mutation` fails. */
export const THRESHOLD = 90;

export const GROUPS: readonly MutationGroup[] = [
  {
    name: 'rotation',
    mutate: ['lib/rotation/plan.ts', 'lib/rotation/invariants.ts', 'lib/rotation/ownership.ts'],
    tests: [
      'test/rotation/plan.test.ts',
      'test/rotation/plan-rules.test.ts',
      'test/rotation/invariants.test.ts',
      'test/rotation/ownership.test.ts',
      'test/rotation/bounds.test.ts',
      'test/rotation/operator-plans.test.ts',
    ],
  },
  {
    name: 'signing',
    mutate: ['lib/signing/url.ts', 'lib/signing/policy.ts'],
    tests: ['test/signing/*.test.ts'],
  },
  {
    name: 'access',
    mutate: ['lib/access/patterns.ts', 'lib/access/authorize.ts'],
    tests: ['test/access/*.test.ts'],
  },
  {
    name: 'doctor',
    mutate: ['lib/doctor/checks/*.ts'],
    tests: ['test/doctor/checks/*.test.ts'],
  },
  {
    name: 'key ring cache',
    mutate: ['lib/keys/cache.ts'],
    tests: [
      'test/keys/key-ring-cache.test.ts',
      'test/keys/key-ring-cache-rules.test.ts',
      'test/keys/key-ring-cache-kms.test.ts',
      'test/keys/kms-signing.test.ts',
    ],
  },
];
