/**
 * CloudFront's URL-safe base64: standard base64 with `+` → `-`, `=` → `_`, `/` → `~`.
 * (Not base64url: CloudFront keeps the padding, spelled `_`.)
 */
export function encodeCloudFrontBase64(bytes: Buffer): string {
  return bytes.toString('base64').replace(/[+=/]/g, swapToSafe);
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

function swapToSafe(c: string): string {
  return c === '+' ? '-' : c === '=' ? '_' : '~';
}

function swapToStandard(c: string): string {
  return c === '-' ? '+' : c === '_' ? '=' : '/';
}
