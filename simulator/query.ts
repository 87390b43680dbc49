/** Query parameters of a collection GET turned into a selection of object indexes. */
import type { Collection } from './data';

/** Accepted on every collection and not a filter. */
const GENERIC_PARAMS = new Set(['max_results', 'representation']);

export interface Selection {
  /** Every predicate must hold; empty = everything. */
  readonly predicates: readonly ((index: number) => boolean)[];
  /** `max_results`, when given. */
  readonly maxResults?: number;
  /** Canonical form of the filters (sorted, without max_results), for caching counts. */
  readonly key: string;
}

/** Parses the query of a collection GET; a string is the reason it is not acceptable. */
export function selectionFor(collection: Collection, params: URLSearchParams): Selection | string {
  const predicates: ((index: number) => boolean)[] = [];
  let maxResults: number | undefined;
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
    const predicate = build(value);
    if (typeof predicate === 'string') return predicate;
    predicates.push(predicate);
    keyParts.push(`${name}=${value}`);
  }
  return {
    predicates,
    ...(maxResults === undefined ? {} : { maxResults }),
    key: keyParts.sort().join('&'),
  };
}

/** Indexes of the selected objects, in order, at most `limit`. */
export function* selectedIndexes(
  collection: Collection,
  selection: Selection,
  limit?: number,
): Generator<number> {
  const max = Math.min(limit ?? Number.POSITIVE_INFINITY, selection.maxResults ?? Number.POSITIVE_INFINITY);
  if (max <= 0) return;
  const { predicates } = selection;
  let produced = 0;
  for (let i = 0; i < collection.size; i++) {
    if (predicates.length > 0 && !predicates.every((p) => p(i))) continue;
    yield i;
    if (++produced >= max) return;
  }
}

/** How many objects match the filters (ignoring max_results). Linear in the collection's size. */
export function countSelected(collection: Collection, selection: Selection): number {
  if (selection.predicates.length === 0) return collection.size;
  let n = 0;
  for (let i = 0; i < collection.size; i++) if (selection.predicates.every((p) => p(i))) n++;
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
