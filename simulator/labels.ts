/**
 * Labels: four keys (role, app, env, loc) in turn, with realistic values. A revision renames a
 * few (`Payments` → `Payments-v2`), removes a few and adds a few.
 */
import { type CollectionSpec, containsCi, type OrgBasis, stamps, USER } from './basis';
import { at, type Rng } from './random';

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

/** The labels of one org: label `i` has key `LABEL_KEYS[i % 4]` and href `/orgs/{org}/labels/{i + 1}`. */
export class Labels {
  private readonly countByKey: readonly number[];

  constructor(private readonly basis: OrgBasis) {
    const total = basis.sizes.labels;
    this.countByKey = LABEL_KEYS.map((_, k) => (total > k ? Math.floor((total - 1 - k) / 4) + 1 : 0));
  }

  href(index: number): string {
    return `/orgs/${this.basis.org}/labels/${index + 1}`;
  }

  key(index: number): LabelKey {
    return at(LABEL_KEYS, index % 4);
  }

  /** The value as of this revision. */
  value(index: number): string {
    const k = this.basis.view.edit('labels', index);
    return k === 0 ? this.baseValue(index) : `${this.baseValue(index)}-v${k}`;
  }

  /** The value the label was created with (hostnames were named after it). */
  baseValue(index: number): string {
    const key = this.key(index);
    const pool = LABEL_VALUES[key];
    const ordinal = Math.floor(index / 4);
    const base = at(pool, ordinal % pool.length);
    return ordinal < pool.length ? base : `${base}-${Math.floor(ordinal / pool.length) + 1}`;
  }

  /** Label index from an href of this org, or undefined. */
  indexFromHref(href: string): number | undefined {
    const m = /^\/orgs\/(\d+)\/labels\/(\d+)$/.exec(href);
    if (!m || Number(m[1]) !== this.basis.org) return undefined;
    return this.find(m[2] ?? '');
  }

  /** Label index from the id of its href (`/labels/{id}`), when it exists in this revision. */
  find(id: string): number | undefined {
    if (!/^\d{1,10}$/.test(id)) return undefined;
    const index = Number(id) - 1;
    const { view } = this.basis;
    const plan = view.plan('labels');
    return index >= 0 && index < plan.sizeAt(view.revision) && plan.existsAt(index, view.revision)
      ? index
      : undefined;
  }

  /** The revision that removed label `index` (0: it exists). */
  removal(index: number): number {
    return this.basis.view.removal('labels', index);
  }

  private lastChange(index: number): number {
    return this.basis.view.edit('labels', index) || this.basis.view.plan('labels').addedIn(index);
  }

  /** A random label of the key with index `k`, or undefined when there is none. */
  random(rng: Rng, k: number): number | undefined {
    const count = this.countByKey[k] ?? 0;
    return count === 0 ? undefined : 4 * rng.int(count) + k;
  }

  collection(): CollectionSpec {
    const salt = 0x1abe1;
    const { view } = this.basis;
    const plan = view.plan('labels');
    const revised = view.revision > 0;
    return {
      path: 'labels',
      size: plan.sizeAt(view.revision),
      filters: {
        key: (value) => (i) => this.key(i) === value,
        value: (value) => (i) => containsCi(this.value(i), value),
      },
      ...(revised
        ? {
            exists: (i: number) => plan.existsAt(i, view.revision),
            lastChange: (i: number) => this.lastChange(i),
          }
        : {}),
      find: (id) => this.find(id),
      object: (i) => {
        const times = stamps(this.basis.h(salt, i));
        const added = plan.addedIn(i);
        const last = this.lastChange(i);
        return {
          href: this.href(i),
          key: this.key(i),
          value: this.value(i),
          external_data_set: null,
          external_data_reference: null,
          created_at: added === 0 ? times.created_at : this.basis.revisedAt(added),
          updated_at: last === 0 ? times.updated_at : this.basis.revisedAt(last),
          created_by: USER,
          updated_by: USER,
        };
      },
    };
  }
}
