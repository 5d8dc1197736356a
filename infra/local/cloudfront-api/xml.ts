import { XMLBuilder, XMLParser, XMLValidator } from 'fast-xml-parser';
import { CLOUDFRONT_NAMESPACE, CloudFrontApiError } from './errors.ts';

/** A parsed XML element: text for a leaf, an object for a structure, an array for list members. */
export type XmlValue = string | XmlObject | readonly XmlValue[];

/** A parsed XML structure, keyed by child element name. */
export interface XmlObject {
  readonly [name: string]: XmlValue;
}

const parser = new XMLParser({
  ignoreAttributes: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  // Keep every value as sent: a CallerReference of "0012" must not become the number 12.
  parseTagValue: false,
  // Keep leaf text byte for byte (an EncodedKey's trailing newline, a Comment's spaces); whitespace
  // between elements is dropped in `normalize`.
  trimValues: false,
  // The SDK sends the newlines inside EncodedKey as `&#x0A;`: numeric character references must be
  // decoded. This option also decodes HTML names like `&nbsp;`, which XML does not define; those are
  // refused before parsing (see `UNDEFINED_ENTITY`).
  htmlEntities: true,
  jPath: true,
  // Every CloudFront list is wrapped in an `Items` element (KeyGroupConfig.Items/PublicKey,
  // TrustedKeyGroups.Items/KeyGroup, Origins.Items/Origin, ...): its children are always a list,
  // even when there is one.
  isArray: (_tagName, jPath) => typeof jPath === 'string' && jPath.split('.').at(-2) === 'Items',
});

const builder = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@_', format: false });

/** An `&` that does not start one of XML's five entities or a numeric character reference. */
const UNDEFINED_ENTITY = /&(?!(?:lt|gt|amp|apos|quot|#[0-9]+|#x[0-9a-fA-F]+);)/;

function malformed(message: string): CloudFrontApiError {
  return new CloudFrontApiError('MalformedInput', message);
}

/**
 * Parses a request body that must hold one `root` element. Refuses what CloudFront refuses: a body
 * that is not well-formed XML, a DTD (no entity expansion, so no entity bombs), an undefined entity,
 * another root element, and text mixed with child elements.
 */
export function parseXmlDocument(body: Buffer, root: string): XmlObject {
  if (body.length === 0) {
    throw new CloudFrontApiError(
      'MissingBody',
      `Expected a ${root} XML document in the request body; it is empty.`,
    );
  }
  const text = body.toString('utf8');
  if (/<!DOCTYPE/i.test(text)) throw malformed('Expected an XML document without a DTD; found <!DOCTYPE.');
  if (UNDEFINED_ENTITY.test(text)) {
    throw malformed('Expected only XML entities (&lt; &gt; &amp; &apos; &quot;) or character references.');
  }
  const validation = XMLValidator.validate(text);
  if (validation !== true) {
    throw malformed(
      `Expected well-formed XML; line ${validation.err.line}: ${validation.err.msg.replace(/\.$/, '')}.`,
    );
  }
  let parsed: unknown;
  try {
    parsed = parser.parse(text);
  } catch (cause) {
    throw new CloudFrontApiError('MalformedInput', 'Expected well-formed XML; the parser refused it.', {
      cause,
    });
  }
  const top = normalize(parsed, '');
  if (typeof top !== 'object' || Array.isArray(top)) throw malformed(`Expected a ${root} root element.`);
  const names = Object.keys(top);
  const element = (top as XmlObject)[root];
  if (names.length !== 1 || element === undefined || Array.isArray(element)) {
    throw malformed(`Expected one ${root} root element; found ${names.join(', ') || 'none'}.`);
  }
  return typeof element === 'string' ? emptyStructure(element, root) : (element as XmlObject);
}

/** An element written `<X/>` or `<X></X>` parses as ''; as a structure it is empty. */
function emptyStructure(text: string, path: string): XmlObject {
  if (text.trim() !== '') throw malformed(`Expected ${path} to hold elements; found text.`);
  return {};
}

function normalize(value: unknown, path: string): XmlValue {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map((item) => normalize(item, path));
  if (value !== null && typeof value === 'object') {
    const result: Record<string, XmlValue> = {};
    for (const [name, child] of Object.entries(value)) {
      const childPath = path === '' ? name : `${path}.${name}`;
      if (name === '#text') {
        // Whitespace between elements (a pretty-printed body) is layout, not content.
        if (typeof child === 'string' && child.trim() === '') continue;
        throw malformed(`Expected ${path} to hold either text or elements, not both.`);
      }
      result[name] = normalize(child, childPath);
    }
    return result;
  }
  // parseTagValue is off, so the parser only yields strings; anything else is a parser change.
  return String(value);
}

/**
 * Serialises `body` as the payload `root` element (with CloudFront's namespace) behind an XML
 * declaration, the way CloudFront answers.
 */
export function buildXmlDocument(root: string, body: XmlObject): string {
  const xml = builder.build({ [root]: { '@_xmlns': CLOUDFRONT_NAMESPACE, ...body } }) as string;
  return `<?xml version="1.0" encoding="UTF-8"?>${xml}`;
}

/** The text of child `name`, or `undefined` when absent. A structure or repeated element is refused. */
export function readText(node: XmlObject, name: string, path: string): string | undefined {
  const value = node[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') {
    throw malformed(`Expected ${path}.${name} to be ${Array.isArray(value) ? 'given once' : 'text'}.`);
  }
  return value;
}

/** The text of required child `name`; a missing or empty one is refused, naming the field. */
export function requireText(node: XmlObject, name: string, path: string): string {
  const value = readText(node, name, path);
  if (value === undefined || value === '') throw malformed(`Missing required field ${path}.${name}.`);
  return value;
}

/** The structure `name`, or `undefined` when absent; an empty element (`<X/>`) is an empty structure. */
export function readStructure(node: XmlObject, name: string, path: string): XmlObject | undefined {
  const value = node[name];
  if (value === undefined) return undefined;
  if (Array.isArray(value)) throw malformed(`Expected ${path}.${name} to be given once.`);
  if (typeof value === 'string') return emptyStructure(value, `${path}.${name}`);
  return value as XmlObject;
}

/** The required structure `name`; a missing one is refused, naming the field. */
export function requireStructure(node: XmlObject, name: string, path: string): XmlObject {
  const value = readStructure(node, name, path);
  if (value === undefined) throw malformed(`Missing required field ${path}.${name}.`);
  return value;
}

/** The members named `member` inside `node.Items` (none when `Items` is absent or empty). */
export function readItems(node: XmlObject, member: string, path: string): readonly XmlValue[] {
  const items = readStructure(node, 'Items', path);
  if (items === undefined) return [];
  for (const name of Object.keys(items)) {
    if (name !== member) throw malformed(`Expected ${path}.Items to hold ${member} elements; found ${name}.`);
  }
  const members = items[member];
  return Array.isArray(members) ? members : [];
}

/** The members of `node.Items` as text, refusing a structured or empty member. */
export function readTextItems(node: XmlObject, member: string, path: string): string[] {
  return readItems(node, member, path).map((value) => {
    if (typeof value !== 'string' || value === '') {
      throw malformed(`Expected each ${path}.Items.${member} to be non-empty text.`);
    }
    return value;
  });
}

/** Child `name` as a non-negative integer, or `undefined` when absent. */
export function readInteger(node: XmlObject, name: string, path: string): number | undefined {
  const text = readText(node, name, path);
  if (text === undefined) return undefined;
  if (!/^\s*\d{1,9}\s*$/.test(text))
    throw malformed(`Expected ${path}.${name} to be an integer; got "${text}".`);
  return Number(text);
}

/** Child `name` as a boolean (`true`/`false`), or `undefined` when absent. */
export function readBoolean(node: XmlObject, name: string, path: string): boolean | undefined {
  const text = readText(node, name, path);
  if (text === undefined) return undefined;
  const trimmed = text.trim();
  if (trimmed !== 'true' && trimmed !== 'false') {
    throw malformed(`Expected ${path}.${name} to be true or false; got "${text}".`);
  }
  return trimmed === 'true';
}
