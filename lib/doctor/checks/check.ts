import type { Profile } from '../../config/index.ts';
import type { KeyRing } from '../../keys/ring.ts';
import { rotationDueAt } from '../../rotation/plan.ts';
import type { ListedKeyGroup, RegisteredKeyGroup, RegisteredPublicKey } from '../../rotation/registry.ts';
import type { RotationState } from '../../rotation/state.ts';
import type { Finding, FindingCode, Severity } from '../findings.ts';
import type { ProfileSnapshot } from '../snapshot.ts';

/**
 * What a check of one profile may read. Each check takes only the parts it needs (a `Pick` of
 * this), so its test builds no more than that; `diagnose` hands every check the whole of it.
 */
export interface CheckInput {
  /** The profile as read: its config, key ring, key group and distribution. */
  readonly snapshot: ProfileSnapshot;
  /** The clock: checks are pure and never read the time themselves. */
  readonly now: Date;
  /** Every public key of the account: the 10-key quota, and the ownership of Signet-named keys, are per account. */
  readonly publicKeys: readonly RegisteredPublicKey[];
  /** Every key group of the account, when they could be listed: tells another stage's key from a leftover. */
  readonly keyGroups?: readonly ListedKeyGroup[];
  /** The config's `api.publicOrigin`, when set: where browsers call the API. */
  readonly apiPublicOrigin?: string;
}

/** A check of one profile: a pure function from what was read to what is wrong with it. */
export type ProfileCheck = (input: CheckInput) => Finding[];

/** Builds a finding about one profile; the field order is the one `signet doctor --json` prints. */
export type Report = (
  severity: Severity,
  code: FindingCode,
  keyId: string | null,
  message: string,
  remedy: string,
) => Finding;

/** The {@link Report} of findings about the profile named `profileName`. */
export function reporterFor(profileName: string): Report {
  return (severity, code, keyId, message, remedy) => ({
    severity,
    code,
    profile: profileName,
    keyId,
    message,
    remedy,
  });
}

/** The ring, when it was read and is valid: most checks have nothing to judge otherwise. */
export function ringOf(snapshot: ProfileSnapshot): KeyRing | undefined {
  return snapshot.ring.status === 'ok' ? snapshot.ring.ring : undefined;
}

/** The key group, when the ring or the config names one and CloudFront has it. */
export function groupOf(snapshot: ProfileSnapshot): RegisteredKeyGroup | undefined {
  return snapshot.keyGroup.status === 'ok' ? snapshot.keyGroup.group : undefined;
}

/** The command that runs one rotation step for the profile: the remedy of most drift. */
export function rotateCommand(profileName: string): string {
  return `signet rotate --profile ${profileName}`;
}

/** The command that takes a key out of the ring and the key group now (docs/design.md, "Revocation"). */
export function revokeCommand(keyId: string, profileName: string): string {
  return `signet revoke ${keyId} --profile ${profileName} --yes`;
}

/**
 * What the rotator would see of this profile: the invariants and the ownership rules are the
 * rotator's own (docs/design.md, "Invariants"), so doctor judges with them rather than a copy.
 */
export function rotationStateOf(
  input: Pick<CheckInput, 'snapshot' | 'now' | 'publicKeys' | 'keyGroups'>,
  ring: KeyRing,
  group: RegisteredKeyGroup,
): RotationState {
  const { snapshot, now, publicKeys, keyGroups } = input;
  return {
    ring,
    group,
    publicKeys,
    now,
    profileName: snapshot.name,
    profile: snapshot.profile,
    ...(keyGroups === undefined ? {} : { keyGroups }),
  };
}

/**
 * Whether the profile's rotation is due now: no active key, or an active key past `rotateEvery`
 * and no pending one. A full key group or account blocks exactly such a run, which is what turns
 * their warnings into errors.
 */
export function rotationDue(ring: KeyRing, profile: Profile, now: Date): boolean {
  const active = ring.keys.find((key) => key.state === 'active');
  if (active === undefined) return true;
  if (ring.keys.some((key) => key.state === 'pending')) return false;
  return rotationDueAt(active, profile).getTime() <= now.getTime();
}
