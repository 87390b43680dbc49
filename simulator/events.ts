/**
 * `/orgs/{org}/events`: the audit log, newest first, as the PCE serves it. Everyday events
 * (sign-ins, failed authentications, tampering, system tasks…) fall on a fixed grid of
 * `eventsPerDay` a day, each drawn from (seed, org, its grid number), so any window of any
 * size is computed, never stored; the log keeps `eventRetentionDays` days up to the moment of
 * the query (a job: of its submit). Each revision of the data adds its own events at the time
 * it happened: `label.create`, `workload.update`, `workloads.unpair`, `rule_set.delete`,
 * `sec_policy.create`…, with the fields each one changed.
 */
import { type CollectionSpec, iso, type OrgBasis, type PceObject } from './basis';
import { type EventKind, everydayEvent, everydayKind } from './event-shapes';
import { hash } from './random';
import type { RevisionEvent } from './revision-events';

const EPOCH = Date.UTC(2020, 0, 1);
const DAY = 86_400_000;
/** Salt of everyday event UUIDs (and of their parts, + 1). */
const SALT = 0xe7e0;

/** The first index in [lo, hi] where `ok` holds (`ok` is monotone: false… then true…); hi + 1 when none. */
function firstTrue(lo: number, hi: number, ok: (n: number) => boolean): number {
  let a = lo;
  let b = hi + 1;
  while (a < b) {
    const mid = Math.floor((a + b) / 2);
    if (ok(mid)) b = mid;
    else a = mid + 1;
  }
  return a;
}

const TIMESTAMP_PARAMS = ['timestamp[gte]', 'timestamp[lte]'] as const;

export class Events {
  private readonly interval: number;

  constructor(
    private readonly basis: OrgBasis,
    perDay: number,
    private readonly retentionDays: number,
    /** A workload's agent (for tampering events): href and hostname. */
    private readonly agent: (n: number) => PceObject,
  ) {
    this.interval = perDay > 0 ? DAY / perDay : Number.POSITIVE_INFINITY;
  }

  /** When everyday event `n` happened: on its slot of the grid, a little after its start. */
  private time(n: number): number {
    const jitter = (hash(this.basis.seedHash, SALT, n) / 4_294_967_296) * 0.5;
    return EPOCH + Math.floor((n + jitter) * this.interval);
  }

  /** Everyday events `[first, last]` between two times (inclusive); `last < first` when none. */
  private grid(from: number, to: number): { first: number; last: number } {
    if (!Number.isFinite(this.interval) || to < EPOCH) return { first: 0, last: -1 };
    const high = Math.floor((to - EPOCH) / this.interval) + 1;
    const low = Math.max(0, Math.floor((Math.max(from, EPOCH) - EPOCH) / this.interval) - 1);
    const first = firstTrue(low, high, (n) => this.time(n) >= from);
    const last = firstTrue(low, high, (n) => this.time(n) > to) - 1;
    return { first, last };
  }

  private kind(n: number): EventKind {
    return everydayKind(hash(this.basis.seedHash, SALT + 2, n));
  }

  private everyday(n: number): PceObject {
    const ids = (part: number) => this.basis.uuid(SALT + part, n);
    const href = `/orgs/${this.basis.org}/events/${this.basis.uuid(SALT, n)}`;
    return everydayEvent(href, iso(this.time(n)), hash(this.basis.seedHash, SALT + 2, n), ids, () =>
      this.agent(n),
    );
  }

  /**
   * The log as of `at`: every event of the retention window up to `at`, newest first, with the
   * revision events (oldest first, all at or before `at`) merged in.
   */
  collection(at: number, revisionEvents: readonly RevisionEvent[]): CollectionSpec {
    const since = at - this.retentionDays * DAY;
    const { first, last } = this.grid(since, at);
    const gridCount = Math.max(0, last - first + 1);
    const revs = revisionEvents.filter((e) => e.time >= since && e.time <= at);
    const size = gridCount + revs.length;
    /** Revision events before `t` (or at it, with `orEqual`). */
    const revsBefore = (t: number, orEqual = false) =>
      firstTrue(0, revs.length - 1, (r) => {
        const time = revs[r]?.time ?? 0;
        return orEqual ? time > t : time >= t;
      });
    /** Position (oldest first) of everyday event n: grid events go first among equal times. */
    const position = (n: number) => n - first + revsBefore(this.time(n));
    /** What sits at position p (oldest first): an everyday event, or a revision event. */
    const item = (p: number): { n: number } | { rev: RevisionEvent } => {
      const after = firstTrue(first, last, (n) => position(n) > p);
      const n = after - 1;
      if (n >= first && position(n) === p) return { n };
      const rev = revs[p - (after - first)];
      if (!rev) throw new RangeError(`event position ${p} outside 0..${size - 1}`);
      return { rev };
    };
    const at_ = (i: number) => item(size - 1 - i);
    const kindOf = (i: number): EventKind => {
      const found = at_(i);
      return 'n' in found ? this.kind(found.n) : found.rev.kind;
    };
    /** Events strictly before `t` (or up to it, with `orEqual`). */
    const before = (t: number, orEqual: boolean) => {
      const grid = firstTrue(first, last, (n) => (orEqual ? this.time(n) > t : this.time(n) >= t)) - first;
      return grid + revsBefore(t, orEqual);
    };
    const time = (name: string, value: string): number | string => {
      const t = Date.parse(value);
      return /^\d{4}-\d{2}-\d{2}T/.test(value) && Number.isFinite(t)
        ? t
        : `${name} must be an RFC 3339 date-time, got "${value}"`;
    };
    const [gte, lte] = TIMESTAMP_PARAMS;
    return {
      path: 'events',
      size,
      syncLimits: { byDefault: 100, max: 10_000 },
      filters: {
        [gte]: (value) => {
          const t = time(gte, value);
          return typeof t === 'string' ? t : { to: size - before(t, false) };
        },
        [lte]: (value) => {
          const t = time(lte, value);
          return typeof t === 'string' ? t : { from: size - before(t, true) };
        },
        event_type: (value) => {
          const types = new Set(value.split(','));
          return (i) => types.has(kindOf(i).type);
        },
        severity: (value) => (i) => kindOf(i).severity === value,
        status: (value) => (i) => kindOf(i).status === value,
      },
      object: (i) => {
        const found = at_(i);
        return 'n' in found ? this.everyday(found.n) : found.rev.event();
      },
      find: (id) => {
        const n = this.basis.indexOfUuid(SALT, id);
        if (n !== undefined && n >= first && n <= last) return size - 1 - position(n);
        const r = revs.findIndex((e) => e.uuid === id);
        if (r < 0) return undefined;
        const rev = revs[r];
        const gridUpTo = rev ? firstTrue(first, last, (m) => this.time(m) > rev.time) - first : 0;
        return size - 1 - (r + gridUpTo);
      },
    };
  }
}
