import type { HistoryEntry } from '../keys/ring.ts';

/**
 * How long the ring keeps a key in its history after the last URL or cookie it signed expired
 * (`validUntil`; for older entries, when it left): long enough for `signet explain` to name a
 * year-old key as this profile's, short enough that years of weekly rotations keep the ring far
 * under Secrets Manager's 64 KB limit (docs/design.md, "The key ring document").
 */
export const HISTORY_RETENTION_SECONDS = 400 * 86_400;

/** When an entry may be dropped: its recorded bound (else when it left) plus the retention. */
function expiresAt(entry: HistoryEntry): number {
  const anchor = entry.validUntil ?? entry.removedAt ?? entry.revokedAt;
  return anchor === undefined
    ? Number.POSITIVE_INFINITY
    : Date.parse(anchor) + HISTORY_RETENTION_SECONDS * 1000;
}

/** The history with `entry` appended and the entries past their retention dropped. */
export function appendHistory(
  history: readonly HistoryEntry[],
  entry: HistoryEntry,
  now: Date,
): HistoryEntry[] {
  return [...history.filter((kept) => expiresAt(kept) > now.getTime()), entry];
}
