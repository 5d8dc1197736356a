// The Lambda functions' AWS credentials: their execution role's, which the Lambda runtime puts in the
// environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), exactly where the SDK's
// default chain looks first. The functions' bundles use this module in place of
// @aws-sdk/credential-provider-node (serverless.yml, custom.esbuild.alias), whose other links (SSO,
// profile files, processes, web identity, and the STS/SSO clients behind them: about 90 KB of the
// API bundle) never serve a Lambda function. Only the bundles: the CLI and `npm start` keep the chain.

/** Credentials as the SDK takes them. */
interface Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  readonly expiration?: Date;
  readonly accountId?: string;
}

/** The environment's credentials, read on each call (the SDK caches them until they expire). */
export function defaultProvider(): () => Promise<Credentials> {
  return async () => {
    const env = process.env;
    const accessKeyId = env.AWS_ACCESS_KEY_ID;
    const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
    if (!accessKeyId || !secretAccessKey) {
      throw new Error(
        'Expected AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment, as Lambda sets them for the function role.',
      );
    }
    return {
      accessKeyId,
      secretAccessKey,
      ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
      ...(env.AWS_CREDENTIAL_EXPIRATION ? { expiration: new Date(env.AWS_CREDENTIAL_EXPIRATION) } : {}),
      ...(env.AWS_ACCOUNT_ID ? { accountId: env.AWS_ACCOUNT_ID } : {}),
    };
  };
}
