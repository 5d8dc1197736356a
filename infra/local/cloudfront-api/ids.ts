import { randomInt, randomUUID } from 'node:crypto';

const UPPER_ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const LOWER_ALPHANUMERIC = 'abcdefghijklmnopqrstuvwxyz0123456789';

function randomString(alphabet: string, length: number): string {
  let result = '';
  for (let i = 0; i < length; i += 1) result += alphabet[randomInt(alphabet.length)];
  return result;
}

/** A public key id shaped like CloudFront's (`K2JCJMDEHXQW5F`: `K` and 13 upper-case alphanumerics). */
export function newPublicKeyId(): string {
  return `K${randomString(UPPER_ALPHANUMERIC, 13)}`;
}

/** A key group id: CloudFront's are UUIDs. */
export function newKeyGroupId(): string {
  return randomUUID();
}

/** A distribution id shaped like CloudFront's (`E` and 13 upper-case alphanumerics). */
export function newDistributionId(): string {
  return `E${randomString(UPPER_ALPHANUMERIC, 13)}`;
}

/** A distribution domain shaped like CloudFront's (`d111111abcdef8.cloudfront.net`). */
export function newDomainName(): string {
  return `d${randomString(LOWER_ALPHANUMERIC, 13)}.cloudfront.net`;
}

/**
 * An ETag shaped like CloudFront's (`E2QWRUHAPOMQZL`), never equal to `previous`, so every write
 * visibly changes the version a client must send in `If-Match`.
 */
export function newETag(previous?: string): string {
  let etag: string;
  do etag = `E${randomString(UPPER_ALPHANUMERIC, 13)}`;
  while (etag === previous);
  return etag;
}

/** A request id for `x-amz-request-id` and error bodies. */
export function newRequestId(): string {
  return randomUUID();
}
