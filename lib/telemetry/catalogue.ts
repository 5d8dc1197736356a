// Every metric Signet emits, in one place: its name, the part that emits it (the `service` dimension
// Powertools adds), its unit, and each dimension with what bounds its values. The emitting code is
// typed by this catalogue (lib/http/telemetry.ts, lib/rotation/telemetry.ts), the Powertools adapter
// takes units from it, and the CloudWatch dashboard and alarms (infra/aws/) are checked against it
// by the template tests, so none of them can drift from what the code really sends.
//
// Metrics stay cheap (docs/operators.md, "Alarms and runbooks"): a dimension value is a profile name,
// a key id of the ring (at most CloudFront's 5 keys per key group at a time), or one of a fixed list
// written here. Never a URL, a caller, a request id or anything else a request chooses.

import { STAGE } from '../rotation/names.ts';

/**
 * The namespace of metrics sent without a stage (a config without `stage`), and the one every stage
 * wrote to before namespaces were per stage: its old datapoints stay there (docs/operators.md,
 * "Metrics namespace").
 */
export const UNSTAGED_METRICS_NAMESPACE = 'Signet';

/**
 * The CloudWatch namespace of a stage's metrics: `Signet/<stage>`, or `Signet` without a stage.
 * Key groups are per stage (`signet-<stage>-<profile>`) and stages in one account and region share
 * profile names, so one namespace per stage keeps dev's datapoints out of prod's alarms and
 * dashboard (docs/operators.md, "Metrics namespace"). Packaging sets SIGNET_METRICS_NAMESPACE, every
 * alarm and every dashboard widget from it (infra/aws/signet-config.cjs, infra/aws/dashboard.cjs).
 */
export function metricsNamespace(stage: string | undefined): string {
  if (stage === undefined) return UNSTAGED_METRICS_NAMESPACE;
  if (!STAGE.test(stage)) {
    throw new Error(
      `Expected a stage of lowercase letters, digits and dashes (at most 32) for the metrics namespace; got ${JSON.stringify(stage)}.`,
    );
  }
  return `${UNSTAGED_METRICS_NAMESPACE}/${stage}`;
}

/** The `service` dimension of each part, as functions/api.ts and functions/rotator.ts name it. */
export const METRIC_SERVICES = { api: 'signet-api', rotator: 'signet-rotator' } as const;

/** What bounds a dimension's values. */
export type DimensionBound =
  /** A profile name of the stage's config. */
  | { readonly kind: 'profile' }
  /** A CloudFront public key id of the profile's key ring: at most 5 at a time (the key group's quota). */
  | { readonly kind: 'key-id' }
  /** One of these values, and nothing else. */
  | { readonly kind: 'enum'; readonly values: readonly string[] }
  /**
   * The code (or class name) of an error the rotator caught: a set fixed by the code and the AWS
   * SDK, not by any input. Only on rotator metrics, which run on a schedule, never per request.
   */
  | { readonly kind: 'error-code' };

/** One metric of the catalogue. */
export interface MetricSpec {
  readonly service: (typeof METRIC_SERVICES)[keyof typeof METRIC_SERVICES];
  /** A count is summed; a gauge is a value set each time (read it with Maximum or Average). */
  readonly type: 'count' | 'gauge';
  readonly unit: 'Count' | 'Seconds';
  /** Emitted while answering a request (the hot path), rather than by the scheduled rotator. */
  readonly perRequest: boolean;
  /** Every dimension besides `service`, with its bound. */
  readonly dimensions: Readonly<Record<string, DimensionBound>>;
  readonly description: string;
}

const profile = { kind: 'profile' } as const;
const keyId = { kind: 'key-id' } as const;
const errorCode = { kind: 'error-code' } as const;
function oneOf<const V extends readonly string[]>(values: V) {
  return { kind: 'enum', values } as const;
}

/** Why the API refused a caller: the problem types answered with 401, 403 or 422 (lib/http/problems.ts). */
export const DENIAL_REASONS = [
  'unauthenticated',
  'resource-not-granted',
  'origin-not-allowed',
  'ttl-exceeded',
] as const;
/** The problem types of the API's 5xx answers (lib/http/problems.ts). */
export const SERVER_ERROR_REASONS = ['internal', 'keys-unavailable'] as const;

/**
 * Why a KMS signature failed (lib/signing/remote.ts, RemoteSigningFailure; the mapping of KMS errors
 * is lib/aws/kms-signer.ts): the `reason` of the 503 answered for it.
 */
export const KMS_SIGN_FAILURE_REASONS = [
  'throttled',
  'disabled',
  'denied',
  'unavailable',
  'mismatch',
] as const;

/** A denial's `reason`. */
export type DenialReason = (typeof DENIAL_REASONS)[number];
/** A 5xx answer's `reason`. */
export type ServerErrorReason = (typeof SERVER_ERROR_REASONS)[number];

/** Whether a problem type is a denial (counted in `Denials`). */
export function isDenialReason(type: string): type is DenialReason {
  return (DENIAL_REASONS as readonly string[]).includes(type);
}

/** Whether a problem type is a 5xx answer (counted in `ServerErrors`). */
export function isServerErrorReason(type: string): type is ServerErrorReason {
  return (SERVER_ERROR_REASONS as readonly string[]).includes(type);
}

/** Every metric Signet emits. */
export const METRICS = {
  // The API (functions/api.ts).
  SignaturesIssued: {
    service: 'signet-api',
    type: 'count',
    unit: 'Count',
    perRequest: true,
    dimensions: { profile, keyId, kind: oneOf(['url', 'cookies']) },
    description:
      'Signed URLs (one per URL of a batch) and signed cookie sets issued, by the key that signed them.',
  },
  Denials: {
    service: 'signet-api',
    type: 'count',
    unit: 'Count',
    perRequest: true,
    dimensions: { reason: oneOf(DENIAL_REASONS) },
    description:
      'Requests refused: authentication failed (unauthenticated) or the caller may not have what it asked for.',
  },
  ServerErrors: {
    service: 'signet-api',
    type: 'count',
    unit: 'Count',
    perRequest: true,
    dimensions: { reason: oneOf(SERVER_ERROR_REASONS) },
    description: '5xx answers: keys-unavailable (no ring to sign with: 503) or internal (500).',
  },
  KeyRingRefreshes: {
    service: 'signet-api',
    type: 'count',
    unit: 'Count',
    perRequest: false,
    dimensions: { profile },
    description: 'Key ring loads from Secrets Manager (about one per cache.ttl per warm container).',
  },
  KeyRingRefreshFailures: {
    service: 'signet-api',
    type: 'count',
    unit: 'Count',
    perRequest: false,
    dimensions: { profile },
    description: 'Key ring loads that failed; the cached ring keeps serving until cache.maxStale.',
  },
  KeyRingStaleServes: {
    service: 'signet-api',
    type: 'count',
    unit: 'Count',
    perRequest: true,
    dimensions: { profile },
    description: 'Requests signed with a cached ring older than cache.ttl because refreshing it failed.',
  },
  KmsSignCalls: {
    service: 'signet-api',
    type: 'count',
    unit: 'Count',
    perRequest: true,
    dimensions: { profile },
    description:
      'KMS Sign calls made for signer: kms keys (one per distinct policy a request needs that is not cached): what KMS bills and rate-limits.',
  },
  KmsSignFailures: {
    service: 'signet-api',
    type: 'count',
    unit: 'Count',
    perRequest: true,
    dimensions: { profile, reason: oneOf(KMS_SIGN_FAILURE_REASONS) },
    description:
      "Requests answered 503 because KMS signing failed: throttled (the account Sign quota), disabled (key disabled, pending deletion or gone), denied (IAM or key policy), unavailable, mismatch (the KMS key is not the ring's).",
  },
  // The rotator (functions/rotator.ts).
  RotationTransitions: {
    service: 'signet-rotator',
    type: 'count',
    unit: 'Count',
    perRequest: false,
    dimensions: {
      profile,
      action: oneOf([
        'bootstrap',
        'introduce',
        'trust',
        'activate',
        'remove',
        'delete-orphan',
        'revoke',
        'record-bounds',
        'record-incidents',
      ]),
    },
    description: 'One per committed phase change or repair.',
  },
  RotationFailures: {
    service: 'signet-rotator',
    type: 'count',
    unit: 'Count',
    perRequest: false,
    dimensions: { profile, code: errorCode },
    description: 'A run for a profile that threw.',
  },
  RotationBlocked: {
    service: 'signet-rotator',
    type: 'count',
    unit: 'Count',
    perRequest: false,
    dimensions: {
      profile,
      reason: oneOf([
        'group-full',
        'account-full',
        'key-group-missing',
        'key-group-mismatch',
        'active-key-missing',
        'active-key-not-in-group',
        'quota-exceeded',
        'key-group-not-ours',
        'canary-failed',
      ]),
    },
    description: 'A run that could not advance (a quota, a missing key group, a failed canary).',
  },
  RotationInvariantViolations: {
    service: 'signet-rotator',
    type: 'count',
    unit: 'Count',
    perRequest: false,
    dimensions: {
      profile,
      code: oneOf([
        'KEY_GROUP_MISSING',
        'GROUP_OVER_QUOTA',
        'ACTIVE_NOT_IN_GROUP',
        'ACTIVE_NOT_PROPAGATED',
        'RING_KEY_NOT_IN_GROUP',
        'RING_KEY_UNREGISTERED',
        'RETIRING_KEY_LEFT_GROUP',
        'KEY_REMOVED_TOO_EARLY',
        'ORPHAN_IN_GROUP',
        'ORPHAN_PUBLIC_KEY',
        'ACCOUNT_AT_QUOTA',
      ]),
    },
    description:
      'One per invariant broken after a run, warnings included, every run it persists. For dashboards: alarm on RotationInvariantErrors.',
  },
  RotationInvariantErrors: {
    service: 'signet-rotator',
    type: 'count',
    unit: 'Count',
    perRequest: false,
    dimensions: { profile },
    description:
      'Error-severity invariant violations counted once, by the run that first saw each (the ring remembers them).',
  },
  RotationConfigRefused: {
    service: 'signet-rotator',
    type: 'count',
    unit: 'Count',
    perRequest: false,
    dimensions: { profile },
    description: 'A config change the rotator will not carry out (a lowered propagation without a canary).',
  },
  ActiveKeyAgeSeconds: {
    service: 'signet-rotator',
    type: 'gauge',
    unit: 'Seconds',
    perRequest: false,
    dimensions: { profile },
    description:
      'Seconds since the active key was activated (before the first activation: since the key waiting to sign was created), every run.',
  },
  RotationCanaryPasses: {
    service: 'signet-rotator',
    type: 'count',
    unit: 'Count',
    perRequest: false,
    dimensions: { profile },
    description: 'A canary fetch with the pending key answered 200: activation goes ahead.',
  },
  RotationCanaryFailures: {
    service: 'signet-rotator',
    type: 'count',
    unit: 'Count',
    perRequest: false,
    dimensions: { profile },
    description: 'A canary fetch with the pending key did not answer 200, so activation waits.',
  },
  RotationRevocations: {
    service: 'signet-rotator',
    type: 'count',
    unit: 'Count',
    perRequest: false,
    dimensions: { profile, state: oneOf(['pending', 'active', 'retiring', 'revoked', 'removed']) },
    description: 'An operator revoked a key (`signet revoke`); `state` is what the key was.',
  },
  AccountPublicKeys: {
    service: 'signet-rotator',
    type: 'gauge',
    unit: 'Count',
    perRequest: false,
    dimensions: {},
    description: "CloudFront public keys in the account (every profile and stage, and others'), every run.",
  },
  AccountPublicKeyQuota: {
    service: 'signet-rotator',
    type: 'gauge',
    unit: 'Count',
    perRequest: false,
    dimensions: {},
    description: "The account's public key quota the rotator plans with (lib/rotation/quotas.ts), every run.",
  },
} as const satisfies Readonly<Record<string, MetricSpec>>;

/** A metric of the catalogue. */
export type CatalogueMetricName = keyof typeof METRICS;
/** The metrics the API emits. */
export type ApiMetricName = {
  [N in CatalogueMetricName]: (typeof METRICS)[N]['service'] extends 'signet-api' ? N : never;
}[CatalogueMetricName];
/** The metrics the rotator emits. */
export type RotatorMetricName = Exclude<CatalogueMetricName, ApiMetricName>;

type ValueOf<B> = B extends { readonly kind: 'enum'; readonly values: readonly (infer V extends string)[] }
  ? V
  : string;

/** Exactly the dimensions a metric takes besides `service`, each value typed by its bound. */
export type DimensionsOf<N extends CatalogueMetricName> = {
  readonly [D in keyof (typeof METRICS)[N]['dimensions']]: ValueOf<(typeof METRICS)[N]['dimensions'][D]>;
};

/** The telemetry port typed by the catalogue: a name of `N` takes exactly its dimensions. */
export interface CatalogueMetrics<N extends CatalogueMetricName> {
  count<M extends N>(name: M, value: number, dimensions: DimensionsOf<M>): void;
  /** A value that is set, not summed. Without it, gauges are sent through {@link count}. */
  gauge?<M extends N>(name: M, value: number, dimensions: DimensionsOf<M>): void;
}

/** The unit a metric is published in: from the catalogue, `Count` for a name it does not list. */
export function unitOf(name: string): MetricSpec['unit'] {
  return (METRICS as Readonly<Record<string, MetricSpec>>)[name]?.unit ?? 'Count';
}
