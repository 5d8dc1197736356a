import type { Profile } from '../config/schema.ts';
import { localSigningKey, ringKeyPublicKey } from '../keys/kms.ts';
import type { RingKey } from '../keys/ring.ts';
import { type KeyAlgorithm, signUrl } from '../signing/index.ts';
import { RemoteSigner } from '../signing/remote.ts';

/**
 * Fetches a canary URL through the distribution (docs/design.md, "Rotation"). A port so the planner stays
 * pure and tests can answer for the edge; the default is {@link fetchCanaryProbe}.
 */
export interface CanaryProbe {
  /** Requests `url` and reports the HTTP status; a network failure may throw (it counts as a failure). */
  check(url: string): Promise<{ readonly status: number }>;
}

/** How long a canary URL stays valid: long enough for a slow edge, short enough to be worthless if leaked. */
export const CANARY_TTL_SECONDS = 60;

/** How long the default probe waits for the edge before calling the canary failed. */
const CANARY_TIMEOUT_MS = 10_000;

/** The default {@link CanaryProbe}: a GET with the global `fetch`, redirects not followed, body discarded. */
export const fetchCanaryProbe: CanaryProbe = {
  async check(url) {
    // A redirect (to a login page, say) is not the object: only the edge's own 200 counts.
    const response = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(CANARY_TIMEOUT_MS) });
    await response.body?.cancel();
    return { status: response.status };
  },
};

/** What a canary check found. `url` is the canary's unsigned URL: the signed one is never logged. */
export interface CanaryVerdict {
  readonly ok: boolean;
  readonly url: string;
  /** The edge's status; 0 when the request itself failed. */
  readonly status: number;
  /** Why it failed, for the log line and the blocked action's message. */
  readonly reason?: string;
}

/**
 * Fetches `profile.rotation.canary.url` signed with `key` (canned policy, {@link CANARY_TTL_SECONDS}
 * plus the clock skew) through `probe`. Only a 200 means the edges trust the key: a 403 InvalidKey is
 * exactly what users would get if the key were activated now.
 */
export async function checkCanary(input: {
  readonly profile: Profile;
  readonly key: RingKey & { readonly id: string };
  readonly now: Date;
  readonly probe: CanaryProbe;
  /** Signs a SHA-256 digest with a KMS key (`signer: kms` profiles: the pending key is in KMS). */
  readonly kmsSign?:
    | ((kmsKeyArn: string, algorithm: KeyAlgorithm, digest: Buffer) => Promise<Buffer>)
    | undefined;
}): Promise<CanaryVerdict> {
  const canary = input.profile.rotation.canary;
  if (canary === undefined) return { ok: true, url: '', status: 200 };
  const now = Math.floor(input.now.getTime() / 1000);
  const options = {
    keyPairId: input.key.id,
    hash: input.key.hash,
    expires: now + CANARY_TTL_SECONDS + input.profile.rotation.clockSkew,
    now,
  };
  let signed: { url: string };
  const { kmsKeyArn, kmsSign } = { kmsKeyArn: input.key.kmsKeyArn, kmsSign: input.kmsSign };
  try {
    if (kmsKeyArn === undefined)
      signed = signUrl({ ...options, url: canary.url, key: localSigningKey(input.key) });
    else {
      if (kmsSign === undefined) throw new Error('the rotator was built without a KMS client');
      const remote = new RemoteSigner({
        algorithm: input.key.algorithm,
        publicKey: ringKeyPublicKey(input.key),
        signDigest: (digest) => kmsSign(kmsKeyArn, input.key.algorithm, digest),
      });
      signed = (await remote.signUrls([canary.url], options))[0]!;
    }
  } catch (error) {
    return {
      ok: false,
      url: canary.url,
      status: 0,
      reason: `Expected to sign the canary ${canary.url} with pending key ${input.key.id}; signing failed: ${error instanceof Error ? error.message : String(error)}.`,
    };
  }
  try {
    const { status } = await input.probe.check(signed.url);
    if (status === 200) return { ok: true, url: canary.url, status };
    return {
      ok: false,
      url: canary.url,
      status,
      reason: `Expected the canary ${canary.url} signed with pending key ${input.key.id} to answer 200; got ${status}.`,
    };
  } catch (error) {
    return {
      ok: false,
      url: canary.url,
      status: 0,
      reason:
        `Expected the canary ${canary.url} signed with pending key ${input.key.id} to answer 200; ` +
        `the request failed: ${error instanceof Error ? error.message : String(error)}.`,
    };
  }
}
