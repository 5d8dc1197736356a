// Every alarm of the stack as CloudFormation sees it (infra/aws/alarms.yml and infra/aws/profiles.cjs),
// packaged offline like test/infra/aws/template.test.ts: one alarm per failure mode of issue 17, each
// watching a metric the code emits (lib/telemetry/catalogue.ts) or an AWS service metric of a
// resource of the same stack, each notifying the stage's SNS topic, and each naming a runbook
// section of docs/operators.md that exists and says what it means, how to confirm it and what to do.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DENIAL_REASONS,
  KMS_SIGN_FAILURE_REASONS,
  metricsNamespace,
} from '../../../lib/telemetry/catalogue.ts';
import {
  type NamedMetric,
  operatorsGuideSections,
  type PackagedStage,
  packageStage,
  problemWith,
  type Resource,
  removePackagedStages,
} from './monitoring.ts';

const FIXTURE = 'test/support/fixtures/monitoring.yml';
const TOPIC = { 'Fn::If': ['HasAlarmTopic', [{ Ref: 'AlarmTopicArn' }], { Ref: 'AWS::NoValue' }] };

const stages = new Map<string, PackagedStage>();

beforeAll(async () => {
  // One at a time: serverless-esbuild builds in the service directory.
  stages.set('monitoring', await packageStage('monitoring', FIXTURE));
  stages.set('dev', await packageStage('dev'));
}, 180_000);

afterAll(removePackagedStages);

function stage(name: string): PackagedStage {
  const found = stages.get(name);
  if (found === undefined) throw new Error(`Expected the ${name} stage to be packaged.`);
  return found;
}

function alarmsOf(packaged: PackagedStage): [string, Resource][] {
  return Object.entries(packaged.template.Resources).filter(([, r]) => r.Type === 'AWS::CloudWatch::Alarm');
}

interface RawMetric {
  readonly Namespace: string;
  readonly MetricName: string;
  readonly Dimensions?: { Name: string; Value: string | { Ref: string } }[];
}

/** The metrics an alarm watches: its single metric, or each MetricStat of its metric math. */
function watchedBy(alarm: Resource): NamedMetric[] {
  const props = alarm.Properties;
  const raw: RawMetric[] =
    props.Metrics === undefined
      ? [props as unknown as RawMetric]
      : (props.Metrics as { MetricStat?: { Metric: RawMetric } }[]).flatMap((m) =>
          m.MetricStat === undefined ? [] : [m.MetricStat.Metric],
        );
  return raw.map((metric) => ({
    namespace: metric.Namespace,
    name: metric.MetricName,
    dimensions: Object.fromEntries((metric.Dimensions ?? []).map((d) => [d.Name, d.Value])),
  }));
}

/** `docs/operators.md#anchor` in an alarm's description, as text after `${sls:stage}` was resolved. */
function runbookOf(alarm: Resource): string | undefined {
  const description = alarm.Properties.AlarmDescription;
  expect(typeof description, 'AlarmDescription is a string').toBe('string');
  return /Runbook: docs\/operators\.md#([a-z0-9-]+)$/.exec(description as string)?.[1];
}

describe.each(['monitoring', 'dev'])('the alarms of the %s stage', (name) => {
  it("watch only metrics the code emits or AWS metrics of the stack's own resources", () => {
    const packaged = stage(name);
    const problems: string[] = [];
    for (const [id, alarm] of alarmsOf(packaged)) {
      const metrics = watchedBy(alarm);
      expect(metrics.length, id).toBeGreaterThan(0);
      for (const metric of metrics) {
        const problem = problemWith(metric, packaged);
        if (problem !== undefined) problems.push(`${id}: ${problem}`);
      }
      // Metric math only over the alarm's own metrics.
      const ids = new Set((alarm.Properties.Metrics as { Id: string }[] | undefined)?.map((m) => m.Id) ?? []);
      for (const m of (alarm.Properties.Metrics ?? []) as { Expression?: string }[]) {
        for (const ref of m.Expression?.replace(/\b[A-Z_]+\(/g, '(').match(/\b[a-z][A-Za-z0-9_]*\b/g) ?? [])
          expect(ids, `${id}: ${m.Expression}`).toContain(ref);
      }
    }
    expect(problems).toEqual([]);
  });

  it("watch the stage's own namespace, Signet/<stage>, so another stage's datapoints never reach them", () => {
    const packaged = stage(name);
    const other = stage(name === 'dev' ? 'monitoring' : 'dev');
    let signet = 0;
    for (const [id, alarm] of alarmsOf(packaged)) {
      for (const metric of watchedBy(alarm).filter((m) => !m.namespace.startsWith('AWS/'))) {
        signet += 1;
        expect(metric.namespace, id).toBe(`Signet/${name}`);
        // The same alarm metric read as the other stage's is refused.
        expect(problemWith(metric, other), `${id} on ${other.name}`).toContain(
          `expected the ${other.name} stage's namespace Signet/${other.name}`,
        );
      }
    }
    expect(signet).toBeGreaterThanOrEqual(8);
  });

  it("notify the stage's SNS topic when it has one, in ALARM and back to OK", () => {
    for (const [id, alarm] of alarmsOf(stage(name))) {
      expect(alarm.Properties.AlarmActions, id).toEqual(TOPIC);
      expect(alarm.Properties.OKActions, id).toEqual(TOPIC);
    }
  });

  it('each name a runbook section of docs/operators.md that says what it means, how to confirm it and what to do', () => {
    const sections = operatorsGuideSections();
    const guide = sections.get('alarms-and-runbooks');
    expect(guide?.level).toBe(2);
    for (const [id, alarm] of alarmsOf(stage(name))) {
      const anchor = runbookOf(alarm);
      expect(anchor, `${id}: "Runbook: docs/operators.md#<section>" ends its description`).toBeDefined();
      const section = sections.get(anchor!);
      expect(section, `${id}: docs/operators.md has a section #${anchor}`).toBeDefined();
      // A runbook of the "Alarms and runbooks" chapter, named after the alarm (without the profile suffix).
      expect(section!.level, anchor).toBe(3);
      expect(guide!.text).toContain(`### ${section!.heading}`);
      expect(id.toLowerCase().startsWith(anchor!), `${id} -> #${anchor}`).toBe(true);
      for (const part of ['**What it means.**', '**Confirm.**', '**What to do.**'])
        expect(section!.text, `${anchor}: ${part}`).toContain(part);
      expect(section!.text, `${anchor}: how to confirm with the signet commands`).toMatch(
        /signet\s+(doctor|explain|keys|verify)|\/v1\/health/,
      );
    }
  });
});

describe('one alarm per failure mode (issue 17)', () => {
  const suffixes = { media: '', downloads: 'Downloads' } as const;

  it('has each stage-wide alarm once, and each per-profile alarm for every profile', () => {
    const ids = alarmsOf(stage('monitoring')).map(([id]) => id);
    const expected = [
      // A rotation run failed (the rotator's Lambda Errors).
      'RotationFailedAlarm',
      // The API answered 5xx.
      'Api5xxAlarm',
      // The key ring (or the JWKS / API key list) was unavailable: 503 keys-unavailable.
      'KeysUnavailableAlarm',
      // Authentication failures, and denials of authenticated callers, well above their usual rate.
      'AuthenticationFailuresAlarm',
      'DenialsAlarm',
      // Every 4xx at the HTTP API, the JWT authorizer's 401s included (they never reach Signet).
      'Api4xxAlarm',
      // Public keys in the account near the quota.
      'PublicKeyQuotaAlarm',
      ...Object.values(suffixes).flatMap((suffix) => [
        // An invariant of error severity broke; the active key is too old; the ring is served stale.
        `RotationInvariantViolatedAlarm${suffix}`,
        `ActiveKeyTooOldAlarm${suffix}`,
        `KeyRingStaleAlarm${suffix}`,
      ]),
      // The canary keeps failing: only `downloads` has one.
      'CanaryFailingAlarmDownloads',
      // KMS signing failed (throttled, disabled, denied, ...): only `downloads` signs through KMS.
      'KmsSigningFailedAlarmDownloads',
    ];
    expect(ids.sort()).toEqual(expected.sort());
  });

  it('alarms on broken invariants of error severity only, once per incident', () => {
    const { template } = stage('monitoring');
    for (const [profile, suffix] of Object.entries(suffixes)) {
      expect(template.Resources[`RotationInvariantViolatedAlarm${suffix}`]?.Properties).toMatchObject({
        Namespace: metricsNamespace('monitoring'),
        MetricName: 'RotationInvariantErrors',
        Dimensions: [
          { Name: 'service', Value: 'signet-rotator' },
          { Name: 'profile', Value: profile },
        ],
      });
    }
  });

  it('alarms on any KMS signing failure, every reason summed, only for profiles whose keys may be in KMS', () => {
    const { template } = stage('monitoring');
    const alarm = template.Resources.KmsSigningFailedAlarmDownloads!;
    const metrics = alarm.Properties.Metrics as {
      Id: string;
      Expression?: string;
      MetricStat?: { Metric: { MetricName: string; Dimensions: { Name: string; Value: string }[] } };
    }[];
    const watched = metrics.flatMap((m) => (m.MetricStat === undefined ? [] : [m.MetricStat.Metric]));
    expect(watched.map((m) => m.MetricName)).toEqual(KMS_SIGN_FAILURE_REASONS.map(() => 'KmsSignFailures'));
    expect(watched.map((m) => m.Dimensions)).toEqual(
      KMS_SIGN_FAILURE_REASONS.map((reason) => [
        { Name: 'service', Value: 'signet-api' },
        { Name: 'profile', Value: 'downloads' },
        { Name: 'reason', Value: reason },
      ]),
    );
    expect(metrics.find((m) => m.Expression !== undefined)?.Expression).toBe(
      `SUM([${KMS_SIGN_FAILURE_REASONS.join(', ')}])`,
    );
    expect(alarm.Properties).toMatchObject({
      EvaluationPeriods: 1,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
    expect(template.Resources.KmsSigningFailedAlarm).toBeUndefined();
    expect(
      alarmsOf(stage('dev'))
        .map(([id]) => id)
        .filter((id) => id.startsWith('Kms')),
    ).toEqual([]);
  });

  it('alarms on a key ring served stale for three periods in a row, per profile', () => {
    const { template } = stage('monitoring');
    for (const [profile, suffix] of Object.entries(suffixes)) {
      expect(template.Resources[`KeyRingStaleAlarm${suffix}`]?.Properties).toMatchObject({
        MetricName: 'KeyRingStaleServes',
        Dimensions: [
          { Name: 'service', Value: 'signet-api' },
          { Name: 'profile', Value: profile },
        ],
        Statistic: 'Sum',
        Period: 300,
        EvaluationPeriods: 3,
        DatapointsToAlarm: 3,
        Threshold: 1,
      });
    }
  });

  it("alarms on the API's 503 keys-unavailable and on 5xx at the HTTP API", () => {
    const { template } = stage('monitoring');
    expect(template.Resources.KeysUnavailableAlarm?.Properties).toMatchObject({
      MetricName: 'ServerErrors',
      Dimensions: [
        { Name: 'service', Value: 'signet-api' },
        { Name: 'reason', Value: 'keys-unavailable' },
      ],
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
    expect(template.Resources.Api5xxAlarm?.Properties).toMatchObject({
      Namespace: 'AWS/ApiGateway',
      MetricName: '5xx',
      Dimensions: [{ Name: 'ApiId', Value: { Ref: 'HttpApi' } }],
      Threshold: 5,
    });
  });

  it('alarms on authentication failures and on every other denial reason, with fixed thresholds', () => {
    const { template } = stage('monitoring');
    // What API Gateway refuses itself (its JWT authorizer's 401s, throttling) shows only in its 4xx.
    expect(template.Resources.Api4xxAlarm?.Properties).toMatchObject({
      Namespace: 'AWS/ApiGateway',
      MetricName: '4xx',
      Dimensions: [{ Name: 'ApiId', Value: { Ref: 'HttpApi' } }],
      Threshold: 500,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    expect(template.Resources.AuthenticationFailuresAlarm?.Properties).toMatchObject({
      MetricName: 'Denials',
      Dimensions: [
        { Name: 'service', Value: 'signet-api' },
        { Name: 'reason', Value: 'unauthenticated' },
      ],
      Threshold: 50,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    const denials = template.Resources.DenialsAlarm!;
    expect(denials.Properties.Threshold).toBe(100);
    const reasons = watchedBy(denials).map((m) => m.dimensions.reason);
    // Every denial reason the catalogue has is watched by one of the two alarms.
    expect([...reasons, 'unauthenticated'].sort()).toEqual([...DENIAL_REASONS].sort());
  });

  it('alarms when free public keys in the account fall to max(2, profiles), from the gauges the rotator sends', () => {
    const { template } = stage('monitoring');
    const quota = template.Resources.PublicKeyQuotaAlarm!.Properties;
    expect(watchedBy(template.Resources.PublicKeyQuotaAlarm!).map((m) => m.name)).toEqual([
      'AccountPublicKeys',
      'AccountPublicKeyQuota',
    ]);
    expect((quota.Metrics as { Expression?: string }[])[2]?.Expression).toBe('quota - keys');
    // The conservative reading of each: the most keys and the lowest quota seen in the period.
    expect(
      (quota.Metrics as { MetricStat?: { Stat: string } }[]).slice(0, 2).map((m) => m.MetricStat?.Stat),
    ).toEqual(['Maximum', 'Minimum']);
    expect(quota).toMatchObject({ Threshold: 2, ComparisonOperator: 'LessThanOrEqualToThreshold' });
  });

  it('alarms on a failing canary only for profiles that have one', () => {
    const { template } = stage('monitoring');
    expect(template.Resources.CanaryFailingAlarm).toBeUndefined();
    expect(template.Resources.CanaryFailingAlarmDownloads?.Properties).toMatchObject({
      MetricName: 'RotationCanaryFailures',
      Dimensions: [
        { Name: 'service', Value: 'signet-rotator' },
        { Name: 'profile', Value: 'downloads' },
      ],
      EvaluationPeriods: 3,
      DatapointsToAlarm: 2,
    });
    expect(
      Object.keys(stage('dev').template.Resources).some((id) => id.startsWith('CanaryFailingAlarm')),
    ).toBe(false);
  });
});
