// CloudFront's default quotas that bound rotation, in one place: the planner, config validation,
// doctor and the sandbox's CloudFront stand-in all read them from here (docs/design.md,
// "Contracts"). Both can be raised per account in Service Quotas; their current values are
// UNCONFIRMED beyond CloudFront's documented defaults.

import {
  profileOfSignetKeyName,
  ringTagFor,
  ringTagOf,
  stageOfComment,
  stageOfKeyGroupName,
} from './names.ts';
import type { ListedKeyGroup, RegisteredPublicKey } from './registry.ts';

/** CloudFront's default quota of public keys per key group (`TooManyPublicKeysInKeyGroup`). */
export const MAX_KEYS_PER_GROUP = 5;

/** CloudFront's default quota of public keys per account, all profiles and stages together (`TooManyPublicKeys`). */
export const MAX_PUBLIC_KEYS_PER_ACCOUNT = 10;

/**
 * The account's public key quota the planner, doctor and the status page count against: the
 * config's `aws.publicKeyQuota` (copied into each profile when the config is parsed) once the
 * operator raised it in Service Quotas, else CloudFront's default. Signet does not read Service
 * Quotas itself (docs/operators.md, "Several stages in one account"): a value set too high only means
 * CloudFront refuses the next key with `TooManyPublicKeys`, which the rotator reports as blocked.
 */
export function publicKeyQuotaOf(profile: { readonly publicKeyQuota?: number | undefined }): number {
  return profile.publicKeyQuota ?? MAX_PUBLIC_KEYS_PER_ACCOUNT;
}

/** One key ring whose keys count under its stage: what the planner or doctor knows of a ring it reads. */
export interface KeyRingOwner {
  /** The config's stage, when it names one. */
  readonly stage: string | undefined;
  /** The ring's secret id: public key comments name it (`ringTagFor`). */
  readonly secretId: string;
  /** The CloudFront ids of the ring's keys. */
  readonly keyIds: readonly string[];
}

/** How the account's public keys divide among stages (docs/operators.md, "Several stages in one account"). */
export interface AccountKeyCount {
  /** Every public key of the account, Signet's or not. */
  readonly total: number;
  /** Signet keys by the stage that holds them, stages in name order. */
  readonly byStage: readonly { readonly stage: string; readonly count: number }[];
  /** Signet keys whose stage nothing tells (made before names and comments carried the stage). */
  readonly unstaged: number;
  /** Public keys Signet did not make. */
  readonly other: number;
}

/**
 * Counts every public key of the account against the per-account quota and says which stage holds
 * each: the stage its comment names (keys made with a stage); else the stage of the ring that holds
 * it (by id or by the ring its comment names); else the stage in the name of the key group holding it
 * (`signet-<stage>-<profile>`). A key named like Signet's that none of these places is `unstaged`;
 * any other key is `other`. Pure.
 */
export function countAccountKeys(
  publicKeys: readonly RegisteredPublicKey[],
  keyGroups: readonly ListedKeyGroup[] | undefined,
  owners: readonly KeyRingOwner[],
): AccountKeyCount {
  const stages = new Map<string, number>();
  let unstaged = 0;
  let other = 0;
  for (const key of publicKeys) {
    const profile = profileOfSignetKeyName(key.name);
    const tag = ringTagOf(key.comment);
    const owner = owners.find(
      (candidate) =>
        candidate.keyIds.includes(key.id) || (tag !== undefined && ringTagFor(candidate.secretId) === tag),
    );
    const holder =
      profile === undefined ? undefined : keyGroups?.find((group) => group.items.includes(key.id));
    const stage =
      stageOfComment(key.comment) ??
      owner?.stage ??
      (holder === undefined || profile === undefined ? undefined : stageOfKeyGroupName(holder.name, profile));
    if (stage !== undefined) stages.set(stage, (stages.get(stage) ?? 0) + 1);
    else if (profile !== undefined || owner !== undefined) unstaged++;
    else other++;
  }
  const byStage = [...stages]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([stage, count]) => ({ stage, count }));
  return { total: publicKeys.length, byStage, unstaged, other };
}

/** `dev 4, prod 5, other 0` (with `unstaged N` when there are such keys). */
export function describeAccountKeys(count: AccountKeyCount): string {
  return [
    ...count.byStage.map(({ stage, count: n }) => `${stage} ${n}`),
    ...(count.unstaged > 0 ? [`unstaged ${count.unstaged}`] : []),
    `other ${count.other}`,
  ].join(', ');
}
