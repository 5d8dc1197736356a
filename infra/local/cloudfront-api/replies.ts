import type { KeyGroupRecord, PublicKeyRecord } from './records.ts';
import { buildXmlDocument, type XmlObject } from './xml.ts';

/** The API version every CloudFront path starts with, and every Location header names. */
export const VERSION_PATH = '/2020-05-31';

/** What an operation answers: the status, its headers, and an XML document when there is one. */
export interface Reply {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
}

/** A reply whose body is the `root` element holding `body`. */
export function xmlReply(
  status: number,
  root: string,
  body: XmlObject,
  headers: Record<string, string> = {},
): Reply {
  return { status, headers, body: buildXmlDocument(root, body) };
}

/** The `Items` element of a list, its members named `member`. */
export function itemsElement(member: string, values: readonly (string | XmlObject)[]): XmlObject {
  // CloudFront leaves out an empty list's Items element.
  return values.length === 0 ? {} : { Items: { [member]: [...values] } };
}

/** The `PublicKeyConfig` element: what CreatePublicKey was given. */
export function publicKeyConfigXml(key: PublicKeyRecord): XmlObject {
  return {
    CallerReference: key.callerReference,
    Name: key.name,
    EncodedKey: key.encodedKey,
    ...(key.comment === undefined ? {} : { Comment: key.comment }),
  };
}

/** The `PublicKey` element of Create/GetPublicKey answers. */
export function publicKeyXml(key: PublicKeyRecord): XmlObject {
  return { Id: key.id, CreatedTime: key.createdTime, PublicKeyConfig: publicKeyConfigXml(key) };
}

/** The `KeyGroupConfig` element: the name, the public key ids and the comment. */
export function keyGroupConfigXml(group: KeyGroupRecord): XmlObject {
  return {
    Name: group.name,
    // Unlike every other CloudFront list, KeyGroupConfig.Items has no Quantity and is always present.
    Items: { PublicKey: [...group.items] },
    ...(group.comment === undefined ? {} : { Comment: group.comment }),
  };
}

/** The `KeyGroup` element of Create/Get/UpdateKeyGroup answers and of list summaries. */
export function keyGroupXml(group: KeyGroupRecord): XmlObject {
  return { Id: group.id, LastModifiedTime: group.lastModifiedTime, KeyGroupConfig: keyGroupConfigXml(group) };
}
