import { resolveExportRequest } from '../../lambdas/export/input';
import { firstDetected, flowKey } from '../../lambdas/export/traffic/ownership';
import { trafficQueryBody } from '../../lambdas/export/traffic-query';
import { OrgData } from '../../simulator/data';
import { compileFilters } from '../../simulator/flow-filters';
import { FlowPopulation, newCore } from '../../simulator/flow-population';
import { resolveOptions } from '../../simulator/options';
import { parseTrafficQuery } from '../../simulator/traffic';
import type { SimulatorOptions } from '../../simulator/types';

/*
 * Completeness of a traffic run, in the benchmark itself: the flows the simulator's population
 * holds for the run's whole range (generated here from the same seed and settings, as a query
 * with no cap would match them) against the flows the run's objects hold.
 */

export interface Completeness {
  readonly expected: number;
  readonly stored: number;
  /** Flows of the range that no object holds. */
  readonly missing: number;
  /** Flows stored more than once (each extra copy counts). */
  readonly duplicates: number;
  /** Stored flows the range does not hold. */
  readonly unexpected: number;
  /** Every flow of the range stored exactly once, and nothing else. */
  readonly exact: boolean;
}

/** The dedupe key of one exported flow (as the export's own dedupe computes it). */
export function keyOf(flow: unknown): string {
  const first = firstDetected(flow);
  if (first === undefined) throw new Error(`a flow without first_detected: ${JSON.stringify(flow)}`);
  return flowKey(flow, first);
}

/**
 * Every flow (as its parsed row) the population of `options` holds for a traffic input's whole
 * range: what the simulator's query of that input would match, had it no cap.
 */
export function* populationFlows(
  options: SimulatorOptions,
  traffic: Record<string, unknown>,
  now = new Date(),
): Generator<unknown> {
  const resolved = resolveOptions(options);
  const request = resolveExportRequest({ kind: 'traffic', traffic }, {}, { now }).traffic;
  if (!request) throw new Error('no traffic request');
  const params = parseTrafficQuery(trafficQueryBody(request, { exportName: 'x', executionName: 'y' }));
  if (typeof params === 'string') throw new Error(params);
  const data = new OrgData(1, resolved.seed, resolved.dataset);
  const population = new FlowPopulation(data, resolved.seed, resolved.traffic);
  const filters = compileFilters(params, data, population);
  if (typeof filters === 'string') throw new Error(filters);
  const window = population.window(Date.parse(params.start_date), Date.parse(params.end_date), Date.now());
  const core = newCore();
  for (let k = 0; k < window.count + window.burstCount; k++) {
    if (!population.candidate(window, k, core) || !filters.matches(core)) continue;
    yield JSON.parse(population.row(core, false));
  }
}

/**
 * Counts every key the population holds for [start, end] against `stored` (key → copies). With
 * `earlierRunOwnsBefore` (an incremental run that continues another), flows first detected
 * before `start` are the earlier run's and are not expected.
 */
export function completeness(
  options: SimulatorOptions,
  range: { readonly start: string; readonly end: string },
  stored: ReadonlyMap<string, number>,
  earlierRunOwnsBefore = false,
): Completeness {
  const from = Date.parse(range.start);
  let expected = 0;
  let missing = 0;
  let seen = 0;
  for (const row of populationFlows(options, range)) {
    if (earlierRunOwnsBefore && (firstDetected(row) ?? from) < from) continue;
    expected++;
    if (stored.has(keyOf(row))) seen++;
    else missing++;
  }
  let total = 0;
  let duplicates = 0;
  for (const copies of stored.values()) {
    total += copies;
    duplicates += copies - 1;
  }
  const unexpected = stored.size - seen;
  return {
    expected,
    stored: total,
    missing,
    duplicates,
    unexpected,
    exact: missing === 0 && duplicates === 0 && unexpected === 0,
  };
}
