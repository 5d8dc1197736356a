export { ipInCidr, normaliseCidr } from './cidr.ts';
export {
  type CookieAttributes,
  type CookieDescription,
  type CookieLifetime,
  cookieRefreshIn,
  describeCookies,
  formatSetCookie,
  parseCookieHeader,
} from './cookies.ts';
export { decodeCloudFrontBase64, encodeCloudFrontBase64 } from './encoding.ts';
export { SigningError, type SigningErrorCode } from './errors.ts';
export {
  defaultHashFor,
  fingerprintOf,
  type HashAlgorithm,
  type KeyAlgorithm,
  parseSigningKey,
  parseVerifyingKey,
  publicKeyPem,
  type SigningKey,
  type VerifyingKey,
} from './keys.ts';
export {
  cannedPolicy,
  customPolicy,
  describeDuration,
  isoOf,
  MAX_EPOCH_SECONDS,
  validateConditions,
} from './policy.ts';
export {
  type SignCookiesOptions,
  type SignedCookies,
  type SignedUrl,
  type SignUrlOptions,
  signCanonicalUrls,
  signCookies,
  signUrl,
  signUrls,
} from './sign.ts';
export {
  assertNoWildcard,
  canonicalResource,
  canonicalUrl,
  MAX_URL_BYTES,
  resourceMatches,
  SIGNING_PARAMETERS,
  stripSigningParameters,
} from './url.ts';
export {
  DENIAL_MESSAGES,
  type DenialCode,
  decodePolicy,
  type Presented,
  type Verdict,
  type VerifyRequest,
  verifyRequest,
} from './verify.ts';
