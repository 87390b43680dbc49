import { isLoopbackHost } from '../lambdas/pce/loopback';

/**
 * Checks shared by the deploy configuration and the construct's props. Each returns a phrase
 * that completes "<field> ...", or undefined when the value is fine.
 */

/** The PCE origin: https, or http on the loopback interface only; no credentials, no path. */
export function pceUrlIssue(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'must be a URL such as "https://pce.example.com:8443"';
  }
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    return 'must use https (http is only accepted for a PCE on the loopback interface)';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'must use https';
  if (url.username !== '' || url.password !== '') {
    return 'must not contain credentials (they belong in the Secrets Manager secret)';
  }
  if (url.pathname !== '/' || url.search !== '' || url.hash !== '') {
    return 'must be the PCE origin only, without a path, query or fragment (e.g. "https://pce.example.com:8443")';
  }
  return undefined;
}

/** Key prefix characters: the S3 "safe" set without `*` and `?`, which would widen the IAM grant. */
const KEY_PREFIX = /^[A-Za-z0-9!_.'()=/-]*$/;

/** An S3 key prefix: empty, or ending with `/`; never starting with `/`. */
export function keyPrefixIssue(prefix: string): string | undefined {
  if (prefix.length > 512) return 'must be at most 512 characters long';
  if (!KEY_PREFIX.test(prefix)) return 'may only contain letters, digits and !_.\'()=/- (no "*" or "?")';
  if (prefix.startsWith('/')) return 'must not start with "/"';
  if (prefix !== '' && !prefix.endsWith('/')) return 'must be empty or end with "/"';
  if (prefix.includes('//')) return 'must not contain "//"';
  return undefined;
}

/** The PCE org id: a positive integer. */
export function orgIdIssue(orgId: number): string | undefined {
  return Number.isSafeInteger(orgId) && orgId > 0 ? undefined : 'must be a positive integer';
}
