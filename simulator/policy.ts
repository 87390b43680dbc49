/**
 * Policy objects in their draft and active versions: IP lists, label groups and rule sets
 * (services have their own module), and what every policy object carries.
 */
import { type CollectionSpec, containsCi, type OrgBasis, type PceObject, stamps, USER } from './basis';
import { LABEL_KEYS, type LabelKey, type Labels } from './labels';
import { at, hash, Rng } from './random';

/** `draft` or `active`. */
export type PolicyVersion = 'draft' | 'active';

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

export class Policy {
  constructor(
    private readonly basis: OrgBasis,
    private readonly labels: Labels,
  ) {}

  private ipListName(i: number): string {
    return i === 0 ? 'Any (0.0.0.0/0 and ::/0)' : `${at(IP_LIST_NAMES, (i - 1) % IP_LIST_NAMES.length)}-${i}`;
  }

  ipLists(pversion: PolicyVersion): CollectionSpec {
    const salt = 0x1b15;
    return {
      path: `sec_policy/${pversion}/ip_lists`,
      size: this.basis.sizes.ipLists,
      filters: {
        name: (value) => (i) => containsCi(this.ipListName(i), value),
      },
      object: (i) => {
        const rng = new Rng(this.basis.h(salt, i, 1));
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
          href: policyHref(this.basis, pversion, 'ip_lists', i + 1),
          ...policyMeta(this.basis, salt, i, pversion),
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

  labelGroups(pversion: PolicyVersion): CollectionSpec {
    const salt = 0x19a;
    return {
      path: `sec_policy/${pversion}/label_groups`,
      size: this.basis.sizes.labelGroups,
      filters: {
        key: (value) => (i) => this.labelGroupKey(i) === value,
        name: (value) => (i) => containsCi(this.labelGroupName(i), value),
      },
      object: (i) => {
        const rng = new Rng(this.basis.h(salt, i, 1));
        const k = LABEL_KEYS.indexOf(this.labelGroupKey(i));
        const members = new Set<number>();
        const n = rng.between(2, 4);
        for (let j = 0; j < n; j++) {
          const l = this.labels.random(rng, k);
          if (l !== undefined) members.add(l);
        }
        return {
          href: policyHref(this.basis, pversion, 'label_groups', this.basis.uuid(salt, i)),
          ...policyMeta(this.basis, salt, i, pversion),
          name: this.labelGroupName(i),
          description: null,
          key: this.labelGroupKey(i),
          labels: [...members].sort((a, b) => a - b).map((l) => ({ href: this.labels.href(l) })),
          sub_groups: [],
          external_data_set: null,
          external_data_reference: null,
        };
      },
    };
  }

  private ruleSetName(i: number): string {
    const rng = new Rng(this.basis.h(0x2c5, i, 1));
    const app = this.labels.random(rng, 1);
    const env = this.labels.random(rng, 2);
    const appName = app === undefined ? 'App' : this.labels.value(app);
    const envName = env === undefined ? 'Any' : this.labels.value(env);
    return `RS-${appName}-${envName}-${i + 1}`;
  }

  ruleSets(pversion: PolicyVersion): CollectionSpec {
    const salt = 0x2c5;
    const { basis, labels } = this;
    return {
      path: `sec_policy/${pversion}/rule_sets`,
      size: basis.sizes.ruleSets,
      filters: {
        name: (value) => (i) => containsCi(this.ruleSetName(i), value),
      },
      object: (i) => {
        const rng = new Rng(basis.h(salt, i, 1));
        // The first two draws repeat ruleSetName's, so the scope matches the name.
        const app = labels.random(rng, 1);
        const env = labels.random(rng, 2);
        const scope = [app, env]
          .filter((l) => l !== undefined)
          .map((l) => ({ label: { href: labels.href(l) } }));
        const href = policyHref(basis, pversion, 'rule_sets', i + 1);
        const meta = policyMeta(basis, salt, i, pversion);
        const rules = Array.from({ length: rng.between(1, 5) }, (_, j) => {
          const provider = labels.random(rng, 0);
          const consumer = labels.random(rng, 0);
          const service =
            basis.sizes.services > 1
              ? { href: policyHref(basis, pversion, 'services', rng.between(2, basis.sizes.services)) }
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
              provider === undefined ? [{ actors: 'ams' }] : [{ label: { href: labels.href(provider) } }],
            consumers:
              consumer === undefined || rng.chance(0.2)
                ? [{ actors: 'ams' }]
                : [{ label: { href: labels.href(consumer) } }],
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
