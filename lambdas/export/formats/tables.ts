import { bigint, boolean, type Fields, int, json, list, map, string, struct, timestamp } from './schema';

/*
 * The columns of each known PCE collection, of traffic flows and of audit events, after the
 * object shapes of the PCE's REST API (workloads, labels, label groups, services, IP lists,
 * rule sets and their rules, Explorer flow records, events). Parquet exports and the Glue
 * tables are built from these; a field not listed is kept in `extra_json` (see schema.ts).
 */

const ref = struct({ href: string });
const namedRef = struct({ href: string, name: string });
const label = struct({ href: string, key: string, value: string });
const userRef = ref;

/** The audit fields policy objects carry. */
const audit: Fields = {
  created_at: timestamp,
  updated_at: timestamp,
  deleted_at: timestamp,
  created_by: userRef,
  updated_by: userRef,
  deleted_by: userRef,
  update_type: string,
};

const external: Fields = { external_data_set: string, external_data_reference: string };

const servicePort = struct({
  href: string,
  port: int,
  to_port: int,
  proto: int,
  icmp_type: int,
  icmp_code: int,
});

/** A rule's provider or consumer. */
const actor = struct({
  actors: string,
  label: ref,
  label_group: ref,
  workload: ref,
  ip_list: ref,
  virtual_service: ref,
  virtual_server: ref,
  exclusion: boolean,
});

const RULE: Fields = {
  href: string,
  enabled: boolean,
  description: string,
  ingress_services: list(servicePort),
  egress_services: list(servicePort),
  resolve_labels_as: struct({ providers: list(string), consumers: list(string) }),
  sec_connect: boolean,
  stateless: boolean,
  machine_auth: boolean,
  consuming_security_principals: list(namedRef),
  unscoped_consumers: boolean,
  network_type: string,
  providers: list(actor),
  consumers: list(actor),
  log_flow: boolean,
  ...external,
  ...audit,
};

const WORKLOADS: Fields = {
  href: string,
  name: string,
  hostname: string,
  description: string,
  managed: boolean,
  online: boolean,
  deleted: boolean,
  delete_type: string,
  enforcement_mode: string,
  visibility_level: string,
  os_type: string,
  os_id: string,
  os_detail: string,
  public_ip: string,
  service_principal_name: string,
  agent_to_pce_certificate_authentication_id: string,
  distinguished_name: string,
  service_provider: string,
  data_center: string,
  data_center_zone: string,
  ...external,
  interfaces: list(
    struct({
      name: string,
      address: string,
      cidr_block: int,
      default_gateway_address: string,
      link_state: string,
      network: ref,
      network_detection_mode: string,
      friendly_name: string,
      loopback: boolean,
    }),
  ),
  labels: list(label),
  ven: struct({
    href: string,
    hostname: string,
    name: string,
    status: string,
    version: string,
    ven_type: string,
  }),
  firewall_coexistence: json,
  containers_inherit_host_policy: boolean,
  blocked_connection_action: string,
  selectively_enforced_services: list(servicePort),
  container_cluster: namedRef,
  ike_authentication_certificate: json,
  ...audit,
};

const LABELS: Fields = {
  href: string,
  key: string,
  value: string,
  ...external,
  deleted: boolean,
  created_at: timestamp,
  updated_at: timestamp,
  created_by: userRef,
  updated_by: userRef,
};

const COLLECTIONS: Readonly<Record<string, Fields>> = {
  labels: LABELS,
  workloads: WORKLOADS,
  rule_sets: {
    href: string,
    name: string,
    description: string,
    enabled: boolean,
    scopes: list(list(struct({ label: ref, label_group: ref, exclusion: boolean }))),
    rules: list(struct(RULE)),
    ip_tables_rules: json,
    caps: list(string),
    ...external,
    ...audit,
  },
  sec_rules: RULE,
  services: {
    href: string,
    name: string,
    description: string,
    description_url: string,
    process_name: string,
    service_ports: list(servicePort),
    windows_services: list(
      struct({
        service_name: string,
        process_name: string,
        port: int,
        to_port: int,
        proto: int,
        icmp_type: int,
        icmp_code: int,
      }),
    ),
    ...external,
    ...audit,
  },
  ip_lists: {
    href: string,
    name: string,
    description: string,
    ip_ranges: list(struct({ from_ip: string, to_ip: string, description: string, exclusion: boolean })),
    fqdns: list(struct({ fqdn: string, description: string })),
    ...external,
    ...audit,
  },
  label_groups: {
    href: string,
    name: string,
    description: string,
    key: string,
    labels: list(label),
    sub_groups: list(namedRef),
    ...external,
    ...audit,
  },
};

/** Every collection object has an href; most have these too. */
const GENERIC: Fields = {
  href: string,
  name: string,
  description: string,
  created_at: timestamp,
  updated_at: timestamp,
};

const flowEnd = struct({
  ip: string,
  workload: struct({
    href: string,
    hostname: string,
    name: string,
    labels: list(label),
    managed: boolean,
    enforcement_mode: string,
    os_type: string,
  }),
  ip_lists: list(namedRef),
  fqdn: string,
});

/** One traffic flow record of an Explorer query result. */
const TRAFFIC: Fields = {
  src: flowEnd,
  dst: flowEnd,
  service: struct({
    port: int,
    proto: int,
    process_name: string,
    windows_service_name: string,
    user_name: string,
    icmp_type: int,
    icmp_code: int,
  }),
  num_connections: bigint,
  state: string,
  timestamp_range: struct({ first_detected: timestamp, last_detected: timestamp }),
  dst_bi: bigint,
  dst_bo: bigint,
  policy_decision: string,
  draft_policy_decision: string,
  flow_direction: string,
  transmission: string,
  network: namedRef,
};

/** One audit event (`/events`). */
const EVENTS: Fields = {
  href: string,
  timestamp: timestamp,
  pce_fqdn: string,
  event_type: string,
  status: string,
  severity: string,
  version: int,
  created_by: struct({
    user: struct({ href: string, username: string }),
    agent: struct({ href: string, hostname: string }),
    container_cluster: namedRef,
    system: json,
  }),
  action: struct({
    uuid: string,
    api_endpoint: string,
    api_method: string,
    http_status_code: int,
    src_ip: string,
    task_name: string,
    errors: json,
  }),
  resource_changes: list(
    struct({
      uuid: string,
      change_type: string,
      resource: json,
      changes: map(struct({ before: json, after: json })),
    }),
  ),
  notifications: list(struct({ uuid: string, notification_type: string, info: json })),
};

/** What a table holds: collection objects (by path), traffic flows or audit events. */
export interface TableSubject {
  readonly kind?: string;
  /** Org-relative collection path (collections only). */
  readonly path?: string;
}

/** Names of the tables this module knows, by what `columnsOf` matches on. */
export const KNOWN_COLLECTIONS: readonly string[] = Object.keys(COLLECTIONS);

/**
 * The columns of an export's objects: traffic flows, audit events (the `events` kind or the
 * `/events` collection), a known collection by the last segment of its path
 * (`/sec_policy/active/rule_sets` → `rule_sets`), or the generic few.
 */
export function columnsOf(subject: TableSubject): Fields {
  if (subject.kind === 'traffic') return TRAFFIC;
  const collection = subject.path?.split('/').pop() ?? '';
  if (subject.kind === 'events' || collection === 'events') return EVENTS;
  return COLLECTIONS[collection] ?? GENERIC;
}
