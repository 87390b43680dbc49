import { maxQueriesOf, type TrafficRequest } from '../../contracts/traffic';
import type { TrafficRound, WindowResult, WindowSpec } from '../../contracts/traffic-run';
import { describeWindow, splitWindow } from './plan';

/*
 * From one round of windows to the next: every truncated window is replaced by its parts, as
 * long as the run's query budget lasts. A window that cannot be split (or no longer fits the
 * budget) makes the run incomplete: with allowPartial it is queried once more and whatever it
 * returns is stored, otherwise the run fails with TrafficIncomplete. A window that failed fails
 * the run with its own error, once the round is over (every other window has cleaned up).
 */

/** A window that still holds more flows than one query returns. */
export interface Unsplittable {
  readonly window: WindowSpec;
  readonly matches?: number;
  readonly reason: string;
}

export type RoundPlan =
  | {
      readonly kind: 'next';
      /** Windows of the next round; none when the run is complete. */
      readonly windows: readonly WindowSpec[];
      /** Queries of the run once the next round has run. */
      readonly queries: number;
      /** Windows that go into the next round to be stored as they are (allowPartial). */
      readonly partial: readonly Unsplittable[];
    }
  | { readonly kind: 'failed'; readonly window: WindowSpec; readonly name: string; readonly message: string }
  | { readonly kind: 'incomplete'; readonly windows: readonly Unsplittable[]; readonly maxResults: number };

/**
 * The next round after `round`, from the results its windows recorded (by window id; a missing
 * result is a window whose child execution ended without recording one).
 */
export function planNextRound(
  round: TrafficRound,
  results: ReadonlyMap<number, WindowResult>,
  request: TrafficRequest,
): RoundPlan {
  for (const window of round.windows) {
    const result = results.get(window.id);
    if (result === undefined) {
      return {
        kind: 'failed',
        window,
        name: 'ExportInternalError',
        message: `The child execution of traffic window ${window.id} (${describeWindow(window)}) ended without recording its result; its execution history in the Map run of round ${round.number} says why`,
      };
    }
    if (result.status === 'failed') {
      return {
        kind: 'failed',
        window,
        name: result.error?.name ?? 'ExportInternalError',
        message: result.error?.message ?? `Traffic window ${window.id} failed`,
      };
    }
  }

  const budget = maxQueriesOf(request);
  let queries = round.queries;
  let nextId = Math.max(round.queries, ...round.windows.map((w) => w.id + 1));
  const windows: WindowSpec[] = [];
  const unsplittable: Unsplittable[] = [];
  for (const window of round.windows) {
    const result = results.get(window.id);
    if (result?.status !== 'truncated') continue;
    const counts = {
      ...(result.flowsCount === undefined ? {} : { flowsCount: result.flowsCount }),
      ...(result.matchesCount === undefined ? {} : { matchesCount: result.matchesCount }),
    };
    const matches = result.matchesCount;
    const split = splitWindow({ window, counts, request });
    if (split.parts === undefined) {
      unsplittable.push({ window, ...(matches === undefined ? {} : { matches }), reason: split.reason });
      continue;
    }
    if (queries + split.parts.length > budget) {
      unsplittable.push({
        window,
        ...(matches === undefined ? {} : { matches }),
        reason: `splitting it into ${split.parts.length} would pass the run's limit of ${budget} queries (maxQueries)`,
      });
      continue;
    }
    queries += split.parts.length;
    for (const part of split.parts) windows.push({ ...part, id: nextId++ });
  }

  if (unsplittable.length > 0 && request.allowPartial !== true) {
    return { kind: 'incomplete', windows: unsplittable, maxResults: request.maxResults };
  }
  // A partial run queries each unsplittable window once more and stores what it returns.
  for (const { window } of unsplittable) {
    const { parent: _parent, parentMatches: _matches, ...spec } = window;
    windows.push({ ...spec, id: nextId++, parent: window.id, partial: true });
    queries++;
  }
  return { kind: 'next', windows, queries, partial: unsplittable };
}

/** The TrafficIncomplete message: each window that could not be split, with why. */
export function describeIncomplete(windows: readonly Unsplittable[], maxResults: number): string {
  const shown = windows.slice(0, 3).map((entry) => {
    const held = entry.matches === undefined ? 'returned' : `holds ${entry.matches}`;
    return `window ${entry.window.id} (${describeWindow(entry.window)}) ${held} flows, more than maxResults ${maxResults}, and cannot be split further: ${entry.reason}`;
  });
  const more = windows.length > 3 ? `; and ${windows.length - 3} more` : '';
  return `The traffic run is incomplete: ${shown.join('; ')}${more}. Narrow the filters, raise maxResults (at most 200000) or maxQueries, or set allowPartial to store what each query returns`;
}
