import type { Config } from '../config/index.ts';

/** Where a command's AWS calls went, for messages: the configured endpoints, or AWS itself. */
export function endpointsDescription(config: Config): string {
  const endpoints = config.aws?.endpoints;
  return endpoints === undefined
    ? 'AWS (default endpoints)'
    : `Secrets Manager at ${endpoints.secretsManager ?? 'the default endpoint'} and CloudFront at ${endpoints.cloudfront ?? 'the default endpoint'}`;
}

/**
 * The root of an error chain as "Name: message". Wrapped errors (KeyRingUnavailableError) carry the
 * SDK's error as their cause, and a refused connection surfaces as an AggregateError: name the root.
 */
export function rootCause(error: unknown): string {
  let current: unknown = error;
  while (current instanceof Error && current.cause instanceof Error) current = current.cause;
  if (current instanceof AggregateError && current.errors[0] instanceof Error) current = current.errors[0];
  if (!(current instanceof Error)) return String(current);
  const code = (current as { code?: unknown }).code;
  const message = current.message || (typeof code === 'string' ? code : 'no message');
  return `${current.name}: ${message}`;
}

/** Every name and message along an error's cause chain, to search for a kind of failure. */
export function causeChainText(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  while (current instanceof Error) {
    parts.push(current.name, current.message);
    current = current.cause;
  }
  return parts.join(' ');
}
