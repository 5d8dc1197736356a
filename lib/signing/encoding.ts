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
 * Reverses {@link encodeCloudFrontBase64}. Returns `undefined` when the text holds characters that
 * neither alphabet has, or whose length cannot be base64, so a verifier can answer MalformedSignature.
 */
export function decodeCloudFrontBase64(text: string): Buffer | undefined {
  if (!/^[A-Za-z0-9\-_~+=/]*$/.test(text)) return undefined;
  const standard = text.replace(/[-_~]/g, swapToStandard);
  const unpadded = standard.replace(/=+$/, '');
  if (unpadded.length % 4 === 1) return undefined;
  return Buffer.from(standard, 'base64');
}

function swapToStandard(c: string): string {
  return c === '-' ? '+' : c === '_' ? '=' : '/';
}
