/**
 * Workloads: managed (with a VEN) and unmanaged, one label per key at most, one or two
 * interfaces on 10.x.y.z. Filters compute only the few attributes they look at.
 */
import {
  type CollectionSpec,
  containsCi,
  type FilterBuilder,
  type OrgBasis,
  type PceObject,
  parseBool,
  slug,
  stamps,
} from './basis';
import type { Labels } from './labels';
import { at, Rng } from './random';

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
const SALT = 0x0b1d;

interface WorkloadCore {
  readonly managed: boolean;
  /** Label indexes, at most one per key. */
  readonly labels: readonly number[];
  /** Index into the OS table; -1 for unmanaged workloads. */
  readonly os: number;
  readonly enforcement: string;
  readonly online: boolean;
  readonly rng: Rng;
}

export class Workloads {
  constructor(
    private readonly basis: OrgBasis,
    private readonly labels: Labels,
  ) {}

  /** The attributes filters look at; cheap. The returned rng continues for the full object. */
  core(i: number): WorkloadCore {
    const rng = new Rng(this.basis.h(SALT, i));
    const managed = rng.chance(0.78);
    const labels: number[] = [];
    for (let k = 0; k < 4; k++) {
      const chosen = rng.chance(0.94) ? this.labels.random(rng, k) : undefined;
      if (chosen !== undefined) labels.push(chosen);
    }
    const os = managed ? rng.int(OSES.length) : -1;
    const enforcement = managed ? rng.pick(ENFORCEMENT) : 'idle';
    const online = managed ? rng.chance(0.96) : true;
    return { managed, labels, os, enforcement, online, rng };
  }

  href(i: number): string {
    return `/orgs/${this.basis.org}/workloads/${this.basis.uuid(SALT, i)}`;
  }

  private hostname(i: number, core: WorkloadCore): string {
    let role = 'host';
    let env = 'gen';
    let loc = 'dc1';
    for (const l of core.labels) {
      const key = this.labels.key(l);
      const value = this.labels.value(l);
      if (key === 'role') role = slug(value);
      else if (key === 'env') env = ENV_SHORT[value] ?? slug(value);
      else if (key === 'loc') loc = slug(value).slice(0, 3);
    }
    const prefix = core.os >= 0 && at(OSES, core.os).windows ? 'win' : role;
    return `${prefix}-${env}-${String(i + 1).padStart(6, '0')}.${loc}.corp.example.com`;
  }

  /** Primary interface address: 10.x.y.z, unique below 16.5 million workloads. */
  ip(i: number): string {
    const subnet = Math.floor(i / 253);
    return `10.${(subnet >> 8) & 255}.${subnet & 255}.${(i % 253) + 1}`;
  }

  private gateway(i: number): string {
    const subnet = Math.floor(i / 253);
    return `10.${(subnet >> 8) & 255}.${subnet & 255}.254`;
  }

  /** The short workload object found in traffic flows. */
  ref(i: number): PceObject {
    const core = this.core(i);
    const hostname = this.hostname(i, core);
    return {
      href: this.href(i),
      hostname,
      name: core.managed ? null : hostname,
      labels: core.labels.map((l) => ({
        href: this.labels.href(l),
        key: this.labels.key(l),
        value: this.labels.value(l),
      })),
      managed: core.managed,
      enforcement_mode: core.enforcement,
      os_type: core.os >= 0 && at(OSES, core.os).windows ? 'windows' : 'linux',
    };
  }

  collection(): CollectionSpec {
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
      const wanted = (groups as string[][]).map((g) => g.map((h) => this.labels.indexFromHref(h) ?? -1));
      return (i) => {
        const have = this.core(i).labels;
        return wanted.some((group) => group.every((l) => have.includes(l)));
      };
    };
    return {
      path: 'workloads',
      size: this.basis.sizes.workloads,
      filters: {
        managed: (value) => {
          const b = parseBool(value);
          return typeof b === 'string' ? `managed: ${b}` : (i) => this.core(i).managed === b;
        },
        online: (value) => {
          const b = parseBool(value);
          return typeof b === 'string' ? `online: ${b}` : (i) => this.core(i).online === b;
        },
        enforcement_mode: (value) => (i) => this.core(i).enforcement === value,
        hostname: (value) => (i) => containsCi(this.hostname(i, this.core(i)), value),
        name: (value) => (i) => {
          const core = this.core(i);
          return !core.managed && containsCi(this.hostname(i, core), value);
        },
        os_id: (value) => (i) => {
          const core = this.core(i);
          return core.os >= 0 && at(OSES, core.os).id === value;
        },
        ip_address: (value) => (i) => this.ip(i) === value,
        labels: labelsFilter,
      },
      text: (i) => this.text(i),
      object: (i) => JSON.parse(this.text(i)) as PceObject,
    };
  }

  /**
   * Workload `i` as compact JSON, written directly (datafiles of millions of workloads are
   * dominated by this); identical to `JSON.stringify` of the parsed object.
   */
  private text(i: number): string {
    const { org, networkHref: net } = this.basis;
    const core = this.core(i);
    const { rng, managed } = core;
    const hostname = JSON.stringify(this.hostname(i, core));
    const os = core.os >= 0 ? at(OSES, core.os) : undefined;
    const times = stamps(this.basis.h(SALT, i, 1));
    const nic = (name: string, address: string, gateway: string) =>
      `{"name":"${name}","address":"${address}","cidr_block":24,"default_gateway_address":${gateway},"link_state":"up","network":{"href":"${net}"},"network_detection_mode":"single_private_brn","friendly_name":null,"loopback":false}`;
    let interfaces = nic(os?.windows ? 'Ethernet0' : 'eth0', this.ip(i), `"${this.gateway(i)}"`);
    if (managed && rng.chance(0.25))
      interfaces += `,${nic(os?.windows ? 'Ethernet1' : 'eth1', `192.168.${rng.int(256)}.${rng.between(1, 253)}`, 'null')}`;
    const publicIp = managed && rng.chance(0.1) ? `"203.0.113.${rng.between(1, 254)}"` : 'null';
    let labels = '';
    for (const l of core.labels) labels += `${labels ? ',' : ''}{"href":"${this.labels.href(l)}"}`;
    const ven = managed
      ? `{"href":"/orgs/${org}/vens/${this.basis.uuid(0x7e4, i)}","hostname":${hostname},"name":null,"status":"${core.online ? 'active' : 'stopped'}","version":"${rng.pick(VEN_VERSIONS)}","ven_type":"server"}`
      : 'null';
    return (
      `{"href":"${this.href(i)}","deleted":false,"delete_type":null,` +
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
}
