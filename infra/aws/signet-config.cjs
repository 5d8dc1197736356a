// Renders the stage's Signet configuration for serverless.yml (`${file(infra/aws/signet-config.cjs):KEY}`).
//
// The YAML file named by `custom.signet.configFile` is the one place that says what Signet signs and
// for whom. This resolver validates it with the service's own parser (lib/config, loaded through tsx)
// so a bad config fails `serverless package` with every bad field listed, instead of failing the first
// cold start in AWS; then it hands serverless.yml the few values the template needs, the resources
// of every profile (infra/aws/profiles.cjs), and the document as compact JSON for SIGNET_CONFIG (the
// API bundle carries no YAML parser).
//
// CommonJS because osls loads variable resolvers with require(); it must stay dependency-free beyond
// what package.json already installs (tsx, js-yaml), since packaging runs offline.
'use strict';

const { readFileSync } = require('node:fs');
const { resolve } = require('node:path');
const { require: tsxRequire } = require('tsx/cjs/api');
const { load: parse } = require('js-yaml');
const { buildProfiles } = require('./profiles.cjs');

// Lambda caps all environment variables of a function at 4 KB together; keep room for the others.
const MAX_INLINE_CONFIG_BYTES = 3500;

/** Origins joined for a CommaDelimitedList parameter; an origin holding a comma cannot be passed. */
function demoCorsOrigins(origins, file) {
  const bad = origins.find((origin) => origin.includes(','));
  if (bad !== undefined) {
    throw new Error(`Expected cors.origins in ${file} without commas; got ${JSON.stringify(bad)}.`);
  }
  return origins.join(',');
}

module.exports = async ({ resolveVariable }) => {
  const serviceDir = resolve(__dirname, '..', '..');
  const file = await resolveVariable('self:custom.signet.configFile');
  const path = resolve(serviceDir, file);
  const stage = await resolveVariable('sls:stage');
  const written = parse(readFileSync(path, 'utf8'));
  // The serverless stage is the config's stage: the rotator names key groups signet-<stage>-<profile>
  // (docs/operators.md, "Several stages in one account"). A config may name it, but only the same one.
  if (written?.stage !== undefined && written.stage !== stage) {
    throw new Error(
      `Expected stage in ${file} to be the serverless stage ${stage} (or absent); got ${JSON.stringify(written.stage)}.`,
    );
  }
  const document = { stage, ...written };
  const { parseConfig } = tsxRequire('../../lib/config/index.ts', __filename);
  const config = parseConfig(document, path);

  const profile = config.defaultProfile ?? Object.keys(config.profiles)[0];
  if (config.defaultProfile === undefined && Object.keys(config.profiles).length !== 1) {
    throw new Error(
      `Expected defaultProfile in ${file}: the stack deploys every profile, and the default one keeps the logical ids (KeyRingSecret, Bootstrap) and the export signet-<stage>-key-group-id.`,
    );
  }
  const graceSeconds = Number(await resolveVariable('param:activeKeyAgeGraceSeconds'));
  if (!Number.isInteger(graceSeconds) || graceSeconds < 0) {
    throw new Error('Expected the activeKeyAgeGraceSeconds param to be a whole number of seconds.');
  }
  // Signet/<stage>: the functions send to it and every alarm watches it (lib/telemetry/catalogue.ts).
  const { metricsNamespace } = tsxRequire('../../lib/telemetry/catalogue.ts', __filename);
  const namespace = metricsNamespace(stage);
  const profiles = buildProfiles({
    file,
    config,
    defaultProfile: profile,
    stage,
    graceSeconds,
    metricsNamespace: namespace,
  });

  const json = JSON.stringify(document);
  if (Buffer.byteLength(json) > MAX_INLINE_CONFIG_BYTES) {
    throw new Error(
      `Expected ${file} to render to at most ${MAX_INLINE_CONFIG_BYTES} bytes of JSON (Lambda's 4 KB environment limit); got ${Buffer.byteLength(json)}.`,
    );
  }

  // The rings whose keys may be in KMS: signer: kms profiles, and profiles switched back from it
  // (kms: retiring), whose active key may still sign through KMS until the rotator removes it. The
  // KMS grants and the KMS-enabled API entry stay while any is left (docs/operators.md, "KMS signing").
  const kmsKeyRings = Object.values(config.profiles)
    .filter((p) => p.signer === 'kms' || p.kms === 'retiring')
    .map((p) => p.keyRing.secretId);
  // Only signer: kms profiles get new KMS keys: a retiring ring may sign and delete, never create.
  const kmsCreateKeyRings = Object.values(config.profiles)
    .filter((p) => p.signer === 'kms')
    .map((p) => p.keyRing.secretId);
  const apiKeysSecretId = config.auth.apiKeys?.secretId ?? '';
  // The api role's policy names the secret by ARN, built from the name in this account and region.
  if (apiKeysSecretId.startsWith('arn:')) {
    throw new Error(
      `Expected auth.apiKeys.secretId in ${file} to be a secret name in the stack's account and region; got an ARN.`,
    );
  }
  const jwt = config.auth.jwt;
  // Refuse a config API Gateway's JWT authorizer cannot honour (algorithms, issuer shape, audience),
  // naming the field: infra/aws/gateway-rules.ts.
  const { assertGatewayCanHonour } = tsxRequire('./gateway-rules.ts', __filename);
  assertGatewayCanHonour({ file, config, authorizer: await resolveVariable('param:apiAuthorizer') });
  return {
    json,
    /** The stage's CloudWatch namespace, `Signet/<stage>`: SIGNET_METRICS_NAMESPACE and the alarms' metrics. */
    metricsNamespace: namespace,
    /** The default profile: it keeps the logical ids of a one-profile stack (infra/aws/profiles.cjs). */
    profile,
    /**
     * The default profile's browser origins (cors.origins), comma-separated for the DemoCorsOrigins
     * parameter: the demo distribution's CORS response headers policy allows exactly these
     * (infra/aws/demo-distribution.yml), and is left out when there are none.
     */
    demoCorsOrigins: demoCorsOrigins(config.profiles[profile].cors.origins, file),
    /** Existing key group the default profile's bootstrap adopts (its keyGroupId), or ''. */
    adoptKeyGroupId: config.profiles[profile].keyGroupId ?? '',
    /** Every profile's key ring secret, bootstrap, key age alarm and outputs: a `resources:` entry. */
    profileResources: profiles.resources,
    /** `{ Ref }` to every profile's key ring secret, for the IAM statements (infra/aws/iam.yml). */
    keyRingSecrets: profiles.secretRefs,
    apiKeysSecretName: apiKeysSecretId,
    /**
     * 'true' when a profile signs through KMS (signer: kms) or may still (kms: retiring): the
     * SignsWithKms condition of infra/aws/iam.yml.
     */
    kmsSigning: String(kmsKeyRings.length > 0),
    /** 'true' when a profile has signer: kms: the CreatesKmsKeys condition (kms:CreateKey). */
    kmsCreatesKeys: String(kmsCreateKeyRings.length > 0),
    /**
     * The key ring secrets of the signer: kms and kms: retiring profiles, the values of the
     * signet:key-ring tag the IAM conditions allow (a placeholder when none: the statements are then
     * left out by SignsWithKms).
     */
    kmsKeyRings: kmsKeyRings.length > 0 ? kmsKeyRings : ['none'],
    /** The signer: kms profiles' rings only: the tag kms:CreateKey may put on a new key. */
    kmsCreateKeyRings: kmsCreateKeyRings.length > 0 ? kmsCreateKeyRings : ['none'],
    /**
     * The API's entry: the one with KMS signing only when a profile needs it, kms: retiring included
     * (its bundle carries the KMS client).
     */
    apiHandler: kmsKeyRings.length > 0 ? 'functions/api-kms.handler' : 'functions/api.handler',
    jwtIssuer: jwt?.issuer ?? '',
    jwtAudience: jwt === undefined ? [] : [jwt.audience].flat(),
  };
};
