import { SigningError } from './errors.ts';

/**
 * Normalizes an IPv4 address or CIDR for a policy's `AWS:SourceIp`: a bare address becomes `/32`.
 * Refuses IPv6 (CloudFront's IP condition is IPv4 only), and a CIDR with host bits set, whose
 * meaning the caller most likely got wrong.
 */
export function normaliseCidr(input: string): string {
  if (input.includes(':')) {
    throw new SigningError(
      'ERR_IPV6_UNSUPPORTED',
      `Expected an IPv4 CIDR like 203.0.113.0/24; got the IPv6 ${JSON.stringify(input)}. CloudFront's ` +
        'AWS:SourceIp condition takes IPv4 only (AWS says not to enable IPv6 on distributions that use IP conditions).',
    );
  }
  const [address, prefixText, extra] = input.split('/');
  const ip = parseIpv4(address ?? '');
  const prefix = prefixText === undefined ? 32 : Number(prefixText);
  if (ip === undefined || extra !== undefined || !/^\d{1,2}$/.test(prefixText ?? '32') || prefix > 32) {
    throw new SigningError(
      'ERR_INVALID_CIDR',
      `Expected an IPv4 address or CIDR like 203.0.113.0/24; got ${JSON.stringify(input)}.`,
    );
  }
  const network = (ip & maskOf(prefix)) >>> 0;
  if (network !== ip) {
    throw new SigningError(
      'ERR_INVALID_CIDR',
      `Expected a CIDR whose host bits are zero, like ${formatIpv4(network)}/${prefix}; got ${input}.`,
    );
  }
  return `${formatIpv4(ip)}/${prefix}`;
}

/** Whether an IPv4 address lies in a CIDR. An unparsable address or range is never inside. */
export function ipInCidr(address: string, cidr: string): boolean {
  const ip = parseIpv4(address);
  const [base, prefixText] = cidr.split('/');
  const network = parseIpv4(base ?? '');
  const prefix = prefixText === undefined ? 32 : Number(prefixText);
  if (ip === undefined || network === undefined || !Number.isInteger(prefix) || prefix < 0 || prefix > 32) {
    return false;
  }
  const mask = maskOf(prefix);
  return (ip & mask) >>> 0 === (network & mask) >>> 0;
}

/** Parses dotted-quad IPv4 (no leading zeros, which some parsers read as octal) to an unsigned int. */
export function parseIpv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!/^(0|[1-9]\d{0,2})$/.test(part) || Number(part) > 255) return undefined;
    value = value * 256 + Number(part);
  }
  return value;
}

function maskOf(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

function formatIpv4(value: number): string {
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join('.');
}
