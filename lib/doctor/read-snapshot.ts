import type { Config, Profile } from '../config/index.ts';
import { type KeyRing, KeyRingError } from '../keys/ring.ts';
import { KeyRingUnavailableError, type VersionedKeyRing } from '../keys/store.ts';
import type { KmsKeyPort } from '../rotation/kms-keys.ts';
import { type KeyGroupRegistry, RegistryNotFoundError } from '../rotation/registry.ts';
import type { DistributionReader } from './distribution.ts';
import type {
  DistributionRead,
  DoctorSnapshot,
  KeyGroupRead,
  KmsKeyRead,
  ProfileSnapshot,
  RingRead,
} from './snapshot.ts';

/** Where one profile's key ring is read from. */
export interface RingSource {
  /** The ring (AWSCURRENT); `undefined` when the secret has no value yet. Throws `KeyRingError` when invalid. */
  load(): Promise<VersionedKeyRing | undefined>;
  /** The `keys[].id` values of the last document read, whether or not it was a valid ring. */
  keyIdsOfLastDocument?(): readonly string[];
}

/** The ports `readSnapshot` reads through (over the real SDK clients in `signet doctor`). */
export interface DoctorSources {
  ringSourceFor(profileName: string, profile: Profile): RingSource;
  readonly registry: Pick<KeyGroupRegistry, 'getKeyGroup' | 'listPublicKeys'> &
    Partial<Pick<KeyGroupRegistry, 'listKeyGroups'>>;
  readonly distributions: DistributionReader;
  /** KMS, to judge the keys of `signer: kms` rings (their state and public key); omitted: not judged. */
  readonly kms?: Pick<KmsKeyPort, 'describe' | 'publicKey'> | undefined;
}

/**
 * Reads what `diagnose` judges: each named profile's ring, key group and distribution, and every
 * public key of the account. What is missing or invalid becomes part of the snapshot; any other
 * failure (endpoint unreachable, credentials refused) is thrown, since nothing can be judged then.
 */
export async function readSnapshot(
  config: Config,
  profileNames: readonly string[],
  sources: DoctorSources,
): Promise<DoctorSnapshot> {
  const publicKeys = await sources.registry.listPublicKeys();
  const keyGroups = await sources.registry.listKeyGroups?.();
  const profiles: ProfileSnapshot[] = [];
  for (const name of profileNames) {
    const profile = config.profiles[name];
    if (profile === undefined) continue;
    const ring = await readRing(sources.ringSourceFor(name, profile));
    const groupId = (ring.status === 'ok' ? ring.ring.keyGroupId : undefined) ?? profile.keyGroupId;
    const keyGroup = await readKeyGroup(sources, groupId);
    const distribution = await readDistribution(sources, profile.distributionId);
    const kmsKeys =
      ring.status === 'ok' && sources.kms !== undefined
        ? await readKmsKeys(sources.kms, ring.ring)
        : undefined;
    profiles.push({
      name,
      profile,
      ring,
      keyGroup,
      distribution,
      ...(kmsKeys === undefined ? {} : { kmsKeys }),
    });
  }
  return {
    profiles,
    publicKeys,
    ...(keyGroups === undefined ? {} : { keyGroups }),
    configuredProfiles: Object.keys(config.profiles).length,
    ...(config.api?.publicOrigin === undefined ? {} : { apiPublicOrigin: config.api.publicOrigin }),
  };
}

/** Reads the state and public key of every KMS key a ring names; a refused read is recorded, not thrown. */
export async function readKmsKeys(
  kms: Pick<KmsKeyPort, 'describe' | 'publicKey'>,
  ring: KeyRing,
): Promise<KmsKeyRead[] | undefined> {
  const arns = ring.keys.flatMap((key) => (key.kmsKeyArn === undefined ? [] : [key.kmsKeyArn]));
  if (arns.length === 0) return undefined;
  return Promise.all(
    arns.map(async (arn): Promise<KmsKeyRead> => {
      try {
        const described = await kms.describe(arn);
        if (described === undefined) return { arn, status: 'missing' };
        const publicKeyPem = described.state === 'Enabled' ? await kms.publicKey(arn) : undefined;
        return {
          arn,
          status: 'ok',
          state: described.state,
          deletionDate: described.deletionDate,
          publicKeyPem,
        };
      } catch (error) {
        const name = (error as { name?: unknown }).name;
        return { arn, status: 'unreadable', message: `${String(name)}: ${(error as Error).message}` };
      }
    }),
  );
}

/** Reads one ring, turning "not there" and "not valid" into a {@link RingRead}. */
export async function readRing(source: RingSource): Promise<RingRead> {
  try {
    const loaded = await source.load();
    if (loaded === undefined) return { status: 'missing', message: 'has no value yet (not bootstrapped)' };
    return { status: 'ok', ring: loaded.ring };
  } catch (error) {
    if (error instanceof KeyRingError) {
      return { status: 'invalid', message: error.message, keyIds: source.keyIdsOfLastDocument?.() ?? [] };
    }
    if (error instanceof KeyRingUnavailableError && causeName(error) === 'ResourceNotFoundException') {
      return { status: 'missing', message: 'does not exist' };
    }
    throw error;
  }
}

async function readKeyGroup(sources: DoctorSources, id: string | undefined): Promise<KeyGroupRead> {
  if (id === undefined) return { status: 'unset' };
  try {
    return { status: 'ok', group: await sources.registry.getKeyGroup(id) };
  } catch (error) {
    if (error instanceof RegistryNotFoundError) return { status: 'missing', id };
    throw error;
  }
}

async function readDistribution(sources: DoctorSources, id: string | undefined): Promise<DistributionRead> {
  if (id === undefined) return { status: 'unset' };
  const distribution = await sources.distributions.getDistribution(id);
  return distribution === undefined ? { status: 'missing', id } : { status: 'ok', distribution };
}

/** The `keys[].id` strings of a ring document, read without validating it (never its private keys). */
export function keyIdsIn(text: string | undefined): string[] {
  if (text === undefined) return [];
  try {
    const keys = (JSON.parse(text) as { keys?: unknown }).keys;
    if (!Array.isArray(keys)) return [];
    return keys.flatMap((key) => {
      const id = (key as { id?: unknown } | null)?.id;
      return typeof id === 'string' ? [id] : [];
    });
  } catch {
    return [];
  }
}

function causeName(error: Error): string | undefined {
  const cause = error.cause as { name?: unknown } | undefined;
  return typeof cause?.name === 'string' ? cause.name : undefined;
}
