/** A cache behaviour as doctor and explain need it. */
export interface DistributionBehavior {
  /** `*` for the default cache behaviour. */
  readonly pathPattern: string;
  readonly isDefault: boolean;
  /**
   * Key groups whose keys may sign for this behaviour: empty when `TrustedKeyGroups` is absent or
   * disabled, in which case the behaviour serves unsigned requests.
   */
  readonly trustedKeyGroups: readonly string[];
  /** The origin the behaviour forwards to (`TargetOriginId`), when read. */
  readonly targetOriginId?: string;
  /** `AllowedMethods.Items`, when read (CloudFront's default is GET and HEAD). */
  readonly allowedMethods?: readonly string[];
  /**
   * The CORS part of the behaviour's response headers policy: `undefined` when it has no policy or
   * the policy has no CORS settings, `'unreadable'` when the policy could not be read (permissions).
   */
  readonly cors?: DistributionCors | 'unreadable';
}

/** A response headers policy's CORS settings, as doctor judges them. */
export interface DistributionCors {
  readonly policyId: string;
  /** Exact origins, or `*`. */
  readonly allowOrigins: readonly string[];
  readonly allowCredentials: boolean;
}

/** The parts of a distribution's config that decide which keys an edge trusts for a path. */
export interface DistributionView {
  readonly id: string;
  /** Alternate domain names (CNAMEs), lower-case. */
  readonly aliases: readonly string[];
  /** In CloudFront's precedence order: `CacheBehaviors` as listed, then the default behaviour last. */
  readonly behaviors: readonly DistributionBehavior[];
  /** `IsIPV6Enabled`: viewers may reach the distribution over IPv6 (CloudFront's default is on). */
  readonly ipv6Enabled?: boolean;
}

/**
 * Reads a distribution's config. Named by what it does; the adapter over the real SDK client is
 * `CloudFrontDistributionReader` (GetDistributionConfig).
 */
export interface DistributionReader {
  /** The distribution, or `undefined` when CloudFront has none with this id (NoSuchDistribution). */
  getDistribution(id: string): Promise<DistributionView | undefined>;
}

/**
 * The cache behaviour CloudFront picks for a path: the first whose path pattern matches, else the
 * default. Patterns are case-sensitive, `*` any run of characters and `?` exactly one, and match
 * the whole path (a leading `/` in the pattern is optional), as the CloudFront Developer Guide's
 * "Path pattern" section describes.
 */
export function behaviorFor(distribution: DistributionView, path: string): DistributionBehavior | undefined {
  return distribution.behaviors.find(
    (behavior) => behavior.isDefault || pathPatternMatches(behavior.pathPattern, path),
  );
}

/** Whether a cache behaviour's path pattern matches a request path. */
export function pathPatternMatches(pattern: string, path: string): boolean {
  const normalized = pattern.startsWith('/') ? pattern : `/${pattern}`;
  const regex = new RegExp(
    `^${normalized
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );
  return regex.test(path);
}
