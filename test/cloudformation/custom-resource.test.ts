import { describe, expect, it } from 'vitest';
import {
  type CustomResourceEvent,
  sendCustomResourceAnswer,
} from '../../lib/cloudformation/custom-resource.ts';

// The answer to CloudFormation is a PUT to a pre-signed S3 URL. The rotator has no asynchronous
// Lambda retries, so an answer S3 refuses once is sent again from the handler.

const event: CustomResourceEvent = {
  RequestType: 'Create',
  ResponseURL: 'https://cloudformation-custom-resource-response.example/answer?X-Amz-Signature=abc',
  StackId: 'arn:aws:cloudformation:us-east-1:123456789012:stack/signet/abc',
  RequestId: 'req-1',
  LogicalResourceId: 'Bootstrap',
  ResourceProperties: { Profile: 'media' },
};
const answer = {
  status: 'SUCCESS',
  physicalResourceId: 'signet-bootstrap-media',
  reason: 'ok',
  data: { KeyGroupId: 'g' },
} as const;

function fakeS3(statuses: number[]) {
  const bodies: { method: string; contentType: string; body: unknown }[] = [];
  const fetchImpl = (async (_url: string | URL | Request, init?: RequestInit) => {
    const headers = new Headers(init?.headers);
    bodies.push({
      method: init?.method ?? 'GET',
      contentType: headers.get('content-type') ?? '',
      body: JSON.parse(String(init?.body)),
    });
    return new Response(null, { status: statuses.shift() ?? 200 });
  }) as typeof fetch;
  return { fetchImpl, bodies };
}

describe('sendCustomResourceAnswer', () => {
  it('PUTs the answer with an empty content type and CloudFormation’s field names', async () => {
    const s3 = fakeS3([200]);
    await sendCustomResourceAnswer(event, answer, s3.fetchImpl, async () => {});
    expect(s3.bodies).toEqual([
      {
        method: 'PUT',
        contentType: '',
        body: {
          Status: 'SUCCESS',
          Reason: 'ok',
          PhysicalResourceId: 'signet-bootstrap-media',
          StackId: event.StackId,
          RequestId: 'req-1',
          LogicalResourceId: 'Bootstrap',
          Data: { KeyGroupId: 'g' },
        },
      },
    ]);
  });

  it('sends an answer S3 refused again, twice, then gives up with the status', async () => {
    const waits: number[] = [];
    const recovering = fakeS3([503, 200]);
    await sendCustomResourceAnswer(event, answer, recovering.fetchImpl, async (ms) => {
      waits.push(ms);
    });
    expect(recovering.bodies).toHaveLength(2);
    const failing = fakeS3([500, 500, 500, 200]);
    await expect(sendCustomResourceAnswer(event, answer, failing.fetchImpl, async () => {})).rejects.toThrow(
      "CloudFormation's response URL answered 500.",
    );
    expect(failing.bodies).toHaveLength(3);
    expect(waits).toEqual([500]);
  });
});
