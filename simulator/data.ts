/**
 * The simulated PCE's objects. Each collection knows its size and builds object `i` on
 * demand from (seed, org, i); filters are predicates over the index that only compute the
 * few attributes they look at. Nothing is stored. An `OrgData` is one org at one revision.
 */
import { type Collection, type CollectionSpec, OrgBasis, type PceObject } from './basis';
import { Events } from './events';
import { Labels } from './labels';
import { Policy, type PolicyVersion } from './policy';
import { type RevisionEvent, revisionEvents } from './revision-events';
import type { RevisionLog } from './revisions';
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
  eventsPerDay: 96,
  eventRetentionDays: 30,
};

function complete(spec: CollectionSpec): Collection {
  return { ...spec, text: spec.text ?? ((i) => JSON.stringify(spec.object(i))) };
}

/** The same org at another revision. */
type Revisions = (revision: number) => OrgData;

/** One org's data at one revision. */
export class OrgData {
  readonly org: number;
  /** Object counts as generated (before any revision). */
  readonly sizes: Readonly<Required<DatasetSizes>>;
  /** The one network every interface is on. */
  readonly networkHref: string;
  readonly labels: Labels;
  readonly workloads: Workloads;
  readonly revision: number;
  private readonly basis: OrgBasis;
  readonly policy: Policy;
  private readonly events: Events;
  private readonly collections = new Map<string, Collection>();
  private revEvents?: readonly RevisionEvent[];

  constructor(
    org: number,
    seed: number,
    sizes: Readonly<Required<DatasetSizes>>,
    revision = 0,
    log?: Pick<RevisionLog, 'time'>,
    private readonly atRevision: Revisions = () => this,
  ) {
    this.basis = new OrgBasis(org, seed, sizes, revision, log);
    this.org = org;
    this.sizes = sizes;
    this.revision = revision;
    this.networkHref = this.basis.networkHref;
    this.labels = new Labels(this.basis);
    this.workloads = new Workloads(this.basis, this.labels);
    this.policy = new Policy(this.basis, this.labels);
    this.events = new Events(this.basis, sizes.eventsPerDay, sizes.eventRetentionDays, (n) => {
      const i = sizes.workloads === 0 ? 0 : n % sizes.workloads;
      const ref = this.workloads.ref(i);
      return { href: `/orgs/${org}/vens/${this.basis.uuid(0x7e4, i)}`, hostname: ref.hostname };
    });
  }

  /**
   * Looks a collection up by org-relative path (`workloads`, `services`, `events`,
   * `sec_policy/active/rule_sets`). `at` (simulated epoch ms) is the moment the event log is
   * read at; the other collections do not depend on it.
   */
  collection(path: string, at = Date.now()): Collection | undefined {
    const canonical = canonicalPath(path);
    if (canonical === undefined) return undefined;
    if (canonical === 'events') {
      this.revEvents ??= revisionEvents(this.basis, this.atRevision);
      return complete(this.events.collection(at, this.revEvents));
    }
    let found = this.collections.get(canonical);
    if (found === undefined) {
      found = complete(this.build(canonical));
      this.collections.set(canonical, found);
    }
    return found;
  }

  /** The object at an org-relative href path (`labels/3`, `sec_policy/draft/rule_sets/2/sec_rules/9`). */
  object(path: string, at: number): PceObject | undefined {
    const rule = /^sec_policy\/(draft|active)\/rule_sets\/([^/]+)\/sec_rules\/([^/]+)$/.exec(path);
    if (rule) return this.policy.rule(rule[1] as PolicyVersion, rule[2] ?? '', rule[3] ?? '');
    const m = /^(.+)\/([^/]+)$/.exec(path);
    if (!m || (m[1] ?? '') !== (canonicalPath(m[1] ?? '') ?? '')) return undefined;
    const collection = this.collection(m[1] ?? '', at);
    const index = collection?.find?.(m[2] ?? '');
    return collection && index !== undefined ? collection.object(index) : undefined;
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
 * `labels`, `workloads`, `events`, `sec_policy/{draft|active}/{services|ip_lists|label_groups|rule_sets}`;
 * the short forms `services`, `ip_lists`, `label_groups`, `rule_sets` mean the draft version.
 */
function canonicalPath(path: string): string | undefined {
  const p = path.replace(/^\/+|\/+$/g, '');
  if (p === 'labels' || p === 'workloads' || p === 'events') return p;
  if (POLICY_KINDS.has(p)) return `sec_policy/draft/${p}`;
  const m = /^sec_policy\/(draft|active)\/([a-z_]+)$/.exec(p);
  if (m && POLICY_KINDS.has(m[2] ?? '')) return p;
  return undefined;
}
