/**
 * Why a requested path is ambiguous, or `undefined` when it is not. The edge matches a policy against
 * the raw path, while an origin (S3, nginx, Tomcat) may decode and normalize it before it looks the
 * object up; anything the two may read differently could reach outside a grant, so it is refused.
 * WHATWG canonicalization has already resolved `.`, `..`, `%2e%2e` and turned `\` into `/`; these
 * checks catch what survives it.
 */
export function pathAmbiguity(path: string): string | undefined {
  if (path.includes('\\')) return 'a backslash';
  // The common path, checked on every request: without `%` none of the patterns below can match and
  // every segment reads as written, and a dot segment needs a segment that starts with `.`.
  if (!path.includes('%') && !path.includes('/.') && !path.startsWith('.')) return undefined;
  if (/%(2f|5c)/i.test(path)) return 'an encoded slash or backslash (%2F or %5C)';
  if (/%25[0-9a-f]{2}/i.test(path)) return 'double percent-encoding (%25 followed by two hex digits)';
  if (/%(?![0-9a-f]{2})/i.test(path)) return 'a "%" that does not start a percent-encoded byte';
  if (/%(0[0-9a-f]|1[0-9a-f]|7f)/i.test(path)) return 'an encoded control character';
  for (const segment of path.split('/')) {
    let decoded: string;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      return 'percent-encoding that is not UTF-8';
    }
    // `..;` is a dot segment to Tomcat and other servlet containers (path parameters are dropped).
    const beforeParameters = decoded.split(';')[0];
    if (beforeParameters === '.' || beforeParameters === '..') return 'a dot segment (. or ..)';
  }
  return undefined;
}
