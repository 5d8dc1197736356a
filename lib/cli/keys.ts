import { parseArgs } from 'node:util';
import { type KeyListing, listKeys } from '../rotation/inventory.ts';
import { observe, stateOf } from '../rotation/rotator.ts';
import { describeDuration } from '../signing/policy.ts';
import { type CliIo, EXIT, UsageError } from './io.ts';
import { rotationPorts, runRotationCommand, withRotationErrors } from './rotate.ts';

/** `signet keys --help`. */
export const KEYS_HELP = `Usage: signet keys [--profile P] [--json] [--config FILE]

Lists a profile's signing keys as the key ring and CloudFront hold them: each key's CloudFront id,
state (active, pending, retiring; orphan for a Signet key of the profile that no ring key owns),
algorithm, hash, age, whether the key group holds it, and its fingerprint; for a retiring key, until
when what it signed can be valid and when the rotator removes it. Then the keys of the group Signet
did not create, and the ring's history (keys removed or revoked, each with the instant the last URL
it signed expires). Bounds are the ones the ring recorded while each key could sign: a later, shorter
ttl.max never brings them forward. Never prints a private key.

Options:
  --profile P     the profile (default: the config's defaultProfile, or its only profile)
  --json          print one document { "profile", "keyGroupId", "keys": [{ "id", "state",
                  "algorithm", "hash", "fingerprint", "createdAt", "ageSeconds", "trustedAt",
                  "activatedAt", "retiredAt", "inGroup", "registered", "bounds",
                  "validUntil", "removableAt" }], "otherGroupKeys", "history" }
  --config FILE   the Signet config (default: SIGNET_CONFIG, else .signet/config.json)

Exit status: 0 listed, 2 usage error, 3 environment error (AWS or the sandbox unreachable,
credentials refused, config invalid).
`;

/** `signet keys`: what keys a profile has, where they are, and how old. */
export async function keys(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      profile: { type: 'string' },
      json: { type: 'boolean', default: false },
      config: { type: 'string' },
    },
    strict: true,
  });
  if (positionals.length > 0) throw new UsageError(`Expected no arguments; got ${positionals.join(' ')}.`);
  const ports = rotationPorts(values, io);
  return runRotationCommand('keys', ports, io, async () => {
    const observed = await withRotationErrors(ports.config, () => observe(ports));
    const listing = listKeys(stateOf(ports, observed, new Date(io.now() * 1000)));
    io.stdout(values.json ? `${JSON.stringify(listing)}\n` : formatKeys(listing));
    return EXIT.ok;
  });
}

/** The listing as a table, then the history. */
export function formatKeys(listing: KeyListing): string {
  const header = ['ID', 'STATE', 'ALGORITHM', 'HASH', 'AGE', 'IN GROUP', 'FINGERPRINT'];
  const rows = listing.keys.map((key) => [
    key.id ?? '(not registered)',
    key.state,
    key.algorithm ?? '-',
    key.hash ?? '-',
    key.ageSeconds === undefined ? '-' : describeDuration(key.ageSeconds),
    key.inGroup ? 'yes' : 'no',
    key.fingerprint ?? '-',
  ]);
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => row[column]!.length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column]!))
      .join('  ')
      .trimEnd();
  const lines = [
    `profile ${listing.profile}, key group ${listing.keyGroupId ?? '(none yet)'}`,
    line(header),
    ...rows.map(line),
  ];
  if (listing.keys.length === 0) lines.push('(no keys: the rotator has not bootstrapped this profile)');
  for (const key of listing.keys) {
    if (key.kmsKeyArn !== undefined)
      lines.push(`  ${key.id ?? key.fingerprint}: signs through KMS key ${key.kmsKeyArn}`);
  }
  if (listing.signingStartsAt !== undefined) {
    lines.push(
      `no key is active yet: signing starts at about ${listing.signingStartsAt}, once the first key has reached CloudFront's edges (rotation.propagation)`,
    );
  }
  for (const key of listing.keys) {
    if (key.validUntil === undefined) continue;
    lines.push(
      `  ${key.id ?? key.fingerprint}: URLs it signed valid until ${key.validUntil}; removed from the group at ${key.removableAt}`,
    );
  }
  if (listing.otherGroupKeys.length > 0)
    lines.push('', `also in the key group, not created by Signet: ${listing.otherGroupKeys.join(', ')}`);
  if (listing.history.length > 0) {
    lines.push('', 'history:');
    for (const entry of listing.history) {
      const how =
        entry.revokedAt !== undefined ? `revoked ${entry.revokedAt}` : `removed ${entry.removedAt ?? '?'}`;
      const valid = entry.validUntil === undefined ? '' : `  last URL valid until ${entry.validUntil}`;
      lines.push(
        `  ${entry.id ?? '(no id)'}  ${how}  active ${entry.activatedAt ?? 'never'} .. ${entry.retiredAt ?? '-'}${valid}  ${entry.fingerprint}`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}
