import type { Profile } from '../config/index.ts';
import type { KeyRing } from '../keys/ring.ts';
import type { ListedKeyGroup, RegisteredKeyGroup, RegisteredPublicKey } from '../rotation/registry.ts';
import type { DistributionView } from './distribution.ts';

/** What reading a profile's key ring gave. */
export type RingRead =
  | { readonly status: 'ok'; readonly ring: KeyRing }
  /** The secret does not exist, or has no value yet (not bootstrapped). */
  | { readonly status: 'missing'; readonly message: string }
  /** The secret holds something that is not a valid ring. */
  | {
      readonly status: 'invalid';
      readonly message: string;
      /** Key ids found in the document anyway, to recognise a key group id misused as one. */
      readonly keyIds: readonly string[];
    };

/** What reading the profile's key group gave. */
export type KeyGroupRead =
  | { readonly status: 'ok'; readonly group: RegisteredKeyGroup }
  | { readonly status: 'missing'; readonly id: string }
  /** Neither the ring nor the config names a key group. */
  | { readonly status: 'unset' };

/** What reading the profile's distribution gave. */
export type DistributionRead =
  | { readonly status: 'ok'; readonly distribution: DistributionView }
  | { readonly status: 'missing'; readonly id: string }
  /** No `distributionId` in the profile's config: the trust check is skipped. */
  | { readonly status: 'unset' };

/** One profile as read from Secrets Manager and CloudFront. */
export interface ProfileSnapshot {
  readonly name: string;
  readonly profile: Profile;
  readonly ring: RingRead;
  readonly keyGroup: KeyGroupRead;
  readonly distribution: DistributionRead;
  /** The KMS keys the ring names (signer: kms), when the doctor could ask KMS. */
  readonly kmsKeys?: readonly KmsKeyRead[];
}

/** One KMS key as the doctor read it: its state, and its public key (SPKI PEM) while it is enabled. */
export type KmsKeyRead =
  | {
      readonly arn: string;
      readonly status: 'ok';
      readonly state: string;
      readonly deletionDate?: Date | undefined;
      readonly publicKeyPem?: string | undefined;
    }
  | { readonly arn: string; readonly status: 'missing' }
  | { readonly arn: string; readonly status: 'unreadable'; readonly message: string };

/** Everything `diagnose` looks at: read once, then judged without I/O. */
export interface DoctorSnapshot {
  readonly profiles: readonly ProfileSnapshot[];
  /** Every public key of the account (the 10-key quota is per account). */
  readonly publicKeys: readonly RegisteredPublicKey[];
  /**
   * Every key group of the account, when the registry could list them: tells a key of another
   * stage's group from a leftover of this ring's.
   */
  readonly keyGroups?: readonly ListedKeyGroup[];
  /** How many profiles the config has (each needs a free key slot to rotate), checked or not. */
  readonly configuredProfiles: number;
  /** The config's `api.publicOrigin`: where browsers call the API (the cookie topology checks). */
  readonly apiPublicOrigin?: string;
}
