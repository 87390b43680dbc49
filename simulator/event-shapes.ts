/**
 * What one audit event says, in the PCE's event shape: `href`, `timestamp`, `pce_fqdn`,
 * `created_by` (a user, the system, or an agent), `event_type`, `status`, `severity`,
 * `version`, `action` ({uuid, api_endpoint, api_method, http_status_code, src_ip}),
 * `resource_changes` ([{uuid, resource, change_type, changes: {field: {before, after}}}]) and
 * `notifications` ([{uuid, notification_type, info}]).
 */
import type { PceObject } from './basis';
import { at, Rng } from './random';

const PCE_FQDN = 'pce.corp.example.com';

const USERS = [
  { href: '/users/1', username: 'admin@corp.example.com' },
  { href: '/users/2', username: 'alice.network@corp.example.com' },
  { href: '/users/3', username: 'bob.secops@corp.example.com' },
  { href: '/users/4', username: 'svc-automation@corp.example.com' },
] as const;

/** Who revisions are made by: the user every object's `updated_by` names. */
export const ADMIN = { user: at(USERS, 0) };

/** A source address for an API call. */
function sourceIp(rng: Rng): string {
  return rng.chance(0.8)
    ? `10.${rng.int(4)}.${rng.int(256)}.${rng.between(1, 254)}`
    : `203.0.113.${rng.between(1, 254)}`;
}

/** A stable UUID-like id for the parts of an event (action, change, notification). */
type Ids = (part: number) => string;

/** What every event of a type has in common; filters look only at this. */
export interface EventKind {
  readonly type: string;
  readonly status: 'success' | 'failure';
  readonly severity: 'info' | 'warning' | 'err';
}

interface Shape extends EventKind {
  readonly weight: number;
  readonly make: (rng: Rng, ids: Ids, agent: () => PceObject) => PceObject;
}

function user(rng: Rng): { user: (typeof USERS)[number] } {
  return { user: rng.pick(USERS) };
}

function action(ids: Ids, rng: Rng, endpoint: string, method: string, status: number): PceObject {
  return {
    uuid: ids(1),
    api_endpoint: endpoint,
    api_method: method,
    http_status_code: status,
    src_ip: sourceIp(rng),
  };
}

/** The everyday traffic of an audit log; none of it changes the data collections serve. */
const SHAPES: readonly Shape[] = [
  {
    type: 'user.sign_in',
    weight: 30,
    status: 'success',
    severity: 'info',
    make: (rng, ids) => {
      const who = user(rng);
      const count = rng.between(1, 900);
      return {
        created_by: who,
        action: action(ids, rng, '/login/users/sign_in', 'POST', 302),
        resource_changes: [
          {
            uuid: ids(2),
            resource: who,
            change_type: 'update',
            changes: { sign_in_count: { before: count, after: count + 1 } },
          },
        ],
        notifications: [{ uuid: ids(3), notification_type: 'user.login_session_created', info: who }],
      };
    },
  },
  {
    type: 'user.sign_out',
    weight: 20,
    status: 'success',
    severity: 'info',
    make: (rng, ids) => ({
      created_by: user(rng),
      action: action(ids, rng, '/login/logout', 'GET', 302),
      resource_changes: [],
      notifications: [],
    }),
  },
  {
    type: 'request.authentication_failed',
    weight: 10,
    status: 'failure',
    severity: 'err',
    make: (rng, ids) => ({
      created_by: { system: {} },
      action: action(ids, rng, '/api/v2/orgs/1/workloads', 'GET', 401),
      resource_changes: [],
      notifications: [
        {
          uuid: ids(3),
          notification_type: 'request.authentication_failed',
          info: { api_key_id: `${rng.u32().toString(16)}`, reason: 'invalid_credentials' },
        },
      ],
    }),
  },
  {
    type: 'request.authorization_failed',
    weight: 5,
    status: 'failure',
    severity: 'err',
    make: (rng, ids) => ({
      created_by: user(rng),
      action: action(ids, rng, '/api/v2/orgs/1/sec_policy', 'POST', 403),
      resource_changes: [],
      notifications: [],
    }),
  },
  {
    type: 'agent.tampering',
    weight: 5,
    status: 'success',
    severity: 'warning',
    make: (_rng, ids, agent) => ({
      created_by: { agent: agent() },
      action: null,
      resource_changes: [],
      notifications: [
        {
          uuid: ids(3),
          notification_type: 'agent.firewall_tampered',
          info: { tampering_revert_succeeded: true },
        },
      ],
    }),
  },
  {
    type: 'system_task.agent_offline_check',
    weight: 20,
    status: 'success',
    severity: 'info',
    make: (rng, ids) => ({
      created_by: { system: {} },
      action: null,
      resource_changes: [],
      notifications: rng.chance(0.3)
        ? [
            {
              uuid: ids(3),
              notification_type: 'agent.missed_heartbeats',
              info: { agents_affected: rng.between(1, 5) },
            },
          ]
        : [],
    }),
  },
  {
    type: 'api_key.create',
    weight: 10,
    status: 'success',
    severity: 'info',
    make: (rng, ids) => {
      const who = user(rng);
      return {
        created_by: who,
        action: action(ids, rng, `${who.user.href}/api_keys`, 'POST', 201),
        resource_changes: [
          {
            uuid: ids(2),
            resource: {
              api_key: { href: `${who.user.href}/api_keys/${ids(4).slice(0, 16).replaceAll('-', '')}` },
            },
            change_type: 'create',
            changes: { name: { before: null, after: `export-${rng.between(1, 99)}` } },
          },
        ],
        notifications: [],
      };
    },
  },
];

const TOTAL_WEIGHT = SHAPES.reduce((sum, s) => sum + s.weight, 0);

function shapeFor(rng: Rng): Shape {
  let pick = rng.int(TOTAL_WEIGHT);
  for (const shape of SHAPES) {
    pick -= shape.weight;
    if (pick < 0) return shape;
  }
  return at(SHAPES, 0);
}

/** Type, status and severity of the everyday event drawn from `seed` (cheap: for filters). */
export function everydayKind(seed: number): EventKind {
  return shapeFor(new Rng(seed));
}

/** The everyday event drawn from `seed`, in the PCE's field order. */
export function everydayEvent(
  href: string,
  timestamp: string,
  seed: number,
  ids: Ids,
  agent: () => PceObject,
): PceObject {
  const rng = new Rng(seed);
  const shape = shapeFor(rng);
  const { created_by, ...rest } = shape.make(rng, ids, agent);
  return eventObject(href, timestamp, created_by, shape, rest);
}

/** An event in the PCE's field order. */
export function eventObject(
  href: string,
  timestamp: string,
  createdBy: unknown,
  kind: EventKind,
  rest: PceObject,
): PceObject {
  return {
    href,
    timestamp,
    pce_fqdn: PCE_FQDN,
    created_by: createdBy,
    event_type: kind.type,
    status: kind.status,
    severity: kind.severity,
    version: 2,
    ...rest,
  };
}
