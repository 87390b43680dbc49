/** Labels: four keys (role, app, env, loc) in turn, with realistic values. */
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

  value(index: number): string {
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
    const index = Number(m[2]) - 1;
    return index >= 0 && index < this.basis.sizes.labels ? index : undefined;
  }

  /** A random label of the key with index `k`, or undefined when there is none. */
  random(rng: Rng, k: number): number | undefined {
    const count = this.countByKey[k] ?? 0;
    return count === 0 ? undefined : 4 * rng.int(count) + k;
  }

  collection(): CollectionSpec {
    const salt = 0x1abe1;
    return {
      path: 'labels',
      size: this.basis.sizes.labels,
      filters: {
        key: (value) => (i) => this.key(i) === value,
        value: (value) => (i) => containsCi(this.value(i), value),
      },
      object: (i) => ({
        href: this.href(i),
        key: this.key(i),
        value: this.value(i),
        external_data_set: null,
        external_data_reference: null,
        ...stamps(this.basis.h(salt, i)),
        created_by: USER,
        updated_by: USER,
      }),
    };
  }
}
