/** Query parameters of a collection GET turned into a selection of object indexes. */
import type { Collection } from './data';

/** Accepted on every collection and not a filter. */
const GENERIC_PARAMS = new Set(['max_results', 'representation']);

export interface Selection {
  /** Every predicate must hold; empty = everything (that exists). */
  readonly predicates: readonly ((index: number) => boolean)[];
  /** Indexes `[from, to)` the filters narrow the collection to. */
  readonly from: number;
  readonly to: number;
  /** `max_results`, when given. */
  readonly maxResults?: number;
  /** Canonical form of the filters (sorted, without max_results), for caching counts. */
  readonly key: string;
}

/** Parses the query of a collection GET; a string is the reason it is not acceptable. */
export function selectionFor(collection: Collection, params: URLSearchParams): Selection | string {
  const predicates: ((index: number) => boolean)[] = collection.exists ? [collection.exists] : [];
  let maxResults: number | undefined;
  let from = 0;
  let to = collection.size;
  const keyParts: string[] = [];
  for (const [name, value] of params) {
    if (name === 'max_results') {
      if (!/^\d{1,10}$/.test(value)) return `max_results must be a non-negative integer, got "${value}"`;
      maxResults = Number(value);
      continue;
    }
    if (GENERIC_PARAMS.has(name)) continue;
    const build = Object.hasOwn(collection.filters, name) ? collection.filters[name] : undefined;
    if (build === undefined) {
      const known = Object.keys(collection.filters).join(', ');
      return `unknown query parameter "${name}" for ${collection.path} (filters: ${known || 'none'})`;
    }
    const filter = build(value);
    if (typeof filter === 'string') return filter;
    if (typeof filter === 'function') predicates.push(filter);
    else {
      from = Math.max(from, filter.from ?? 0);
      to = Math.min(to, filter.to ?? collection.size);
    }
    keyParts.push(`${name}=${value}`);
  }
  return {
    predicates,
    from,
    to,
    ...(maxResults === undefined ? {} : { maxResults }),
    key: keyParts.sort().join('&'),
  };
}

/** Indexes of the selected objects, in order, at most `limit`. */
export function* selectedIndexes(selection: Selection, limit?: number): Generator<number> {
  const max = Math.min(limit ?? Number.POSITIVE_INFINITY, selection.maxResults ?? Number.POSITIVE_INFINITY);
  if (max <= 0) return;
  const { predicates } = selection;
  let produced = 0;
  for (let i = selection.from; i < selection.to; i++) {
    if (predicates.length > 0 && !predicates.every((p) => p(i))) continue;
    yield i;
    if (++produced >= max) return;
  }
}

/** How many objects match the filters (ignoring max_results). Linear in the selected range. */
export function countSelected(selection: Selection): number {
  const { predicates, from, to } = selection;
  if (predicates.length === 0) return Math.max(0, to - from);
  let n = 0;
  for (let i = from; i < to; i++) if (predicates.every((p) => p(i))) n++;
  return n;
}

/**
 * A JSON array as text chunks of about `chunkSize` characters: `[`, then each item's compact
 * JSON (as `render` gives it) separated by commas, then `]`. The same input always gives the
 * same bytes.
 */
export function* jsonArrayChunks<T>(
  items: Iterable<T>,
  render: (item: T) => string,
  chunkSize = 64 * 1024,
): Generator<string> {
  let buffer = '[';
  let first = true;
  for (const item of items) {
    const text = render(item);
    buffer += first ? text : `,${text}`;
    first = false;
    if (buffer.length >= chunkSize) {
      yield buffer;
      buffer = '';
    }
  }
  yield `${buffer}]`;
}
