// Lambda entry of the signing API for a config with `signer: kms` profiles (serverless.yml picks it
// through infra/aws/signet-config.cjs): the API of functions/api.ts with KMS signing enabled. The
// import order is the evaluation order: the KMS signers are installed before the API's cold start
// wires its dependencies. A Secrets Manager-only config deploys functions/api.ts, whose bundle holds
// no KMS client (docs/operators.md, "KMS signing").
import '../lib/keys/kms-signers.ts';

export { handler, rehearsedMs, warmed } from './api.ts';
