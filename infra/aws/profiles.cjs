// The per-profile part of the stack, built for EVERY profile of the stage's config: each profile's
// key ring secret, the bootstrap that gives it a key group, its alarms (key age, broken invariant,
// stale key ring, failing canary), and its outputs; and the account quota alarm, whose margin
// depends on how many profiles the stage has. Each alarm's runbook: docs/operators.md, "Alarms and runbooks".
// signet-config.cjs calls this; serverless.yml includes the result in `resources:` and the IAM roles
// (infra/aws/iam.yml) name the secrets it declares.
//
// Written in JavaScript rather than YAML because CloudFormation has no loop over a list of profiles.
//
// Logical ids: the config's defaultProfile keeps the ids a one-profile stack had (`KeyRingSecret`,
// `Bootstrap`, `ActiveKeyTooOldAlarm`, outputs `KeyGroupId` and `KeyRingSecretArn`), so a stack
// deployed before it gained more profiles neither replaces its retained secret (a replacement would
// orphan it) nor bootstraps again; the demo distribution trusts `Bootstrap.KeyGroupId`. Every other
// profile's ids carry its name in PascalCase (`media-docs` → `KeyRingSecretMediaDocs`,
// `BootstrapMediaDocs`, …). So changing defaultProfile on a deployed stack moves logical ids between
// profiles: CloudFormation then tries to create a secret whose name is taken and rolls back.
'use strict';

/** `media-docs` → `MediaDocs` (profile names are `[a-z0-9][a-z0-9-]*`). */
function pascalCase(name) {
  return name
    .split('-')
    .filter((part) => part !== '')
    .map((part) => part[0].toUpperCase() + part.slice(1))
    .join('');
}

/**
 * @param {object} options
 * @param {string} options.file the config file, for messages
 * @param {{ defaultProfile?: string, profiles: Record<string, any> }} options.config parsed config
 * @param {string} options.defaultProfile the profile that keeps the unsuffixed logical ids
 * @param {string} options.stage the serverless stage
 * @param {number} options.graceSeconds activeKeyAgeGraceSeconds
 * @param {string} options.metricsNamespace the stage's CloudWatch namespace, `Signet/<stage>` (lib/telemetry/catalogue.ts)
 */
function buildProfiles({ file, config, defaultProfile, stage, graceSeconds, metricsNamespace }) {
  if (typeof metricsNamespace !== 'string' || !metricsNamespace.startsWith('Signet')) {
    throw new Error(
      `Expected the stage's metrics namespace (Signet/<stage>); got ${JSON.stringify(metricsNamespace)}.`,
    );
  }
  // The default profile first: it keeps the original ids, and the others' bootstraps queue behind it.
  const names = [defaultProfile, ...Object.keys(config.profiles).filter((n) => n !== defaultProfile)];
  const suffixes = new Map();
  const secretNames = new Map();
  for (const name of names) {
    const clash = [...suffixes].find(([other]) => pascalCase(other) === pascalCase(name));
    if (clash !== undefined) {
      throw new Error(
        `Expected profile names in ${file} that differ in more than dashes: ${clash[0]} and ${name} would share CloudFormation logical ids.`,
      );
    }
    suffixes.set(name, name === defaultProfile ? '' : pascalCase(name));
    const secretName = config.profiles[name].keyRing.secretId;
    if (secretName.startsWith('arn:')) {
      throw new Error(
        `Expected profiles.${name}.keyRing.secretId in ${file} to be a secret name: the stack creates the secret under that name; got an ARN.`,
      );
    }
    const sharing = [...secretNames].find(([, other]) => other === secretName);
    if (sharing !== undefined) {
      throw new Error(
        `Expected each profile in ${file} to have its own keyRing.secretId: ${sharing[0]} and ${name} both name ${secretName}.`,
      );
    }
    secretNames.set(name, secretName);
  }

  const Resources = {};
  const Outputs = {};
  const secretRefs = [];
  let previousBootstrap;
  for (const name of names) {
    const settings = config.profiles[name];
    const suffix = suffixes.get(name);
    const secretId = `KeyRingSecret${suffix}`;
    const bootstrapId = `Bootstrap${suffix}`;
    const rotateEvery = settings.rotation.rotateEvery;
    secretRefs.push({ Ref: secretId });

    // The key ring (docs/design.md, "The key ring document"). Declared with no value on purpose: only the rotator writes it (the
    // bootstrap included), so no deploy, update or rollback can ever reset a ring to a template's
    // idea of it. Retained on stack deletion and replacement: deleting it would orphan the public
    // keys that live URLs and cookies were signed with. The same for a profile removed from the config.
    Resources[secretId] = {
      Type: 'AWS::SecretsManager::Secret',
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        Name: secretNames.get(name),
        Description: `Signet key ring of profile ${name} (${stage}); written only by the rotator`,
        KmsKeyId: { 'Fn::If': ['HasKmsKey', { Ref: 'KmsKeyArn' }, { Ref: 'AWS::NoValue' }] },
        Tags: [
          { Key: 'signet:profile', Value: name },
          { Key: 'signet:stage', Value: stage },
        ],
      },
    };

    // Bootstrap (docs/design.md, "Rotation"): the rotator, invoked as a custom resource, creates the first key, the
    // key group and the ring on Create, or adopts the existing key group named by the profile's
    // keyGroupId; it answers the key group id as `KeyGroupId`. Update moves the ring to a changed key
    // group only when no link can break, else answers FAILED (docs/operators.md, "Changing the key
    // group"); Delete leaves keys
    // in place unless DeleteKeysOnDelete is "true" (then it deletes the key group Signet created and
    // Signet's public keys). The key group is never declared with static items: a later deploy would
    // reset it to them and every rotated key would 403.
    Resources[bootstrapId] = {
      Type: 'Custom::SignetKeyGroup',
      // The rotator writes the ring, so the secret must exist before it runs. Bootstraps run one
      // after another: the rotator reserves one concurrent execution.
      DependsOn: previousBootstrap === undefined ? [secretId] : [secretId, previousBootstrap],
      Properties: {
        ServiceToken: { 'Fn::GetAtt': ['RotatorLambdaFunction', 'Arn'] },
        // A bootstrap that never answers fails the deploy after this, not after CloudFormation's hour.
        ServiceTimeout: 300,
        Profile: name,
        // The profile's keyGroupId, when it adopts an existing key group. Passed (not only read from
        // the config by the rotator) so that changing it sends an Update, which moves the ring. The
        // default profile's goes through the AdoptKeyGroupId parameter (infra/aws/parameters.yml).
        ...(name === defaultProfile
          ? {
              AdoptKeyGroupId: {
                'Fn::If': ['AdoptsKeyGroup', { Ref: 'AdoptKeyGroupId' }, { Ref: 'AWS::NoValue' }],
              },
            }
          : settings.keyGroupId === undefined
            ? {}
            : { AdoptKeyGroupId: settings.keyGroupId }),
        // "true" or "false". CloudFormation sends Delete with the last deployed properties, so opting
        // in (or out) is a deploy before the stack's removal; the rotator role can only delete a key
        // group while this is "true" (infra/aws/iam.yml).
        DeleteKeysOnDelete: { Ref: 'DeleteKeysOnDelete' },
        // Not read by the rotator: a new namespace (a new stage, or the move to Signet/<stage>) sends
        // an Update, whose run reports the key's age in that namespace before ActiveKeyTooOldAlarm,
        // which depends on this resource, starts reading it there.
        MetricsNamespace: metricsNamespace,
        // Not read by the rotator either: switching a profile's signer sends an Update, which refuses
        // (FAILED, so the deploy rolls back) to leave signer: kms without kms: retiring while the ring
        // still signs with KMS keys (lib/rotation/bootstrap.ts, docs/operators.md "KMS signing").
        Signer: settings.kms === 'retiring' ? 'kms-retiring' : (settings.signer ?? 'secrets-manager'),
      },
    };
    previousBootstrap = bootstrapId;

    // The active key should be replaced every rotateEvery; older than that plus a grace period means
    // rotation is stuck (blocked by a quota, failing, or not running). ActiveKeyAgeSeconds is the
    // gauge the rotator emits each run (lib/rotation/telemetry.ts) as EMF with the dimensions service
    // and profile. Missing data counts as breaching: a rotator that stopped reporting is stuck too.
    // Created (or moved to a new namespace) only after the bootstrap has run and reported the age in
    // that namespace, so that a new stage does not start in ALARM for want of data. UNCONFIRMED how
    // long CloudWatch takes to turn that EMF line into a datapoint (seconds, as observed elsewhere); a
    // first evaluation before it lands would show ALARM until the next rotator run.
    Resources[`ActiveKeyTooOldAlarm${suffix}`] = {
      Type: 'AWS::CloudWatch::Alarm',
      DependsOn: [bootstrapId],
      Properties: {
        AlarmDescription:
          `Signet ${stage}: the active signing key of profile ${name} is older than rotateEvery ` +
          `(${rotateEvery} s) plus ${graceSeconds} s, or the rotator stopped reporting its age. ` +
          'Run `signet keys` and `signet doctor`. Runbook: docs/operators.md#activekeytoooldalarm',
        Metrics: [
          {
            Id: 'age',
            ReturnData: false,
            MetricStat: {
              Metric: {
                Namespace: metricsNamespace,
                MetricName: 'ActiveKeyAgeSeconds',
                Dimensions: [
                  { Name: 'service', Value: 'signet-rotator' },
                  { Name: 'profile', Value: name },
                ],
              },
              Period: 3600,
              Stat: 'Maximum',
            },
          },
          // rotateEvery comes from the config file (parsed to seconds at package time), so the
          // threshold follows the config instead of being a second copy of it.
          {
            Id: 'overdue',
            Label: 'Seconds past rotateEvery',
            Expression: `age - ${rotateEvery}`,
            ReturnData: true,
          },
        ],
        EvaluationPeriods: 1,
        Threshold: graceSeconds,
        ComparisonOperator: 'GreaterThanThreshold',
        TreatMissingData: 'breaching',
        AlarmActions: { 'Fn::If': ['HasAlarmTopic', [{ Ref: 'AlarmTopicArn' }], { Ref: 'AWS::NoValue' }] },
        OKActions: { 'Fn::If': ['HasAlarmTopic', [{ Ref: 'AlarmTopicArn' }], { Ref: 'AWS::NoValue' }] },
      },
    };

    // A broken rotation invariant of error severity (a key out of the group while URLs it signed
    // are valid, an active key CloudFront does not trust, ...): RotationInvariantErrors is counted
    // once per incident, by the run that first sees it (the ring remembers it, lib/rotation/rotator.ts),
    // with the dimensions service and profile only, so one alarm covers every code and fires once
    // per incident rather than on every later run. Details: the rotator's log and `signet doctor`.
    Resources[`RotationInvariantViolatedAlarm${suffix}`] = {
      Type: 'AWS::CloudWatch::Alarm',
      Properties: {
        AlarmDescription:
          `Signet ${stage}: a rotation invariant of profile ${name} is broken (for example a key left ` +
          'the key group while URLs it signed are still valid): callers may be getting 403s. Run ' +
          '`signet doctor` for the finding and its remedy; the rotator log line "rotation invariant violated" names the code. ' +
          'Runbook: docs/operators.md#rotationinvariantviolatedalarm',
        Namespace: metricsNamespace,
        MetricName: 'RotationInvariantErrors',
        Dimensions: [
          { Name: 'service', Value: 'signet-rotator' },
          { Name: 'profile', Value: name },
        ],
        Statistic: 'Sum',
        Period: 300,
        EvaluationPeriods: 1,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
        AlarmActions: { 'Fn::If': ['HasAlarmTopic', [{ Ref: 'AlarmTopicArn' }], { Ref: 'AWS::NoValue' }] },
        OKActions: { 'Fn::If': ['HasAlarmTopic', [{ Ref: 'AlarmTopicArn' }], { Ref: 'AWS::NoValue' }] },
      },
    };

    // The API has signed with a cached ring it could not refresh for 15 minutes (three periods in a
    // row with stale serves): Secrets Manager unreachable or access lost. It keeps signing until
    // cache.maxStale, then answers 503 (KeysUnavailableAlarm). KeyRingStaleServes is counted by the
    // API with the dimensions service and profile (lib/telemetry/catalogue.ts).
    Resources[`KeyRingStaleAlarm${suffix}`] = {
      Type: 'AWS::CloudWatch::Alarm',
      Properties: {
        AlarmDescription:
          `Signet ${stage}: the API has served profile ${name}'s key ring stale for 15 minutes: it cannot ` +
          `refresh it from Secrets Manager, and will answer 503 once the ring is older than cache.maxStale ` +
          `(${settings.cache.maxStale} s). Runbook: docs/operators.md#keyringstalealarm`,
        Namespace: metricsNamespace,
        MetricName: 'KeyRingStaleServes',
        Dimensions: [
          { Name: 'service', Value: 'signet-api' },
          { Name: 'profile', Value: name },
        ],
        Statistic: 'Sum',
        Period: 300,
        EvaluationPeriods: 3,
        DatapointsToAlarm: 3,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
        AlarmActions: { 'Fn::If': ['HasAlarmTopic', [{ Ref: 'AlarmTopicArn' }], { Ref: 'AWS::NoValue' }] },
        OKActions: { 'Fn::If': ['HasAlarmTopic', [{ Ref: 'AlarmTopicArn' }], { Ref: 'AWS::NoValue' }] },
      },
    };

    // Only profiles whose keys may be in KMS (signer: kms, or kms: retiring): a request answered 503
    // because KMS signing failed, whatever the reason (throttled, disabled, denied, unavailable,
    // mismatch: KMS_SIGN_FAILURE_REASONS of lib/telemetry/catalogue.ts), summed. One in a period is
    // enough: each is a caller refused, and a disabled key refuses every request until fixed.
    if (settings.signer === 'kms' || settings.kms === 'retiring') {
      const reasons = ['throttled', 'disabled', 'denied', 'unavailable', 'mismatch'];
      Resources[`KmsSigningFailedAlarm${suffix}`] = {
        Type: 'AWS::CloudWatch::Alarm',
        Properties: {
          AlarmDescription:
            `Signet ${stage}: KMS signing failed for profile ${name}: the API answered 503 because KMS ` +
            'throttled Sign (the account quota), the key is disabled or pending deletion, access was denied, ' +
            "or the key is not the ring's. Runbook: docs/operators.md#kmssigningfailedalarm",
          Metrics: [
            ...reasons.map((reason) => ({
              Id: reason,
              ReturnData: false,
              MetricStat: {
                Metric: {
                  Namespace: metricsNamespace,
                  MetricName: 'KmsSignFailures',
                  Dimensions: [
                    { Name: 'service', Value: 'signet-api' },
                    { Name: 'profile', Value: name },
                    { Name: 'reason', Value: reason },
                  ],
                },
                Period: 300,
                Stat: 'Sum',
              },
            })),
            {
              Id: 'failed',
              Label: `KMS signing failures of ${name}`,
              Expression: `SUM([${reasons.join(', ')}])`,
              ReturnData: true,
            },
          ],
          EvaluationPeriods: 1,
          Threshold: 1,
          ComparisonOperator: 'GreaterThanOrEqualToThreshold',
          TreatMissingData: 'notBreaching',
          AlarmActions: { 'Fn::If': ['HasAlarmTopic', [{ Ref: 'AlarmTopicArn' }], { Ref: 'AWS::NoValue' }] },
          OKActions: { 'Fn::If': ['HasAlarmTopic', [{ Ref: 'AlarmTopicArn' }], { Ref: 'AWS::NoValue' }] },
        },
      };
    }

    // Only profiles with a canary fetch one. A failed canary holds the activation (the pending key
    // stays pending, the active key keeps signing), so this fires well before the key age alarm:
    // two failed checks within three schedule periods, as RotationFailedAlarm.
    if (settings.rotation.canary !== undefined) {
      Resources[`CanaryFailingAlarm${suffix}`] = {
        Type: 'AWS::CloudWatch::Alarm',
        Properties: {
          AlarmDescription:
            `Signet ${stage}: the canary of profile ${name} keeps failing: ${settings.rotation.canary.url} ` +
            'signed with the pending key did not answer 200, so the rotation is held before activation. ' +
            'Runbook: docs/operators.md#canaryfailingalarm',
          Namespace: metricsNamespace,
          MetricName: 'RotationCanaryFailures',
          Dimensions: [
            { Name: 'service', Value: 'signet-rotator' },
            { Name: 'profile', Value: name },
          ],
          Statistic: 'Sum',
          Period: 300,
          EvaluationPeriods: 3,
          DatapointsToAlarm: 2,
          Threshold: 1,
          ComparisonOperator: 'GreaterThanOrEqualToThreshold',
          TreatMissingData: 'notBreaching',
          AlarmActions: { 'Fn::If': ['HasAlarmTopic', [{ Ref: 'AlarmTopicArn' }], { Ref: 'AWS::NoValue' }] },
          OKActions: { 'Fn::If': ['HasAlarmTopic', [{ Ref: 'AlarmTopicArn' }], { Ref: 'AWS::NoValue' }] },
        },
      };
    }

    // Every profile's key group, exported as signet-<stage>-<profile>-key-group-id for
    // distributions in other stacks (`!ImportValue`).
    Outputs[`KeyGroupId${pascalCase(name)}`] = {
      Description: `The CloudFront key group of profile ${name}: trust it in the protected behaviours that profile signs for`,
      Value: { 'Fn::GetAtt': [bootstrapId, 'KeyGroupId'] },
      Export: { Name: `signet-${stage}-${name}-key-group-id` },
    };
    Outputs[`KeyRingSecretArn${suffix}`] = {
      Description: `The key ring secret of profile ${name} (retained when the stack is deleted)`,
      Value: { Ref: secretId },
    };
  }
  // The account's public key quota is shared by every profile and stage (and anything else in the
  // account). Each profile needs a free key to introduce its next one, and a revoke may need another:
  // the alarm fires when no more than max(2, profiles) are free, the margin of `signet doctor`'s
  // ACCOUNT_KEYS_NEAR_LIMIT (lib/doctor/checks/account-quota.ts). The rotator sends both gauges every
  // run, with the dimension service only (account-wide).
  const quotaMargin = Math.max(2, names.length);
  // The conservative reading of each within the period: the most keys, the lowest quota (a quota
  // lowered in the config counts at once, not after the period).
  const accountGauge = (Id, MetricName, Stat) => ({
    Id,
    ReturnData: false,
    MetricStat: {
      Metric: {
        Namespace: metricsNamespace,
        MetricName,
        Dimensions: [{ Name: 'service', Value: 'signet-rotator' }],
      },
      Period: 900,
      Stat,
    },
  });
  Resources.PublicKeyQuotaAlarm = {
    Type: 'AWS::CloudWatch::Alarm',
    Properties: {
      AlarmDescription:
        `Signet ${stage}: at most ${quotaMargin} of the account's CloudFront public keys are free; ` +
        `the ${names.length} profile(s) of this stage each need one to rotate (TooManyPublicKeys blocks the rotation). ` +
        'Runbook: docs/operators.md#publickeyquotaalarm',
      Metrics: [
        accountGauge('keys', 'AccountPublicKeys', 'Maximum'),
        accountGauge('quota', 'AccountPublicKeyQuota', 'Minimum'),
        {
          Id: 'free',
          Label: 'Free public keys in the account',
          Expression: 'quota - keys',
          ReturnData: true,
        },
      ],
      EvaluationPeriods: 1,
      Threshold: quotaMargin,
      ComparisonOperator: 'LessThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: { 'Fn::If': ['HasAlarmTopic', [{ Ref: 'AlarmTopicArn' }], { Ref: 'AWS::NoValue' }] },
      OKActions: { 'Fn::If': ['HasAlarmTopic', [{ Ref: 'AlarmTopicArn' }], { Ref: 'AWS::NoValue' }] },
    },
  };

  // The default profile's key group also under the export a one-profile stack had, so existing
  // `!ImportValue signet-<stage>-key-group-id` keep working.
  Outputs.KeyGroupId = {
    Description: `The CloudFront key group of the default profile (${defaultProfile})`,
    Value: { 'Fn::GetAtt': ['Bootstrap', 'KeyGroupId'] },
    Export: { Name: `signet-${stage}-key-group-id` },
  };

  return { resources: { Resources, Outputs }, secretRefs };
}

/**
 * The logical ids of the alarms {@link buildProfiles} declares, for the dashboard's alarm widget
 * (infra/aws/dashboard.cjs).
 * @param {{ profiles: Record<string, any> }} config parsed config
 * @param {string} defaultProfile
 */
function alarmIdsOf(config, defaultProfile) {
  const ids = [];
  for (const name of [defaultProfile, ...Object.keys(config.profiles).filter((n) => n !== defaultProfile)]) {
    const suffix = name === defaultProfile ? '' : pascalCase(name);
    ids.push(
      `ActiveKeyTooOldAlarm${suffix}`,
      `RotationInvariantViolatedAlarm${suffix}`,
      `KeyRingStaleAlarm${suffix}`,
    );
    if (config.profiles[name].rotation.canary !== undefined) ids.push(`CanaryFailingAlarm${suffix}`);
    if (config.profiles[name].signer === 'kms' || config.profiles[name].kms === 'retiring')
      ids.push(`KmsSigningFailedAlarm${suffix}`);
  }
  return [...ids, 'PublicKeyQuotaAlarm'];
}

module.exports = { buildProfiles, pascalCase, alarmIdsOf };
