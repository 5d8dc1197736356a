// The deployment as CloudFormation sees it: `npm run package` (osls + serverless-esbuild, offline, no
// AWS credentials) renders serverless.yml and infra/aws/ for the dev and prod stages (and a stage
// whose config has several profiles: test/support/fixtures/multi-profile.yml), and these
// tests read the templates a security reviewer would read. They also load the two bundles the way
// Lambda does, since an ESM bundle that cannot start is invisible in the template.
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { load as parseYaml } from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Config, parseConfig } from '../../../lib/config/index.ts';
import { metricsNamespace } from '../../../lib/telemetry/catalogue.ts';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '..', '..', '..');

interface Statement {
  readonly Effect: 'Allow' | 'Deny';
  readonly Action: string | string[];
  readonly Resource: unknown;
  readonly Condition?: unknown;
}
interface Resource {
  readonly Type: string;
  readonly Properties: Record<string, unknown>;
  readonly DependsOn?: string | string[];
  readonly DeletionPolicy?: string;
  readonly UpdateReplacePolicy?: string;
  readonly Condition?: string;
}
interface Template {
  readonly Parameters: Record<string, { Default?: unknown; AllowedValues?: unknown[] }>;
  readonly Conditions: Record<string, unknown>;
  readonly Resources: Record<string, Resource>;
  readonly Outputs: Record<string, { Value: unknown; Condition?: string }>;
}
type StageName = 'dev' | 'prod' | 'multi';
interface Stage {
  readonly name: StageName;
  readonly dir: string;
  readonly template: Template;
  readonly config: Config;
}

// Every SDK command the rotator's adapters send, as IAM actions: the rotator role must allow exactly
// these (plus logs and KMS). Read from the source so the role cannot drift from the code.
function commandsSentBy(file: string, service: string): string[] {
  const source = readFileSync(join(ROOT, file), 'utf8');
  const names = [...source.matchAll(/new (\w+)Command\(/g)].map((match) => `${service}:${match[1]}`);
  return [...new Set(names)].sort();
}

const outDir = mkdtempSync(join(tmpdir(), 'signet-package-'));
const stages = new Map<StageName, Stage>();
/** The multi stage's config: three profiles, `media` the default, `media-docs` adopting a key group. */
const MULTI_CONFIG = 'test/support/fixtures/multi-profile.yml';

function stage(name: StageName): Stage {
  const found = stages.get(name);
  if (found === undefined) throw new Error(`The ${name} stage was not packaged.`);
  return found;
}

function resource(template: Template, name: string): Resource {
  const found = template.Resources[name];
  if (found === undefined) throw new Error(`Expected a resource ${name} in the template.`);
  return found;
}

function statementsOf(role: Resource): Statement[] {
  const policies = role.Properties.Policies as { PolicyDocument: { Statement: unknown[] } }[];
  return policies.flatMap((policy) =>
    policy.PolicyDocument.Statement.map((statement) => {
      // Optional statements are `Fn::If [Condition, statement, AWS::NoValue]`: check the statement.
      const conditional = (statement as { 'Fn::If'?: [string, Statement, unknown] })['Fn::If'];
      return conditional === undefined ? (statement as Statement) : conditional[1];
    }),
  );
}

function actionsOf(statements: readonly Statement[]): string[] {
  return [...new Set(statements.flatMap((s) => [s.Action].flat()))].sort();
}

/**
 * What the rotator's KMS port (lib/aws/kms-key-port.ts) and the canary's Sign send, minus DisableKey
 * (only `signet revoke`, run with the operator's credentials, disables a key), plus TagResource
 * (CreateKey with tags needs it).
 */
const KMS_ROTATOR_ACTIONS = [
  ...commandsSentBy('lib/aws/kms-key-port.ts', 'kms').filter((action) => action !== 'kms:DisableKey'),
  ...commandsSentBy('lib/aws/kms-signer.ts', 'kms'),
  'kms:TagResource',
].sort();

const API_KEYS_SECRET =
  // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub placeholders
  'arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:${ApiKeysSecretName}-??????';
const API_KEYS_SECRET_ARN = { 'Fn::Sub': API_KEYS_SECRET };

/**
 * Every resource a role's Secrets Manager statements name, in order; a statement under a condition
 * contributes `Fn::If [Condition, resource, AWS::NoValue]`.
 */
function secretResourcesOf(role: Resource): unknown[] {
  const policies = role.Properties.Policies as { PolicyDocument: { Statement: unknown[] } }[];
  return policies.flatMap((policy) =>
    policy.PolicyDocument.Statement.flatMap((entry) => {
      const conditional = (entry as { 'Fn::If'?: [string, Statement, unknown] })['Fn::If'];
      const statement = conditional === undefined ? (entry as Statement) : conditional[1];
      if (![statement.Action].flat().some((a) => a.startsWith('secretsmanager:'))) return [];
      return [statement.Resource]
        .flat()
        .map((r) => (conditional === undefined ? r : { 'Fn::If': [conditional[0], r, conditional[2]] }));
    }),
  );
}

/** Every IAM statement in the template: role policies, managed policies and resource policies. */
function allStatements(template: Template): { where: string; statement: Statement }[] {
  const found: { where: string; statement: Statement }[] = [];
  const visit = (where: string, value: unknown): void => {
    if (Array.isArray(value)) {
      for (const [i, item] of value.entries()) visit(`${where}[${i}]`, item);
    } else if (typeof value === 'object' && value !== null) {
      const record = value as Record<string, unknown>;
      if ('Effect' in record && 'Action' in record)
        found.push({ where, statement: record as unknown as Statement });
      for (const [key, child] of Object.entries(record)) visit(`${where}.${key}`, child);
    }
  };
  visit('Resources', template.Resources);
  return found;
}

beforeAll(async () => {
  for (const name of ['multi', 'prod', 'dev'] as const) {
    // dev last: osls clears .serverless/ at every packaging, and dev is left there for
    // whoever looks next (`npm run package` puts it there too).
    const dir = name === 'dev' ? join(ROOT, '.serverless') : join(outDir, name);
    const configFile = name === 'multi' ? MULTI_CONFIG : `infra/aws/config/${name}.yml`;
    // No credentials of the developer's own: packaging must not need any.
    const { AWS_PROFILE: _profile, AWS_SESSION_TOKEN: _token, ...inherited } = process.env;
    const env = { ...inherited, CI: 'true', SIGNET_STAGE: name };
    const args = [
      ...(name === 'dev' ? [] : ['--package', dir]),
      ...(name === 'multi' ? [`--param=config=${configFile}`] : []),
    ];
    await run('npm', ['run', 'package', '--', ...args], {
      cwd: ROOT,
      env,
      maxBuffer: 16 * 1024 * 1024,
    });
    const template = JSON.parse(
      readFileSync(join(dir, 'cloudformation-template-update-stack.json'), 'utf8'),
    ) as Template;
    // Packaging adds the serverless stage to the config (key groups are named signet-<stage>-<profile>).
    const written = parseYaml(readFileSync(join(ROOT, configFile), 'utf8')) as Record<string, unknown>;
    const config = parseConfig({ stage: name, ...written }, name);
    stages.set(name, { name, dir, template, config });
  }
}, 180_000);

afterAll(() => {
  rmSync(outDir, { recursive: true, force: true });
});

describe.each(['dev', 'prod'] as const)('the %s template', (name) => {
  it('runs both functions on nodejs22.x, arm64, with their own roles', () => {
    const { template } = stage(name);
    for (const [fn, role] of [
      ['ApiLambdaFunction', 'ApiRole'],
      ['RotatorLambdaFunction', 'RotatorRole'],
    ] as const) {
      const props = resource(template, fn).Properties;
      expect(props.Runtime).toBe('nodejs22.x');
      expect(props.Architectures).toEqual(['arm64']);
      expect(props.Role).toEqual({ 'Fn::GetAtt': [role, 'Arn'] });
    }
    expect(resource(template, 'ApiLambdaFunction').Properties.MemorySize).toBe(1024);
    expect(resource(template, 'RotatorLambdaFunction').Properties.MemorySize).toBe(512);
    // Per-function roles replace the framework's shared role altogether.
    expect(template.Resources.IamRoleLambdaExecution).toBeUndefined();
  });

  it('keeps logs for the stage retention', () => {
    const { template } = stage(name);
    const days = name === 'prod' ? 90 : 14;
    expect(resource(template, 'ApiLogGroup').Properties.RetentionInDays).toBe(days);
    expect(resource(template, 'RotatorLogGroup').Properties.RetentionInDays).toBe(days);
  });

  it('runs the rotator on a schedule, without async retries, with reserved concurrency 1 only where the stage turns it on', () => {
    const { template } = stage(name);
    const rules = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Events::Rule');
    expect(rules).toHaveLength(1);
    expect(rules[0]?.Properties.ScheduleExpression).toBe('rate(5 minutes)');
    expect(rules[0]?.Properties.Targets).toEqual([
      expect.objectContaining({ Arn: { 'Fn::GetAtt': ['RotatorLambdaFunction', 'Arn'] } }),
    ]);
    expect(resource(template, 'RotatorLambdaFunction').Properties.ReservedConcurrentExecutions).toEqual({
      'Fn::If': ['ReserveRotatorConcurrency', 1, { Ref: 'AWS::NoValue' }],
    });
    // Off for new accounts (a concurrency limit of 10 reserves nothing); the shipped prod stage turns it on.
    expect(template.Parameters.ReserveRotatorConcurrency?.Default).toBe(name === 'prod' ? 'true' : 'false');
    const invokeConfigs = Object.values(template.Resources).filter(
      (r) => r.Type === 'AWS::Lambda::EventInvokeConfig',
    );
    expect(invokeConfigs).toEqual([
      expect.objectContaining({
        Properties: expect.objectContaining({
          FunctionName: { Ref: 'RotatorLambdaFunction' },
          MaximumRetryAttempts: 0,
        }),
      }),
    ]);
    expect(template.Conditions.ReserveRotatorConcurrency).toEqual({
      'Fn::Equals': [{ Ref: 'ReserveRotatorConcurrency' }, 'true'],
    });
  });

  it('allows no wildcard action anywhere (Allow statements name every action)', () => {
    const { template } = stage(name);
    const statements = allStatements(template);
    expect(statements.length).toBeGreaterThan(5);
    for (const { where, statement } of statements) {
      const actions = [statement.Action].flat();
      expect(actions, where).not.toContain('*');
      // The framework's deployment bucket policy denies s3:* over plain HTTP: a Deny, so a wildcard
      // there takes rights away. An Allow never carries one.
      if (statement.Effect === 'Allow') for (const action of actions) expect(action, where).not.toMatch(/\*/);
    }
  });

  it('lets the api role read only its key ring and API key secrets, and decrypt through Secrets Manager', () => {
    const { template, config } = stage(name);
    const statements = statementsOf(resource(template, 'ApiRole'));
    expect(actionsOf(statements)).toEqual([
      'kms:Decrypt',
      // Under SignsWithKms only (signer: kms profiles): see 'KMS signing' below.
      'kms:Sign',
      'logs:CreateLogStream',
      'logs:PutLogEvents',
      'secretsmanager:GetSecretValue',
    ]);
    expect(secretResourcesOf(resource(template, 'ApiRole'))).toEqual([
      { Ref: 'KeyRingSecret' },
      { 'Fn::If': ['HasApiKeysSecret', API_KEYS_SECRET_ARN, { Ref: 'AWS::NoValue' }] },
    ]);
    expect(template.Parameters.ApiKeysSecretName?.Default).toBe(config.auth.apiKeys?.secretId ?? '');
    const kms = statements.find((s) => s.Action === 'kms:Decrypt');
    expect(kms?.Resource).toEqual({ Ref: 'KmsKeyArn' });
    expect(kms?.Condition).toEqual({
      // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub placeholders
      StringEquals: { 'kms:ViaService': { 'Fn::Sub': 'secretsmanager.${AWS::Region}.amazonaws.com' } },
    });
    const logs = statements.find((s) => [s.Action].flat().includes('logs:PutLogEvents'));
    expect(logs?.Resource).toEqual({ 'Fn::GetAtt': ['ApiLogGroup', 'Arn'] });
  });

  it('lets the rotator role make exactly the AWS calls its adapters send, on the narrowest resources', () => {
    const { template } = stage(name);
    const statements = statementsOf(resource(template, 'RotatorRole'));
    const secretsManager = commandsSentBy('lib/aws/secrets-manager-key-ring-store.ts', 'secretsmanager');
    const cloudfront = commandsSentBy('lib/aws/cloudfront-key-group-registry.ts', 'cloudfront');
    expect(secretsManager).toContain('secretsmanager:PutSecretValue');
    expect(cloudfront).toContain('cloudfront:UpdateKeyGroup');
    expect(actionsOf(statements)).toEqual(
      [
        ...secretsManager,
        ...cloudfront,
        ...KMS_ROTATOR_ACTIONS,
        'kms:Decrypt',
        'kms:GenerateDataKey',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
      ].sort(),
    );
    for (const statement of statements) {
      const actions = [statement.Action].flat();
      if (actions.some((a) => a.startsWith('secretsmanager:'))) {
        expect(statement.Resource).toEqual([{ Ref: 'KeyRingSecret' }]);
      } else if (actions.some((a) => KMS_ROTATOR_ACTIONS.includes(a))) {
      } else if (actions.some((a) => a.startsWith('kms:'))) {
        expect(statement.Resource).toEqual({ Ref: 'KmsKeyArn' });
        expect(statement.Condition).toBeDefined();
      } else if (actions.some((a) => a.startsWith('logs:'))) {
        expect(statement.Resource).toEqual({ 'Fn::GetAtt': ['RotatorLogGroup', 'Arn'] });
      } else {
        // CloudFront's key group and public key actions, and ListDistributions (the bootstrap's
        // proof that moving a ring to another key group breaks no link), have no resource types
        // (Service Authorization Reference): `*` is the only resource IAM accepts for them.
        expect(
          actions.every((a) => /^cloudfront:(\w+(KeyGroup|PublicKey)s?|ListDistributions)$/.test(a)),
        ).toBe(true);
        expect(statement.Resource).toBe('*');
      }
    }
    // Metrics leave as EMF log lines; the rotator never calls CloudWatch directly.
    expect(actionsOf(statements).some((a) => a.startsWith('cloudwatch:'))).toBe(false);
  });

  it('grants cloudfront:DeleteKeyGroup only under the DeleteKeysOnDelete condition, off by default', () => {
    const { template } = stage(name);
    expect(template.Parameters.DeleteKeysOnDelete).toMatchObject({
      Default: 'false',
      AllowedValues: ['true', 'false'],
    });
    expect(template.Conditions.DeletesKeysOnDelete).toEqual({
      'Fn::Equals': [{ Ref: 'DeleteKeysOnDelete' }, 'true'],
    });
    // The adapter sends it (so the exact-match test above counts it); the role has it only conditionally.
    expect(commandsSentBy('lib/aws/cloudfront-key-group-registry.ts', 'cloudfront')).toContain(
      'cloudfront:DeleteKeyGroup',
    );
    const raw = (
      resource(template, 'RotatorRole').Properties.Policies as { PolicyDocument: { Statement: unknown[] } }[]
    ).flatMap((policy) => policy.PolicyDocument.Statement);
    const unconditional = raw.filter((statement) => !('Fn::If' in (statement as object))) as Statement[];
    expect(actionsOf(unconditional)).not.toContain('cloudfront:DeleteKeyGroup');
    const granting = raw.filter((statement) =>
      JSON.stringify(statement).includes('cloudfront:DeleteKeyGroup'),
    );
    expect(granting).toEqual([
      {
        'Fn::If': [
          'DeletesKeysOnDelete',
          { Effect: 'Allow', Action: 'cloudfront:DeleteKeyGroup', Resource: '*' },
          { Ref: 'AWS::NoValue' },
        ],
      },
    ]);
    // The same parameter reaches the rotator, so the permission and the behaviour switch together.
    expect(resource(template, 'Bootstrap').Properties.DeleteKeysOnDelete).toEqual({
      Ref: 'DeleteKeysOnDelete',
    });
  });

  it('declares the key ring secret with no value, retained on delete and replace', () => {
    const { template, config } = stage(name);
    const secret = resource(template, 'KeyRingSecret');
    const profile = config.profiles[config.defaultProfile ?? ''];
    expect(secret.Type).toBe('AWS::SecretsManager::Secret');
    expect(secret.DeletionPolicy).toBe('Retain');
    expect(secret.UpdateReplacePolicy).toBe('Retain');
    expect(secret.Properties.Name).toBe(profile?.keyRing.secretId);
    expect(secret.Properties).not.toHaveProperty('SecretString');
    expect(secret.Properties).not.toHaveProperty('GenerateSecretString');
    expect(secret.Properties.KmsKeyId).toEqual({
      'Fn::If': ['HasKmsKey', { Ref: 'KmsKeyArn' }, { Ref: 'AWS::NoValue' }],
    });
  });

  it('declares no key group or public key: only the rotator manages them', () => {
    const { template } = stage(name);
    const types = Object.values(template.Resources).map((r) => r.Type);
    expect(types).not.toContain('AWS::CloudFront::KeyGroup');
    expect(types).not.toContain('AWS::CloudFront::PublicKey');
    // Nor a static list of key ids anywhere a distribution trusts keys.
    expect(JSON.stringify(template)).not.toMatch(/"(TrustedSigners|KeyGroupConfig)"/);
  });

  it('bootstraps the key group through the rotator as a custom resource', () => {
    const { template, config } = stage(name);
    const bootstrap = resource(template, 'Bootstrap');
    expect(bootstrap.Type).toBe('Custom::SignetKeyGroup');
    expect(bootstrap.Properties.ServiceToken).toEqual({ 'Fn::GetAtt': ['RotatorLambdaFunction', 'Arn'] });
    expect(bootstrap.Properties.Profile).toBe(config.defaultProfile);
    expect(bootstrap.Properties.AdoptKeyGroupId).toEqual({
      'Fn::If': ['AdoptsKeyGroup', { Ref: 'AdoptKeyGroupId' }, { Ref: 'AWS::NoValue' }],
    });
    expect([bootstrap.DependsOn].flat()).toContain('KeyRingSecret');
    expect(template.Outputs.KeyGroupId?.Value).toEqual({ 'Fn::GetAtt': ['Bootstrap', 'KeyGroupId'] });
  });

  it('passes the config as inline JSON that holds secret names, never secret values', () => {
    const { template, config } = stage(name);
    for (const fn of ['ApiLambdaFunction', 'RotatorLambdaFunction']) {
      const variables = (
        resource(template, fn).Properties.Environment as { Variables: Record<string, string> }
      ).Variables;
      expect(Object.keys(variables).sort()).toEqual([
        'POWERTOOLS_LOG_LEVEL',
        'SIGNET_CONFIG',
        'SIGNET_METRICS_NAMESPACE',
      ]);
      // The stage's own namespace: two stages in one account never mix their metrics.
      expect(variables.SIGNET_METRICS_NAMESPACE).toBe(`Signet/${name}`);
      expect(variables.SIGNET_METRICS_NAMESPACE).toBe(metricsNamespace(name));
      const shipped = parseConfig(JSON.parse(variables.SIGNET_CONFIG ?? ''), fn);
      expect(shipped).toEqual(config);
      for (const value of Object.values(variables)) {
        expect(value).not.toMatch(/PRIVATE KEY|privateKey|"sha256"\s*:|AKIA[0-9A-Z]{16}/);
      }
      // Lambda caps a function's environment at 4 KB.
      expect(Buffer.byteLength(JSON.stringify(variables))).toBeLessThan(4096);
    }
  });

  it('alarms on failed rotation runs and on an active key older than rotateEvery plus grace', () => {
    const { template, config } = stage(name);
    const failed = resource(template, 'RotationFailedAlarm').Properties;
    expect(failed).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: 'RotatorLambdaFunction' } }],
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Threshold: 1,
      // "Two failed runs": one run every 5 minutes and no asynchronous retries (pinned above), so a
      // failing 5-minute period is one failed run, and two of three periods are two runs.
      Statistic: 'Sum',
      Period: 300,
      EvaluationPeriods: 3,
      DatapointsToAlarm: 2,
      TreatMissingData: 'notBreaching',
    });
    expect(String(failed.AlarmDescription)).toMatch(/two of the last three 5-minute periods/);
    const old = resource(template, 'ActiveKeyTooOldAlarm').Properties;
    const profileName = config.defaultProfile ?? '';
    const rotateEvery = config.profiles[profileName]?.rotation.rotateEvery;
    expect(old.Metrics).toEqual([
      {
        Id: 'age',
        ReturnData: false,
        MetricStat: {
          Metric: {
            Namespace: metricsNamespace(name),
            MetricName: 'ActiveKeyAgeSeconds',
            Dimensions: [
              { Name: 'service', Value: 'signet-rotator' },
              { Name: 'profile', Value: profileName },
            ],
          },
          Period: 3600,
          Stat: 'Maximum',
        },
      },
      {
        Id: 'overdue',
        Label: 'Seconds past rotateEvery',
        Expression: `age - ${rotateEvery}`,
        ReturnData: true,
      },
    ]);
    expect(old).toMatchObject({
      Threshold: 172_800,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'breaching',
    });
    // Missing data is breaching, so the alarm reads its namespace only once the bootstrap reported the
    // age there: it depends on the bootstrap, which a new namespace re-runs (an Update).
    expect([resource(template, 'ActiveKeyTooOldAlarm').DependsOn].flat()).toContain('Bootstrap');
    expect(resource(template, 'Bootstrap').Properties.MetricsNamespace).toBe(metricsNamespace(name));
    // A change of signing mode is an Update of the bootstrap, which refuses to leave signer: kms
    // without kms: retiring while the ring holds KMS keys (test/cloudformation/bootstrap-guards.test.ts).
    const signing = config.profiles[config.defaultProfile ?? '']!;
    expect(resource(template, 'Bootstrap').Properties.Signer).toBe(
      signing.kms === 'retiring' ? 'kms-retiring' : signing.signer,
    );
    for (const alarm of [failed, old]) {
      expect(alarm.AlarmActions).toEqual({
        'Fn::If': ['HasAlarmTopic', [{ Ref: 'AlarmTopicArn' }], { Ref: 'AWS::NoValue' }],
      });
    }
  });

  it('serves the API through an HTTP API with payload 2.0', () => {
    const { template } = stage(name);
    const integrations = Object.values(template.Resources).filter(
      (r) => r.Type === 'AWS::ApiGatewayV2::Integration',
    );
    expect(integrations).toHaveLength(1);
    expect(integrations[0]?.Properties).toMatchObject({
      PayloadFormatVersion: '2.0',
      IntegrationUri: { 'Fn::GetAtt': ['ApiLambdaFunction', 'Arn'] },
    });
  });

  it('throttles the API stage by default, from the stage params', () => {
    const { template } = stage(name);
    const settings = resource(template, 'HttpApiStage').Properties.DefaultRouteSettings;
    expect(settings).toEqual({
      ThrottlingRateLimit: { Ref: 'ApiThrottlingRateLimit' },
      ThrottlingBurstLimit: { Ref: 'ApiThrottlingBurstLimit' },
    });
    const [rate, burst] = name === 'prod' ? [500, 1000] : [20, 40];
    expect(template.Parameters.ApiThrottlingRateLimit).toMatchObject({ Type: 'Number', Default: rate });
    expect(template.Parameters.ApiThrottlingBurstLimit).toMatchObject({ Type: 'Number', Default: burst });
    // No route overrides the default (a route with its own settings would escape it).
    expect(resource(template, 'HttpApiStage').Properties.RouteSettings).toBeUndefined();
  });

  it('writes JSON access logs, on by default and switchable, with a retention, and never a token or signature', () => {
    const { template } = stage(name);
    expect(template.Parameters.ApiAccessLogs).toMatchObject({
      Default: 'true',
      AllowedValues: ['true', 'false'],
    });
    expect(template.Conditions.ApiAccessLogsEnabled).toEqual({
      'Fn::Equals': [{ Ref: 'ApiAccessLogs' }, 'true'],
    });
    const group = resource(template, 'ApiAccessLogGroup');
    expect(group.Condition).toBe('ApiAccessLogsEnabled');
    expect(group.Properties).toEqual({
      LogGroupName: `/aws/http-api/signet-${name}`,
      RetentionInDays: { Ref: 'ApiAccessLogRetentionInDays' },
    });
    expect(template.Parameters.ApiAccessLogRetentionInDays?.Default).toBe(name === 'prod' ? 90 : 14);
    const settings = resource(template, 'HttpApiStage').Properties.AccessLogSettings as {
      'Fn::If': [string, { DestinationArn: unknown; Format: string }, unknown];
    };
    const [condition, enabled, disabled] = settings['Fn::If'];
    expect(condition).toBe('ApiAccessLogsEnabled');
    expect(disabled).toEqual({ Ref: 'AWS::NoValue' });
    expect(enabled.DestinationArn).toEqual({ 'Fn::GetAtt': ['ApiAccessLogGroup', 'Arn'] });
    // One JSON object per request: with every variable replaced by a value, the format parses.
    const sample = JSON.parse(enabled.Format.replaceAll(/\$context\.[\w.]+/g, 'x')) as Record<string, string>;
    expect(Object.keys(sample)).toEqual(
      expect.arrayContaining([
        'requestId',
        'ip',
        'routeKey',
        'status',
        'responseLatency',
        'integrationError',
        'authorizerError',
      ]),
    );
    // Only variables that cannot carry a bearer token, an API key, a query string or a signed URL:
    // no request headers, query string, path, body or JWT claims. Adding one means saying here why it is safe.
    const variables = [...enabled.Format.matchAll(/\$context\.[\w.]+/g)].map((m) => m[0]).sort();
    expect(variables).toEqual(
      [
        '$context.requestId', // API Gateway's id
        '$context.requestTime', // when
        '$context.identity.sourceIp', // the caller's address
        '$context.identity.userAgent', // the client's User-Agent header, not a credential
        '$context.httpMethod',
        '$context.routeKey', // the matched route ("POST /v1/signed-urls"), never the raw path
        '$context.status',
        '$context.protocol',
        '$context.responseLength',
        '$context.responseLatency',
        '$context.integration.requestId', // Lambda's request id (the API's X-Request-Id)
        '$context.integrationStatus',
        '$context.integrationLatency',
        '$context.integrationErrorMessage', // Lambda's invocation error, not the response body
        '$context.authorizer.error', // why the JWT authorizer refused, not the token
        '$context.error.message', // API Gateway's own error message
        '$context.error.responseType',
      ].sort(),
    );
    for (const variable of variables) {
      expect(variable).not.toMatch(
        /header|querystring|query|path|body|claims|clientCert|authorizer\.(?!error)/i,
      );
    }
  });

  it('passes cfn-lint when the machine has it, and is a CloudFormation template either way', async () => {
    const { template, dir } = stage(name);
    expect(Object.keys(template.Resources).length).toBeGreaterThan(10);
    let hasCfnLint = true;
    try {
      execFileSync('sh', ['-c', 'command -v cfn-lint'], { stdio: 'ignore' });
    } catch {
      hasCfnLint = false;
    }
    if (!hasCfnLint) {
      console.log('cfn-lint not found on PATH: checked that the template parses and has resources only.');
      return;
    }
    // W3005: osls adds DependsOn next to a GetAtt/Ref of the same resource (redundant, harmless).
    const { stdout } = await run(
      'cfn-lint',
      ['--ignore-checks', 'W3005', '--', join(dir, 'cloudformation-template-update-stack.json')],
      { maxBuffer: 16 * 1024 * 1024 },
    ).catch((error: { stdout?: string; stderr?: string }) => {
      throw new Error(`cfn-lint found problems:\n${error.stdout ?? ''}${error.stderr ?? ''}`);
    });
    expect(stdout).toBe('');
  }, 60_000);
});

describe('a stage whose config has several profiles', () => {
  // `media` (the default) keeps the logical ids of a one-profile stack; the others carry their name.
  const PROFILES = [
    { name: 'media', suffix: '' },
    { name: 'media-docs', suffix: 'MediaDocs' },
    { name: 'downloads', suffix: 'Downloads' },
  ] as const;

  it('declares a retained key ring secret for every profile, named by its keyRing.secretId', () => {
    const { template, config } = stage('multi');
    const secrets = Object.entries(template.Resources).filter(
      ([, r]) => r.Type === 'AWS::SecretsManager::Secret',
    );
    expect(secrets.map(([id]) => id).sort()).toEqual(PROFILES.map((p) => `KeyRingSecret${p.suffix}`).sort());
    for (const { name, suffix } of PROFILES) {
      const secret = resource(template, `KeyRingSecret${suffix}`);
      expect(secret.DeletionPolicy).toBe('Retain');
      expect(secret.UpdateReplacePolicy).toBe('Retain');
      expect(secret.Properties.Name).toBe(config.profiles[name]?.keyRing.secretId);
      expect(secret.Properties).not.toHaveProperty('SecretString');
      expect(secret.Properties).not.toHaveProperty('GenerateSecretString');
      expect(secret.Properties.KmsKeyId).toEqual({
        'Fn::If': ['HasKmsKey', { Ref: 'KmsKeyArn' }, { Ref: 'AWS::NoValue' }],
      });
      expect(template.Outputs[`KeyRingSecretArn${suffix}`]?.Value).toEqual({ Ref: `KeyRingSecret${suffix}` });
    }
  });

  it('bootstraps every profile, one after another, adopting the key group a profile names', () => {
    const { template, config } = stage('multi');
    const bootstraps = Object.entries(template.Resources).filter(
      ([, r]) => r.Type === 'Custom::SignetKeyGroup',
    );
    expect(bootstraps.map(([id]) => id).sort()).toEqual(PROFILES.map((p) => `Bootstrap${p.suffix}`).sort());
    let previous: string | undefined;
    for (const { name, suffix } of PROFILES) {
      const bootstrap = resource(template, `Bootstrap${suffix}`);
      expect(bootstrap.Properties.ServiceToken).toEqual({ 'Fn::GetAtt': ['RotatorLambdaFunction', 'Arn'] });
      expect(bootstrap.Properties.Profile).toBe(name);
      expect(bootstrap.Properties.DeleteKeysOnDelete).toEqual({ Ref: 'DeleteKeysOnDelete' });
      // The rotator reserves one concurrent execution: bootstraps queue instead of being throttled.
      expect([bootstrap.DependsOn].flat()).toEqual(
        previous === undefined ? [`KeyRingSecret${suffix}`] : [`KeyRingSecret${suffix}`, previous],
      );
      previous = `Bootstrap${suffix}`;
    }
    // The default profile's adoption goes through the AdoptKeyGroupId parameter, the others' inline.
    expect(resource(template, 'Bootstrap').Properties.AdoptKeyGroupId).toEqual({
      'Fn::If': ['AdoptsKeyGroup', { Ref: 'AdoptKeyGroupId' }, { Ref: 'AWS::NoValue' }],
    });
    expect(template.Parameters.AdoptKeyGroupId?.Default).toBe('');
    expect(resource(template, 'BootstrapMediaDocs').Properties.AdoptKeyGroupId).toBe(
      config.profiles['media-docs']?.keyGroupId,
    );
    expect(resource(template, 'BootstrapDownloads').Properties).not.toHaveProperty('AdoptKeyGroupId');
  });

  it("exports every profile's key group per stage and profile, and the default's under the one-profile name", () => {
    const { template } = stage('multi');
    const outputs = template.Outputs as Record<string, { Value: unknown; Export?: { Name: string } }>;
    for (const { name, suffix } of PROFILES) {
      const output = outputs[`KeyGroupId${suffix || 'Media'}`];
      expect(output?.Value).toEqual({ 'Fn::GetAtt': [`Bootstrap${suffix}`, 'KeyGroupId'] });
      expect(output?.Export?.Name).toBe(`signet-multi-${name}-key-group-id`);
    }
    expect(outputs.KeyGroupId).toMatchObject({
      Value: { 'Fn::GetAtt': ['Bootstrap', 'KeyGroupId'] },
      Export: { Name: 'signet-multi-key-group-id' },
    });
    const exports = Object.values(outputs).flatMap((o) => (o.Export === undefined ? [] : [o.Export.Name]));
    expect(new Set(exports).size).toBe(exports.length);
  });

  it("lets the api role read exactly the profiles' key rings and the API key secret", () => {
    const { template, config } = stage('multi');
    const role = resource(template, 'ApiRole');
    expect(secretResourcesOf(role)).toEqual([
      ...PROFILES.map((p) => ({ Ref: `KeyRingSecret${p.suffix}` })),
      { 'Fn::If': ['HasApiKeysSecret', API_KEYS_SECRET_ARN, { Ref: 'AWS::NoValue' }] },
    ]);
    expect(actionsOf(statementsOf(role)).filter((a) => a.startsWith('secretsmanager:'))).toEqual([
      'secretsmanager:GetSecretValue',
    ]);
    expect(template.Parameters.ApiKeysSecretName?.Default).toBe(config.auth.apiKeys?.secretId);
  });

  it("lets the rotator role use Secrets Manager on exactly the profiles' key rings", () => {
    const { template } = stage('multi');
    const role = resource(template, 'RotatorRole');
    expect(secretResourcesOf(role)).toEqual(PROFILES.map((p) => ({ Ref: `KeyRingSecret${p.suffix}` })));
    expect(actionsOf(statementsOf(role)).filter((a) => a.startsWith('secretsmanager:'))).toEqual(
      commandsSentBy('lib/aws/secrets-manager-key-ring-store.ts', 'secretsmanager'),
    );
  });

  it("alarms on each profile's active key age against that profile's rotateEvery", () => {
    const { template, config } = stage('multi');
    const alarms = Object.entries(template.Resources).filter(([id]) => id.startsWith('ActiveKeyTooOldAlarm'));
    expect(alarms.map(([id]) => id).sort()).toEqual(
      PROFILES.map((p) => `ActiveKeyTooOldAlarm${p.suffix}`).sort(),
    );
    for (const { name, suffix } of PROFILES) {
      const alarm = resource(template, `ActiveKeyTooOldAlarm${suffix}`).Properties;
      const metrics = alarm.Metrics as {
        MetricStat?: { Metric: { Dimensions: unknown[] } };
        Expression?: string;
      }[];
      expect(metrics[0]?.MetricStat?.Metric.Dimensions).toEqual([
        { Name: 'service', Value: 'signet-rotator' },
        { Name: 'profile', Value: name },
      ]);
      expect(metrics[1]?.Expression).toBe(`age - ${config.profiles[name]?.rotation.rotateEvery}`);
      expect(alarm).toMatchObject({ Threshold: 172_800, TreatMissingData: 'breaching' });
    }
    // One rotator for all profiles: one failure alarm.
    expect(resource(template, 'RotationFailedAlarm').Type).toBe('AWS::CloudWatch::Alarm');
  });

  it('alarms once per broken invariant of each profile, on the metric the rotator counts once per incident', () => {
    const { template } = stage('multi');
    const alarms = Object.keys(template.Resources).filter((id) =>
      id.startsWith('RotationInvariantViolatedAlarm'),
    );
    expect(alarms.sort()).toEqual(PROFILES.map((p) => `RotationInvariantViolatedAlarm${p.suffix}`).sort());
    for (const { name, suffix } of PROFILES) {
      expect(resource(template, `RotationInvariantViolatedAlarm${suffix}`).Properties).toMatchObject({
        // The name, namespace and dimensions lib/rotation/rotator.ts emits through PowertoolsMetrics
        // (service from functions/rotator.ts, profile from the run): errors only, no `code`.
        Namespace: metricsNamespace('multi'),
        MetricName: 'RotationInvariantErrors',
        Dimensions: [
          { Name: 'service', Value: 'signet-rotator' },
          { Name: 'profile', Value: name },
        ],
        Statistic: 'Sum',
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
        AlarmActions: { 'Fn::If': ['HasAlarmTopic', [{ Ref: 'AlarmTopicArn' }], { Ref: 'AWS::NoValue' }] },
      });
    }
    const emitted = readFileSync(join(ROOT, 'lib/rotation/rotator.ts'), 'utf8');
    expect(emitted).toContain("metrics.count('RotationInvariantErrors', incidents.fresh.length, dimensions)");
    expect(readFileSync(join(ROOT, 'functions/rotator.ts'), 'utf8')).toContain(
      "serviceName: 'signet-rotator'",
    );
  });

  it('passes cfn-lint when the machine has it', async () => {
    const { dir } = stage('multi');
    try {
      execFileSync('sh', ['-c', 'command -v cfn-lint'], { stdio: 'ignore' });
    } catch {
      return;
    }
    const { stdout } = await run(
      'cfn-lint',
      ['--ignore-checks', 'W3005', '--', join(dir, 'cloudformation-template-update-stack.json')],
      { maxBuffer: 16 * 1024 * 1024 },
    ).catch((error: { stdout?: string; stderr?: string }) => {
      throw new Error(`cfn-lint found problems:\n${error.stdout ?? ''}${error.stderr ?? ''}`);
    });
    expect(stdout).toBe('');
  }, 60_000);
});

describe('stage differences', () => {
  it('puts the JWT authorizer in front of the signing routes in prod, not in front of preflight or docs', () => {
    const { template, config } = stage('prod');
    const authorizer = resource(template, 'HttpApiAuthorizerSignetJwt').Properties;
    expect(authorizer).toMatchObject({
      AuthorizerType: 'JWT',
      IdentitySource: ['$request.header.Authorization'],
      JwtConfiguration: { Issuer: config.auth.jwt?.issuer, Audience: [config.auth.jwt?.audience].flat() },
    });
    const routes = Object.values(template.Resources).filter((r) => r.Type === 'AWS::ApiGatewayV2::Route');
    const byKey = new Map(routes.map((r) => [r.Properties.RouteKey as string, r.Properties]));
    expect([...byKey.keys()].sort()).toEqual([
      'GET /openapi.json',
      'GET /v1/health',
      'OPTIONS /v1/signed-cookies',
      'OPTIONS /v1/signed-urls',
      'POST /v1/signed-cookies',
      'POST /v1/signed-urls',
    ]);
    for (const [key, props] of byKey) {
      expect(props.AuthorizationType, key).toBe(key.startsWith('POST ') ? 'JWT' : undefined);
    }
    expect(config.auth.trustGatewayClaims).toBe(true);
  });

  it('leaves authentication to the API in dev', () => {
    const { template } = stage('dev');
    expect(
      Object.values(template.Resources).filter((r) => r.Type === 'AWS::ApiGatewayV2::Authorizer'),
    ).toEqual([]);
  });

  it('deploys the demo distribution in dev only, trusting the bootstrapped key group through OAC', () => {
    expect(stage('prod').template.Parameters.DeployDemoDistribution?.Default).toBe('false');
    const { template } = stage('dev');
    expect(template.Parameters.DeployDemoDistribution?.Default).toBe('true');
    const distribution = resource(template, 'DemoDistribution');
    expect(distribution.Condition).toBe('DemoDistributionEnabled');
    const config = distribution.Properties.DistributionConfig as {
      Origins: { OriginAccessControlId: unknown; S3OriginConfig: unknown }[];
      DefaultCacheBehavior: { TrustedKeyGroups: unknown[]; ViewerProtocolPolicy: string };
    };
    expect(config.DefaultCacheBehavior.TrustedKeyGroups).toEqual([
      { 'Fn::GetAtt': ['Bootstrap', 'KeyGroupId'] },
    ]);
    expect(config.DefaultCacheBehavior.ViewerProtocolPolicy).toBe('redirect-to-https');
    // CORS for the default profile's browser origins (issue 14): exact origins with credentials,
    // the distribution's answer overriding the origin's, on every behaviour, OPTIONS allowed.
    const cors = resource(template, 'DemoResponseHeadersPolicy');
    expect(cors.Condition).toBe('DemoCorsEnabled');
    expect(template.Conditions.DemoCorsEnabled).toEqual({
      'Fn::And': [
        { Condition: 'DemoDistributionEnabled' },
        { 'Fn::Not': [{ 'Fn::Equals': [{ 'Fn::Join': ['', { Ref: 'DemoCorsOrigins' }] }, ''] }] },
      ],
    });
    expect(template.Parameters.DemoCorsOrigins?.Default).toBe('https://app.dev.example.com');
    expect(stage('prod').template.Parameters.DemoCorsOrigins?.Default).toBe(
      stage('prod').config.profiles.media!.cors.origins.join(','),
    );
    const corsConfig = (
      cors.Properties.ResponseHeadersPolicyConfig as { CorsConfig: Record<string, unknown> }
    ).CorsConfig;
    expect(corsConfig).toEqual({
      AccessControlAllowOrigins: { Items: { Ref: 'DemoCorsOrigins' } },
      AccessControlAllowCredentials: true,
      AccessControlAllowMethods: { Items: ['GET', 'HEAD', 'OPTIONS'] },
      AccessControlAllowHeaders: { Items: ['Range', 'If-None-Match', 'If-Modified-Since', 'If-Range'] },
      AccessControlExposeHeaders: { Items: ['Content-Range', 'Accept-Ranges', 'ETag'] },
      AccessControlMaxAgeSec: 600,
      OriginOverride: true,
    });
    expect(stage('dev').config.profiles.media!.cors.origins).toEqual(['https://app.dev.example.com']);
    const behaviours = [
      config.DefaultCacheBehavior,
      ...((config as unknown as { CacheBehaviors: unknown[] })
        .CacheBehaviors as (typeof config.DefaultCacheBehavior)[]),
    ] as unknown as { ResponseHeadersPolicyId: unknown; AllowedMethods: string[] }[];
    for (const behaviour of behaviours) {
      expect(behaviour.ResponseHeadersPolicyId).toEqual({
        'Fn::If': ['DemoCorsEnabled', { Ref: 'DemoResponseHeadersPolicy' }, { Ref: 'AWS::NoValue' }],
      });
      expect(behaviour.AllowedMethods).toEqual(['GET', 'HEAD', 'OPTIONS']);
    }
    expect(config.Origins[0]?.OriginAccessControlId).toEqual({
      'Fn::GetAtt': ['DemoOriginAccessControl', 'Id'],
    });
    const bucket = resource(template, 'DemoBucket').Properties;
    expect(bucket.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    const policy = resource(template, 'DemoBucketPolicy').Properties.PolicyDocument as {
      Statement: Statement[];
    };
    expect(policy.Statement).toEqual([
      expect.objectContaining({
        Effect: 'Allow',
        Principal: { Service: 'cloudfront.amazonaws.com' },
        Action: 's3:GetObject',
        Condition: {
          StringEquals: {
            'AWS:SourceArn': {
              'Fn::Sub':
                // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub placeholders
                'arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/${DemoDistribution}',
            },
          },
        },
      }),
    ]);
  });
});

describe('the bundles', () => {
  function unpack(name: 'api' | 'rotator'): string {
    const target = mkdtempSync(join(outDir, `${name}-`));
    execFileSync('unzip', ['-q', join(stage('dev').dir, `${name}.zip`), '-d', target]);
    return target;
  }

  function environment(fn: string): Record<string, string> {
    const variables = (
      resource(stage('dev').template, fn).Properties.Environment as { Variables: Record<string, string> }
    ).Variables;
    return {
      PATH: process.env.PATH ?? '',
      ...variables,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'offline',
      AWS_SECRET_ACCESS_KEY: 'offline',
    };
  }

  it('ships the API as one minified ESM file, with the size on record', () => {
    const dir = unpack('api');
    const listing = execFileSync('unzip', ['-Z1', join(stage('dev').dir, 'api.zip')], { encoding: 'utf8' });
    expect(listing.trim().split('\n')).toEqual(['functions/api.mjs']);
    const bytes = statSync(join(dir, 'functions/api.mjs')).size;
    const zipped = statSync(join(stage('dev').dir, 'api.zip')).size;
    console.log(`API bundle: ${(bytes / 1024).toFixed(0)} KB (${(zipped / 1024).toFixed(0)} KB zipped)`);
    // The bundle budget is under 400 KB; the pinned AWS SDK alone is ~270 KB of this one (docs/operators.md,
    // "Bundle size"). This bound catches a regression, such as a dependency pulled in whole.
    expect(bytes).toBeLessThan(600 * 1024);
  });

  it('starts the API bundle as Lambda would and answers a payload 2.0 request', async () => {
    const dir = unpack('api');
    const script = `
      const { handler } = await import(${JSON.stringify(join(dir, 'functions/api.mjs'))});
      const event = { version: '2.0', routeKey: '$default', rawPath: '/openapi.json', rawQueryString: '',
        headers: { host: 'abc.execute-api.us-east-1.amazonaws.com' }, isBase64Encoded: false,
        requestContext: { accountId: '123456789012', apiId: 'abc', domainName: 'abc.execute-api.us-east-1.amazonaws.com',
          domainPrefix: 'abc', http: { method: 'GET', path: '/openapi.json', protocol: 'HTTP/1.1', sourceIp: '198.51.100.7',
          userAgent: 'test' }, requestId: 'r1', routeKey: '$default', stage: '$default', time: '', timeEpoch: Date.now() } };
      const context = { functionName: 'signet-dev-api', awsRequestId: 'a1', getRemainingTimeInMillis: () => 10000 };
      const response = await handler(event, context);
      process.stdout.write('\\n' + JSON.stringify({ statusCode: response.statusCode, openapi: JSON.parse(response.body).openapi }));
    `;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
      cwd: dir,
      env: environment('ApiLambdaFunction'),
    });
    // Lambda's stdout is the function's log: before the answer, the init phase's own lines (its
    // warm-up cannot reach AWS here, so it logs that and counts a KeyRingRefreshFailures metric in
    // EMF). Each is one JSON document, as CloudWatch Logs and the log queries expect.
    const lines = stdout.split('\n').filter((line) => line.trim() !== '');
    for (const line of lines) expect(() => JSON.parse(line), line).not.toThrow();
    expect(JSON.parse(lines.at(-1) ?? '')).toEqual({
      statusCode: 200,
      openapi: expect.stringMatching(/^3\.1/),
    });
  }, 30_000);

  it('loads the rotator bundle as Lambda would', async () => {
    const dir = unpack('rotator');
    const script = `
      const module = await import(${JSON.stringify(join(dir, 'functions/rotator.mjs'))});
      process.stdout.write(typeof module.handler);
    `;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
      cwd: dir,
      env: environment('RotatorLambdaFunction'),
    });
    expect(stdout).toBe('function');
  }, 30_000);
});

describe('KMS signing (signer: kms)', () => {
  const KEY_ARNS =
    // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub placeholders
    { 'Fn::Sub': 'arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/*' };
  const kmsStatements = (role: Resource) =>
    (role.Properties.Policies as { PolicyDocument: { Statement: unknown[] } }[])
      .flatMap((policy) => policy.PolicyDocument.Statement)
      .map((entry) => (entry as { 'Fn::If'?: [string, Statement, unknown] })['Fn::If'])
      .filter(
        (conditional): conditional is [string, Statement, unknown] =>
          conditional?.[0] === 'SignsWithKms' || conditional?.[0] === 'CreatesKmsKeys',
      );
  /** The rings of the multi stage that may hold KMS keys: media-docs (kms: retiring), downloads (signer: kms). */
  const KMS_RINGS = ['signet/multi/media-docs/key-ring', 'signet/multi/downloads/key-ring'];

  it('is on only in a stage with a signer: kms or kms: retiring profile, and then names exactly those rings', () => {
    for (const [name, on] of [
      ['dev', 'false'],
      ['prod', 'false'],
      ['multi', 'true'],
    ] as const) {
      const { template } = stage(name);
      expect(template.Conditions.SignsWithKms).toEqual({ 'Fn::Equals': [{ Ref: 'KmsSigning' }, 'true'] });
      expect(template.Conditions.CreatesKmsKeys).toEqual({
        'Fn::And': [{ Condition: 'SignsWithKms' }, { 'Fn::Equals': [{ Ref: 'KmsCreatesKeys' }, 'true'] }],
      });
      expect(template.Parameters.KmsSigning).toMatchObject({ Default: on, AllowedValues: ['true', 'false'] });
      expect(template.Parameters.KmsCreatesKeys).toMatchObject({
        Default: on,
        AllowedValues: ['true', 'false'],
      });
    }
    for (const conditional of [
      ...kmsStatements(resource(stage('multi').template, 'ApiRole')),
      ...kmsStatements(resource(stage('multi').template, 'RotatorRole')),
    ]) {
      expect(conditional[2]).toEqual({ Ref: 'AWS::NoValue' });
      const text = JSON.stringify(conditional[1].Condition ?? {});
      if ([conditional[1].Action].flat().includes('kms:ListKeys')) continue;
      // Every other KMS statement is bound to the tag of the downloads profile's ring; all but
      // CreateKey also to the retiring media-docs ring's (to sign and delete, never to create).
      expect(text).toContain('"signet/multi/downloads/key-ring"');
      expect(text).not.toContain('signet/multi/media/key-ring');
      const creates = [conditional[1].Action]
        .flat()
        .some((action) => action === 'kms:CreateKey' || action === 'kms:TagResource');
      expect(conditional[0]).toBe(creates ? 'CreatesKmsKeys' : 'SignsWithKms');
      if (creates) expect(text).not.toContain('media-docs');
      else expect(text).toContain('"signet/multi/media-docs/key-ring"');
    }
  });

  it('lets the api role only Sign digests, with the algorithms CloudFront verifies, on keys tagged for its rings', () => {
    const statements = kmsStatements(resource(stage('multi').template, 'ApiRole'));
    expect(statements.map(([, statement]) => statement)).toEqual([
      {
        Effect: 'Allow',
        Action: 'kms:Sign',
        Resource: KEY_ARNS,
        Condition: {
          StringEquals: {
            'aws:ResourceTag/signet:key-ring': KMS_RINGS,
            'kms:MessageType': 'DIGEST',
            'kms:SigningAlgorithm': ['RSASSA_PKCS1_V1_5_SHA_256', 'ECDSA_SHA_256'],
          },
        },
      },
    ]);
  });

  it('lets the rotator create only tagged CloudFront-spec signing keys, act only on tagged keys, and delete only with the 30-day wait', () => {
    const statements = kmsStatements(resource(stage('multi').template, 'RotatorRole')).map(([, s]) => s);
    expect(actionsOf(statements)).toEqual(KMS_ROTATOR_ACTIONS);
    expect(actionsOf(statements)).not.toContain('kms:DisableKey');
    const create = statements.find((s) => [s.Action].flat().includes('kms:CreateKey'))!;
    expect(create.Resource).toBe('*');
    expect(create.Condition).toEqual({
      StringEquals: { 'aws:RequestTag/signet:key-ring': ['signet/multi/downloads/key-ring'] },
      'ForAllValues:StringEquals': { 'aws:TagKeys': ['signet:key-ring', 'signet:profile', 'signet:stage'] },
      StringEqualsIfExists: {
        'kms:KeySpec': ['RSA_2048', 'ECC_NIST_P256'],
        'kms:KeyUsage': 'SIGN_VERIFY',
        'kms:KeyOrigin': 'AWS_KMS',
      },
    });
    // Tagging at creation needs kms:TagResource on every key of the account and Region (AWS's KMS
    // guide, "Controlling access to tags"): key/* of this account and Region, never '*', and only
    // with the request tags CreateKey may carry.
    const tagging = statements.find((s) => [s.Action].flat().includes('kms:TagResource'))!;
    expect(tagging.Action).toBe('kms:TagResource');
    expect(tagging.Resource).toEqual(KEY_ARNS);
    expect(tagging.Condition).toEqual({
      StringEquals: { 'aws:RequestTag/signet:key-ring': ['signet/multi/downloads/key-ring'] },
      'ForAllValues:StringEquals': { 'aws:TagKeys': ['signet:key-ring', 'signet:profile', 'signet:stage'] },
    });
    expect(create.Action).toBe('kms:CreateKey');
    const deletion = statements.find((s) => s.Action === 'kms:ScheduleKeyDeletion')!;
    expect(deletion.Resource).toEqual(KEY_ARNS);
    expect(deletion.Condition).toMatchObject({
      NumericGreaterThanEquals: { 'kms:ScheduleKeyDeletionPendingWindowInDays': 30 },
    });
    for (const statement of statements) {
      const actions = [statement.Action].flat();
      if (actions.includes('kms:ListKeys')) expect(statement.Resource).toBe('*');
      else if (!actions.includes('kms:CreateKey') && !actions.includes('kms:TagResource')) {
        expect(statement.Resource).toEqual(KEY_ARNS);
        expect(statement.Condition).toMatchObject({
          StringEquals: { 'aws:ResourceTag/signet:key-ring': KMS_RINGS },
        });
      }
    }
  });
});

describe('the KMS client in the API bundle (signer: kms only)', () => {
  const apiBundleText = (name: StageName, file: string) =>
    execFileSync('unzip', ['-p', join(stage(name).dir, 'api.zip'), file], {
      maxBuffer: 64 * 1024 * 1024,
    }).toString('utf8');

  it('deploys functions/api-kms.handler, whose bundle signs through KMS, only for a config with a signer: kms (or kms: retiring) profile', () => {
    const handlerOf = (name: StageName) =>
      resource(stage(name).template, 'ApiLambdaFunction').Properties.Handler;
    expect(handlerOf('dev')).toBe('functions/api.handler');
    expect(handlerOf('prod')).toBe('functions/api.handler');
    expect(handlerOf('multi')).toBe('functions/api-kms.handler');
    // The KMS client's protocol target is in the kms bundle and nowhere in a Secrets Manager-only one.
    expect(apiBundleText('multi', 'functions/api-kms.mjs')).toContain('TrentService');
    expect(apiBundleText('dev', 'functions/api.mjs')).not.toContain('TrentService');
  });
});
