// The stage's CloudWatch dashboard as CloudFormation sees it (infra/aws/dashboard.cjs): packaged
// offline like test/infra/aws/template.test.ts, then every widget is read back from the dashboard
// body. Each metric a widget names must be one the code emits (lib/telemetry/catalogue.ts, which
// types the emitting code) or an AWS service metric of a resource of the same stack; the SEARCH
// expressions must name exactly a catalogue metric's dimension set.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DENIAL_REASONS,
  METRIC_SERVICES,
  METRICS,
  type MetricSpec,
  metricsNamespace,
  SERVER_ERROR_REASONS,
} from '../../../lib/telemetry/catalogue.ts';
import {
  type NamedMetric,
  type PackagedStage,
  packageStage,
  problemWith,
  ROOT,
  removePackagedStages,
  sentNamespaceOf,
} from './monitoring.ts';

const FIXTURE = 'test/support/fixtures/monitoring.yml';
const GRACE_SECONDS = 172_800;

interface Widget {
  readonly type: string;
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  readonly properties: Record<string, unknown>;
}
type MetricEntry = unknown[] | [{ expression: string; id: string; label?: string }];

const stages = new Map<string, PackagedStage>();

beforeAll(async () => {
  // One at a time: serverless-esbuild builds in the service directory.
  stages.set('monitoring', await packageStage('monitoring', FIXTURE));
  stages.set('prod', await packageStage('prod'));
}, 180_000);

afterAll(removePackagedStages);

function stage(name: string): PackagedStage {
  const found = stages.get(name);
  if (found === undefined) throw new Error(`Expected the ${name} stage to be packaged.`);
  return found;
}

/**
 * The dashboard body: an `Fn::Join` of JSON text and intrinsics. Each `Ref` becomes the string
 * `{"Ref":"X"}` and each `Fn::GetAtt` `{"GetAtt":"X.Arn"}` (JSON-encoded inside the string), so the
 * text parses and the test sees which resource each value names.
 */
function dashboardOf(template: PackagedStage['template']): { name: unknown; widgets: Widget[] } {
  const dashboards = Object.values(template.Resources).filter((r) => r.Type === 'AWS::CloudWatch::Dashboard');
  expect(dashboards).toHaveLength(1);
  const props = dashboards[0]!.Properties;
  const join = (props.DashboardBody as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
  expect(join[0]).toBe('');
  const text = join[1]
    .map((part) => {
      if (typeof part === 'string') return part;
      const ref = (part as { Ref?: string }).Ref;
      if (ref !== undefined) return `@Ref:${ref}`;
      const getAtt = (part as { 'Fn::GetAtt'?: [string, string] })['Fn::GetAtt'];
      if (getAtt !== undefined) return `@GetAtt:${getAtt.join('.')}`;
      throw new Error(`Expected only Ref and Fn::GetAtt in the dashboard body; got ${JSON.stringify(part)}.`);
    })
    .join('');
  const body = JSON.parse(text) as { widgets: Widget[] };
  return { name: props.DashboardName, widgets: body.widgets };
}

/** `@Ref:X` back to `{ Ref: X }`, any other string as is. */
function dimensionValueOf(text: unknown): string | { Ref: string } {
  if (typeof text !== 'string')
    throw new Error(`Expected a string dimension value; got ${JSON.stringify(text)}.`);
  return text.startsWith('@Ref:') ? { Ref: text.slice(5) } : text;
}

/** An explicit metric entry `[namespace, name, dim, value, ..., options?]`. */
function namedMetricOf(entry: unknown[]): NamedMetric {
  const [namespace, name, ...rest] = entry;
  const pairs = rest.filter((item) => typeof item !== 'object' || item === null);
  expect(pairs.length % 2, `${JSON.stringify(entry)}: dimension names and values in pairs`).toBe(0);
  const dimensions: Record<string, string | { Ref: string }> = {};
  for (let i = 0; i < pairs.length; i += 2) dimensions[pairs[i] as string] = dimensionValueOf(pairs[i + 1]);
  return { namespace: namespace as string, name: name as string, dimensions };
}

/** `SEARCH('{"Ns",d1,d2} MetricName="X" service="S"', ...)`: the metric it finds, with its schema. */
function searchedMetricOf(expression: string): NamedMetric & { schema: string[] } {
  const match =
    /^SEARCH\('\{([^}]*)\} MetricName="([A-Za-z]+)" service="([a-z-]+)"', '(Sum|Maximum|Average)', \d+\)$/.exec(
      expression,
    );
  if (match === null) throw new Error(`Expected a SEARCH over one metric of one service; got ${expression}.`);
  const [quoted, ...schema] = match[1]!.split(',');
  // The namespace holds a `/` (and maybe a stage's dashes): CloudWatch wants it in double quotes.
  const namespace = /^"([^"]+)"$/.exec(quoted!)?.[1];
  if (namespace === undefined)
    throw new Error(`Expected the SEARCH namespace in double quotes; got ${quoted}.`);
  return {
    namespace,
    name: match[2]!,
    schema,
    // A SEARCH schema matches exactly this dimension set; values other than service vary.
    dimensions: Object.fromEntries(schema.map((d) => [d, d === 'service' ? match[3]! : 'SEARCHED'])),
  };
}

/** Every metric a widget shows, explicit or found by SEARCH. */
function metricsOf(widget: Widget): {
  explicit: NamedMetric[];
  searched: ReturnType<typeof searchedMetricOf>[];
} {
  const entries = (widget.properties.metrics ?? []) as MetricEntry[];
  const explicit: NamedMetric[] = [];
  const searched: ReturnType<typeof searchedMetricOf>[] = [];
  const ids = new Set<string>();
  for (const entry of entries) {
    const first = entry[0];
    if (typeof first === 'object' && first !== null && 'expression' in first) {
      const { expression } = first as { expression: string };
      if (expression.startsWith('SEARCH(')) searched.push(searchedMetricOf(expression));
      else {
        // Metric math over metrics of the same widget only.
        for (const id of expression.match(/\b[a-z][A-Za-z0-9_]*\b/g) ?? [])
          expect(ids, expression).toContain(id);
      }
    } else {
      expect(
        entry.some((item) => typeof item === 'string' && item === '.'),
        'no "." shorthand',
      ).toBe(false);
      explicit.push(namedMetricOf(entry));
      const options = entry.find((item) => typeof item === 'object' && item !== null) as
        | { id?: string }
        | undefined;
      if (options?.id !== undefined) ids.add(options.id);
    }
  }
  return { explicit, searched };
}

describe.each(['monitoring', 'prod'])('the %s dashboard', (name) => {
  it('is one AWS::CloudWatch::Dashboard named after the stage, laid out on the 24-column grid', () => {
    const { template } = stage(name);
    const { name: dashboardName, widgets } = dashboardOf(template);
    expect(dashboardName).toBe(`signet-${name}`);
    expect(template.Outputs.DashboardName?.Value).toEqual({ Ref: 'Dashboard' });
    expect(widgets.length).toBeGreaterThan(10);
    for (const widget of widgets) {
      expect(widget.x + widget.width).toBeLessThanOrEqual(24);
      expect(['metric', 'text', 'alarm', 'log']).toContain(widget.type);
      if (widget.type === 'metric' || widget.type === 'log' || widget.type === 'alarm')
        expect(typeof widget.properties.title).toBe('string');
      if (widget.type === 'metric' || widget.type === 'log')
        expect(widget.properties.region).toBe('@Ref:AWS::Region');
    }
  });

  it("names, in every metric widget, only metrics the code emits or AWS metrics of the stack's own resources", () => {
    const packaged = stage(name);
    const { widgets } = dashboardOf(packaged.template);
    const problems: string[] = [];
    let checked = 0;
    for (const widget of widgets.filter((w) => w.type === 'metric')) {
      const { explicit, searched } = metricsOf(widget);
      for (const metric of explicit) {
        checked += 1;
        const problem = problemWith(metric, packaged);
        if (problem !== undefined) problems.push(`${widget.properties.title}: ${problem}`);
      }
      for (const metric of searched) {
        checked += 1;
        const problem = metric.namespace.startsWith('AWS/')
          ? `${metric.name}: SEARCH only over Signet's own metrics`
          : problemWith({ ...metric, dimensions: literalsFor(metric, packaged) }, packaged);
        if (problem !== undefined) problems.push(`${widget.properties.title}: ${problem}`);
      }
    }
    expect(problems).toEqual([]);
    expect(checked).toBeGreaterThanOrEqual(25);
  });

  it('shows what issue 17 asks for: issuance per profile and key, denials by reason, the key ring, rotation, key age against its limit, canary, quota, warm and cold latency', () => {
    const packaged = stage(name);
    const { widgets } = dashboardOf(packaged.template);
    const profiles = Object.keys(packaged.config.profiles);
    const all = widgets.filter((w) => w.type === 'metric').map(metricsOf);
    const explicit = all.flatMap((m) => m.explicit);
    const searched = all.flatMap((m) => m.searched);
    const shown = (metric: string, dimensions: Record<string, string> = {}) =>
      explicit.some(
        (m) =>
          m.namespace === metricsNamespace(name) &&
          m.name === metric &&
          Object.entries(dimensions).every(([k, v]) => m.dimensions[k] === v),
      );
    // Issuance per profile and key: the key ids change with every rotation, so a SEARCH over exactly
    // SignaturesIssued's dimension set shows each profile's keys as they come and go.
    expect(searched.find((m) => m.name === 'SignaturesIssued')?.schema.sort()).toEqual(
      ['kind', 'keyId', 'profile', 'service'].sort(),
    );
    for (const reason of DENIAL_REASONS) expect(shown('Denials', { reason }), reason).toBe(true);
    for (const reason of SERVER_ERROR_REASONS) expect(shown('ServerErrors', { reason }), reason).toBe(true);
    for (const profile of profiles) {
      for (const metric of [
        'KeyRingRefreshes',
        'KeyRingRefreshFailures',
        'KeyRingStaleServes',
        'RotationInvariantErrors',
        'RotationCanaryPasses',
        'RotationCanaryFailures',
        'ActiveKeyAgeSeconds',
      ]) {
        expect(shown(metric, { profile }), `${metric} of ${profile}`).toBe(true);
      }
    }
    // KMS signing: every profile's Sign calls and failures by reason, found by SEARCH.
    expect(searched.find((m) => m.name === 'KmsSignCalls')?.schema.sort()).toEqual(['profile', 'service']);
    expect(searched.find((m) => m.name === 'KmsSignFailures')?.schema.sort()).toEqual(
      ['profile', 'reason', 'service'].sort(),
    );
    for (const metric of ['RotationTransitions', 'RotationFailures', 'RotationBlocked'])
      expect(searched.map((m) => m.name)).toContain(metric);
    expect(shown('AccountPublicKeys')).toBe(true);
    expect(shown('AccountPublicKeyQuota')).toBe(true);
    const aws = (namespace: string, metric: string, ref: string) =>
      explicit.some(
        (m) =>
          m.namespace === namespace &&
          m.name === metric &&
          JSON.stringify(Object.values(m.dimensions)) === JSON.stringify([{ Ref: ref }]),
      );
    expect(aws('AWS/Lambda', 'Duration', 'ApiLambdaFunction')).toBe(true);
    expect(aws('AWS/Lambda', 'Errors', 'RotatorLambdaFunction')).toBe(true);
    expect(aws('AWS/ApiGateway', '5xx', 'HttpApi')).toBe(true);
    expect(aws('AWS/ApiGateway', '4xx', 'HttpApi')).toBe(true);
  });

  it("draws each profile's active key age against its rotateEvery and the key age alarm's limit", () => {
    const packaged = stage(name);
    const { widgets } = dashboardOf(packaged.template);
    for (const [profile, settings] of Object.entries(packaged.config.profiles)) {
      const widget = widgets.find(
        (w) => w.properties.title === `Active key age of ${profile} (days) against its limit`,
      );
      expect(widget, profile).toBeDefined();
      const rotateEvery = settings.rotation.rotateEvery;
      expect((widget!.properties.annotations as { horizontal: unknown[] }).horizontal).toEqual([
        { label: 'rotateEvery', value: rotateEvery / 86400 },
        { label: 'ActiveKeyTooOldAlarm', value: (rotateEvery + GRACE_SECONDS) / 86400, color: '#d62728' },
      ]);
      // The same limit the alarm uses (infra/aws/profiles.cjs).
      const suffix =
        profile === packaged.config.defaultProfile ? '' : profile[0]!.toUpperCase() + profile.slice(1);
      const alarm = packaged.template.Resources[`ActiveKeyTooOldAlarm${suffix}`]!.Properties;
      expect(alarm.Threshold).toBe(GRACE_SECONDS);
      expect((alarm.Metrics as { Expression?: string }[])[1]?.Expression).toBe(`age - ${rotateEvery}`);
    }
  });

  it("shows warm and cold latency from the API function's own REPORT log lines", () => {
    const { template } = stage(name);
    const { widgets } = dashboardOf(template);
    const logs = widgets.filter((w) => w.type === 'log');
    expect(logs).toHaveLength(1);
    const query = logs[0]!.properties.query as string;
    // The API function's log group, as the stack declares it.
    expect(query.startsWith("SOURCE '@Ref:ApiLogGroup' |")).toBe(true);
    expect(template.Resources.ApiLogGroup?.Type).toBe('AWS::Logs::LogGroup');
    expect(
      JSON.stringify(template.Resources.ApiLambdaFunction?.Properties.LoggingConfig ?? {}),
    ).not.toContain('JSON');
    expect(query).toContain('filter @type = "REPORT"');
    expect(query).toContain('ispresent(@initDuration) as coldStart');
    expect(query).toMatch(/by coldStart$/);
  });

  it('lists every alarm of the stack, and only those, in its alarm widget', () => {
    const { template } = stage(name);
    const { widgets } = dashboardOf(template);
    const alarmWidgets = widgets.filter((w) => w.type === 'alarm');
    expect(alarmWidgets).toHaveLength(1);
    const listed = (alarmWidgets[0]!.properties.alarms as string[]).map((arn) => {
      expect(arn).toMatch(/^@GetAtt:\w+\.Arn$/);
      return arn.slice('@GetAtt:'.length, -'.Arn'.length);
    });
    const alarms = Object.entries(template.Resources)
      .filter(([, r]) => r.Type === 'AWS::CloudWatch::Alarm')
      .map(([id]) => id);
    expect(listed.sort()).toEqual(alarms.sort());
  });
});

describe('the metrics catalogue the dashboard is checked against', () => {
  it('refuses a metric that differs from what the code emits in namespace, name, service, dimensions or values', () => {
    const packaged = stage('monitoring');
    const ns = metricsNamespace('monitoring');
    const api = { service: 'signet-api' };
    const denial = { ...api, reason: 'unauthenticated' };
    const problems = [
      {
        namespace: ns,
        name: 'SignaturesIssued',
        dimensions: { ...api, profile: 'media', kind: 'url' },
      },
      { namespace: ns, name: 'Denials', dimensions: { ...denial, url: 'x' } },
      {
        namespace: ns,
        name: 'Denials',
        dimensions: { service: 'signet-rotator', reason: 'unauthenticated' },
      },
      { namespace: ns, name: 'Denials', dimensions: { ...api, reason: 'bogus' } },
      { namespace: ns, name: 'KeyRingStaleServes', dimensions: { ...api, profile: 'nope' } },
      { namespace: ns, name: 'Requests', dimensions: api },
      // Another stage's namespace, and the unstaged one every stage wrote to before.
      { namespace: metricsNamespace('dev'), name: 'Denials', dimensions: denial },
      { namespace: metricsNamespace('prod'), name: 'Denials', dimensions: denial },
      { namespace: 'Signet', name: 'Denials', dimensions: denial },
      { namespace: 'AWS/Lambda', name: 'Duration', dimensions: { FunctionName: 'signet-monitoring-api' } },
      { namespace: 'AWS/Lambda', name: 'Duration', dimensions: { FunctionName: { Ref: 'ApiLogGroup' } } },
      { namespace: 'AWS/ApiGateway', name: '5XXError', dimensions: { ApiId: { Ref: 'HttpApi' } } },
    ].map((metric) => problemWith(metric, packaged));
    expect(problems.every((problem) => typeof problem === 'string')).toBe(true);
    expect(problems[6]).toContain("expected the monitoring stage's namespace Signet/monitoring");
    expect(problemWith({ namespace: ns, name: 'Denials', dimensions: denial }, packaged)).toBeUndefined();
    // The prod stage's own metric is refused on the monitoring stage, and the reverse.
    expect(problemWith({ namespace: ns, name: 'Denials', dimensions: denial }, stage('prod'))).toMatch(
      /expected the prod stage's namespace Signet\/prod/,
    );
  });

  it("is what the deployed functions emit: the stage's namespace, Signet/<stage>, and the service each function names", () => {
    for (const name of ['monitoring', 'prod'])
      expect(sentNamespaceOf(stage(name)), name).toBe(`Signet/${name}`);
    expect(metricsNamespace('prod')).toBe('Signet/prod');
    // Without a stage (a config without one): the namespace every stage used before.
    expect(metricsNamespace(undefined)).toBe('Signet');
    expect(() => metricsNamespace('Prod stage')).toThrow(
      /Expected a stage of lowercase letters, digits and dashes/,
    );
    for (const fn of ['functions/api.ts', 'functions/rotator.ts'])
      expect(readFileSync(join(ROOT, fn), 'utf8'), fn).toContain(
        'namespace: process.env.SIGNET_METRICS_NAMESPACE ?? metricsNamespace(config.stage)',
      );
    expect(readFileSync(join(ROOT, 'functions/api.ts'), 'utf8')).toContain(
      `serviceName: '${METRIC_SERVICES.api}'`,
    );
    expect(readFileSync(join(ROOT, 'functions/rotator.ts'), 'utf8')).toContain(
      `serviceName: '${METRIC_SERVICES.rotator}'`,
    );
  });

  it('gives two stages in one account separate namespaces on every Signet widget', () => {
    const seen = ['monitoring', 'prod'].map((name) => {
      const all = dashboardOf(stage(name).template)
        .widgets.filter((w) => w.type === 'metric')
        .map(metricsOf);
      return new Set(
        [...all.flatMap((m) => m.explicit), ...all.flatMap((m) => m.searched)]
          .map((m) => m.namespace)
          .filter((ns) => !ns.startsWith('AWS/')),
      );
    });
    expect([...seen[0]!]).toEqual(['Signet/monitoring']);
    expect([...seen[1]!]).toEqual(['Signet/prod']);
  });

  it('lists every metric the code emits, and every metric it lists is emitted somewhere', () => {
    const sources = [
      'lib/http/app.ts',
      'lib/wiring/api.ts',
      'lib/rotation/rotator.ts',
      'lib/rotation/schedule.ts',
      'lib/rotation/revoke.ts',
    ]
      .map((file) => readFileSync(join(ROOT, file), 'utf8'))
      .join('\n');
    const emitted = new Set([...sources.matchAll(/\.(?:count|gauge)\('(\w+)'/g)].map((m) => m[1]!));
    expect([...emitted].sort()).toEqual(Object.keys(METRICS).sort());
  });
});

/**
 * A SEARCH matches any value of a dimension; for the catalogue check, stand in values the catalogue
 * allows (a profile of the config, an enum's first value), so only the dimension set is judged.
 */
function literalsFor(
  metric: ReturnType<typeof searchedMetricOf>,
  packaged: PackagedStage,
): Record<string, string> {
  const spec = (METRICS as Readonly<Record<string, MetricSpec>>)[metric.name];
  return Object.fromEntries(
    Object.entries(metric.dimensions).map(([d, v]) => {
      if (d === 'service') return [d, v as string];
      const bound = spec?.dimensions[d];
      if (bound?.kind === 'profile') return [d, Object.keys(packaged.config.profiles)[0]!];
      if (bound?.kind === 'enum') return [d, bound.values[0]!];
      return [d, 'any'];
    }),
  );
}
