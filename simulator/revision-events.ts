/**
 * The audit events of the data's revisions: for each revision, at the time it happened, one
 * event per object it created, updated or deleted (`label.create`, `workload.update`,
 * `workloads.unpair`, `rule_set.delete`…) with the fields it changed, then `sec_policy.create`
 * (the provision) when it changed policy.
 */
import { type Collection, iso, type OrgBasis, type PceObject } from './basis';
import { ADMIN, type EventKind, eventObject } from './event-shapes';
import { CHANGE_KINDS, type ChangeKind } from './revisions';

export interface RevisionEvent {
  readonly time: number;
  readonly uuid: string;
  readonly kind: EventKind;
  event(): PceObject;
}

/** Collections of the data at one revision. */
interface DataAt {
  collection(path: string): Collection | undefined;
}

const RESOURCE: Readonly<Record<ChangeKind, string>> = {
  labels: 'label',
  workloads: 'workload',
  services: 'service',
  ip_lists: 'ip_list',
  label_groups: 'label_group',
  rule_sets: 'rule_set',
};

/** Kinds whose objects refer to labels or services, and so change when one is removed. */
const REFERRING: Readonly<Partial<Record<ChangeKind, readonly ChangeKind[]>>> = {
  workloads: ['labels'],
  label_groups: ['labels'],
  rule_sets: ['labels', 'services'],
};

const SALT = 0xe7f0;
const UNCHANGING = new Set(['href', 'created_at', 'updated_at', 'created_by', 'updated_by']);

export function pathOf(kind: ChangeKind, pversion = 'draft'): string {
  return kind === 'labels' || kind === 'workloads' ? kind : `sec_policy/${pversion}/${kind}`;
}

function summary(object: PceObject): PceObject {
  const out: PceObject = {};
  for (const key of ['href', 'key', 'value', 'name', 'hostname'])
    if (object[key] !== undefined && object[key] !== null) out[key] = object[key];
  return out;
}

/** `{field: {before, after}}` for every top-level field that differs (bookkeeping fields left out). */
function changes(before: PceObject | undefined, after: PceObject | undefined): PceObject {
  const out: PceObject = {};
  const keys = new Set([...Object.keys(before ?? {}), ...Object.keys(after ?? {})]);
  for (const key of keys) {
    if (UNCHANGING.has(key)) continue;
    const b = before?.[key] ?? null;
    const a = after?.[key] ?? null;
    if (JSON.stringify(b) !== JSON.stringify(a)) out[key] = { before: b, after: a };
  }
  return out;
}

type Change = 'create' | 'update' | 'delete';

const HTTP: Readonly<Record<Change, readonly [string, number]>> = {
  create: ['POST', 201],
  update: ['PUT', 204],
  delete: ['DELETE', 204],
};

/** Every revision event up to the basis's revision, oldest first. */
export function revisionEvents(basis: OrgBasis, dataAt: (revision: number) => DataAt): RevisionEvent[] {
  const { view, org } = basis;
  const out: RevisionEvent[] = [];
  for (let k = 1; k <= view.revision; k++) {
    const time = view.time(k);
    const timestamp = iso(time);
    let seq = 0;
    const add = (type: string, build: (ids: (part: number) => string, href: string) => PceObject) => {
      const n = seq++;
      const ids = (part: number) => basis.uuid(SALT + k, n * 8 + part);
      const uuid = ids(0);
      const kind: EventKind = { type, status: 'success', severity: 'info' };
      out.push({
        time,
        uuid,
        kind,
        event: () => eventObject(`/orgs/${org}/events/${uuid}`, timestamp, ADMIN, kind, build(ids, uuid)),
      });
    };
    const change = (
      kind: ChangeKind,
      what: Change,
      before: PceObject | undefined,
      after: PceObject | undefined,
    ) => {
      const object = after ?? before ?? {};
      const unpaired = before?.managed === true && after?.managed === false;
      const type = unpaired ? 'workloads.unpair' : `${RESOURCE[kind]}.${what}`;
      add(type, (ids) => {
        const [method, status] = HTTP[what];
        const endpoint = what === 'create' ? `/orgs/${org}/${pathOf(kind)}` : String(object.href);
        return {
          action: {
            uuid: ids(1),
            api_endpoint: `/api/v2${endpoint}`,
            api_method: method,
            http_status_code: status,
            src_ip: '10.0.0.10',
          },
          resource_changes: [
            {
              uuid: ids(2),
              resource: { [RESOURCE[kind]]: summary(object) },
              change_type: what,
              changes: changes(before, after),
            },
          ],
          notifications: [],
        };
      });
    };
    let policyChanged = false;
    for (const kind of CHANGE_KINDS) {
      const plan = view.plan(kind);
      const now = dataAt(k).collection(pathOf(kind));
      const then = dataAt(k - 1).collection(pathOf(kind));
      if (!now || !then) continue;
      const created = new Set<number>();
      for (let i = plan.sizeAt(k - 1); i < plan.sizeAt(k); i++) {
        created.add(i);
        change(kind, 'create', undefined, now.object(i));
      }
      const updated = new Set(plan.touchedBy(k, false));
      const dropped = (REFERRING[kind] ?? []).some((ref) => view.plan(ref).touchedBy(k, true).length > 0);
      if (dropped)
        for (let i = 0; i < plan.sizeAt(k - 1); i++)
          if (!created.has(i) && plan.existsAt(i, k) && now.lastChange?.(i) === k) updated.add(i);
      for (const i of [...updated].sort((a, b) => a - b))
        change(kind, 'update', then.object(i), now.object(i));
      const removed = plan.touchedBy(k, true);
      for (const i of removed) change(kind, 'delete', then.object(i), undefined);
      if (kind !== 'labels' && kind !== 'workloads' && created.size + updated.size + removed.length > 0)
        policyChanged = true;
    }
    if (policyChanged)
      add('sec_policy.create', (ids) => ({
        action: {
          uuid: ids(1),
          api_endpoint: `/api/v2/orgs/${org}/sec_policy`,
          api_method: 'POST',
          http_status_code: 201,
          src_ip: '10.0.0.10',
        },
        resource_changes: [
          {
            uuid: ids(2),
            resource: { sec_policy: { href: `/orgs/${org}/sec_policy/${k}` } },
            change_type: 'create',
            changes: {},
          },
        ],
        notifications: [],
      }));
  }
  return out;
}
