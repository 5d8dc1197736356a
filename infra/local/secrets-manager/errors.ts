/**
 * The error types the stand-in answers with. The first eight are the ones the AWS SDK models as
 * typed exceptions (`instanceof ResourceNotFoundException`); the protocol-level ones are what AWS's
 * JSON front end answers before an operation runs, and reach SDK callers as a
 * `SecretsManagerServiceException` whose `name` is the type.
 */
export type SecretsManagerErrorType =
  | 'ResourceNotFoundException'
  | 'InvalidParameterException'
  | 'InvalidRequestException'
  | 'ResourceExistsException'
  | 'InvalidNextTokenException'
  | 'InternalServiceError'
  | 'UnknownOperationException'
  | 'SerializationException'
  | 'RequestEntityTooLargeException';

/** HTTP status per type: AWS answers every modeled client error with 400, even "not found". */
const STATUS: Record<SecretsManagerErrorType, number> = {
  ResourceNotFoundException: 400,
  InvalidParameterException: 400,
  InvalidRequestException: 400,
  ResourceExistsException: 400,
  InvalidNextTokenException: 400,
  InternalServiceError: 500,
  UnknownOperationException: 400,
  SerializationException: 400,
  // UNCONFIRMED: the exact type name AWS's front end uses for an oversized body; 413 is certain.
  RequestEntityTooLargeException: 413,
};

/**
 * An error the stand-in sends back as an AWS JSON error body. `code` is the AWS error type, stable
 * for `switch (err.code)`, and is what goes into `__type`.
 */
export class SecretsManagerError extends Error {
  readonly code: SecretsManagerErrorType;
  readonly status: number;

  constructor(code: SecretsManagerErrorType, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'SecretsManagerError';
    this.code = code;
    this.status = STATUS[code];
  }

  /** The awsJson1_1 error body: `__type` is what the SDK maps to its exception classes. */
  toBody(): { __type: SecretsManagerErrorType; Message: string } {
    return { __type: this.code, Message: this.message };
  }
}

/** Shorthand for the commonest refusal: the caller sent a parameter that cannot be right. */
export function invalidParameter(message: string): SecretsManagerError {
  return new SecretsManagerError('InvalidParameterException', message);
}
