/**
 * `/_simulator/revision`, the simulator's own control endpoint (outside `/api/v2`, so no PCE
 * client reaches it by accident; same credentials, no faults, no rate limit):
 * `GET` → `{"revision": N}`; `PUT {"revision": N}` moves the data to revision N; `POST` moves it
 * one revision on. Both answer `{"revision", "previous", "changes": {path: {added, removed, changed}}}`
 * with counts of objects.
 */
import type { Reply } from './reply';
import type { OrgStore } from './store';

export const CONTROL_PREFIX = '/_simulator/';

function counts(
  store: OrgStore,
  from: number,
  to: number,
  org: number,
): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const [path, c] of Object.entries(store.changes(from, to, org)))
    out[path] = { added: c.added.length, removed: c.removed.length, changed: c.changed.length };
  return out;
}

/** Answers a control request; `setRevision` moves the data (and is what `sim.setRevision` does). */
export function control(
  reply: Reply,
  method: string,
  path: string,
  body: string,
  store: OrgStore,
  setRevision: (revision: number) => void,
  org: number,
): Promise<void> {
  if (path !== `${CONTROL_PREFIX}revision`) return reply.error(404, 'not_found', `Not found: ${path}`);
  const previous = store.revision;
  if (method === 'GET') return reply.json(200, { revision: previous });
  let next: number;
  if (method === 'POST') next = previous + 1;
  else if (method === 'PUT') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      parsed = undefined;
    }
    const revision = (parsed as { revision?: unknown } | undefined)?.revision;
    if (
      !(typeof revision === 'number' && Number.isInteger(revision) && revision >= 0 && revision <= 1_000_000)
    )
      return reply.error(
        400,
        'bad_request',
        'Body must be {"revision": N} with N a whole number from 0 to 1,000,000',
      );
    next = revision;
  } else return reply.error(405, 'method_not_allowed', `${method} not allowed on ${path}`);
  setRevision(next);
  return reply.json(200, { revision: next, previous, changes: counts(store, previous, next, org) });
}
