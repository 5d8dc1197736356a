// The stage's CloudWatch dashboard, `signet-<stage>` (docs/operators.md, "Alarms and runbooks"): what an
// on-call engineer looks at first. serverless.yml includes `${file(infra/aws/dashboard.cjs):resources}`.
//
// Written in JavaScript rather than YAML because the dashboard body is a JSON document with one
// widget per profile of the config (the key age against that profile's limit), and because its
// Signet metrics are read from the metrics catalogue the code emits with (lib/telemetry/catalogue.ts):
// a widget names exactly the namespace (the stage's own, Signet/<stage>), metric and dimensions the
// code sends. The other widgets use
// AWS service metrics of this stack's own resources (the HTTP API, the two functions, the API's log
// group). test/infra/aws/dashboard.test.ts checks every widget against both.
'use strict';

const { readFileSync } = require('node:fs');
const { resolve } = require('node:path');
const { require: tsxRequire } = require('tsx/cjs/api');
const { load: parse } = require('js-yaml');
const { alarmIdsOf } = require('./profiles.cjs');

/** The stage-wide alarms of infra/aws/alarms.yml, listed in the dashboard's alarm widget. */
const STAGE_ALARMS = [
  'RotationFailedAlarm',
  'Api5xxAlarm',
  'KeysUnavailableAlarm',
  'AuthenticationFailuresAlarm',
  'Api4xxAlarm',
  'DenialsAlarm',
];

const WIDTH = 24;

/**
 * Serializes `body` to a CloudFormation string: `token(intrinsic)` marks where a `Ref` or `Fn::GetAtt`
 * goes, and the result is an `Fn::Join` of the JSON text around them.
 */
function joinedJson(body, intrinsics) {
  const text = JSON.stringify(body);
  const parts = [];
  let last = 0;
  for (const match of text.matchAll(/@@intrinsic(\d+)@@/g)) {
    parts.push(text.slice(last, match.index));
    parts.push(intrinsics[Number(match[1])]);
    last = match.index + match[0].length;
  }
  parts.push(text.slice(last));
  return { 'Fn::Join': ['', parts.filter((part) => part !== '')] };
}

/**
 * @param {object} options
 * @param {{ defaultProfile?: string, profiles: Record<string, any> }} options.config parsed config
 * @param {string} options.defaultProfile
 * @param {string} options.stage
 * @param {number} options.graceSeconds activeKeyAgeGraceSeconds
 * @param {{ METRICS: Record<string, any>, metricsNamespace: (stage: string) => string }} options.catalogue lib/telemetry/catalogue.ts
 */
function buildDashboard({ config, defaultProfile, stage, graceSeconds, catalogue }) {
  const { METRICS } = catalogue;
  // The stage's own namespace, Signet/<stage>: what its functions send to (SIGNET_METRICS_NAMESPACE).
  const METRICS_NAMESPACE = catalogue.metricsNamespace(stage);
  const profiles = [defaultProfile, ...Object.keys(config.profiles).filter((n) => n !== defaultProfile)];
  const intrinsics = [];
  const token = (intrinsic) => `@@intrinsic${intrinsics.push(intrinsic) - 1}@@`;
  const region = token({ Ref: 'AWS::Region' });
  const api = token({ Ref: 'HttpApi' });
  const apiFunction = token({ Ref: 'ApiLambdaFunction' });
  const rotatorFunction = token({ Ref: 'RotatorLambdaFunction' });

  /** A Signet metric, with the dimensions the catalogue gives it (service first), in this order. */
  const signet = (name, dimensions, options) => {
    const spec = METRICS[name];
    if (spec === undefined) throw new Error(`Expected ${name} in lib/telemetry/catalogue.ts.`);
    const names = Object.keys(spec.dimensions);
    const given = Object.keys(dimensions);
    if (given.length !== names.length || !names.every((d) => given.includes(d))) {
      throw new Error(
        `Expected ${name}'s dimensions ${names.join(', ') || '(none)'}; got ${given.join(', ')}.`,
      );
    }
    return [
      METRICS_NAMESPACE,
      name,
      'service',
      spec.service,
      ...names.flatMap((d) => [d, dimensions[d]]),
      options,
    ];
  };
  /** Every dimension combination of a Signet metric, found at display time (dashboards allow SEARCH). */
  const search = (name, stat, period, id) => {
    const spec = METRICS[name];
    // A schema name with characters other than letters and digits (the `/`, a stage's dashes) is
    // written in double quotes (CloudWatch's search expression syntax).
    const schema = [`"${METRICS_NAMESPACE}"`, 'service', ...Object.keys(spec.dimensions)].join(',');
    return [
      {
        expression: `SEARCH('{${schema}} MetricName="${name}" service="${spec.service}"', '${stat}', ${period})`,
        id,
        period,
      },
    ];
  };

  const widgets = [];
  let x = 0;
  let y = 0;
  let rowHeight = 0;
  const place = (width, height, widget) => {
    if (x + width > WIDTH) {
      x = 0;
      y += rowHeight;
      rowHeight = 0;
    }
    widgets.push({ ...widget, x, y, width, height });
    x += width;
    rowHeight = Math.max(rowHeight, height);
  };
  const newRow = () => {
    if (x > 0) {
      x = 0;
      y += rowHeight;
      rowHeight = 0;
    }
  };
  const text = (width, height, markdown) => place(width, height, { type: 'text', properties: { markdown } });
  const graph = (width, title, metrics, extra = {}) =>
    place(width, 6, {
      type: 'metric',
      properties: { title, region, view: 'timeSeries', stacked: false, metrics, ...extra },
    });

  // What is wrong right now.
  const alarms = [...STAGE_ALARMS, ...alarmIdsOf(config, defaultProfile)];
  text(
    8,
    6,
    [
      `# Signet ${stage}`,
      'Each alarm names its runbook: docs/operators.md, "Alarms and runbooks".',
      '',
      `Confirm from a shell with the stage's config: \`signet doctor\` (every finding and its remedy), ` +
        '`signet keys --profile P` (the ring and its dates), `signet explain <url> --profile P` (why a URL gets 403), ' +
        '`signet verify` (health, a signed canary, doctor).',
      '',
      `Profiles: ${profiles.join(', ')}. Metrics: namespace ${METRICS_NAMESPACE}, service signet-api / signet-rotator.`,
    ].join('\n'),
  );
  place(16, 6, {
    type: 'alarm',
    properties: {
      title: 'Alarms',
      alarms: alarms.map((id) => token({ 'Fn::GetAtt': [id, 'Arn'] })),
      sortBy: 'stateUpdatedTimestamp',
    },
  });

  // The API: traffic, errors, latency.
  newRow();
  text(WIDTH, 1, '## Signing API');
  graph(
    8,
    'HTTP API requests, 4xx and 5xx',
    [
      ['AWS/ApiGateway', 'Count', 'ApiId', api, { stat: 'Sum', label: 'requests' }],
      ['AWS/ApiGateway', '4xx', 'ApiId', api, { stat: 'Sum', label: '4xx' }],
      ['AWS/ApiGateway', '5xx', 'ApiId', api, { stat: 'Sum', label: '5xx', color: '#d62728' }],
    ],
    { period: 300 },
  );
  graph(
    8,
    'API function duration (warm requests dominate)',
    [
      ['AWS/Lambda', 'Duration', 'FunctionName', apiFunction, { stat: 'p50', label: 'p50' }],
      ['AWS/Lambda', 'Duration', 'FunctionName', apiFunction, { stat: 'p99', label: 'p99' }],
      ['AWS/Lambda', 'Duration', 'FunctionName', apiFunction, { stat: 'Maximum', label: 'max' }],
    ],
    { period: 300, yAxis: { left: { label: 'ms', showUnits: false } } },
  );
  graph(
    8,
    'API function errors, throttles, concurrency',
    [
      ['AWS/Lambda', 'Errors', 'FunctionName', apiFunction, { stat: 'Sum', label: 'errors' }],
      ['AWS/Lambda', 'Throttles', 'FunctionName', apiFunction, { stat: 'Sum', label: 'throttles' }],
      [
        'AWS/Lambda',
        'ConcurrentExecutions',
        'FunctionName',
        apiFunction,
        { stat: 'Maximum', label: 'concurrency' },
      ],
    ],
    { period: 300 },
  );
  // Lambda publishes no metric for cold starts: its REPORT log line carries Init Duration on the
  // first invocation of a container. Warm and cold latency side by side, from those lines.
  place(12, 6, {
    type: 'log',
    properties: {
      title: 'API latency, warm and cold (REPORT lines; cold = init + first invocation)',
      region,
      view: 'table',
      query:
        `SOURCE '${token({ Ref: 'ApiLogGroup' })}' | filter @type = "REPORT"` +
        ' | fields ispresent(@initDuration) as coldStart, @duration + coalesce(@initDuration, 0) as totalMs' +
        ' | stats count(*) as invocations, pct(totalMs, 50) as p50Ms, pct(totalMs, 99) as p99Ms, max(totalMs) as maxMs by coldStart',
    },
  });
  graph(
    12,
    'API 5xx answers by reason',
    [
      ...catalogue.SERVER_ERROR_REASONS.map((reason) =>
        signet('ServerErrors', { reason }, { stat: 'Sum', label: reason }),
      ),
    ],
    { period: 300 },
  );

  // What was signed, and who was refused.
  newRow();
  text(WIDTH, 1, '## Issuance and denials');
  graph(
    12,
    'Signatures issued, per profile, key and kind',
    [search('SignaturesIssued', 'Sum', 300, 'issued')],
    {
      period: 300,
    },
  );
  graph(
    12,
    'Denials by reason (authentication failures: unauthenticated)',
    [
      ...catalogue.DENIAL_REASONS.map((reason) =>
        signet('Denials', { reason }, { stat: 'Sum', label: reason }),
      ),
    ],
    { period: 300 },
  );

  // The key ring cache of the API.
  newRow();
  text(WIDTH, 1, "## Key ring (the API's cache of each profile's ring)");
  graph(
    24,
    'Key ring refreshes, failed refreshes and stale serves, per profile',
    [
      ...profiles.flatMap((profile) => [
        signet('KeyRingRefreshes', { profile }, { stat: 'Sum', label: `${profile} refreshes` }),
        signet('KeyRingRefreshFailures', { profile }, { stat: 'Sum', label: `${profile} refresh failures` }),
        signet('KeyRingStaleServes', { profile }, { stat: 'Sum', label: `${profile} stale serves` }),
      ]),
    ],
    { period: 300 },
  );

  // KMS signing (signer: kms and kms: retiring profiles; empty for the others): the Sign calls KMS
  // bills and rate-limits, and the requests refused because KMS signing failed, by reason.
  newRow();
  text(WIDTH, 1, '## KMS signing (signer: kms profiles)');
  graph(12, 'KMS Sign calls, per profile', [search('KmsSignCalls', 'Sum', 300, 'kmscalls')], { period: 300 });
  graph(
    12,
    'KMS signing failures (503), per profile and reason',
    [search('KmsSignFailures', 'Sum', 300, 'kmsfailures')],
    { period: 300 },
  );

  // Rotation.
  newRow();
  text(WIDTH, 1, '## Rotation');
  graph(
    8,
    'Rotation transitions, per profile and step',
    [search('RotationTransitions', 'Sum', 3600, 'transitions')],
    {
      period: 3600,
    },
  );
  graph(
    8,
    'Rotation failures, blocks and broken invariants',
    [
      [
        'AWS/Lambda',
        'Errors',
        'FunctionName',
        rotatorFunction,
        { stat: 'Sum', label: 'failed rotator runs' },
      ],
      search('RotationFailures', 'Sum', 300, 'failures'),
      search('RotationBlocked', 'Sum', 300, 'blocked'),
      ...profiles.flatMap((profile) => [
        signet('RotationInvariantErrors', { profile }, { stat: 'Sum', label: `${profile} invariant errors` }),
        signet('RotationConfigRefused', { profile }, { stat: 'Sum', label: `${profile} config refused` }),
      ]),
    ],
    { period: 300 },
  );
  graph(
    8,
    'Canary checks before activation, per profile',
    [
      ...profiles.flatMap((profile) => [
        signet(
          'RotationCanaryPasses',
          { profile },
          { stat: 'Sum', label: `${profile} passed`, color: '#2ca02c' },
        ),
        signet(
          'RotationCanaryFailures',
          { profile },
          { stat: 'Sum', label: `${profile} failed`, color: '#d62728' },
        ),
      ]),
    ],
    { period: 300 },
  );
  for (const profile of profiles) {
    const rotateEvery = config.profiles[profile].rotation.rotateEvery;
    graph(
      8,
      `Active key age of ${profile} (days) against its limit`,
      [
        signet('ActiveKeyAgeSeconds', { profile }, { stat: 'Maximum', id: 'age', visible: false }),
        [{ expression: 'age / 86400', id: 'days', label: 'active key age' }],
      ],
      {
        period: 3600,
        annotations: {
          horizontal: [
            { label: 'rotateEvery', value: rotateEvery / 86400 },
            { label: 'ActiveKeyTooOldAlarm', value: (rotateEvery + graceSeconds) / 86400, color: '#d62728' },
          ],
        },
        yAxis: { left: { min: 0, label: 'days', showUnits: false } },
      },
    );
  }
  graph(
    8,
    'Public keys in the account against the quota',
    [
      signet('AccountPublicKeys', {}, { stat: 'Maximum', label: 'public keys' }),
      signet('AccountPublicKeyQuota', {}, { stat: 'Maximum', label: 'quota', color: '#d62728' }),
    ],
    { period: 900, yAxis: { left: { min: 0, showUnits: false } } },
  );

  return {
    Resources: {
      Dashboard: {
        Type: 'AWS::CloudWatch::Dashboard',
        Properties: {
          DashboardName: `signet-${stage}`,
          DashboardBody: joinedJson({ start: '-PT12H', periodOverride: 'inherit', widgets }, intrinsics),
        },
      },
    },
    Outputs: {
      DashboardName: {
        Description: 'The CloudWatch dashboard of this stage (CloudWatch > Dashboards)',
        Value: { Ref: 'Dashboard' },
      },
    },
  };
}

module.exports = async ({ resolveVariable }) => {
  const serviceDir = resolve(__dirname, '..', '..');
  const file = await resolveVariable('self:custom.signet.configFile');
  const path = resolve(serviceDir, file);
  const { parseConfig } = tsxRequire('../../lib/config/index.ts', __filename);
  const config = parseConfig(parse(readFileSync(path, 'utf8')), path);
  const catalogue = tsxRequire('../../lib/telemetry/catalogue.ts', __filename);
  return {
    resources: buildDashboard({
      config,
      defaultProfile: config.defaultProfile ?? Object.keys(config.profiles)[0],
      stage: await resolveVariable('sls:stage'),
      graceSeconds: Number(await resolveVariable('param:activeKeyAgeGraceSeconds')),
      catalogue,
    }),
  };
};
module.exports.buildDashboard = buildDashboard;
