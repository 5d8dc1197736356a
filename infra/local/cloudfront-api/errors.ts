import { XMLBuilder } from 'fast-xml-parser';

/** The CloudFront 2020-05-31 XML namespace, on every response root and error body. */
export const CLOUDFRONT_NAMESPACE = 'http://cloudfront.amazonaws.com/doc/2020-05-31/';

/**
 * HTTP status of every error code the stand-in emits. The AWS codes and statuses are the ones the
 * SDK model (`@aws-sdk/client-cloudfront` 3.1162) declares, so the SDK maps each to its typed
 * exception; the last four are the stand-in's own answers for requests no AWS operation matches.
 */
const STATUS = {
  DistributionAlreadyExists: 409,
  IllegalUpdate: 400,
  InconsistentQuantities: 400,
  InvalidArgument: 400,
  InvalidIfMatchVersion: 400,
  KeyGroupAlreadyExists: 409,
  MalformedInput: 400,
  MissingBody: 400,
  NoSuchDistribution: 404,
  NoSuchOrigin: 404,
  NoSuchPublicKey: 404,
  NoSuchResource: 404,
  NoSuchResponseHeadersPolicy: 404,
  PreconditionFailed: 412,
  PublicKeyAlreadyExists: 409,
  PublicKeyInUse: 409,
  ResourceInUse: 409,
  ResponseHeadersPolicyAlreadyExists: 409,
  ResponseHeadersPolicyInUse: 409,
  TooManyDistributions: 400,
  TooManyKeyGroups: 400,
  TooManyKeyGroupsAssociatedToDistribution: 400,
  TooManyPublicKeys: 400,
  TooManyPublicKeysInKeyGroup: 400,
  TrustedKeyGroupDoesNotExist: 400,
  // Not AWS codes (UNCONFIRMED what CloudFront's front end answers for these): clear, typed answers.
  NotFound: 404,
  MethodNotAllowed: 405,
  RequestEntityTooLarge: 413,
  InternalError: 500,
} as const;

/** Every error code the stand-in answers with. Stable: tests and callers `switch` on these. */
export type CloudFrontErrorCode = keyof typeof STATUS;

/**
 * A refused CloudFront API request. Knows its AWS error code and HTTP status, and renders itself as
 * CloudFront's `ErrorResponse` body.
 */
export class CloudFrontApiError extends Error {
  readonly code: CloudFrontErrorCode;
  readonly status: number;
  /** Extra response headers, for example `Allow` on a 405. */
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    code: CloudFrontErrorCode,
    message: string,
    options: { cause?: unknown; headers?: Record<string, string> } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CloudFrontApiError';
    this.code = code;
    this.status = STATUS[code];
    this.headers = options.headers ?? {};
  }
}

const builder = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@_', format: false });

/**
 * Renders `error` the way CloudFront does: an `ErrorResponse` whose `Error/Code` the SDK's restXml
 * protocol reads to pick the exception class (`Type` is `Sender` for 4xx, `Receiver` for 5xx).
 */
export function renderErrorBody(error: CloudFrontApiError, requestId: string): string {
  const document = {
    ErrorResponse: {
      '@_xmlns': CLOUDFRONT_NAMESPACE,
      Error: { Type: error.status >= 500 ? 'Receiver' : 'Sender', Code: error.code, Message: error.message },
      RequestId: requestId,
    },
  };
  return `<?xml version="1.0"?>${builder.build(document) as string}`;
}
