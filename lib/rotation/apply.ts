import type { Profile } from '../config/schema.ts';
import { ringKeyPublicKey } from '../keys/kms.ts';
import { type HistoryEntry, KEY_RING_SCHEMA, type KeyRing, type RingKey } from '../keys/ring.ts';
import type { KeyRingStore, VersionedKeyRing } from '../keys/store.ts';
import { defaultHashFor, parseSigningKey, publicKeyPem } from '../signing/index.ts';
import { activationWaitSeconds, boundsOfProfile, effectiveBounds } from './bounds.ts';
import { RotationError } from './errors.ts';
import { appendHistory } from './history.ts';
import { generateKeyPair as defaultGenerateKeyPair, type GenerateKeyPair } from './keygen.ts';
import { KMS_DELETION_WINDOW_DAYS, type KmsKeyPort, newKmsRingKey } from './kms-keys.ts';
import { callerReferenceFor, keyGroupNameFor, publicKeyCommentFor, publicKeyNameFor } from './names.ts';
import { keyGroupNotOursMessage } from './ownership.ts';
import type { RotationAction } from './plan.ts';
import {
  type KeyGroupRegistry,
  type ListedKeyGroup,
  type RegisteredKeyGroup,
  type RegisteredPublicKey,
  RegistryConflictError,
  RegistryInUseError,
  RegistryNotFoundError,
} from './registry.ts';
import { findKeyGroup, retryOnStaleETag } from './retry.ts';

/** What a run read before planning: the applier works from exactly this. */
export interface ObservedState {
  readonly versioned: VersionedKeyRing | undefined;
  readonly group: RegisteredKeyGroup | undefined;
  readonly publicKeys: readonly RegisteredPublicKey[];
  /** Every key group of the account, when read: tells other groups' keys from this ring's. */
  readonly keyGroups?: readonly ListedKeyGroup[];
}

/** One change the applier made durable. */
export interface Commit {
  /** What changed: the ring's transition name (`activate:<fingerprint>:<time>`), or a CloudFront change. */
  readonly transition: string;
  /** The step: a phase (`bootstrap`, `introduce`, `activate`, `remove`) or a repair (`trust`, `delete-orphan`). */
  readonly step:
    | 'bootstrap'
    | 'introduce'
    | 'trust'
    | 'activate'
    | 'remove'
    | 'delete-orphan'
    | 'revoke'
    | 'record-bounds'
    | 'record-incidents';
  readonly keyId?: string;
  readonly keyFingerprint?: string;
  /** The ring version written, when the change was a ring write. */
  readonly ringVersion?: string;
}

/** What {@link applyAction} needs besides the action. */
export interface ApplyContext {
  readonly profileName: string;
  readonly profile: Profile;
  readonly store: KeyRingStore;
  readonly registry: KeyGroupRegistry;
  /** The run's clock reading: every timestamp the action writes. */
  readonly now: Date;
  readonly generateKeyPair: GenerateKeyPair;
  /** KMS, for `signer: kms` profiles: creates their keys and schedules removed ones for deletion. */
  readonly kms?: KmsKeyPort | undefined;
  /** Called after each change is durable (a ring save, a group change, a deletion). */
  readonly onCommit: (commit: Commit) => void;
  /**
   * Names this run in every ring transition. Two concurrent runs may compute byte-identical rings
   * (same plan, same clock reading); distinct transition names keep them two writes, so the ring's
   * compare-and-swap lets exactly one win instead of treating the second as a retry of the first.
   */
  readonly runId: string;
  /** How often a key group update is re-read and retried on `PreconditionFailed`. Default {@link ETAG_ATTEMPTS}. */
  readonly groupUpdateAttempts?: number;
}

/** What {@link createApplyContext} takes: the ports and settings of a run (rotate or revoke). */
export interface ApplyContextOptions {
  readonly profileName: string;
  readonly profile: Profile;
  readonly store: KeyRingStore;
  readonly registry: KeyGroupRegistry;
  /** Default: node:crypto (ECDSA P-256 or RSA-2048, as `profile.algorithm` says). */
  readonly generateKeyPair?: GenerateKeyPair | undefined;
  /** Required for `signer: kms` profiles (lib/rotation/kms-keys.ts). */
  readonly kms?: KmsKeyPort | undefined;
}

/** The applier's context for one planning attempt of a run: its clock reading, its id, its commit log. */
export function createApplyContext(
  options: ApplyContextOptions,
  now: Date,
  runId: string,
  onCommit: (commit: Commit) => void,
): ApplyContext {
  return {
    profileName: options.profileName,
    profile: options.profile,
    store: options.store,
    registry: options.registry,
    now,
    runId,
    generateKeyPair: options.generateKeyPair ?? defaultGenerateKeyPair,
    kms: options.kms,
    onCommit,
  };
}

/**
 * Carries out one planned action through the ports. Order is what makes a crash at any point safe
 * (docs/design.md, "Rotation"): a private key is written to the ring before its public key exists; a key leaves the
 * group and CloudFront before it leaves the ring. Every step is idempotent given the state a rerun
 * reads, so a rerun after a crash finishes the work. Throws the ports' errors; a
 * `KeyRingConflictError` or `RegistryConflictError` means: re-read and re-plan.
 */
export async function applyAction(
  action: RotationAction,
  observed: ObservedState,
  context: ApplyContext,
): Promise<void> {
  const ring = observed.versioned?.ring;
  const version = observed.versioned?.version;
  switch (action.kind) {
    case 'bootstrap': {
      const key = await newKey(context);
      const fresh: KeyRing = { schema: KEY_RING_SCHEMA, keys: [key], history: [] };
      const written = await save(context, fresh, undefined, 'bootstrap', key.fingerprint);
      await register(context, fresh, written, key.fingerprint, undefined, observed.group);
      return;
    }
    case 'introduce': {
      const current = required(ring, action);
      const key = await newKey(context);
      const next: KeyRing = { ...current, keys: [...current.keys, key] };
      const written = await save(context, next, version, 'introduce', key.fingerprint);
      await register(context, next, written, key.fingerprint, undefined, observed.group);
      return;
    }
    case 'register-pending':
      await register(
        context,
        required(ring, action),
        version,
        action.keyFingerprint,
        undefined,
        observed.group,
      );
      return;
    case 'adopt-orphan':
    case 'trust-pending':
      await register(
        context,
        required(ring, action),
        version,
        action.keyFingerprint,
        action.keyId,
        observed.group,
      );
      return;
    case 'record-bounds': {
      const current = required(ring, action);
      const raised = new Map(action.keys.map((entry) => [entry.fingerprint, entry.bounds]));
      const next: KeyRing = {
        ...current,
        keys: current.keys.map((key): RingKey => {
          const bounds = raised.get(key.fingerprint);
          return bounds === undefined ? key : { ...key, bounds };
        }),
      };
      const first = action.keys[0]?.fingerprint ?? 'none';
      await save(context, next, version, 'record-bounds', first);
      return;
    }
    case 'activate': {
      const current = required(ring, action);
      const iso = context.now.toISOString();
      const { profile } = context;
      const next: KeyRing = {
        ...current,
        keys: current.keys.map((key): RingKey => {
          // The activated key records the propagation wait it honoured, so a later change of
          // rotation.propagation never makes this activation look early (or late).
          if (key.fingerprint === action.keyFingerprint) {
            const bounds = {
              ...effectiveBounds(key, profile),
              propagation: activationWaitSeconds(current, profile),
            };
            return { ...key, state: 'active', activatedAt: iso, bounds };
          }
          if (key.state === 'active')
            return {
              ...key,
              state: 'retiring',
              retiredAt: iso,
              bounds: effectiveBounds(key, profile),
            };
          return key;
        }),
      };
      await save(context, next, version, 'activate', action.keyFingerprint, action.keyId);
      return;
    }
    case 'remove': {
      const current = required(ring, action);
      const key = current.keys.find((candidate) => candidate.fingerprint === action.keyFingerprint);
      if (key === undefined) throw stateChanged(action);
      await withdraw(context, observed.group, action.keyId);
      const entry: HistoryEntry = {
        id: action.keyId,
        fingerprint: key.fingerprint,
        ...(key.kmsKeyArn === undefined ? {} : { kmsKeyArn: key.kmsKeyArn }),
        ...(key.activatedAt === undefined ? {} : { activatedAt: key.activatedAt }),
        ...(key.retiredAt === undefined ? {} : { retiredAt: key.retiredAt }),
        removedAt: context.now.toISOString(),
        // The bound it was removed under (the planner's), so the past is judged by the configs in force then.
        validUntil: action.validUntil.toISOString(),
      };
      const next: KeyRing = {
        ...current,
        keys: current.keys.filter((candidate) => candidate !== key),
        history: appendHistory(current.history, entry, context.now),
      };
      await save(context, next, version, 'remove', key.fingerprint, action.keyId);
      // After the ring write: a crash before this leaves a tagged KMS key no ring key names, which
      // the run's KMS sweep schedules (lib/rotation/kms-keys.ts). 30 days: a mistake can be undone.
      if (key.kmsKeyArn !== undefined)
        await requireKms(context).scheduleDeletion(key.kmsKeyArn, KMS_DELETION_WINDOW_DAYS);
      return;
    }
    case 'delete-orphan':
      await withdraw(context, action.inGroup ? observed.group : undefined, action.keyId);
      context.onCommit({
        transition: `delete-orphan:${action.keyId}:${context.now.toISOString()}`,
        step: 'delete-orphan',
        keyId: action.keyId,
      });
      return;
    case 'blocked':
    case 'none':
      return;
  }
}

/**
 * A new pending ring key: generated here (`secrets-manager`), or created in KMS (`kms`), where a
 * crash before the ring write leaves a tagged KMS key that a later run's sweep schedules for deletion.
 */
export async function newKey(context: ApplyContext): Promise<RingKey> {
  if (context.profile.signer !== 'kms') return newRingKey(context);
  return newKmsRingKey(requireKms(context), context.profile, context.profileName, context.now);
}

function requireKms(context: ApplyContext): KmsKeyPort {
  if (context.kms === undefined) {
    throw new RotationError(
      'ERR_ROTATION_KMS_MISSING',
      `Expected a KMS client for profile ${context.profileName} (signer: kms); the rotator was built without one.`,
    );
  }
  return context.kms;
}

/** Generates a key of the profile's algorithm and describes it as a pending ring key without id. */
export function newRingKey(context: ApplyContext): RingKey {
  const { algorithm } = context.profile;
  const pair = context.generateKeyPair(algorithm);
  const parsed = parseSigningKey(pair.privateKeyPem);
  if (parsed.algorithm !== algorithm) {
    throw new RotationError(
      'ERR_ROTATION_KEY_MISMATCH',
      `Expected a generated ${algorithm} key; got ${parsed.algorithm}.`,
    );
  }
  return {
    algorithm,
    hash: context.profile.hash ?? defaultHashFor(algorithm),
    privateKey: pair.privateKeyPem,
    fingerprint: parsed.fingerprint,
    state: 'pending',
    createdAt: context.now.toISOString(),
    bounds: boundsOfProfile(context.profile),
  };
}

/**
 * Makes a pending ring key trusted: its public key exists (created, or the one a crashed run made),
 * the group holds it (the group is created, or adopted by name, if the ring has none yet), and the
 * ring records its id, the group's id and `trustedAt`. `trustedAt` is written only after the group
 * change succeeded, so propagation is never counted from before the key was in the group.
 */
async function register(
  context: ApplyContext,
  ring: KeyRing,
  version: string | undefined,
  fingerprint: string,
  knownKeyId: string | undefined,
  group: RegisteredKeyGroup | undefined,
): Promise<void> {
  const key = ring.keys.find((candidate) => candidate.fingerprint === fingerprint);
  if (key === undefined) throw stateChanged({ kind: 'register-pending' });
  let keyId = knownKeyId;
  if (keyId === undefined) {
    const publicKey = ringKeyPublicKey(key);
    // The name and CallerReference come from the fingerprint: a retry adopts the key it made before.
    const created = await context.registry.createPublicKey({
      name: publicKeyNameFor(context.profileName, fingerprint),
      callerReference: callerReferenceFor(fingerprint),
      encodedKey: publicKeyPem(publicKey),
      // Names the ring: the profile name alone does not tell two stages' keys apart (docs/design.md, "Contracts").
      comment: publicKeyCommentFor(context.profile.keyRing.secretId, context.profile.stage),
    });
    keyId = created.id;
  }
  const added = await ensureInGroup(context, group, keyId, ring);
  const next: KeyRing = {
    ...ring,
    keyGroupId: added.id,
    keys: ring.keys.map((candidate) =>
      candidate === key ? { ...candidate, id: keyId, trustedAt: context.now.toISOString() } : candidate,
    ),
  };
  await save(context, next, version, 'trust', fingerprint, keyId);
}

async function ensureInGroup(
  context: ApplyContext,
  group: RegisteredKeyGroup | undefined,
  keyId: string,
  ring: KeyRing,
): Promise<RegisteredKeyGroup> {
  let target = group;
  if (target === undefined) {
    const name = keyGroupNameFor(context.profileName, context.profile.stage);
    try {
      const created = await context.registry.createKeyGroup(name, [keyId]);
      context.onCommit({ transition: `create-key-group:${created.id}`, step: 'trust', keyId });
      return created;
    } catch (error) {
      // A concurrent run of this ring created it first: adopt it. But only if it holds this key or
      // another of the ring's: another stage or stack may have created a group of the same name
      // meanwhile, and joining it would make each rotator delete the other's keys.
      if (!(error instanceof RegistryConflictError)) throw error;
      target = await context.registry.findKeyGroupByName(name);
      if (target === undefined) throw error;
      const ids = new Set([keyId, ...ring.keys.flatMap((key) => (key.id === undefined ? [] : [key.id]))]);
      if (!target.items.some((id) => ids.has(id))) {
        throw new RotationError(
          'ERR_ROTATION_KEY_GROUP_NOT_OURS',
          keyGroupNotOursMessage(context.profileName, target.id, target.name),
          { cause: error },
        );
      }
    }
  }
  return updateGroup(context, target, (items) => (items.includes(keyId) ? undefined : [...items, keyId]));
}

/**
 * Takes a key out of the group (if a group is given and holds it; If-Match, re-read and retry on
 * PreconditionFailed), then deletes its public key (already gone is fine), after taking it out of
 * any other group still holding it. Used by `remove`, `delete-orphan` and `revokeKey` (`revoking`:
 * a key left in a group it is the last key of is an error, not a leftover).
 */
export async function withdraw(
  context: ApplyContext,
  group: RegisteredKeyGroup | undefined,
  keyId: string,
  options: { readonly revoking?: boolean } = {},
) {
  const without = (items: readonly string[]) =>
    items.includes(keyId) ? items.filter((item) => item !== keyId) : undefined;
  if (group !== undefined) await updateGroup(context, group, without);
  try {
    await context.registry.deletePublicKey(keyId);
  } catch (error) {
    // Another group still holds it: the group the ring moved away from keeps the ring's keys until
    // each is withdrawn (lib/rotation/move-key-group.ts). Nothing the key signed is valid any more,
    // so it leaves every group that holds it, then goes; except from a group it is the last key of
    // (CloudFront keeps no empty group): there it stays, trusted for nothing the ring still signs,
    // until the operator deletes that group (docs/operators.md, "Changing the key group").
    if (!(error instanceof RegistryInUseError)) throw error;
    const holders = (await context.registry.listKeyGroups()).filter((other) => other.items.includes(keyId));
    if (holders.length === 0) throw error;
    let kept: string | undefined;
    for (const holder of holders) {
      const current = await findKeyGroup(context.registry, holder.id);
      if (current === undefined) continue;
      if (current.items.length <= 1) kept = current.id;
      else await updateGroup(context, current, without);
    }
    // A revocation must stop every edge trusting the key: it cannot leave it behind anywhere.
    if (kept !== undefined && options.revoking === true) {
      throw new RegistryInUseError(
        `Public key ${keyId} is the last key of key group ${kept}, and CloudFront keeps no empty key group, so ` +
          `every distribution trusting ${kept} still accepts it. Add another key to ${kept}, or take ${kept} out of ` +
          'every distribution and delete it; then revoke again.',
        { cause: error },
      );
    }
    if (kept === undefined) await context.registry.deletePublicKey(keyId);
  }
}

/**
 * Applies `change` to the group's items with If-Match; on PreconditionFailed re-reads the group and
 * recomputes (another writer may have made the change already). `change` answers `undefined` when
 * there is nothing to do.
 */
async function updateGroup(
  context: ApplyContext,
  group: RegisteredKeyGroup,
  change: (items: readonly string[]) => readonly string[] | undefined,
): Promise<RegisteredKeyGroup> {
  const updated = await retryOnStaleETag(
    context.registry,
    group,
    async (current) => {
      const items = change(current.items);
      return items === undefined ? current : context.registry.updateKeyGroup(current, items);
    },
    context.groupUpdateAttempts,
  );
  if (updated === undefined) {
    throw new RegistryNotFoundError(`Key group ${group.id} was deleted while this run was changing it.`);
  }
  return updated;
}

/**
 * Saves a ring with compare-and-swap (throws `KeyRingConflictError` when `previousVersion` is no
 * longer current) and reports the commit. The transition name carries the run's time and id: the same
 * change retried from the same version by the same run is a no-op write, while another run writing
 * other content is a new version instead of a token clash.
 */
export async function save(
  context: ApplyContext,
  ring: KeyRing,
  previousVersion: string | undefined,
  step: Exclude<Commit['step'], 'delete-orphan'>,
  fingerprint: string,
  keyId?: string,
): Promise<string> {
  const transition = `${step}:${fingerprint}:${context.now.toISOString()}:${context.runId}`;
  const ringVersion = await context.store.save(ring, previousVersion, transition);
  context.onCommit({
    transition,
    step,
    keyFingerprint: fingerprint,
    ringVersion,
    ...(keyId === undefined ? {} : { keyId }),
  });
  return ringVersion;
}

function required(ring: KeyRing | undefined, action: RotationAction): KeyRing {
  if (ring === undefined) throw stateChanged(action);
  return ring;
}

function stateChanged(action: Pick<RotationAction, 'kind'>): RotationError {
  return new RotationError(
    'ERR_ROTATION_STATE_CHANGED',
    `Expected the key ring the ${action.kind} action was planned from; it is not there.`,
  );
}
