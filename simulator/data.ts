/**
 * The simulated PCE's objects. Each collection knows its size and builds object `i` on
 * demand from (seed, org, i); filters are predicates over the index that only compute the
 * few attributes they look at. Nothing is stored.
 */

import { at, hash, hash4, hashString, Rng, uuidForIndex } from './random';
import type { DatasetSizes } from './types';

export type PceObject = Record<string, unknown>;

/** A filter value turned into a predicate over object indexes, or an error message. */
export type FilterBuilder = (value: string) => ((index: number) => boolean) | string;

export interface Collection {
  /** Org-relative path without the leading slash: `workloads`, `sec_policy/draft/rule_sets`. */
  readonly path: string;
  readonly size: number;
  /** Query parameters this collection filters on. */
  readonly filters: Readonly<Record<string, FilterBuilder>>;
  /** Object `index` as a fresh object. */
  object(index: number): PceObject;
  /** Object `index` as compact JSON: exactly `JSON.stringify(object(index))`. */
  text(index: number): string;
}

type CollectionSpec = Omit<Collection, 'text'> & { readonly text?: (index: number) => string };

function complete(spec: CollectionSpec): Collection {
  return { ...spec, text: spec.text ?? ((i) => JSON.stringify(spec.object(i))) };
}

export const DEFAULT_DATASET: Readonly<Required<DatasetSizes>> = {
  labels: 40,
  workloads: 200,
  services: 30,
  ipLists: 12,
  labelGroups: 8,
  ruleSets: 12,
  trafficFlows: 1000,
};

const BASE_TIME = Date.UTC(2022, 0, 3, 9, 0, 0);
const TWO_YEARS_S = 730 * 86_400;
const USER = { href: '/users/1' } as const;

export const LABEL_KEYS = ['role', 'app', 'env', 'loc'] as const;
export type LabelKey = (typeof LABEL_KEYS)[number];

const LABEL_VALUES: Readonly<Record<LabelKey, readonly string[]>> = {
  role: [
    'Web',
    'App',
    'DB',
    'Cache',
    'Queue',
    'LB',
    'Batch',
    'Monitoring',
    'Bastion',
    'Proxy',
    'Search',
    'Storage',
    'API',
    'Worker',
    'Scheduler',
    'Gateway',
  ],
  app: [
    'Payments',
    'Billing',
    'CRM',
    'ERP',
    'HR-Portal',
    'Inventory',
    'Logistics',
    'Analytics',
    'Identity',
    'Messaging',
    'Catalog',
    'Checkout',
    'Reporting',
    'Ledger',
    'Shipping',
    'Support',
    'Trading',
    'Risk',
    'Claims',
    'Onboarding',
  ],
  env: ['Production', 'Staging', 'Development', 'QA', 'Test', 'DR', 'UAT', 'Sandbox', 'Perf', 'Training'],
  loc: [
    'Amsterdam',
    'Frankfurt',
    'London',
    'Paris',
    'Virginia',
    'Oregon',
    'Singapore',
    'Tokyo',
    'Sydney',
    'Sao-Paulo',
    'Mumbai',
    'Toronto',
    'Dublin',
    'Zurich',
  ],
};

const ENV_SHORT: Readonly<Record<string, string>> = {
  Production: 'prod',
  Staging: 'stg',
  Development: 'dev',
  Test: 'test',
  Sandbox: 'sbx',
  Training: 'trn',
};

interface OsInfo {
  readonly id: string;
  readonly detail: string;
  readonly windows: boolean;
}

const OSES: readonly OsInfo[] = [
  {
    id: 'centos-x86_64-7.0',
    detail: '3.10.0-1160.el7.x86_64 #1 SMP (CentOS Linux release 7.9.2009 (Core))',
    windows: false,
  },
  {
    id: 'rhel-x86_64-8.0',
    detail: '4.18.0-513.5.1.el8_9.x86_64 #1 SMP (Red Hat Enterprise Linux release 8.9 (Ootpa))',
    windows: false,
  },
  {
    id: 'rhel-x86_64-9.0',
    detail: '5.14.0-362.8.1.el9_3.x86_64 #1 SMP (Red Hat Enterprise Linux release 9.3 (Plow))',
    windows: false,
  },
  {
    id: 'ubuntu-x86_64-jammy',
    detail: '5.15.0-91-generic #101-Ubuntu SMP (Ubuntu 22.04.3 LTS)',
    windows: false,
  },
  {
    id: 'ubuntu-x86_64-focal',
    detail: '5.4.0-167-generic #184-Ubuntu SMP (Ubuntu 20.04.6 LTS)',
    windows: false,
  },
  { id: 'amzn-x86_64-2', detail: '4.14.330-250.540.amzn2.x86_64 #1 SMP (Amazon Linux 2)', windows: false },
  { id: 'win-x86_64-ws2019', detail: 'Microsoft Windows Server 2019 Datacenter (10.0.17763)', windows: true },
  { id: 'win-x86_64-ws2022', detail: 'Microsoft Windows Server 2022 Standard (10.0.20348)', windows: true },
];

const VEN_VERSIONS = ['22.5.30-9817', '23.2.10-112', '23.2.22-155', '23.5.10-188'] as const;
const ENFORCEMENT = ['visibility_only', 'visibility_only', 'selective', 'full', 'full', 'idle'] as const;

/** Well-known services: name, ports ([port, proto] or [port, proto, toPort]) and a process. */
const SERVICES: readonly (readonly [string, readonly (readonly number[])[], string | null])[] = [
  ['HTTP', [[80, 6]], 'nginx'],
  ['HTTPS', [[443, 6]], 'nginx'],
  ['SSH', [[22, 6]], 'sshd'],
  ['RDP', [[3389, 6]], 'svchost.exe'],
  [
    'DNS',
    [
      [53, 17],
      [53, 6],
    ],
    'named',
  ],
  ['NTP', [[123, 17]], 'chronyd'],
  ['MySQL', [[3306, 6]], 'mysqld'],
  ['PostgreSQL', [[5432, 6]], 'postgres'],
  ['MS-SQL', [[1433, 6]], 'sqlservr.exe'],
  ['Oracle', [[1521, 6]], 'tnslsnr'],
  ['SMB', [[445, 6]], 'System'],
  [
    'LDAP',
    [
      [389, 6],
      [636, 6],
    ],
    'lsass.exe',
  ],
  [
    'Kerberos',
    [
      [88, 6],
      [88, 17],
    ],
    'lsass.exe',
  ],
  ['SMTP', [[25, 6]], 'postfix'],
  ['Redis', [[6379, 6]], 'redis-server'],
  ['Kafka', [[9092, 6]], 'java'],
  ['Elasticsearch', [[9200, 6, 9300]], 'java'],
  ['MongoDB', [[27017, 6]], 'mongod'],
  ['RabbitMQ', [[5672, 6]], 'beam.smp'],
  ['ZooKeeper', [[2181, 6]], 'java'],
  ['SNMP', [[161, 17]], 'snmpd'],
  ['Syslog', [[514, 17]], 'rsyslogd'],
  ['Memcached', [[11211, 6]], 'memcached'],
  ['Tomcat', [[8080, 6]], 'java'],
  ['HTTPS-Alt', [[8443, 6]], 'java'],
  ['WinRM', [[5985, 6, 5986]], 'svchost.exe'],
  ['ICMP', [[-1, 1]], null],
];

/** Ports/protocols/processes seen in traffic. */
export const FLOW_SERVICES: readonly {
  readonly port: number;
  readonly proto: number;
  readonly process: string;
}[] = SERVICES.flatMap(([, ports, process]) =>
  ports
    .filter((p) => (p[0] ?? -1) > 0)
    .map((p) => ({ port: p[0] ?? 0, proto: p[1] ?? 6, process: process ?? 'unknown' })),
);

const DAY_MS = 86_400_000;
const dayPrefixes = new Map<number, string>();
const TWO_DIGITS: readonly string[] = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));

/** `Date#toISOString`, faster: the date part is cached per day (millions of objects share ~800 days). */
export function iso(ms: number): string {
  const day = Math.floor(ms / DAY_MS);
  let prefix = dayPrefixes.get(day);
  if (prefix === undefined) {
    prefix = new Date(day * DAY_MS).toISOString().slice(0, 11);
    if (dayPrefixes.size < 100_000) dayPrefixes.set(day, prefix);
  }
  const rest = ms - day * DAY_MS;
  const milli = rest % 1000;
  return `${prefix}${at(TWO_DIGITS, Math.floor(rest / 3_600_000))}:${at(TWO_DIGITS, Math.floor(rest / 60_000) % 60)}:${at(TWO_DIGITS, Math.floor(rest / 1000) % 60)}.${milli < 10 ? '00' : milli < 100 ? '0' : ''}${milli}Z`;
}

/** created_at/updated_at for an object, spread over two years. */
function stamps(h: number): { created_at: string; updated_at: string } {
  const created = BASE_TIME + (h % TWO_YEARS_S) * 1000 + (h % 997);
  const updated = created + (mixMod(h, 86_400 * 90) + 60) * 1000 + (h % 991);
  return { created_at: iso(created), updated_at: iso(updated) };
}

function mixMod(h: number, n: number): number {
  return hash(h, 0x51) % n;
}

function containsCi(haystack: string, needle: string): boolean {
  return haystack.toLowerCase().includes(needle.toLowerCase());
}

function parseBool(value: string): boolean | string {
  if (value === 'true') return true;
  if (value === 'false') return false;
  return `expected true or false, got "${value}"`;
}

function parseIntParam(value: string, name: string): number | string {
  return /^-?\d{1,9}$/.test(value) ? Number(value) : `${name} must be an integer, got "${value}"`;
}

function slug(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, '-');
}

/** One org's data. */
export class OrgData {
  readonly sizes: Readonly<Required<DatasetSizes>>;
  private readonly seedHash: number;
  private readonly collections = new Map<string, Collection>();
  private readonly labelCountByKey: readonly number[];
  /** The one network every interface is on. */
  readonly networkHref: string;

  constructor(
    readonly org: number,
    seed: number,
    sizes: Readonly<Required<DatasetSizes>>,
  ) {
    this.sizes = sizes;
    this.seedHash = hash(seed, org, 0x5eed);
    this.networkHref = `/orgs/${org}/networks/${this.uuid(0x7e7, 0)}`;
    this.labelCountByKey = LABEL_KEYS.map((_, k) =>
      sizes.labels > k ? Math.floor((sizes.labels - 1 - k) / 4) + 1 : 0,
    );
  }

  /** Looks a collection up by org-relative path (`workloads`, `services`, `sec_policy/active/rule_sets`). */
  collection(path: string): Collection | undefined {
    const canonical = canonicalPath(path);
    if (canonical === undefined) return undefined;
    let found = this.collections.get(canonical);
    if (found === undefined) {
      found = complete(this.build(canonical));
      this.collections.set(canonical, found);
    }
    return found;
  }

  private build(path: string): CollectionSpec {
    if (path === 'labels') return this.labels();
    if (path === 'workloads') return this.workloads();
    const [, pversion, kind] = path.split('/') as [string, 'draft' | 'active', string];
    switch (kind) {
      case 'services':
        return this.services(pversion);
      case 'ip_lists':
        return this.ipLists(pversion);
      case 'label_groups':
        return this.labelGroups(pversion);
      default:
        return this.ruleSets(pversion);
    }
  }

  private h(salt: number, index: number, extra = 0): number {
    return hash4(this.seedHash, salt, index, extra);
  }

  /** UUID of object `index` of the kind `salt`; unique within the kind. */
  private uuid(salt: number, index: number): string {
    return uuidForIndex(hash4(this.seedHash, salt, 0x77, 0), index);
  }

  // ---- labels -------------------------------------------------------------------------

  labelHref(index: number): string {
    return `/orgs/${this.org}/labels/${index + 1}`;
  }

  labelKey(index: number): LabelKey {
    return at(LABEL_KEYS, index % 4);
  }

  labelValue(index: number): string {
    const key = this.labelKey(index);
    const pool = LABEL_VALUES[key];
    const ordinal = Math.floor(index / 4);
    const base = at(pool, ordinal % pool.length);
    return ordinal < pool.length ? base : `${base}-${Math.floor(ordinal / pool.length) + 1}`;
  }

  /** Label index from an href of this org, or undefined. */
  labelIndexFromHref(href: string): number | undefined {
    const m = /^\/orgs\/(\d+)\/labels\/(\d+)$/.exec(href);
    if (!m || Number(m[1]) !== this.org) return undefined;
    const index = Number(m[2]) - 1;
    return index >= 0 && index < this.sizes.labels ? index : undefined;
  }

  /** A random label of the given key, or undefined when there is none. */
  private randomLabel(rng: Rng, k: number): number | undefined {
    const count = this.labelCountByKey[k] ?? 0;
    return count === 0 ? undefined : 4 * rng.int(count) + k;
  }

  private labels(): CollectionSpec {
    const salt = 0x1abe1;
    return {
      path: 'labels',
      size: this.sizes.labels,
      filters: {
        key: (value) => (i) => this.labelKey(i) === value,
        value: (value) => (i) => containsCi(this.labelValue(i), value),
      },
      object: (i) => ({
        href: this.labelHref(i),
        key: this.labelKey(i),
        value: this.labelValue(i),
        external_data_set: null,
        external_data_reference: null,
        ...stamps(this.h(salt, i)),
        created_by: USER,
        updated_by: USER,
      }),
    };
  }

  // ---- workloads ----------------------------------------------------------------------

  /** The attributes filters look at; cheap. The returned rng continues for the full object. */
  workloadCore(i: number): WorkloadCore {
    const rng = new Rng(this.h(0x0b1d, i));
    const managed = rng.chance(0.78);
    const labels: number[] = [];
    for (let k = 0; k < 4; k++) {
      const chosen = rng.chance(0.94) ? this.randomLabel(rng, k) : undefined;
      if (chosen !== undefined) labels.push(chosen);
    }
    const os = managed ? rng.int(OSES.length) : -1;
    const enforcement = managed ? rng.pick(ENFORCEMENT) : 'idle';
    const online = managed ? rng.chance(0.96) : true;
    return { managed, labels, os, enforcement, online, rng };
  }

  workloadHref(i: number): string {
    return `/orgs/${this.org}/workloads/${this.uuid(0x0b1d, i)}`;
  }

  workloadHostname(i: number, core: WorkloadCore): string {
    let role = 'host';
    let env = 'gen';
    let loc = 'dc1';
    for (const l of core.labels) {
      const key = this.labelKey(l);
      const value = this.labelValue(l);
      if (key === 'role') role = slug(value);
      else if (key === 'env') env = ENV_SHORT[value] ?? slug(value);
      else if (key === 'loc') loc = slug(value).slice(0, 3);
    }
    const prefix = core.os >= 0 && at(OSES, core.os).windows ? 'win' : role;
    return `${prefix}-${env}-${String(i + 1).padStart(6, '0')}.${loc}.corp.example.com`;
  }

  /** Primary interface address: 10.x.y.z, unique below 16.5 million workloads. */
  workloadIp(i: number): string {
    const subnet = Math.floor(i / 253);
    return `10.${(subnet >> 8) & 255}.${subnet & 255}.${(i % 253) + 1}`;
  }

  private workloadGateway(i: number): string {
    const subnet = Math.floor(i / 253);
    return `10.${(subnet >> 8) & 255}.${subnet & 255}.254`;
  }

  /** The short workload object found in traffic flows. */
  workloadRef(i: number): PceObject {
    const core = this.workloadCore(i);
    const hostname = this.workloadHostname(i, core);
    return {
      href: this.workloadHref(i),
      hostname,
      name: core.managed ? null : hostname,
      labels: core.labels.map((l) => ({
        href: this.labelHref(l),
        key: this.labelKey(l),
        value: this.labelValue(l),
      })),
      managed: core.managed,
      enforcement_mode: core.enforcement,
      os_type: core.os >= 0 && at(OSES, core.os).windows ? 'windows' : 'linux',
    };
  }

  private workloads(): CollectionSpec {
    const labelsFilter: FilterBuilder = (value) => {
      let groups: unknown;
      try {
        groups = JSON.parse(value);
      } catch {
        return 'labels must be a JSON array of arrays of label hrefs';
      }
      if (
        !Array.isArray(groups) ||
        !groups.every((g) => Array.isArray(g) && g.every((h) => typeof h === 'string'))
      )
        return 'labels must be a JSON array of arrays of label hrefs';
      const wanted = (groups as string[][]).map((g) => g.map((h) => this.labelIndexFromHref(h) ?? -1));
      return (i) => {
        const have = this.workloadCore(i).labels;
        return wanted.some((group) => group.every((l) => have.includes(l)));
      };
    };
    return {
      path: 'workloads',
      size: this.sizes.workloads,
      filters: {
        managed: (value) => {
          const b = parseBool(value);
          return typeof b === 'string' ? `managed: ${b}` : (i) => this.workloadCore(i).managed === b;
        },
        online: (value) => {
          const b = parseBool(value);
          return typeof b === 'string' ? `online: ${b}` : (i) => this.workloadCore(i).online === b;
        },
        enforcement_mode: (value) => (i) => this.workloadCore(i).enforcement === value,
        hostname: (value) => (i) => containsCi(this.workloadHostname(i, this.workloadCore(i)), value),
        name: (value) => (i) => {
          const core = this.workloadCore(i);
          return !core.managed && containsCi(this.workloadHostname(i, core), value);
        },
        os_id: (value) => (i) => {
          const core = this.workloadCore(i);
          return core.os >= 0 && at(OSES, core.os).id === value;
        },
        ip_address: (value) => (i) => this.workloadIp(i) === value,
        labels: labelsFilter,
      },
      text: (i) => this.workloadText(i),
      object: (i) => JSON.parse(this.workloadText(i)) as PceObject,
    };
  }

  /**
   * Workload `i` as compact JSON, written directly (datafiles of millions of workloads are
   * dominated by this); identical to `JSON.stringify` of the parsed object.
   */
  private workloadText(i: number): string {
    const core = this.workloadCore(i);
    const { rng, managed } = core;
    const hostname = JSON.stringify(this.workloadHostname(i, core));
    const os = core.os >= 0 ? at(OSES, core.os) : undefined;
    const times = stamps(this.h(0x0b1d, i, 1));
    const net = this.networkHref;
    const nic = (name: string, address: string, gateway: string) =>
      `{"name":"${name}","address":"${address}","cidr_block":24,"default_gateway_address":${gateway},"link_state":"up","network":{"href":"${net}"},"network_detection_mode":"single_private_brn","friendly_name":null,"loopback":false}`;
    let interfaces = nic(
      os?.windows ? 'Ethernet0' : 'eth0',
      this.workloadIp(i),
      `"${this.workloadGateway(i)}"`,
    );
    if (managed && rng.chance(0.25))
      interfaces += `,${nic(os?.windows ? 'Ethernet1' : 'eth1', `192.168.${rng.int(256)}.${rng.between(1, 253)}`, 'null')}`;
    const publicIp = managed && rng.chance(0.1) ? `"203.0.113.${rng.between(1, 254)}"` : 'null';
    let labels = '';
    for (const l of core.labels) labels += `${labels ? ',' : ''}{"href":"${this.labelHref(l)}"}`;
    const ven = managed
      ? `{"href":"/orgs/${this.org}/vens/${this.uuid(0x7e4, i)}","hostname":${hostname},"name":null,"status":"${core.online ? 'active' : 'stopped'}","version":"${rng.pick(VEN_VERSIONS)}","ven_type":"server"}`
      : 'null';
    return (
      `{"href":"${this.workloadHref(i)}","deleted":false,"delete_type":null,` +
      `"name":${managed ? 'null' : hostname},"description":${managed ? 'null' : '"Imported from CMDB"'},` +
      `"managed":${managed},"hostname":${hostname},"service_principal_name":null,` +
      `"agent_to_pce_certificate_authentication_id":null,"distinguished_name":null,"public_ip":${publicIp},` +
      `"external_data_set":${managed ? 'null' : '"cmdb"'},` +
      `"external_data_reference":${managed ? 'null' : `"CI${String(i + 1).padStart(8, '0')}"`},` +
      `"interfaces":[${interfaces}],"service_provider":null,"data_center":null,"data_center_zone":null,` +
      `"os_id":${os ? JSON.stringify(os.id) : 'null'},"os_detail":${os ? JSON.stringify(os.detail) : 'null'},` +
      `"online":${core.online},"firewall_coexistence":null,"containers_inherit_host_policy":false,` +
      `"blocked_connection_action":"drop","labels":[${labels}],"enforcement_mode":"${core.enforcement}",` +
      `"visibility_level":${managed ? '"flow_summary"' : 'null'},"selectively_enforced_services":[],` +
      `"container_cluster":null,"ike_authentication_certificate":null,"ven":${ven},` +
      `"created_at":"${times.created_at}","updated_at":"${times.updated_at}","deleted_at":null,` +
      `"created_by":{"href":"/users/1"},"updated_by":{"href":"/users/1"},"deleted_by":null}`
    );
  }

  // ---- policy objects -----------------------------------------------------------------

  private policyHref(pversion: string, kind: string, id: string | number): string {
    return `/orgs/${this.org}/sec_policy/${pversion}/${kind}/${id}`;
  }

  private policyMeta(salt: number, i: number, pversion: string): PceObject {
    return {
      ...stamps(this.h(salt, i)),
      deleted_at: null,
      created_by: USER,
      updated_by: USER,
      deleted_by: null,
      update_type: pversion === 'draft' && hash(this.seedHash, salt, i, 9) % 10 === 0 ? 'update' : null,
    };
  }

  private serviceName(i: number): string {
    if (i === 0) return 'All Services';
    const known = SERVICES[i - 1];
    return known ? known[0] : `App-Port-${10_000 + i}`;
  }

  private servicePorts(i: number): PceObject[] {
    if (i === 0) return [{ proto: -1 }];
    const known = SERVICES[i - 1];
    if (!known) return [{ port: 10_000 + i, proto: 6 }];
    return known[1].map(([port = 0, proto = 6, toPort]) =>
      port < 0 ? { proto } : toPort === undefined ? { port, proto } : { port, to_port: toPort, proto },
    );
  }

  private services(pversion: string): CollectionSpec {
    const salt = 0x5e2;
    return {
      path: `sec_policy/${pversion}/services`,
      size: this.sizes.services,
      filters: {
        name: (value) => (i) => containsCi(this.serviceName(i), value),
        port: (value) => {
          const port = parseIntParam(value, 'port');
          if (typeof port === 'string') return port;
          return (i) =>
            this.servicePorts(i).some((p) => {
              const from = typeof p.port === 'number' ? p.port : undefined;
              const to = typeof p.to_port === 'number' ? p.to_port : from;
              return from !== undefined && to !== undefined && port >= from && port <= to;
            });
        },
        proto: (value) => {
          const proto = parseIntParam(value, 'proto');
          if (typeof proto === 'string') return proto;
          return (i) => this.servicePorts(i).some((p) => p.proto === proto);
        },
      },
      object: (i) => {
        const known = SERVICES[i - 1];
        return {
          href: this.policyHref(pversion, 'services', i + 1),
          ...this.policyMeta(salt, i, pversion),
          name: this.serviceName(i),
          description: null,
          description_url: null,
          process_name: known?.[2] ?? null,
          service_ports: this.servicePorts(i),
          external_data_set: null,
          external_data_reference: null,
        };
      },
    };
  }

  private ipListName(i: number): string {
    return i === 0 ? 'Any (0.0.0.0/0 and ::/0)' : `${at(IP_LIST_NAMES, (i - 1) % IP_LIST_NAMES.length)}-${i}`;
  }

  private ipLists(pversion: string): CollectionSpec {
    const salt = 0x1b15;
    return {
      path: `sec_policy/${pversion}/ip_lists`,
      size: this.sizes.ipLists,
      filters: {
        name: (value) => (i) => containsCi(this.ipListName(i), value),
      },
      object: (i) => {
        const rng = new Rng(this.h(salt, i, 1));
        const ranges: PceObject[] =
          i === 0
            ? [
                { from_ip: '0.0.0.0/0', exclusion: false },
                { from_ip: '::/0', exclusion: false },
              ]
            : Array.from({ length: rng.between(1, 3) }, () => {
                if (rng.chance(0.3)) {
                  const net = `172.${rng.between(16, 31)}.${rng.int(256)}`;
                  return { from_ip: `${net}.1`, to_ip: `${net}.${rng.between(2, 254)}`, exclusion: false };
                }
                return {
                  from_ip: `${rng.between(11, 223)}.${rng.int(256)}.0.0/16`,
                  exclusion: rng.chance(0.05),
                };
              });
        return {
          href: this.policyHref(pversion, 'ip_lists', i + 1),
          ...this.policyMeta(salt, i, pversion),
          name: this.ipListName(i),
          description: null,
          external_data_set: null,
          external_data_reference: null,
          ip_ranges: ranges,
          fqdns: i > 0 && rng.chance(0.2) ? [{ fqdn: `updates${i}.vendor.example.net` }] : [],
        };
      },
    };
  }

  private labelGroupKey(i: number): LabelKey {
    return at(LABEL_KEYS, (i + 2) % 4);
  }

  private labelGroupName(i: number): string {
    const key = this.labelGroupKey(i);
    return `${at(LABEL_GROUP_NAMES[key], Math.floor(i / 4) % LABEL_GROUP_NAMES[key].length)}-${i + 1}`;
  }

  private labelGroups(pversion: string): CollectionSpec {
    const salt = 0x19a;
    return {
      path: `sec_policy/${pversion}/label_groups`,
      size: this.sizes.labelGroups,
      filters: {
        key: (value) => (i) => this.labelGroupKey(i) === value,
        name: (value) => (i) => containsCi(this.labelGroupName(i), value),
      },
      object: (i) => {
        const rng = new Rng(this.h(salt, i, 1));
        const k = LABEL_KEYS.indexOf(this.labelGroupKey(i));
        const members = new Set<number>();
        const n = rng.between(2, 4);
        for (let j = 0; j < n; j++) {
          const l = this.randomLabel(rng, k);
          if (l !== undefined) members.add(l);
        }
        return {
          href: this.policyHref(pversion, 'label_groups', this.uuid(salt, i)),
          ...this.policyMeta(salt, i, pversion),
          name: this.labelGroupName(i),
          description: null,
          key: this.labelGroupKey(i),
          labels: [...members].sort((a, b) => a - b).map((l) => ({ href: this.labelHref(l) })),
          sub_groups: [],
          external_data_set: null,
          external_data_reference: null,
        };
      },
    };
  }

  private ruleSetName(i: number): string {
    const rng = new Rng(this.h(0x2c5, i, 1));
    const app = this.randomLabel(rng, 1);
    const env = this.randomLabel(rng, 2);
    const appName = app === undefined ? 'App' : this.labelValue(app);
    const envName = env === undefined ? 'Any' : this.labelValue(env);
    return `RS-${appName}-${envName}-${i + 1}`;
  }

  private ruleSets(pversion: string): CollectionSpec {
    const salt = 0x2c5;
    return {
      path: `sec_policy/${pversion}/rule_sets`,
      size: this.sizes.ruleSets,
      filters: {
        name: (value) => (i) => containsCi(this.ruleSetName(i), value),
      },
      object: (i) => {
        const rng = new Rng(this.h(salt, i, 1));
        // The first two draws repeat ruleSetName's, so the scope matches the name.
        const app = this.randomLabel(rng, 1);
        const env = this.randomLabel(rng, 2);
        const scope = [app, env]
          .filter((l) => l !== undefined)
          .map((l) => ({ label: { href: this.labelHref(l) } }));
        const href = this.policyHref(pversion, 'rule_sets', i + 1);
        const meta = this.policyMeta(salt, i, pversion);
        const rules = Array.from({ length: rng.between(1, 5) }, (_, j) => {
          const provider = this.randomLabel(rng, 0);
          const consumer = this.randomLabel(rng, 0);
          const service =
            this.sizes.services > 1
              ? { href: this.policyHref(pversion, 'services', rng.between(2, this.sizes.services)) }
              : { port: 443, proto: 6 };
          return {
            href: `${href}/sec_rules/${i * 8 + j + 1}`,
            enabled: true,
            description: null,
            ingress_services: [service],
            egress_services: [],
            resolve_labels_as: { providers: ['workloads'], consumers: ['workloads'] },
            sec_connect: false,
            stateless: false,
            machine_auth: false,
            consuming_security_principals: [],
            unscoped_consumers: false,
            network_type: 'brn',
            providers:
              provider === undefined ? [{ actors: 'ams' }] : [{ label: { href: this.labelHref(provider) } }],
            consumers:
              consumer === undefined || rng.chance(0.2)
                ? [{ actors: 'ams' }]
                : [{ label: { href: this.labelHref(consumer) } }],
            log_flow: false,
            created_at: meta.created_at,
            updated_at: meta.updated_at,
            created_by: USER,
            updated_by: USER,
            update_type: null,
          };
        });
        return {
          href,
          ...meta,
          name: this.ruleSetName(i),
          description: null,
          enabled: rng.chance(0.95),
          scopes: [scope],
          rules,
          ip_tables_rules: [],
          external_data_set: null,
          external_data_reference: null,
          caps: pversion === 'draft' ? ['write', 'provision'] : [],
        };
      },
    };
  }
}

export interface WorkloadCore {
  readonly managed: boolean;
  /** Label indexes, at most one per key. */
  readonly labels: readonly number[];
  /** Index into the OS table; -1 for unmanaged workloads. */
  readonly os: number;
  readonly enforcement: string;
  readonly online: boolean;
  readonly rng: Rng;
}

const IP_LIST_NAMES = [
  'Corporate-Network',
  'Partner-VPN',
  'Cloud-Egress',
  'Monitoring-Probes',
  'Jump-Hosts',
  'Vendor',
];
const LABEL_GROUP_NAMES: Readonly<Record<LabelKey, readonly string[]>> = {
  role: ['Frontend-Roles', 'Backend-Roles', 'Data-Roles'],
  app: ['Core-Banking', 'Customer-Facing', 'Back-Office'],
  env: ['Non-Production', 'Production-Like', 'Ephemeral'],
  loc: ['EMEA', 'Americas', 'APAC'],
};

const POLICY_KINDS = new Set(['services', 'ip_lists', 'label_groups', 'rule_sets']);

/**
 * `labels`, `workloads`, `sec_policy/{draft|active}/{services|ip_lists|label_groups|rule_sets}`;
 * the short forms `services`, `ip_lists`, `label_groups`, `rule_sets` mean the draft version.
 */
export function canonicalPath(path: string): string | undefined {
  const p = path.replace(/^\/+|\/+$/g, '');
  if (p === 'labels' || p === 'workloads') return p;
  if (POLICY_KINDS.has(p)) return `sec_policy/draft/${p}`;
  const m = /^sec_policy\/(draft|active)\/([a-z_]+)$/.exec(p);
  if (m && POLICY_KINDS.has(m[2] ?? '')) return p;
  return undefined;
}

/** Stable hash of a string, exposed for traffic generation. */
export function seedFor(seed: number, org: number, text: string): number {
  return hash(seed, org, hashString(text));
}
