import { KMSClient } from '@aws-sdk/client-kms';
import type { RunningKms } from '../../infra/local/kms.ts';

/** The real KMS client pointed at the KMS stand-in, with one attempt so that faults surface. */
export function kmsClientFor(kms: RunningKms): KMSClient {
  return new KMSClient({
    endpoint: kms.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });
}
