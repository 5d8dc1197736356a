import { invalidParameter, SecretsManagerError } from './errors.ts';

/** A parsed request body: awsJson1_1 always sends one JSON object per request. */
export type Input = Readonly<Record<string, unknown>>;

/** Names the JSON type of a value the way an error message should: `array`, `null`, `number`. */
function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

/**
 * A member of the wrong JSON type is a deserialization failure in AWS's front end, not a
 * parameter check, so it is a SerializationException.
 */
function wrongType(field: string, expected: string, value: unknown): SecretsManagerError {
  return new SecretsManagerError(
    'SerializationException',
    `Expected ${field} to be ${expected}, got ${describeType(value)}.`,
  );
}

/** Reads an optional string member; `null` counts as absent, as AWS's deserializer treats it. */
export function optionalString(input: Input, field: string): string | undefined {
  const value = input[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw wrongType(field, 'a string', value);
  return value;
}

/** Reads a required, non-empty string member. */
export function requireString(input: Input, field: string): string {
  const value = optionalString(input, field);
  if (value === undefined) throw invalidParameter(`Expected ${field} to be set; it is missing.`);
  if (value.length === 0) throw invalidParameter(`Expected ${field} to be a non-empty string, got "".`);
  return value;
}

/** Reads an optional boolean member. */
export function optionalBoolean(input: Input, field: string): boolean | undefined {
  const value = input[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw wrongType(field, 'a boolean', value);
  return value;
}

/** Reads an optional integer member and checks it lies in `[min, max]`. */
export function optionalInteger(input: Input, field: string, min: number, max: number): number | undefined {
  const value = input[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value)) throw wrongType(field, 'an integer', value);
  if (value < min || value > max) {
    throw invalidParameter(`Expected ${field} between ${min} and ${max}, got ${value}.`);
  }
  return value;
}

/** Reads an optional list of strings. */
export function optionalStringList(input: Input, field: string): string[] | undefined {
  const value = input[field];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw wrongType(field, 'a list of strings', value);
  return value.map((item, index) => {
    if (typeof item !== 'string') throw wrongType(`${field}[${index}]`, 'a string', item);
    return item;
  });
}

/** Reads optional `Tags` (`[{ Key, Value }]`), kept only so DescribeSecret can echo them. */
export function optionalTags(input: Input): { Key: string; Value: string }[] | undefined {
  const value = input.Tags;
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw wrongType('Tags', 'a list of { Key, Value }', value);
  return value.map((tag: unknown, index) => {
    if (typeof tag !== 'object' || tag === null || Array.isArray(tag)) {
      throw wrongType(`Tags[${index}]`, 'an object', tag);
    }
    const { Key: key, Value: value } = tag as Input;
    if (typeof key !== 'string' || key.length === 0) {
      throw invalidParameter(
        `Expected Tags[${index}].Key to be a non-empty string, got ${describeType(key)}.`,
      );
    }
    if (value !== undefined && typeof value !== 'string')
      throw wrongType(`Tags[${index}].Value`, 'a string', value);
    return { Key: key, Value: value ?? '' };
  });
}
