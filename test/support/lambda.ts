import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';

/** An API Gateway HTTP API (payload 2.0) event, shaped as API Gateway sends it. */
export function httpApiEvent(input: {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
  claims?: Record<string, string>;
}): APIGatewayProxyEventV2 & {
  requestContext: { authorizer?: { jwt: { claims: Record<string, string>; scopes: string[] } } };
} {
  const now = Date.now();
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: input.path,
    rawQueryString: '',
    headers: { host: 'abc123.execute-api.us-east-1.amazonaws.com', 'user-agent': 'vitest', ...input.headers },
    requestContext: {
      accountId: '123456789012',
      apiId: 'abc123',
      domainName: 'abc123.execute-api.us-east-1.amazonaws.com',
      domainPrefix: 'abc123',
      http: {
        method: input.method,
        path: input.path,
        protocol: 'HTTP/1.1',
        sourceIp: '198.51.100.7',
        userAgent: 'vitest',
      },
      requestId: `req-${now}`,
      routeKey: '$default',
      stage: '$default',
      time: new Date(now).toUTCString(),
      timeEpoch: now,
      ...(input.claims === undefined ? {} : { authorizer: { jwt: { claims: input.claims, scopes: [] } } }),
    },
    ...(input.body === undefined ? {} : { body: input.body }),
    isBase64Encoded: false,
  };
}

/** A Lambda context as the runtime passes it. */
export function lambdaContext(): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'signet-api',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:signet-api',
    memoryLimitInMB: '512',
    awsRequestId: `aws-${Math.random().toString(16).slice(2)}`,
    logGroupName: '/aws/lambda/signet-api',
    logStreamName: 'stream',
    getRemainingTimeInMillis: () => 10_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
