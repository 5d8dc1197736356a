import type { Profile } from '../config/schema.ts';
import type { KeyRing } from '../keys/ring.ts';
import type { ListedKeyGroup, RegisteredKeyGroup, RegisteredPublicKey } from './registry.ts';

/** What the rotator sees of one profile at one moment: the planner's whole input. */
export interface RotationState {
  /** The key ring (AWSCURRENT), or `undefined` before bootstrap. */
  readonly ring: KeyRing | undefined;
  /**
   * The key group as CloudFront reports it: the ring's, else the one to adopt (`adoptKeyGroupId`,
   * `profile.keyGroupId`, or the group named `signet-<stage>-<profile>`, or `signet-<profile>` from before names carried the stage); `undefined` when there is none.
   * A group found only by its name is this ring's only if it holds one of the ring's keys (see
   * {@link ownKeyGroup}): another stage or stack may use the same profile name.
   */
  readonly group: RegisteredKeyGroup | undefined;
  /** The key group the bootstrap was told to adopt (`adoptKeyGroupId`, the custom resource's), if any. */
  readonly adoptKeyGroupId?: string;
  /**
   * Every key group of the account (ListKeyGroups), to tell a key that another group holds from a
   * leftover. `undefined` when not read: then a key outside this ring's group that its history does
   * not know is left alone, since it may be in another group.
   */
  readonly keyGroups?: readonly ListedKeyGroup[];
  /** Every public key of the account (the 10-key quota is per account). */
  readonly publicKeys: readonly RegisteredPublicKey[];
  readonly now: Date;
  readonly profileName: string;
  readonly profile: Profile;
}
