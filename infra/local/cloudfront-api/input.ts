import { CloudFrontApiError } from './errors.ts';
import { readText, type XmlObject } from './xml.ts';

/** A request after routing: what an operation needs of it. */
export interface OperationInput {
  /** The resource id from the path, percent-decoded; empty for collection paths. */
  readonly id: string;
  readonly query: URLSearchParams;
  /** The request body; empty for operations that take none (it is then never read). */
  readonly body: Buffer;
  readonly ifMatch: string | undefined;
  /** `http://<Host>`, for Location headers. */
  readonly baseUrl: string;
}

/** Key and key group names: CloudFront's console rule (UNCONFIRMED for the API), up to 128 characters. */
const NAME = /^[A-Za-z0-9_-]{1,128}$/;
const MAX_COMMENT = 128;
const DEFAULT_MAX_ITEMS = 100;

/** Refuses a public key or key group name CloudFront would not take, naming the field at `path`. */
export function checkName(name: string, path: string): void {
  if (!NAME.test(name)) {
    throw new CloudFrontApiError(
      'InvalidArgument',
      `Expected ${path} to be 1 to 128 letters, digits, hyphens or underscores; got "${name}".`,
    );
  }
}

/** The optional `Comment` of `node`, refused beyond 128 characters. */
export function readComment(node: XmlObject, path: string): { comment?: string } {
  const comment = readText(node, 'Comment', path);
  if (comment === undefined) return {};
  if (comment.length > MAX_COMMENT) {
    throw new CloudFrontApiError(
      'InvalidArgument',
      `Expected ${path}.Comment to be at most ${MAX_COMMENT} characters; got ${comment.length}.`,
    );
  }
  return { comment };
}

/**
 * Every Update and Delete needs the current ETag in If-Match: missing is InvalidIfMatchVersion,
 * stale is PreconditionFailed (the messages are CloudFront's).
 */
export function checkIfMatch(ifMatch: string | undefined, current: string): void {
  if (ifMatch === undefined || ifMatch === '') {
    throw new CloudFrontApiError(
      'InvalidIfMatchVersion',
      'The If-Match version is missing or not valid for the resource.',
    );
  }
  if (ifMatch !== current) {
    throw new CloudFrontApiError(
      'PreconditionFailed',
      'The precondition given in one or more of the request header fields evaluated to false.',
    );
  }
}

/**
 * The page of `items` a List request asks for with MaxItems and Marker. Marker is the id the page
 * starts at, by id order (NextMarker is the first id of the next page), not a position, so deleting
 * the marker's item between pages is harmless.
 */
export function page<T extends { readonly id: string }>(
  items: Iterable<T>,
  query: URLSearchParams,
): { items: T[]; maxItems: number; marker: string; nextMarker: string | undefined } {
  const rawMax = query.get('MaxItems');
  let maxItems = DEFAULT_MAX_ITEMS;
  if (rawMax !== null) {
    if (!/^\d{1,4}$/.test(rawMax) || Number(rawMax) < 1 || Number(rawMax) > 1000) {
      throw new CloudFrontApiError(
        'InvalidArgument',
        `Expected MaxItems between 1 and 1000; got "${rawMax}".`,
      );
    }
    maxItems = Number(rawMax);
  }
  const marker = query.get('Marker') ?? '';
  const sorted = [...items].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const rest = marker === '' ? sorted : sorted.filter((item) => item.id >= marker);
  return { items: rest.slice(0, maxItems), maxItems, marker, nextMarker: rest[maxItems]?.id };
}
