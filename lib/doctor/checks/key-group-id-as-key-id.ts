import type { Finding } from '../findings.ts';
import type { KeyGroupRead } from '../snapshot.ts';
import { type CheckInput, reporterFor } from './check.ts';

/**
 * Whether a key id has the shape of a key group id (a UUID) rather than a public key id: a known
 * pitfall of hand-rolled signers (docs/design.md, "CloudFront facts Signet relies on").
 */
export function looksLikeKeyGroupId(id: string): boolean {
  return /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i.test(id);
}

/**
 * Whether a valid ring's key id is a key group id: by its shape, or because it is the id of the
 * profile's key group. Such a key is reported only as KEY_GROUP_ID_AS_KEY_ID; the other checks of
 * ring keys skip it, since whatever else they said would follow from the wrong id.
 */
export function isKeyGroupIdAsKeyId(id: string, keyGroup: KeyGroupRead): boolean {
  return looksLikeKeyGroupId(id) || (keyGroup.status === 'ok' && id === keyGroup.group.id);
}

/**
 * A key group id in the ring where a public key id belongs: CloudFront then answers every URL
 * signed with it 403 InvalidKey ("Unknown Key"). Judged on the ids of an invalid ring too (by their
 * shape alone), since that mistake is often why the ring was refused. Finding: KEY_GROUP_ID_AS_KEY_ID.
 */
export function checkKeyGroupIdAsKeyId({ snapshot }: Pick<CheckInput, 'snapshot'>): Finding[] {
  const { name, ring, keyGroup } = snapshot;
  const ids =
    ring.status === 'invalid'
      ? ring.keyIds.filter(looksLikeKeyGroupId)
      : ring.status === 'ok'
        ? ring.ring.keys.flatMap((key) =>
            key.id !== undefined && isKeyGroupIdAsKeyId(key.id, keyGroup) ? [key.id] : [],
          )
        : [];
  const report = reporterFor(name);
  return ids.map((id) => {
    const isGroup = keyGroup.status === 'ok' && keyGroup.group.id === id;
    return report(
      'error',
      'KEY_GROUP_ID_AS_KEY_ID',
      id,
      `The ring uses ${id} as a public key id, but ${isGroup ? `it is the id of key group ${id}` : 'it has the shape of a key group id (a UUID)'}: CloudFront expects a public key id (like K2JCJMDEHXQW5F) in Key-Pair-Id and answers 403 InvalidKey ("Unknown Key").`,
      `Put the CloudFront public key id (aws cloudfront list-public-keys) in the ring instead, or replace the key: \`signet rotate --profile ${name}\`.`,
    );
  });
}
