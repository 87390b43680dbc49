/**
 * An Illumio PCE simulator speaking the async job protocol (and Explorer async traffic
 * queries) over loopback HTTP or HTTPS, with deterministic data and scriptable faults.
 *
 * ```ts
 * const sim = await startSimulator({ dataset: { workloads: 50_000 }, jobDurationMs: 200 });
 * // GET {sim.url}/api/v2/orgs/1/workloads with Prefer: respond-async, Basic sim.credentials …
 * await sim.close();
 * ```
 */
import { Simulator } from './server';
import type { RunningSimulator, SimulatorOptions } from './types';

export type { Collection, PceObject } from './data';
export { canonicalPath, DEFAULT_DATASET } from './data';
export type {
  ContentTypeFault,
  CutBodyFault,
  DelayFault,
  EmptyBodyFault,
  EmptyResultFault,
  Fault,
  FaultController,
  FaultEndpoint,
  FaultHandle,
  FaultKind,
  FaultSelector,
  GzipWithoutEncodingFault,
  JobEndpoint,
  JobFailsFault,
  JobFault,
  JobNeverFinishesFault,
  JobStatusFault,
  JobVanishesFault,
  LocationFault,
  MalformedJsonFault,
  ResetFault,
  RespondFault,
  ResultHrefFault,
  RetryAfterFault,
  SlowBodyFault,
} from './faults';
export { fault } from './faults';
export { JOB_TYPE } from './server';
export { MAX_TRAFFIC_RESULTS, POLICY_DECISIONS } from './traffic';
export type { DatasetSizes, RecordedRequest, RunningSimulator, SimulatorOptions } from './types';

/** Starts a simulator; resolves once it is listening. */
export async function startSimulator(options: SimulatorOptions = {}): Promise<RunningSimulator> {
  return Simulator.start(options);
}
