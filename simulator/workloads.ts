/**
 * Workloads: managed (with a VEN) and unmanaged, one label per key at most, one or two
 * interfaces on 10.x.y.z. Filters compute only the few attributes they look at. A revision
 * relabels, renames or unpairs a few, removes a few and adds a few.
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
import { LABEL_KEYS, type Labels } from './labels';
import { at, hash, Rng } from './random';

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

/** A workload's attributes as of the data's revision, and the last revision that changed it. */
interface WorkloadState {
  readonly managed: boolean;
  readonly labels: readonly number[];
  readonly enforcement: string;
  readonly online: boolean;
  /** Set by a rename. */
  readonly name?: string;
  readonly lastChange: number;
}

export class Workloads {
  constructor(
    private readonly basis: OrgBasis,
    private readonly labels: Labels,
  ) {}

  /** The revised attributes; at revision 0 the generated ones. */
  state(i: number, core: WorkloadCore = this.core(i)): WorkloadState {
    const { view } = this.basis;
    if (view.revision === 0) return { ...core, lastChange: 0 };
    let managed = core.managed;
    let labels = [...core.labels];
    let enforcement = core.enforcement;
    let online = core.online;
    let name: string | undefined;
    let last = view.plan('workloads').addedIn(i);
    const edited = view.edit('workloads', i);
    if (edited !== 0) {
      last = edited;
      const rng = new Rng(hash(this.basis.h(SALT, i, 7), edited));
      let kind = rng.int(3);
      if (kind === 0) {
        const relabelled = this.relabel(labels, rng);
        if (relabelled) labels = relabelled;
        else kind = 1;
      }
      if (kind === 2 && !managed) kind = 1;
      if (kind === 1) name = `${this.hostname(i, core).split('.')[0]}-renamed-r${edited}`;
      if (kind === 2) {
        managed = false;
        enforcement = 'idle';
        online = true;
      }
    }
    labels = labels.filter((l) => {
      const removed = this.labels.removal(l);
      if (removed !== 0) last = Math.max(last, removed);
      return removed === 0;
    });
    return {
      managed,
      labels,
      enforcement,
      online,
      ...(name === undefined ? {} : { name }),
      lastChange: last,
    };
  }

  /** One label swapped for another of the same key (or added, or dropped); undefined when no label fits. */
  private relabel(labels: readonly number[], rng: Rng): number[] | undefined {
    const k = rng.int(LABEL_KEYS.length);
    const current = labels.find((l) => this.labels.key(l) === LABEL_KEYS[k]);
    let chosen = this.labels.random(rng, k);
    for (let tries = 0; tries < 4 && chosen === current; tries++) chosen = this.labels.random(rng, k);
    if (chosen === undefined) return undefined;
    const others = labels.filter((l) => l !== current);
    return chosen === current ? others : [...others, chosen].sort((a, b) => a - b);
  }

  /** Workload index from the uuid of its href, when it exists in this revision. */
  find(id: string): number | undefined {
    const i = this.basis.indexOfUuid(SALT, id);
    const { view } = this.basis;
    const plan = view.plan('workloads');
    return i !== undefined && i < plan.sizeAt(view.revision) && plan.existsAt(i, view.revision)
      ? i
      : undefined;
  }

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

  /** Workload index from an href of this org, or undefined. */
  indexFromHref(href: string): number | undefined {
    const m = /^\/orgs\/(\d+)\/workloads\/([0-9a-f-]{36})$/.exec(href);
    if (!m || Number(m[1]) !== this.basis.org) return undefined;
    const index = this.basis.indexOfUuid(SALT, m[2] ?? '');
    if (index === undefined || index >= this.basis.sizes.workloads) return undefined;
    return this.href(index) === href ? index : undefined;
  }

  /** Whether the workload runs Windows (unmanaged workloads have no known OS: false). */
  isWindows(core: WorkloadCore): boolean {
    return core.os >= 0 && at(OSES, core.os).windows;
  }

  /** Named when created, after its labels then: revisions do not rename hosts. */
  private hostname(i: number, core: WorkloadCore): string {
    let role = 'host';
    let env = 'gen';
    let loc = 'dc1';
    for (const l of core.labels) {
      const key = this.labels.key(l);
      const value = this.labels.baseValue(l);
      if (key === 'role') role = slug(value);
      else if (key === 'env') env = ENV_SHORT[value] ?? slug(value);
      else if (key === 'loc') loc = slug(value).slice(0, 3);
    }
    const prefix = this.isWindows(core) ? 'win' : role;
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
    const state = this.state(i, core);
    const hostname = this.hostname(i, core);
    return {
      href: this.href(i),
      hostname,
      name: state.name ?? (state.managed ? null : hostname),
      labels: state.labels.map((l) => ({
        href: this.labels.href(l),
        key: this.labels.key(l),
        value: this.labels.value(l),
      })),
      managed: state.managed,
      enforcement_mode: state.enforcement,
      os_type: this.isWindows(core) ? 'windows' : 'linux',
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
        const have = this.state(i).labels;
        return wanted.some((group) => group.every((l) => have.includes(l)));
      };
    };
    const { view } = this.basis;
    const plan = view.plan('workloads');
    return {
      path: 'workloads',
      size: plan.sizeAt(view.revision),
      ...(view.revision > 0
        ? {
            exists: (i: number) => plan.existsAt(i, view.revision),
            lastChange: (i: number) => this.state(i).lastChange,
          }
        : {}),
      find: (id) => this.find(id),
      filters: {
        managed: (value) => {
          const b = parseBool(value);
          return typeof b === 'string' ? `managed: ${b}` : (i) => this.state(i).managed === b;
        },
        online: (value) => {
          const b = parseBool(value);
          return typeof b === 'string' ? `online: ${b}` : (i) => this.state(i).online === b;
        },
        enforcement_mode: (value) => (i) => this.state(i).enforcement === value,
        hostname: (value) => (i) => containsCi(this.hostname(i, this.core(i)), value),
        name: (value) => (i) => {
          const core = this.core(i);
          const state = this.state(i, core);
          const name = state.name ?? (state.managed ? undefined : this.hostname(i, core));
          return name !== undefined && containsCi(name, value);
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
    const state = this.state(i, core);
    const { rng } = core;
    const managed = state.managed;
    const hostname = JSON.stringify(this.hostname(i, core));
    const name = state.name === undefined ? (managed ? 'null' : hostname) : JSON.stringify(state.name);
    // Draws follow the generated workload, so an unpaired one keeps its interfaces.
    const os = core.os >= 0 && managed ? at(OSES, core.os) : undefined;
    const nicOs = core.os >= 0 ? at(OSES, core.os) : undefined;
    let times = stamps(this.basis.h(SALT, i, 1));
    const added = this.basis.view.plan('workloads').addedIn(i);
    if (state.lastChange !== 0)
      times = {
        created_at: added === 0 ? times.created_at : this.basis.revisedAt(added),
        updated_at: this.basis.revisedAt(state.lastChange),
      };
    const nic = (nicName: string, address: string, gateway: string) =>
      `{"name":"${nicName}","address":"${address}","cidr_block":24,"default_gateway_address":${gateway},"link_state":"up","network":{"href":"${net}"},"network_detection_mode":"single_private_brn","friendly_name":null,"loopback":false}`;
    let interfaces = nic(nicOs?.windows ? 'Ethernet0' : 'eth0', this.ip(i), `"${this.gateway(i)}"`);
    if (core.managed && rng.chance(0.25))
      interfaces += `,${nic(nicOs?.windows ? 'Ethernet1' : 'eth1', `192.168.${rng.int(256)}.${rng.between(1, 253)}`, 'null')}`;
    const publicIp = core.managed && rng.chance(0.1) ? `"203.0.113.${rng.between(1, 254)}"` : 'null';
    let labels = '';
    for (const l of state.labels) labels += `${labels ? ',' : ''}{"href":"${this.labels.href(l)}"}`;
    const venVersion = core.managed ? rng.pick(VEN_VERSIONS) : '';
    const ven = managed
      ? `{"href":"/orgs/${org}/vens/${this.basis.uuid(0x7e4, i)}","hostname":${hostname},"name":null,"status":"${state.online ? 'active' : 'stopped'}","version":"${venVersion}","ven_type":"server"}`
      : 'null';
    const fromCmdb = !core.managed;
    return (
      `{"href":"${this.href(i)}","deleted":false,"delete_type":null,` +
      `"name":${name},"description":${fromCmdb ? '"Imported from CMDB"' : 'null'},` +
      `"managed":${managed},"hostname":${hostname},"service_principal_name":null,` +
      `"agent_to_pce_certificate_authentication_id":null,"distinguished_name":null,"public_ip":${publicIp},` +
      `"external_data_set":${fromCmdb ? '"cmdb"' : 'null'},` +
      `"external_data_reference":${fromCmdb ? `"CI${String(i + 1).padStart(8, '0')}"` : 'null'},` +
      `"interfaces":[${interfaces}],"service_provider":null,"data_center":null,"data_center_zone":null,` +
      `"os_id":${os ? JSON.stringify(os.id) : 'null'},"os_detail":${os ? JSON.stringify(os.detail) : 'null'},` +
      `"online":${state.online},"firewall_coexistence":null,"containers_inherit_host_policy":false,` +
      `"blocked_connection_action":"drop","labels":[${labels}],"enforcement_mode":"${state.enforcement}",` +
      `"visibility_level":${managed ? '"flow_summary"' : 'null'},"selectively_enforced_services":[],` +
      `"container_cluster":null,"ike_authentication_certificate":null,"ven":${ven},` +
      `"created_at":"${times.created_at}","updated_at":"${times.updated_at}","deleted_at":null,` +
      `"created_by":{"href":"/users/1"},"updated_by":{"href":"/users/1"},"deleted_by":null}`
    );
  }
}
