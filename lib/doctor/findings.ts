/** How bad a finding is: `error` means URLs are (or will be) refused, or signing stops. */
export type Severity = 'error' | 'warning' | 'info';

/** Stable codes of `signet doctor` findings: scripts and alerts may match on them. */
export type FindingCode =
  | 'RING_UNREADABLE'
  | 'RING_INVALID'
  | 'NO_ACTIVE_KEY'
  | 'KEY_GROUP_MISSING'
  | 'KEY_GROUP_MISMATCH'
  | 'KEY_GROUP_ID_AS_KEY_ID'
  | 'PUBLIC_KEY_MISSING'
  | 'PUBLIC_KEY_MISMATCH'
  | 'ACTIVE_KEY_NOT_IN_GROUP'
  | 'ACTIVE_KEY_TOO_NEW'
  | 'PENDING_NOT_IN_GROUP'
  | 'RETIRING_KEY_NOT_IN_GROUP'
  | 'DISTRIBUTION_MISSING'
  | 'KEY_GROUP_NOT_TRUSTED'
  | 'GROUP_FULL'
  | 'KEY_AGE'
  | 'PENDING_STUCK'
  | 'RETIRING_OVERDUE'
  | 'ORPHAN_PUBLIC_KEY'
  /** A Signet-named key of this profile that belongs to another ring (stage or stack): never touched. */
  | 'FOREIGN_PUBLIC_KEY'
  | 'SHA1_SIGNING'
  | 'KEY_REMOVED_WHILE_VALID'
  /** A config change the rotator refuses (a lowered `rotation.propagation` without a canary). */
  | 'CONFIG_CHANGE_REFUSED'
  /** Signed paths are a non-default cache behaviour while the default one serves the same origin unsigned. */
  | 'UNSIGNED_DEFAULT_BEHAVIOR'
  /** IP-restricted policies on a distribution with IPv6 enabled: IPv6 viewers are refused. */
  | 'IP_CONDITION_WITH_IPV6'
  /** Browsers drop the cookies: the API, the cookie's Domain and the CDN hosts are not on one site. */
  | 'COOKIE_SITE_MISMATCH'
  /** Signet's cookies are `Secure`: an http:// API or CDN host (not loopback) never sets or sends them. */
  | 'COOKIE_SECURE_OVER_HTTP'
  /** `SameSite=None` without `Secure`, or where `Secure` cannot hold (http://): browsers refuse the cookie. */
  | 'SAMESITE_NONE_INSECURE'
  /** A CORS origin on another site than the cookies: its pages' requests carry no cookies. */
  | 'CORS_ORIGIN_CROSS_SITE'
  /** The profile allows browser origins but the distribution answers them without CORS headers. */
  | 'CDN_CORS_MISSING'
  /** The KMS key behind a ring key (signer: kms) is disabled, scheduled for deletion or gone. */
  | 'KMS_KEY_UNUSABLE'
  /** The KMS key's public key is not the ring's, or not CloudFront's for that key id. */
  | 'KMS_PUBLIC_KEY_MISMATCH'
  /** The KMS key behind a ring key could not be read (permissions): not judged. */
  | 'KMS_KEY_UNREADABLE'
  /** The ring holds KMS keys but the profile is neither `signer: kms` nor `kms: retiring`. */
  | 'KMS_SIGNER_SWITCHED'
  /** A `kms: retiring` profile whose ring holds no KMS key any more: the mark may go. */
  | 'KMS_RETIRED'
  | 'ACCOUNT_KEYS_NEAR_LIMIT'
  | 'ACCOUNT_KEYS_HEADROOM';

/** One thing `signet doctor` found: what, why it matters (in `message`), and one thing to do. */
export interface Finding {
  readonly severity: Severity;
  readonly code: FindingCode;
  /** The profile it concerns; `null` for the account (the public key quota). */
  readonly profile: string | null;
  /** The CloudFront public key id (or fingerprint, for a key without one) it concerns, if any. */
  readonly keyId: string | null;
  readonly message: string;
  /** One remedy, a command to run where there is one. */
  readonly remedy: string;
}

const SEVERITY_ORDER: Readonly<Record<Severity, number>> = { error: 0, warning: 1, info: 2 };

/** Errors first, then warnings, then info; within a severity by profile, then code. */
export function sortFindings(findings: readonly Finding[]): Finding[] {
  return [...findings].sort(
    (a, b) =>
      SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] ||
      (a.profile ?? '').localeCompare(b.profile ?? '') ||
      a.code.localeCompare(b.code) ||
      (a.keyId ?? '').localeCompare(b.keyId ?? ''),
  );
}
