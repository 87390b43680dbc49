/**
 * Policy objects in their draft and active versions: IP lists, label groups and rule sets
 * (services have their own module), and what every policy object carries. Revisions change
 * draft and active alike (each one provisioned): they edit a few objects (an IP range added,
 * a label group member added, a rule disabled), remove a few and add a few; objects that
 * referred to a removed label or service lose the reference.
 */
import { type CollectionSpec, containsCi, type OrgBasis, type PceObject, stamps, USER } from './basis';
import { LABEL_KEYS, type LabelKey, type Labels } from './labels';
import { at, hash, Rng } from './random';
import type { ChangeKind } from './revisions';

/** `draft` or `active`. */
export type PolicyVersion = 'draft' | 'active';

/** One entry of an IP list's `ip_ranges`: a CIDR or address, or `from_ip`..`to_ip`. */
export interface IpRange {
  readonly from_ip: string;
  readonly to_ip?: string;
  readonly exclusion: boolean;
}

const IP_LIST_SALT = 0x1b15;
const LABEL_GROUP_SALT = 0x19a;

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

export function policyHref(basis: OrgBasis, pversion: string, kind: string, id: string | number): string {
  return `/orgs/${basis.org}/sec_policy/${pversion}/${kind}/${id}`;
}

/** Timestamps, authors and `update_type` (one draft object in ten is pending an update). */
export function policyMeta(basis: OrgBasis, salt: number, i: number, pversion: string): PceObject {
  return {
    ...stamps(basis.h(salt, i)),
    deleted_at: null,
    created_by: USER,
    updated_by: USER,
    deleted_by: null,
    update_type: pversion === 'draft' && hash(basis.seedHash, salt, i, 9) % 10 === 0 ? 'update' : null,
  };
}

/** An object as of the data's revision, and the last revision that changed it (0: none). */
export interface Revised {
  readonly object: PceObject;
  readonly last: number;
}

/**
 * What every revised collection shares: its size, which objects exist, their last change, and
 * finding one by the id of its href. `build` makes object `i` with its last change.
 */
export function revisedSpec(
  basis: OrgBasis,
  kind: ChangeKind,
  build: (i: number) => Revised,
  find: (id: string) => number | undefined,
): Pick<CollectionSpec, 'size' | 'exists' | 'lastChange' | 'find' | 'object'> {
  const { view } = basis;
  const plan = view.plan(kind);
  const exists = (i: number) => i < plan.sizeAt(view.revision) && plan.existsAt(i, view.revision);
  return {
    size: plan.sizeAt(view.revision),
    ...(view.revision > 0 ? { exists, lastChange: (i: number) => build(i).last } : {}),
    find: (id) => {
      const i = find(id);
      return i !== undefined && exists(i) ? i : undefined;
    },
    object: (i) => build(i).object,
  };
}

/** Index from a numeric href id (`.../ip_lists/3` is index 2). */
export function numericId(id: string): number | undefined {
  return /^\d{1,10}$/.test(id) && Number(id) >= 1 ? Number(id) - 1 : undefined;
}

/** `created_at`/`updated_at` moved to the revisions that added and last changed the object. */
export function revisedTimes(
  basis: OrgBasis,
  kind: ChangeKind,
  i: number,
  last: number,
  meta: PceObject,
): PceObject {
  if (last === 0) return meta;
  const added = basis.view.plan(kind).addedIn(i);
  return {
    ...meta,
    ...(added === 0 ? {} : { created_at: basis.revisedAt(added) }),
    updated_at: basis.revisedAt(last),
  };
}

export class Policy {
  constructor(
    private readonly basis: OrgBasis,
    private readonly labels: Labels,
  ) {}

  private ipListName(i: number): string {
    return i === 0 ? 'Any (0.0.0.0/0 and ::/0)' : `${at(IP_LIST_NAMES, (i - 1) % IP_LIST_NAMES.length)}-${i}`;
  }

  /** The `ip_ranges` of IP list `i`: list 0 is Any, the others 1 to 3 ranges, a few of them exclusions. */
  private drawIpRanges(i: number, rng: Rng): IpRange[] {
    if (i === 0)
      return [
        { from_ip: '0.0.0.0/0', exclusion: false },
        { from_ip: '::/0', exclusion: false },
      ];
    return Array.from({ length: rng.between(1, 3) }, () => {
      if (rng.chance(0.3)) {
        const net = `172.${rng.between(16, 31)}.${rng.int(256)}`;
        return { from_ip: `${net}.1`, to_ip: `${net}.${rng.between(2, 254)}`, exclusion: false };
      }
      return { from_ip: `${rng.between(11, 223)}.${rng.int(256)}.0.0/16`, exclusion: rng.chance(0.05) };
    });
  }

  /** The `ip_ranges` of IP list `i` (the same in the draft and the active version). */
  ipListRanges(i: number): IpRange[] {
    return this.drawIpRanges(i, new Rng(this.basis.h(IP_LIST_SALT, i, 1)));
  }

  /** IP list index from a draft or active href of this org, or undefined. */
  ipListIndexFromHref(href: string): number | undefined {
    const m = /^\/orgs\/(\d+)\/sec_policy\/(?:draft|active)\/ip_lists\/(\d+)$/.exec(href);
    if (!m || Number(m[1]) !== this.basis.org) return undefined;
    const index = Number(m[2]) - 1;
    return index >= 0 && index < this.basis.sizes.ipLists ? index : undefined;
  }

  ipLists(pversion: PolicyVersion): CollectionSpec {
    const build = (i: number): Revised => {
      const base = this.ipList(pversion, i);
      const { view } = this.basis;
      const edited = view.edit('ip_lists', i);
      const last = edited || view.plan('ip_lists').addedIn(i);
      if (last === 0) return { object: base, last };
      const object = revisedTimes(this.basis, 'ip_lists', i, last, base);
      if (edited === 0) return { object, last };
      const ranges = [
        ...(base.ip_ranges as PceObject[]),
        { from_ip: `198.51.100.${(edited % 250) + 1}`, exclusion: false },
      ];
      return { object: { ...object, description: `Updated in revision ${edited}`, ip_ranges: ranges }, last };
    };
    return {
      path: `sec_policy/${pversion}/ip_lists`,
      ...revisedSpec(this.basis, 'ip_lists', build, numericId),
      filters: {
        name: (value) => (i) => containsCi(this.ipListName(i), value),
      },
    };
  }

  /** IP list `i` as generated. */
  private ipList(pversion: PolicyVersion, i: number): PceObject {
    const rng = new Rng(this.basis.h(IP_LIST_SALT, i, 1));
    const ranges = this.drawIpRanges(i, rng);
    return {
      href: policyHref(this.basis, pversion, 'ip_lists', i + 1),
      ...policyMeta(this.basis, IP_LIST_SALT, i, pversion),
      name: this.ipListName(i),
      description: null,
      external_data_set: null,
      external_data_reference: null,
      ip_ranges: ranges,
      fqdns: i > 0 && rng.chance(0.2) ? [{ fqdn: `updates${i}.vendor.example.net` }] : [],
    };
  }

  private labelGroupKey(i: number): LabelKey {
    return at(LABEL_KEYS, (i + 2) % 4);
  }

  private labelGroupName(i: number): string {
    const key = this.labelGroupKey(i);
    return `${at(LABEL_GROUP_NAMES[key], Math.floor(i / 4) % LABEL_GROUP_NAMES[key].length)}-${i + 1}`;
  }

  /** The label indexes of label group `i`, ascending: 2 to 4 draws of its key (repeats merge). */
  labelGroupMembers(i: number): number[] {
    const rng = new Rng(this.basis.h(LABEL_GROUP_SALT, i, 1));
    const k = LABEL_KEYS.indexOf(this.labelGroupKey(i));
    const members = new Set<number>();
    const n = rng.between(2, 4);
    for (let j = 0; j < n; j++) {
      const l = this.labels.random(rng, k);
      if (l !== undefined) members.add(l);
    }
    return [...members].sort((a, b) => a - b);
  }

  /** Label group index from a draft or active href of this org, or undefined. */
  labelGroupIndexFromHref(href: string): number | undefined {
    const m = /^\/orgs\/(\d+)\/sec_policy\/(?:draft|active)\/label_groups\/([0-9a-f-]{36})$/.exec(href);
    if (!m || Number(m[1]) !== this.basis.org) return undefined;
    const index = this.basis.indexOfUuid(LABEL_GROUP_SALT, m[2] ?? '');
    if (index === undefined || index >= this.basis.sizes.labelGroups) return undefined;
    return this.basis.uuid(LABEL_GROUP_SALT, index) === m[2] ? index : undefined;
  }

  /** The labels of a list that still exist, and the latest revision that removed one of `all`. */
  private keptLabels(all: Iterable<number>): { kept: number[]; removed: number } {
    const kept: number[] = [];
    let removed = 0;
    for (const l of all) {
      const k = this.labels.removal(l);
      if (k === 0) kept.push(l);
      else removed = Math.max(removed, k);
    }
    return { kept, removed };
  }

  labelGroups(pversion: PolicyVersion): CollectionSpec {
    const salt = LABEL_GROUP_SALT;
    const build = (i: number): Revised => {
      const members = new Set(this.labelGroupMembers(i));
      const edited = this.basis.view.edit('label_groups', i);
      if (edited !== 0) {
        const k = LABEL_KEYS.indexOf(this.labelGroupKey(i));
        const added = this.labels.random(new Rng(hash(this.basis.h(salt, i, 2), edited)), k);
        if (added !== undefined) members.add(added);
      }
      const { kept, removed } = this.keptLabels(members);
      const last = Math.max(edited, removed, this.basis.view.plan('label_groups').addedIn(i));
      const meta = revisedTimes(
        this.basis,
        'label_groups',
        i,
        last,
        policyMeta(this.basis, salt, i, pversion),
      );
      return {
        object: {
          href: policyHref(this.basis, pversion, 'label_groups', this.basis.uuid(salt, i)),
          ...meta,
          name: this.labelGroupName(i),
          description: edited === 0 ? null : `Updated in revision ${edited}`,
          key: this.labelGroupKey(i),
          labels: kept.sort((a, b) => a - b).map((l) => ({ href: this.labels.href(l) })),
          sub_groups: [],
          external_data_set: null,
          external_data_reference: null,
        },
        last,
      };
    };
    return {
      path: `sec_policy/${pversion}/label_groups`,
      ...revisedSpec(this.basis, 'label_groups', build, (id) => this.basis.indexOfUuid(salt, id)),
      filters: {
        key: (value) => (i) => this.labelGroupKey(i) === value,
        name: (value) => (i) => containsCi(this.labelGroupName(i), value),
      },
    };
  }

  private ruleSetName(i: number): string {
    const rng = new Rng(this.basis.h(0x2c5, i, 1));
    const app = this.labels.random(rng, 1);
    const env = this.labels.random(rng, 2);
    const appName = app === undefined ? 'App' : this.labels.baseValue(app);
    const envName = env === undefined ? 'Any' : this.labels.baseValue(env);
    return `RS-${appName}-${envName}-${i + 1}`;
  }

  /** Rule set `i` as of the data's revision: the first rule of an edited one is disabled. */
  private ruleSet(pversion: PolicyVersion, i: number): Revised {
    const salt = 0x2c5;
    const { basis, labels } = this;
    const { view } = basis;
    const rng = new Rng(basis.h(salt, i, 1));
    let last = Math.max(view.edit('rule_sets', i), view.plan('rule_sets').addedIn(i));
    const label = (l: number | undefined): PceObject[] | undefined => {
      if (l === undefined) return undefined;
      const removed = labels.removal(l);
      last = Math.max(last, removed);
      return removed === 0 ? [{ label: { href: labels.href(l) } }] : undefined;
    };
    // The first two draws repeat ruleSetName's, so the scope matches the name.
    const scope = [label(labels.random(rng, 1)), label(labels.random(rng, 2))].flatMap((l) => l ?? []);
    const href = policyHref(basis, pversion, 'rule_sets', i + 1);
    const base = policyMeta(basis, salt, i, pversion);
    const rules = Array.from({ length: rng.between(1, 5) }, (_, j) => {
      const provider = label(labels.random(rng, 0));
      const consumer = labels.random(rng, 0);
      const serviceIndex = basis.sizes.services > 1 ? rng.between(2, basis.sizes.services) : 0;
      const serviceGone = serviceIndex > 0 ? view.removal('services', serviceIndex - 1) : 0;
      last = Math.max(last, serviceGone);
      const service =
        serviceIndex > 0 && serviceGone === 0
          ? { href: policyHref(basis, pversion, 'services', serviceIndex) }
          : { port: 443, proto: 6 };
      const consumers = consumer === undefined || rng.chance(0.2) ? undefined : label(consumer);
      return {
        href: `${href}/sec_rules/${i * 8 + j + 1}`,
        enabled: true,
        description: null as string | null,
        ingress_services: [service],
        egress_services: [],
        resolve_labels_as: { providers: ['workloads'], consumers: ['workloads'] },
        sec_connect: false,
        stateless: false,
        machine_auth: false,
        consuming_security_principals: [],
        unscoped_consumers: false,
        network_type: 'brn',
        providers: provider ?? [{ actors: 'ams' }],
        consumers: consumers ?? [{ actors: 'ams' }],
        log_flow: false,
        created_at: base.created_at,
        updated_at: base.updated_at,
        created_by: USER,
        updated_by: USER,
        update_type: null,
      };
    });
    const meta = revisedTimes(basis, 'rule_sets', i, last, base);
    const edited = view.edit('rule_sets', i);
    const first = rules[0];
    if (edited !== 0 && first) {
      first.enabled = false;
      first.description = `Disabled in revision ${edited}`;
      first.updated_at = basis.revisedAt(edited);
    }
    const object = {
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
    return { object, last };
  }

  ruleSets(pversion: PolicyVersion): CollectionSpec {
    return {
      path: `sec_policy/${pversion}/rule_sets`,
      ...revisedSpec(this.basis, 'rule_sets', (i) => this.ruleSet(pversion, i), numericId),
      filters: {
        name: (value) => (i) => containsCi(this.ruleSetName(i), value),
      },
    };
  }

  /** Rule `ruleId` (`.../sec_rules/{ruleId}`) of rule set `ruleSetId`, when both exist. */
  rule(pversion: PolicyVersion, ruleSetId: string, ruleId: string): PceObject | undefined {
    const i = numericId(ruleSetId);
    const m = numericId(ruleId);
    const spec = this.ruleSets(pversion);
    if (i === undefined || m === undefined || spec.find?.(ruleSetId) === undefined || Math.floor(m / 8) !== i)
      return undefined;
    const rules = this.ruleSet(pversion, i).object.rules as PceObject[];
    return rules.find(
      (r) => r.href === `${policyHref(this.basis, pversion, 'rule_sets', i + 1)}/sec_rules/${m + 1}`,
    );
  }
}
