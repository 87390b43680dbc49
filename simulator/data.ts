/**
 * The simulated PCE's objects. Each collection knows its size and builds object `i` on
 * demand from (seed, org, i); filters are predicates over the index that only compute the
 * few attributes they look at. Nothing is stored.
 */
import { type Collection, type CollectionSpec, OrgBasis } from './basis';
import { Labels } from './labels';
import { Policy, type PolicyVersion } from './policy';
import { servicesCollection } from './services';
import type { DatasetSizes } from './types';
import { Workloads } from './workloads';

export type { Collection, PceObject } from './basis';

export const DEFAULT_DATASET: Readonly<Required<DatasetSizes>> = {
  labels: 40,
  workloads: 200,
  services: 30,
  ipLists: 12,
  labelGroups: 8,
  ruleSets: 12,
  trafficFlows: 1000,
};

function complete(spec: CollectionSpec): Collection {
  return { ...spec, text: spec.text ?? ((i) => JSON.stringify(spec.object(i))) };
}

/** One org's data. */
export class OrgData {
  readonly org: number;
  readonly sizes: Readonly<Required<DatasetSizes>>;
  /** The one network every interface is on. */
  readonly networkHref: string;
  readonly labels: Labels;
  readonly workloads: Workloads;
  private readonly basis: OrgBasis;
  private readonly policy: Policy;
  private readonly collections = new Map<string, Collection>();

  constructor(org: number, seed: number, sizes: Readonly<Required<DatasetSizes>>) {
    this.basis = new OrgBasis(org, seed, sizes);
    this.org = org;
    this.sizes = sizes;
    this.networkHref = this.basis.networkHref;
    this.labels = new Labels(this.basis);
    this.workloads = new Workloads(this.basis, this.labels);
    this.policy = new Policy(this.basis, this.labels);
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
    if (path === 'labels') return this.labels.collection();
    if (path === 'workloads') return this.workloads.collection();
    const [, pversion, kind] = path.split('/') as [string, PolicyVersion, string];
    switch (kind) {
      case 'services':
        return servicesCollection(this.basis, pversion);
      case 'ip_lists':
        return this.policy.ipLists(pversion);
      case 'label_groups':
        return this.policy.labelGroups(pversion);
      default:
        return this.policy.ruleSets(pversion);
    }
  }
}

const POLICY_KINDS = new Set(['services', 'ip_lists', 'label_groups', 'rule_sets']);

/**
 * `labels`, `workloads`, `sec_policy/{draft|active}/{services|ip_lists|label_groups|rule_sets}`;
 * the short forms `services`, `ip_lists`, `label_groups`, `rule_sets` mean the draft version.
 */
function canonicalPath(path: string): string | undefined {
  const p = path.replace(/^\/+|\/+$/g, '');
  if (p === 'labels' || p === 'workloads') return p;
  if (POLICY_KINDS.has(p)) return `sec_policy/draft/${p}`;
  const m = /^sec_policy\/(draft|active)\/([a-z_]+)$/.exec(p);
  if (m && POLICY_KINDS.has(m[2] ?? '')) return p;
  return undefined;
}
