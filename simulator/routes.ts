/** Which endpoint a method and path are, with the org, id and collection they name. */
import type { FaultEndpoint } from './fault-kinds';

interface Route {
  readonly endpoint: FaultEndpoint;
  readonly org?: number;
  readonly id?: string;
  readonly collection?: string;
}

function decode(segment: string | undefined): string {
  try {
    return decodeURIComponent(segment ?? '');
  } catch {
    return segment ?? '';
  }
}

/**
 * The route of a request; `'method'` when the path exists but not for this method, undefined
 * when nothing is there. A collection GET with `Prefer: respond-async` is a submit.
 */
export function route(
  method: string,
  path: string,
  prefer: string | undefined,
): Route | 'method' | undefined {
  if (!path.startsWith('/api/v2/')) return undefined;
  const rest = path.slice('/api/v2'.length);
  const only = (allowed: string, found: Route): Route | 'method' => (method === allowed ? found : 'method');
  if (rest === '/health' || rest === '/product_version') return only('GET', { endpoint: 'other' });
  const m = /^\/orgs\/(\d{1,9})(\/.*)$/.exec(rest);
  if (!m) return undefined;
  const org = Number(m[1]);
  const sub = m[2] ?? '';
  if (sub === '/jobs') return only('GET', { endpoint: 'jobs', org });
  const job = /^\/jobs\/([^/]+)$/.exec(sub);
  if (job) {
    const id = decode(job[1]);
    if (method === 'DELETE') return { endpoint: 'delete', org, id };
    return only('GET', { endpoint: 'job', org, id });
  }
  const datafile = /^\/datafiles\/([^/]+)$/.exec(sub);
  if (datafile) return only('GET', { endpoint: 'datafile', org, id: decode(datafile[1]) });
  if (sub === '/traffic_flows/async_queries') {
    if (method === 'POST') return { endpoint: 'traffic-submit', org };
    return only('GET', { endpoint: 'traffic-list', org });
  }
  const query = /^\/traffic_flows\/async_queries\/([^/]+)(\/download|\/update_rules)?$/.exec(sub);
  if (query) {
    const id = decode(query[1]);
    if (query[2] === '/download') return only('GET', { endpoint: 'traffic-download', org, id });
    if (query[2] === '/update_rules') return only('PUT', { endpoint: 'traffic-update-rules', org, id });
    if (method === 'DELETE') return { endpoint: 'traffic-delete', org, id };
    return only('GET', { endpoint: 'traffic-poll', org, id });
  }
  if (/^\/[a-z_]+(\/[a-z_]+)*$/.test(sub)) {
    const async = (prefer ?? '')
      .toLowerCase()
      .split(/[,;]/)
      .some((t) => t.trim() === 'respond-async');
    return only('GET', { endpoint: async ? 'submit' : 'collection', org, collection: sub.slice(1) });
  }
  // One object by its href: `/labels/3`, `/workloads/{uuid}`, `/sec_policy/draft/rule_sets/2/sec_rules/9`.
  if (/^(\/[a-z_]+)+\/[\w-]+(\/sec_rules\/[\w-]+)?$/.test(sub))
    return only('GET', { endpoint: 'object', org, collection: sub.slice(1) });
  return undefined;
}
