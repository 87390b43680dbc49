import { MAX_KEY_PREFIX_LENGTH } from './limits';

/*
 * The patterns of the workflow's names, keys and hrefs, and the rule for the PCE URL. The
 * execution input and state schemas, the deploy configuration, the construct's props, the Lambda
 * environment, the PCE client and the IAM scoping all use these, so that no two of them can
 * disagree about what is valid.
 */

/** An export's (or a snapshot's) name: the first key segment below the prefix. Never starts with `_`. */
export const EXPORT_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
export const EXPORT_NAME_RULE = 'letters, digits, "_" and "-", at most 64, starting with a letter or digit';

/**
 * A PCE's name in a deployment with several (`pces[].name`, the execution input's `pce`): it
 * becomes a key segment, part of Glue table and construct names and a metric dimension, so it is
 * short, lowercase and never holds `.` or `_`.
 */
export const PCE_NAME = /^[a-z][a-z0-9-]{0,31}$/;
export const PCE_NAME_RULE = 'lowercase letters, digits and "-", at most 32, starting with a letter';

/**
 * Org-relative collection path: `/labels`, `/sec_policy/draft/rule_sets`; never `/orgs/...`, and
 * never one object (`/labels/3`): the last segment names a collection, so it starts with a letter.
 */
export const COLLECTION_PATH = /^(?!\/orgs(?:\/|$))(\/[a-z0-9][a-z0-9_]*)*\/[a-z][a-z0-9_]*$/;

/** A collection export's query parameter name, e.g. `managed`, `labels`, `max_results`. */
export const QUERY_KEY = /^[A-Za-z0-9_.[\]]{1,64}$/;
/** A query value: no control characters, no `?`/`#` (they would change the request's shape), bounded. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
export const QUERY_VALUE = /^[^\u0000-\u001f\u007f?#]{0,1024}$/;
/** Matches the values without a `..` path segment (`..`, `a/../b`): no path traversal in a filter. */
export const NO_DOT_DOT_SEGMENT = /^(?!(?:.*\/)?\.\.(?:\/|$))/;

/** S3 bucket names as S3 accepts them for new buckets: no `..`, no `xn--` prefix. */
export const BUCKET_NAME = /^(?!xn--)(?!.*\.\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/**
 * Key prefix characters: S3's "safe" set without `*` and `?`, which would widen the IAM grant
 * that is scoped with the prefix.
 */
const KEY_PREFIX_CHARACTERS = /^[A-Za-z0-9!_.'()=/-]*$/;

/** An S3 key prefix: empty, or ending with `/`; never starting with `/`. A phrase completing "<field> …". */
export function keyPrefixIssue(prefix: string): string | undefined {
  if (prefix.length > MAX_KEY_PREFIX_LENGTH)
    return `must be at most ${MAX_KEY_PREFIX_LENGTH} characters long`;
  if (!KEY_PREFIX_CHARACTERS.test(prefix))
    return 'may only contain letters, digits and !_.\'()=/- (no "*" or "?")';
  if (prefix.startsWith('/')) return 'must not start with "/"';
  if (prefix !== '' && !prefix.endsWith('/')) return 'must be empty or end with "/"';
  if (prefix.includes('//')) return 'must not contain "//"';
  if (prefix.split('/').some((segment) => segment === '.' || segment === '..'))
    return 'must not contain "." or ".." segments';
  return undefined;
}

/** An id the PCE hands out for a job, a datafile or a traffic query (UUIDs, numbers). */
const ID = '[A-Za-z0-9][A-Za-z0-9-]{0,63}';
const ORG = '([1-9][0-9]{0,9})';
/** The segment in front of a traffic query's id. */
export const TRAFFIC_QUERIES = 'traffic_flows/async_queries';

/** The org-relative hrefs the PCE hands out, as they travel in the workflow state. */
export const JOB_HREF = new RegExp(`^\\/orgs\\/${ORG}\\/jobs\\/${ID}$`);
export const DATAFILE_HREF = new RegExp(`^\\/orgs\\/${ORG}\\/datafiles\\/${ID}$`);
export const TRAFFIC_QUERY_HREF = new RegExp(`^\\/orgs\\/${ORG}\\/traffic_flows\\/async_queries\\/${ID}$`);
export const TRAFFIC_DOWNLOAD_HREF = new RegExp(
  `^\\/orgs\\/${ORG}\\/traffic_flows\\/async_queries\\/${ID}\\/download$`,
);
/** One id as the PCE client checks it after resolving an href. */
export const HREF_ID = new RegExp(`^${ID}$`);

/** The largest org id: what an org href's segment and the functions' `PCE_ORG_ID` hold. */
const MAX_ORG_ID = 2 ** 31 - 1;

/**
 * The PCE org id rule (the deploy configuration, the construct's props, the Lambda environment,
 * the command line's --org): a positive integer up to MAX_ORG_ID. A phrase completing
 * "<field> …", or undefined when it is fine.
 */
export function orgIdIssue(orgId: number): string | undefined {
  if (!Number.isSafeInteger(orgId) || orgId <= 0) return 'must be a positive integer';
  return orgId > MAX_ORG_ID ? `must be at most ${MAX_ORG_ID}` : undefined;
}

/** Where the PCE's REST API lives below its origin. */
export const API_PREFIX = '/api/v2';

/**
 * Whether a URL hostname is on the loopback interface (127.0.0.0/8, ::1, localhost). Plain
 * http is accepted for such hosts only: a PCE simulator or a tunnel on the same machine.
 */
function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127(\.\d{1,3}){3}$/.test(hostname);
}

/**
 * The PCE URL rule: an origin only (scheme, host, optional port), https, or http only on a
 * loopback host; no credentials, path, query or fragment. Returns a phrase completing
 * "<field> …" (it never repeats user info), or undefined when the URL is fine. A path such as
 * `/api/v2` gets a hint naming what to leave out.
 */
export function pceUrlIssue(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    return 'must be a URL such as "https://pce.example.com:8443"';
  }
  if (url.username !== '' || url.password !== '') {
    return 'must not contain credentials (they belong in the Secrets Manager secret)';
  }
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    return 'must use https (http is only accepted for a PCE on the loopback interface)';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'must use https';
  if (url.search !== '' || url.hash !== '' || /[?#]/.test(value)) {
    return `must be the PCE origin only, without a query or fragment: give "${url.origin}"`;
  }
  if (url.pathname !== '/') {
    const path = url.pathname.replace(/\/+$/, '');
    const drop = path === API_PREFIX ? API_PREFIX : `the path ${path}`;
    return `must be the PCE origin only: leave out ${drop} and give "${url.origin}"`;
  }
  return undefined;
}
