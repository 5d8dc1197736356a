import { createHash } from 'node:crypto';
import type { Finding } from '../doctor/findings.ts';
import type { RingKey } from '../keys/ring.ts';
import { activationWaitSeconds, boundsOfProfile, validitySeconds } from '../rotation/bounds.ts';
import { type KeyListingRow, listKeys } from '../rotation/inventory.ts';
import { planRotation, rotationDueAt } from '../rotation/plan.ts';
import {
  countAccountKeys,
  describeAccountKeys,
  MAX_KEYS_PER_GROUP,
  publicKeyQuotaOf,
} from '../rotation/quotas.ts';
import type { RotationState } from '../rotation/state.ts';

// The data behind `signet status` (docs/operators.md, "The status page"): what `signet keys` lists,
// what the planner would do next, the key group and account quotas, and doctor's findings, as one
// JSON document. Built only from named fields: a ring key's private key is never copied.

/** Where a key is in its life, as the timeline draws it. `removed` and `revoked` keys left the ring. */
export type StatusKeyState = 'pending' | 'active' | 'retiring' | 'orphan' | 'removed' | 'revoked';

/** One key on the timeline: a ring key, an orphan, or a key of the ring's history. */
export interface StatusKey {
  readonly id: string | null;
  readonly fingerprint: string | null;
  readonly state: StatusKeyState;
  readonly algorithm: string | null;
  /** Its CloudFront public key's name and comment, when CloudFront still has it. */
  readonly name: string | null;
  readonly comment: string | null;
  readonly inGroup: boolean;
  readonly registered: boolean;
  readonly createdAt: string | null;
  readonly trustedAt: string | null;
  /** A trusted pending key: when its propagation wait ends and the rotator's next run activates it. */
  readonly activatesAt: string | null;
  readonly activatedAt: string | null;
  /** The active key: when the rotator introduces its successor (activation + rotation.rotateEvery). */
  readonly rotationDueAt: string | null;
  readonly retiredAt: string | null;
  /** The last instant anything it signed can be valid (its recorded bounds); null while it still signs. */
  readonly validUntil: string | null;
  /** A retiring key: when the rotator takes it out of the key group. */
  readonly removableAt: string | null;
  readonly removedAt: string | null;
  readonly revokedAt: string | null;
  /** Seconds a URL can outlive the key's last signature (maxStale + ttl.max + clockSkew, as recorded). */
  readonly validitySeconds: number | null;
  /** The KMS key it signs (or signed) through; null for a key with its private key in the ring. */
  readonly kms: StatusKms | null;
}

/**
 * The KMS key behind a key of a `signer: kms` ring (or one that left it), as KMS describes it,
 * read-only (DescribeKey). `state`: KMS's key state (`Enabled`, `Disabled`, `PendingDeletion`, …),
 * `missing` (deleted), `unreadable` (not allowed), or null when KMS was not asked.
 */
export interface StatusKms {
  readonly arn: string;
  readonly state: string | null;
  /** A key pending deletion: when KMS deletes it (until then `aws kms cancel-key-deletion` undoes it). */
  readonly deletionDate: string | null;
}

/** The next thing the rotator will do for the profile. */
export interface StatusNext {
  /** The planner's action kind (`activate`, `remove`, `introduce`, …), or `blocked`. */
  readonly kind: string;
  readonly keyId: string | null;
  /** When it falls due; null when it is due now (the rotator's next run does it) or blocked. */
  readonly at: string | null;
  readonly description: string;
  /** A blocked rotation: why, in the planner's words. */
  readonly blocked: { readonly reason: string; readonly message: string } | null;
}

/** A key group slot: which key fills it, and in what state. */
export interface StatusSlot {
  readonly keyId: string;
  readonly state: StatusKeyState | 'other';
  readonly name: string | null;
  readonly comment: string | null;
}

/** The `GET /status.json` document. */
export interface StatusDocument {
  readonly schema: 'signet.status/1';
  /** Changes whenever anything but `generatedAt` does: the page fetches a new rendering then. */
  readonly version: string;
  readonly generatedAt: string;
  readonly profile: string;
  readonly stage: string | null;
  /** Where it reads from: the sandbox's endpoints or AWS (never credentials). */
  readonly source: string;
  readonly keyGroup: { readonly id: string; readonly name: string | null } | null;
  readonly distributionId: string | null;
  readonly timings: {
    readonly rotateEvery: number;
    readonly propagation: number;
    /** The propagation wait activations honour now (the longest recorded one without a canary). */
    readonly activationWait: number;
    readonly ttlMax: number;
    readonly maxStale: number;
    readonly clockSkew: number;
    readonly removeAfter: number;
    readonly canary: boolean;
  };
  readonly activeKeyId: string | null;
  readonly keys: readonly StatusKey[];
  readonly next: StatusNext;
  readonly gauges: {
    readonly group: { readonly used: number; readonly max: number; readonly slots: readonly StatusSlot[] };
    readonly account: {
      readonly used: number;
      readonly max: number;
      /** `local 2, other 0`: which stage holds how many. */
      readonly summary: string;
      readonly byStage: readonly { readonly stage: string; readonly count: number }[];
      readonly unstaged: number;
      readonly other: number;
    };
  };
  readonly findings: readonly Pick<Finding, 'severity' | 'code' | 'keyId' | 'message' | 'remedy'>[];
  /** How often the page asks for changes, in seconds. */
  readonly pollSeconds: number;
}

/** How many keys that left the ring the timeline shows (the most recent). */
export const HISTORY_SHOWN = 6;

/** What {@link buildStatus} reads. */
export interface StatusInput {
  readonly state: RotationState;
  /** Doctor's findings for the profile and the account. */
  readonly findings: readonly Finding[];
  readonly source: string;
  readonly pollSeconds: number;
  /** The ring could not be read (missing secret, invalid document): the next step is blocked on it. */
  readonly ringProblem?: string;
  /** What KMS said about the KMS keys the ring and its history name, by ARN (read-only). */
  readonly kmsKeys?: ReadonlyMap<string, Omit<StatusKms, 'arn'>>;
}

/** The status document of one observed state. Pure: times count from `state.now`. */
export function buildStatus(input: StatusInput): StatusDocument {
  const { state } = input;
  const { ring, group, publicKeys, profile, profileName, now } = state;
  const listing = listKeys(state);
  const registered = new Map(publicKeys.map((key) => [key.id, key]));
  const wait = ring === undefined ? profile.rotation.propagation : activationWaitSeconds(ring, profile);
  const ringKey = (row: KeyListingRow): RingKey | undefined =>
    ring?.keys.find((key) => key.fingerprint === row.fingerprint && row.state !== 'orphan');
  const kmsOf = (arn: string | undefined): StatusKms | null =>
    arn === undefined ? null : { arn, state: null, deletionDate: null, ...input.kmsKeys?.get(arn) };
  const keys: StatusKey[] = listing.keys.map((row) => {
    const key = ringKey(row);
    const cloudfront = row.id === undefined ? undefined : registered.get(row.id);
    const activatesAt =
      row.state === 'pending' && row.trustedAt !== undefined ? plus(row.trustedAt, wait) : null;
    return {
      id: row.id ?? null,
      fingerprint: row.fingerprint ?? null,
      state: row.state,
      algorithm: row.algorithm ?? null,
      name: cloudfront?.name ?? null,
      comment: cloudfront?.comment ?? null,
      inGroup: row.inGroup,
      registered: row.registered,
      createdAt: row.createdAt ?? null,
      trustedAt: row.trustedAt ?? null,
      activatesAt,
      activatedAt: row.activatedAt ?? null,
      rotationDueAt:
        row.state === 'active' && key !== undefined ? rotationDueAt(key, profile).toISOString() : null,
      retiredAt: row.retiredAt ?? null,
      validUntil: row.validUntil ?? null,
      removableAt: row.removableAt ?? null,
      removedAt: null,
      revokedAt: null,
      validitySeconds: row.bounds === undefined ? null : validitySeconds(row.bounds),
      kms: kmsOf(key?.kmsKeyArn),
    };
  });
  const history = [...listing.history]
    .sort((a, b) => lastTime(b).localeCompare(lastTime(a)))
    .slice(0, HISTORY_SHOWN)
    .map(
      (entry): StatusKey => ({
        id: entry.id ?? null,
        fingerprint: entry.fingerprint,
        state: entry.revokedAt !== undefined ? 'revoked' : 'removed',
        algorithm: null,
        name: null,
        comment: null,
        inGroup: entry.id !== undefined && (group?.items ?? []).includes(entry.id),
        registered: entry.id !== undefined && registered.has(entry.id),
        createdAt: null,
        trustedAt: null,
        activatesAt: null,
        activatedAt: entry.activatedAt ?? null,
        rotationDueAt: null,
        retiredAt: entry.retiredAt ?? null,
        validUntil: entry.validUntil ?? null,
        removableAt: null,
        removedAt: entry.removedAt ?? null,
        revokedAt: entry.revokedAt ?? null,
        validitySeconds: null,
        kms: kmsOf(entry.kmsKeyArn),
      }),
    );
  const count = countAccountKeys(publicKeys, state.keyGroups, [
    {
      stage: profile.stage,
      secretId: profile.keyRing.secretId,
      keyIds: (ring?.keys ?? []).flatMap((key) => (key.id === undefined ? [] : [key.id])),
    },
  ]);
  const stateOfId = new Map(keys.flatMap((key) => (key.id === null ? [] : [[key.id, key.state] as const])));
  const slots: StatusSlot[] = (group?.items ?? []).map((id) => ({
    keyId: id,
    state: stateOfId.get(id) ?? 'other',
    name: registered.get(id)?.name ?? null,
    comment: registered.get(id)?.comment ?? null,
  }));
  const bounds = boundsOfProfile(profile);
  const body = {
    schema: 'signet.status/1' as const,
    profile: profileName,
    stage: profile.stage ?? null,
    source: input.source,
    keyGroup:
      listing.keyGroupId === undefined
        ? null
        : { id: listing.keyGroupId, name: group?.id === listing.keyGroupId ? group.name : null },
    distributionId: profile.distributionId ?? null,
    timings: {
      rotateEvery: profile.rotation.rotateEvery,
      propagation: profile.rotation.propagation,
      activationWait: wait,
      ttlMax: bounds.ttlMax,
      maxStale: bounds.maxStale,
      clockSkew: bounds.clockSkew,
      removeAfter: profile.rotation.removeAfter ?? 0,
      canary: profile.rotation.canary !== undefined,
    },
    activeKeyId: keys.find((key) => key.state === 'active')?.id ?? null,
    keys: [...keys, ...history],
    next:
      input.ringProblem === undefined
        ? nextOf(state, keys)
        : {
            kind: 'blocked',
            keyId: null,
            at: null,
            description: 'rotation blocked (key ring unreadable)',
            blocked: { reason: 'ring-unreadable', message: input.ringProblem },
          },
    gauges: {
      group: { used: slots.length, max: MAX_KEYS_PER_GROUP, slots },
      account: {
        used: count.total,
        max: publicKeyQuotaOf(profile),
        summary: describeAccountKeys(count),
        byStage: count.byStage,
        unstaged: count.unstaged,
        other: count.other,
      },
    },
    findings: input.findings.map(({ severity, code, keyId, message, remedy }) => ({
      severity,
      code,
      keyId,
      message,
      remedy,
    })),
    pollSeconds: input.pollSeconds,
  };
  const version = createHash('sha256').update(JSON.stringify(body)).digest('base64url').slice(0, 16);
  return { ...body, version, generatedAt: now.toISOString() };
}

/** The planner's next action, with when it falls due (the earliest scheduled one when none is due now). */
function nextOf(state: RotationState, keys: readonly StatusKey[]): StatusNext {
  const action = planRotation(state);
  if (action.kind === 'blocked') {
    return {
      kind: 'blocked',
      keyId: null,
      at: null,
      description: `rotation blocked (${action.reason})`,
      blocked: { reason: action.reason, message: action.message },
    };
  }
  if (action.kind !== 'none') {
    const keyId = 'keyId' in action ? action.keyId : null;
    return {
      kind: action.kind,
      keyId,
      at: null,
      description: `${DUE_NOW[action.kind] ?? action.kind}: due now (the rotator's next run does it)`,
      blocked: null,
    };
  }
  const scheduled = keys.flatMap(
    (key): { kind: string; keyId: string | null; at: string; what: string }[] => {
      if (key.activatesAt !== null)
        return [{ kind: 'activate', keyId: key.id, at: key.activatesAt, what: 'activate the pending key' }];
      if (key.removableAt !== null)
        return [
          {
            kind: 'remove',
            keyId: key.id,
            at: key.removableAt,
            what: 'remove the retiring key from the group',
          },
        ];
      if (key.rotationDueAt !== null && !keys.some((other) => other.state === 'pending'))
        return [{ kind: 'introduce', keyId: null, at: key.rotationDueAt, what: 'introduce a new key' }];
      return [];
    },
  );
  const first = scheduled.sort((a, b) => a.at.localeCompare(b.at))[0];
  if (first === undefined) {
    return { kind: 'none', keyId: null, at: null, description: 'nothing scheduled', blocked: null };
  }
  return {
    kind: first.kind,
    keyId: first.keyId,
    at: first.at,
    description: `${first.what}${first.keyId === null ? '' : ` ${first.keyId}`}`,
    blocked: null,
  };
}

const DUE_NOW: Readonly<Record<string, string>> = {
  bootstrap: 'bootstrap the profile',
  introduce: 'introduce a new key',
  'register-pending': 'register the pending key in CloudFront',
  'adopt-orphan': 'adopt the pending key CloudFront already has',
  'trust-pending': 'add the pending key to the key group',
  activate: 'activate the pending key',
  'record-bounds': 'record the signing bounds of the current config',
  remove: 'remove the retiring key',
  'delete-orphan': 'delete an orphan public key',
};

function plus(iso: string, seconds: number): string {
  return new Date(Date.parse(iso) + seconds * 1000).toISOString();
}

function lastTime(entry: {
  removedAt?: string | undefined;
  revokedAt?: string | undefined;
  retiredAt?: string | undefined;
}): string {
  return entry.revokedAt ?? entry.removedAt ?? entry.retiredAt ?? '';
}
