/**
 * Every org's data at every revision the simulator has served, the revision it is at now, and
 * what changed between two revisions (by href), for tests that export twice.
 */
import { OrgData } from './data';
import { pathOf } from './revision-events';
import { CHANGE_KINDS, RevisionLog } from './revisions';
import type { DatasetSizes } from './types';

/** What changed in one collection between two revisions. */
export interface CollectionChanges {
  readonly added: readonly string[];
  readonly removed: readonly string[];
  readonly changed: readonly string[];
}

/**
 * By collection path: `labels`, `workloads`, `sec_policy/draft/services`,
 * `sec_policy/active/services`, … (draft and active change alike).
 */
export type RevisionChanges = Readonly<Record<string, CollectionChanges>>;

const PATHS = CHANGE_KINDS.flatMap((kind) =>
  kind === 'labels' || kind === 'workloads' ? [kind] : [pathOf(kind, 'draft'), pathOf(kind, 'active')],
);

export class OrgStore {
  /** Each org's data at the current revision (the map is kept, its entries replaced). */
  readonly current = new Map<number, OrgData>();
  private readonly log: RevisionLog;
  private readonly cache = new Map<string, OrgData>();

  constructor(
    private readonly orgs: readonly number[],
    private readonly seed: number,
    private readonly dataset: Readonly<Required<DatasetSizes>>,
    revision: number,
    now: number,
  ) {
    this.log = new RevisionLog(revision, now);
    this.refresh();
  }

  get revision(): number {
    return this.log.revision;
  }

  /** Org `org` at `revision`, or undefined when the simulator does not serve the org. */
  at(org: number, revision: number): OrgData | undefined {
    return this.orgs.includes(org) ? this.load(org, revision) : undefined;
  }

  private load(org: number, revision: number): OrgData {
    const key = `${org}@${revision}`;
    let data = this.cache.get(key);
    if (!data) {
      data = new OrgData(org, this.seed, this.dataset, revision, this.log, (r) => this.load(org, r));
      this.cache.set(key, data);
    }
    return data;
  }

  /** Moves every org to `revision` (later revisions happen at `now`; going back forgets them). */
  set(revision: number, now: number): void {
    if (!(Number.isInteger(revision) && revision >= 0))
      throw new TypeError(`revision must be an integer >= 0, got ${revision}`);
    const before = this.log.revision;
    this.log.set(revision, now);
    if (revision < before)
      for (const [key, data] of this.cache) if (data.revision > revision) this.cache.delete(key);
    this.refresh();
  }

  private refresh(): void {
    for (const org of this.orgs) {
      const data = this.at(org, this.log.revision);
      if (data) this.current.set(org, data);
    }
  }

  /** Hrefs added, removed and changed in every collection from revision `from` to `to`. */
  changes(from: number, to: number, org: number): RevisionChanges {
    const a = this.at(org, from);
    const b = this.at(org, to);
    if (!a || !b) throw new TypeError(`org ${org} is not served`);
    const later = from > to ? a : b;
    const earlier = Math.min(from, to);
    const out: Record<string, CollectionChanges> = {};
    for (const path of PATHS) {
      const before = a.collection(path);
      const after = b.collection(path);
      const last = later.collection(path);
      if (!before || !after || !last) continue;
      const added: string[] = [];
      const removed: string[] = [];
      const changed: string[] = [];
      const href = (c: typeof before, i: number) => String(c.object(i).href);
      for (let i = 0; i < Math.max(before.size, after.size); i++) {
        const was = i < before.size && (before.exists?.(i) ?? true);
        const is = i < after.size && (after.exists?.(i) ?? true);
        if (is && !was) added.push(href(after, i));
        else if (was && !is) removed.push(href(before, i));
        else if (was && is && (last.lastChange?.(i) ?? 0) > earlier) changed.push(href(after, i));
      }
      out[path] = { added, removed, changed };
    }
    return out;
  }
}
