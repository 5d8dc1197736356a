/**
 * CloudFront's URL-safe base64: standard base64 with `+` → `-`, `=` → `_`, `/` → `~`.
 * (Not base64url: CloudFront keeps the padding, spelled `_`.)
 */
export function encodeCloudFrontBase64(bytes: Buffer): string {
  // base64url already spells `+` as `-`; its `_` stands for `/`, which CloudFront spells `~`; and it
  // drops the padding, which CloudFront keeps as `_`. Cheaper than a regex over standard base64.
  const padding = (3 - (bytes.length % 3)) % 3;
  return bytes.toString('base64url').replaceAll('_', '~') + (padding === 0 ? '' : padding === 1 ? '_' : '__');
}

/**
 * Reverses {@link encodeCloudFrontBase64}, strictly: only the CloudFront alphabet, padding only at
 * the end, and no unused bits set, so every byte string has exactly one accepted spelling and any
 * changed character is refused (MalformedSignature / MalformedPolicy) rather than silently decoding
 * to the same bytes. How lenient CloudFront's own decoder is, is UNCONFIRMED; a stricter sandbox
 * edge can only catch more broken links, never pass one CloudFront would refuse.
 */
export function decodeCloudFrontBase64(text: string): Buffer | undefined {
  if (!/^[A-Za-z0-9~-]*_{0,2}$/.test(text) || text.length % 4 !== 0) return undefined;
  const bytes = Buffer.from(text.replaceAll('~', '/').replaceAll('-', '+').replaceAll('_', '='), 'base64');
  return encodeCloudFrontBase64(bytes) === text ? bytes : undefined;
}
