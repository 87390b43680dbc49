/**
 * What every collection of one org is built on: the org's hash, object UUIDs, creation
 * timestamps, and the shape of a collection (a size, filters, object `i` on demand).
 */
import { at, hash, hash4, indexOfUuid, uuidForIndex } from './random';
import { type RevisionLog, RevisionView } from './revisions';
import type { DatasetSizes } from './types';

export type PceObject = Record<string, unknown>;

/** An index range `[from, to)` a filter narrows a collection to (events by timestamp). */
interface IndexRange {
  readonly from?: number;
  readonly to?: number;
}

/** A filter value turned into a predicate over object indexes, an index range, or an error message. */
export type FilterBuilder = (value: string) => ((index: number) => boolean) | IndexRange | string;

export interface Collection {
  /** Org-relative path without the leading slash: `workloads`, `sec_policy/draft/rule_sets`. */
  readonly path: string;
  readonly size: number;
  /** Query parameters this collection filters on. */
  readonly filters: Readonly<Record<string, FilterBuilder>>;
  /** Object `index` as a fresh object. */
  object(index: number): PceObject;
  /** Object `index` as compact JSON: exactly `JSON.stringify(object(index))`. */
  text(index: number): string;
  /** Whether object `index` (below `size`) exists: false once a revision removed it. Absent: all do. */
  readonly exists?: (index: number) => boolean;
  /** The last revision that changed object `index` (0: none). Absent: none did. */
  readonly lastChange?: (index: number) => number;
  /** The index of the object whose href ends in `/{id}`, if it exists. */
  readonly find?: (id: string) => number | undefined;
  /** Synchronous GETs: how many objects without `max_results`, and the most `max_results` may ask. */
  readonly syncLimits?: { readonly byDefault: number; readonly max: number };
}

/** A collection as its module describes it; `text` defaults to `JSON.stringify(object(i))`. */
export type CollectionSpec = Omit<Collection, 'text'> & { readonly text?: (index: number) => string };

/** The user every object was created and updated by. */
export const USER = { href: '/users/1' } as const;

const BASE_TIME = Date.UTC(2022, 0, 3, 9, 0, 0);
const TWO_YEARS_S = 730 * 86_400;
const DAY_MS = 86_400_000;
const dayPrefixes = new Map<number, string>();
const TWO_DIGITS: readonly string[] = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));

/** `Date#toISOString`, faster: the date part is cached per day (millions of objects share ~800 days). */
export function iso(ms: number): string {
  const day = Math.floor(ms / DAY_MS);
  let prefix = dayPrefixes.get(day);
  if (prefix === undefined) {
    prefix = new Date(day * DAY_MS).toISOString().slice(0, 11);
    if (dayPrefixes.size < 100_000) dayPrefixes.set(day, prefix);
  }
  const rest = ms - day * DAY_MS;
  const milli = rest % 1000;
  return `${prefix}${at(TWO_DIGITS, Math.floor(rest / 3_600_000))}:${at(TWO_DIGITS, Math.floor(rest / 60_000) % 60)}:${at(TWO_DIGITS, Math.floor(rest / 1000) % 60)}.${milli < 10 ? '00' : milli < 100 ? '0' : ''}${milli}Z`;
}

/** created_at/updated_at for an object, spread over two years. */
export function stamps(h: number): { created_at: string; updated_at: string } {
  const created = BASE_TIME + (h % TWO_YEARS_S) * 1000 + (h % 997);
  const updated = created + ((hash(h, 0x51) % (86_400 * 90)) + 60) * 1000 + (h % 991);
  return { created_at: iso(created), updated_at: iso(updated) };
}

export function containsCi(haystack: string, needle: string): boolean {
  return haystack.toLowerCase().includes(needle.toLowerCase());
}

export function parseBool(value: string): boolean | string {
  if (value === 'true') return true;
  if (value === 'false') return false;
  return `expected true or false, got "${value}"`;
}

export function parseIntParam(value: string, name: string): number | string {
  return /^-?\d{1,9}$/.test(value) ? Number(value) : `${name} must be an integer, got "${value}"`;
}

export function slug(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, '-');
}

/** One org's identity: every object hash and UUID derives from (seed, org). */
export class OrgBasis {
  readonly seedHash: number;
  /** The one network every interface is on. */
  readonly networkHref: string;

  /** The revision this data is at, and how each revision changed it. */
  readonly view: RevisionView;

  constructor(
    readonly org: number,
    seed: number,
    readonly sizes: Readonly<Required<DatasetSizes>>,
    revision = 0,
    log: Pick<RevisionLog, 'time'> = { time: () => 0 },
  ) {
    this.seedHash = hash(seed, org, 0x5eed);
    this.view = new RevisionView(revision, log, this.seedHash, {
      labels: sizes.labels,
      workloads: sizes.workloads,
      services: sizes.services,
      ip_lists: sizes.ipLists,
      label_groups: sizes.labelGroups,
      rule_sets: sizes.ruleSets,
    });
    this.networkHref = `/orgs/${org}/networks/${this.uuid(0x7e7, 0)}`;
  }

  /** The hash of object `index` of the kind `salt`. */
  h(salt: number, index: number, extra = 0): number {
    return hash4(this.seedHash, salt, index, extra);
  }

  /** UUID of object `index` of the kind `salt`; unique within the kind. */
  uuid(salt: number, index: number): string {
    return uuidForIndex(hash4(this.seedHash, salt, 0x77, 0), index);
  }

  /**
   * The index whose {@link uuid} of the kind `salt` is `uuid`, or undefined (the caller checks
   * that the object exists).
   */
  indexOfUuid(salt: number, uuid: string): number | undefined {
    const index = indexOfUuid(hash4(this.seedHash, salt, 0x77, 0), uuid);
    return index !== undefined && this.uuid(salt, index) === uuid ? index : undefined;
  }

  /** `updated_at` (and `created_at`) for an object last changed in revision `k`. */
  revisedAt(k: number): string {
    return iso(this.view.time(k));
  }
}
