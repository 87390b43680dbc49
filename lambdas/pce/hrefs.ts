import { ExportConfigError } from '../contracts/errors';
import { API_PREFIX, COLLECTION_PATH, HREF_ID, pceUrlIssue, TRAFFIC_QUERIES } from '../contracts/patterns';
import { PceProtocolError } from './errors';

/**
 * Href handling for one org of one PCE. The hrefs the PCE hands out (`Location`, `result.href`)
 * and the hrefs that come back through state-machine data are untrusted: each one is resolved
 * against the configured origin and normalised to `/orgs/{org}/jobs/{id}`,
 * `/orgs/{org}/datafiles/{id}` or `/orgs/{org}/traffic_flows/async_queries/{id}` before any
 * request is sent to it.
 */

export type HrefKind = 'jobs' | 'datafiles' | 'traffic_flows/async_queries' | 'labels';

/** What each kind of href is called in messages. */
const HREF_WHAT: Readonly<Record<HrefKind, string>> = {
  jobs: 'job',
  datafiles: 'datafile',
  'traffic_flows/async_queries': 'traffic query',
  labels: 'label',
};

/** The parsed, validated PCE base URL and org. */
export interface PceBase {
  /** `https://pce.example.com:8443` (scheme, host and port; default ports omitted). */
  readonly origin: string;
  readonly orgId: number;
}

const MAX_HREF_LENGTH = 2048;
/** Printable ASCII without space: anything else (whitespace, controls, non-ASCII) has no place in an href. */
const PRINTABLE = /^[\x21-\x7e]+$/;
const DOT_SEGMENT = /(?:^|\/)\.{1,2}(?:\/|$)/;

/** Validates the configured PCE URL (`pceUrlIssue`) and org id; anything off is an ExportConfigError. */
export function parsePceBase(baseUrl: unknown, orgId: unknown): PceBase {
  if (typeof orgId !== 'number' || !Number.isSafeInteger(orgId) || orgId < 1) {
    throw new ExportConfigError('The PCE org id must be a positive integer');
  }
  if (typeof baseUrl !== 'string' || baseUrl.trim() === '') {
    throw new ExportConfigError('The PCE URL is missing; give it as https://<pce-host>:<port>');
  }
  const issue = pceUrlIssue(baseUrl);
  if (issue !== undefined) throw new ExportConfigError(`The PCE URL ${issue}`);
  return { origin: new URL(baseUrl.trim()).origin, orgId };
}

/** The absolute URL of an org-relative href (`/orgs/1/jobs/x` → `https://host/api/v2/orgs/1/jobs/x`). */
export function apiUrl(base: PceBase, href: string, search = ''): string {
  return `${base.origin}${API_PREFIX}${href}${search === '' ? '' : `?${search}`}`;
}

/**
 * Builds the request for an org-relative collection such as `/labels` or
 * `/sec_policy/draft/rule_sets`: the href shown in messages and the URL requested. A path that
 * could escape the org (traversal, `/orgs/...`, a query smuggled in) is an ExportConfigError.
 */
export function collectionRequest(
  base: PceBase,
  path: unknown,
  query: Readonly<Record<string, string>> = {},
): { href: string; url: string } {
  if (typeof path !== 'string' || path.length > 512 || !COLLECTION_PATH.test(path)) {
    const shown = typeof path === 'string' ? ` ${JSON.stringify(truncate(path, 100))}` : '';
    const hint =
      typeof path === 'string' && /^\/orgs(?:\/|$)/.test(path)
        ? ` is relative to the org: use "/workloads", not "/orgs/${base.orgId}/workloads"`
        : ' must be an org-relative path such as "/workloads"';
    throw new ExportConfigError(`The collection path${shown}${hint}`);
  }
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (typeof value !== 'string') throw new ExportConfigError(`The query parameter ${key} must be a string`);
    params.append(key, value);
  }
  const search = params.toString();
  const orgPath = `/orgs/${base.orgId}${path}`;
  return {
    href: search === '' ? orgPath : `${orgPath}?${search}`,
    url: apiUrl(base, orgPath, search),
  };
}

/**
 * Resolves an untrusted job, datafile or traffic query href, relative (`/orgs/1/jobs/<id>`, `/api/v2/orgs/1/jobs/<id>`)
 * or absolute (`https://host:8443/api/v2/orgs/1/jobs/<id>`), and returns it normalised to
 * `/orgs/{org}/{kind}/{id}`. Anything else is a PceProtocolError whose message names `source`
 * (e.g. "the Location header of the 202 response").
 */
export function resolveHref(base: PceBase, raw: unknown, kind: HrefKind, source: string): string {
  const what = HREF_WHAT[kind];
  const expected = `/orgs/${base.orgId}/${kind}/{id}`;
  const reject = (reason: string): never => {
    throw new PceProtocolError(
      `${capitalise(source)} ${reason}; expected a ${what} href ${expected} on ${base.origin}`,
    );
  };

  if (raw === undefined || raw === null || raw === '') reject('is missing');
  if (typeof raw !== 'string') return reject(`is not a string (${typeof raw})`);
  const shown = showHref(raw);
  if (raw.length > MAX_HREF_LENGTH) reject(`is too long (${raw.length} characters)`);
  if (!PRINTABLE.test(raw)) reject(`${shown} contains whitespace, control or non-ASCII characters`);
  if (raw.includes('\\') || raw.includes('%') || DOT_SEGMENT.test(raw)) {
    reject(`${shown} contains path traversal or encoded characters`);
  }
  if (raw.includes('?') || raw.includes('#')) reject(`${shown} has a query or fragment`);
  if (raw.includes('@')) reject(`${shown} contains user info`);

  let path: string;
  if (raw.startsWith('/') && !raw.startsWith('//')) {
    path = raw;
  } else if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(raw) || raw.startsWith('//')) {
    let url: URL;
    try {
      url = new URL(raw, base.origin);
    } catch {
      return reject(`${shown} is not a valid URL`);
    }
    if (url.username !== '' || url.password !== '') reject(`${shown} contains user info`);
    if (url.origin !== base.origin) reject(`${shown} points to another origin than the PCE`);
    path = url.pathname;
    if (path !== API_PREFIX && !path.startsWith(`${API_PREFIX}/`))
      reject(`${shown} is not under ${API_PREFIX}`);
  } else {
    return reject(`${shown} is neither an absolute URL nor an absolute path`);
  }

  if (path === API_PREFIX || path.startsWith(`${API_PREFIX}/`)) path = path.slice(API_PREFIX.length);
  // Traffic queries live two segments deep (`traffic_flows/async_queries`); jobs and datafiles one.
  const match =
    kind === TRAFFIC_QUERIES
      ? /^\/orgs\/([^/]+)\/([^/]+\/[^/]+)\/([^/]+)$/.exec(path)
      : /^\/orgs\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(path);
  if (!match) return reject(`${shown} is not of the form ${expected}`);
  const [, org, collection, id] = match;
  if (org !== String(base.orgId)) reject(`${shown} names another org than ${base.orgId}`);
  if (collection !== kind) reject(`${shown} is not a ${what} href`);
  if (id === undefined || !HREF_ID.test(id)) reject(`${shown} has an invalid ${what} id`);
  return `/orgs/${base.orgId}/${kind}/${id}`;
}

/** An untrusted href as it may appear in a message: quoted, bounded, user info masked. */
export function showHref(raw: string): string {
  return JSON.stringify(truncate(raw.replace(/\/\/[^/@]*@/g, '//***@'), 200));
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}…`;
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
