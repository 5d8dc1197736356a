// The CloudFormation custom resource protocol, nothing else: the request CloudFormation sends to a
// Lambda-backed custom resource, and the one answer it waits for (a PUT of a JSON document to the
// pre-signed S3 URL in the request). What a request means for Signet is lib/rotation/bootstrap.ts.

/** A CloudFormation custom resource request (AWS::CloudFormation::CustomResource / Custom::…). */
export interface CustomResourceEvent<Properties = Record<string, string | undefined>> {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly ResponseURL: string;
  readonly StackId: string;
  readonly RequestId: string;
  readonly LogicalResourceId: string;
  readonly PhysicalResourceId?: string;
  readonly ResourceProperties: Properties & { readonly ServiceToken?: string };
  /** An Update's previous properties (also a rollback's: then they are the ones being rolled back from). */
  readonly OldResourceProperties?: Properties & { readonly ServiceToken?: string };
}

/** What the resource answers: SUCCESS with its data, or FAILED with the reason shown to the operator. */
export interface CustomResourceAnswer {
  readonly status: 'SUCCESS' | 'FAILED';
  readonly physicalResourceId: string;
  /** Shown in the stack's events: a message for a person, never a stack trace or key material. */
  readonly reason: string;
  readonly data: Readonly<Record<string, string>>;
}

/** Whether a Lambda event is a custom resource request (else, for the rotator, the schedule). */
export function isCustomResourceEvent(event: unknown): event is CustomResourceEvent {
  return typeof event === 'object' && event !== null && 'RequestType' in event && 'ResponseURL' in event;
}

/** CloudFormation shows at most this many characters of a Reason. */
const MAX_REASON = 1000;

/** Waits between attempts to deliver an answer; the rotator has no asynchronous Lambda retries. */
const RETRY_DELAYS_MS = [500, 2000];

/**
 * Sends the answer: a PUT to the pre-signed S3 URL, with an empty content type (the URL was signed
 * for none). An answer S3 refuses or that does not arrive is sent again, twice, since the rotator
 * has no asynchronous retries (a stack whose answer never arrives waits an hour for its timeout);
 * then the error is thrown. `sleep` is for tests.
 */
export async function sendCustomResourceAnswer(
  event: CustomResourceEvent<unknown>,
  answer: CustomResourceAnswer,
  fetchImpl: typeof fetch = fetch,
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await putAnswer(event, answer, fetchImpl);
      return;
    } catch (error) {
      const delay = RETRY_DELAYS_MS[attempt];
      if (delay === undefined) throw error;
      await sleep(delay);
    }
  }
}

async function putAnswer(
  event: CustomResourceEvent<unknown>,
  answer: CustomResourceAnswer,
  fetchImpl: typeof fetch,
): Promise<void> {
  const body = JSON.stringify({
    Status: answer.status,
    Reason: answer.reason.slice(0, MAX_REASON),
    PhysicalResourceId: answer.physicalResourceId,
    StackId: event.StackId,
    RequestId: event.RequestId,
    LogicalResourceId: event.LogicalResourceId,
    Data: answer.data,
  });
  const response = await fetchImpl(event.ResponseURL, {
    method: 'PUT',
    headers: { 'content-type': '', 'content-length': String(Buffer.byteLength(body)) },
    body,
  });
  if (!response.ok) throw new Error(`CloudFormation's response URL answered ${response.status}.`);
}
