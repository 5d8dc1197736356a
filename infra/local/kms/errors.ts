/**
 * The error types the KMS stand-in answers with. Most are typed exceptions in
 * `@aws-sdk/client-kms` (`instanceof DisabledException`); `AccessDeniedException` and
 * `ThrottlingException` are what AWS's front end answers before KMS runs (IAM refused, request rate
 * exceeded) and reach SDK callers as a `KMSServiceException` whose `name` is the type.
 */
export type KmsErrorType =
  | 'NotFoundException'
  | 'DisabledException'
  | 'KMSInvalidStateException'
  | 'InvalidKeyUsageException'
  | 'UnsupportedOperationException'
  | 'TagException'
  | 'ValidationException'
  | 'InvalidMarkerException'
  | 'AccessDeniedException'
  | 'ThrottlingException'
  | 'KMSInternalException'
  | 'UnknownOperationException'
  | 'SerializationException'
  | 'RequestEntityTooLargeException';

/** HTTP status per type: KMS answers its modeled client errors with 400, "not found" included. */
const STATUS: Record<KmsErrorType, number> = {
  NotFoundException: 400,
  DisabledException: 400,
  KMSInvalidStateException: 400,
  InvalidKeyUsageException: 400,
  UnsupportedOperationException: 400,
  TagException: 400,
  ValidationException: 400,
  InvalidMarkerException: 400,
  AccessDeniedException: 400,
  ThrottlingException: 400,
  KMSInternalException: 500,
  UnknownOperationException: 400,
  SerializationException: 400,
  RequestEntityTooLargeException: 413,
};

/** An error the stand-in sends back as an AWS JSON error body; `code` goes into `__type`. */
export class KmsError extends Error {
  readonly code: KmsErrorType;
  readonly status: number;

  constructor(code: KmsErrorType, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'KmsError';
    this.code = code;
    this.status = STATUS[code];
  }

  /** The awsJson1_1 error body. KMS spells the message `message`; the SDK reads either spelling. */
  toBody(): { __type: KmsErrorType; message: string } {
    return { __type: this.code, message: this.message };
  }
}

/** The caller sent a value that cannot be right. */
export function validation(message: string): KmsError {
  return new KmsError('ValidationException', message);
}

/** The error types a test may inject with `KmsStandIn.inject`. */
export const INJECTABLE_ERRORS = [
  'ThrottlingException',
  'AccessDeniedException',
  'KMSInternalException',
  'DisabledException',
] as const satisfies readonly KmsErrorType[];
