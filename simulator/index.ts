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

export type { ClockMode, SimulatorClock } from './clock';
export { fault } from './fault-builders';
export type {
  ContentTypeFault,
  CutBodyFault,
  DelayFault,
  EmptyBodyFault,
  EmptyResultFault,
  Fault,
  FaultEndpoint,
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
} from './fault-kinds';
export type {
  ControlCharsFault,
  DeepJsonFault,
  ExtraFieldsFault,
  FramingFault,
  GzipFault,
  HeaderCaseFault,
  HugeErrorFault,
  JobHrefFault,
  JobPhasesFault,
  StallBodyFault,
  StatusCaseFault,
} from './fault-kinds-answers';
export type {
  FaultWindow,
  MaintenanceFault,
  OutageFault,
  RefuseFault,
  RetryAfterValue,
  ThrottleFault,
} from './fault-kinds-outage';
export { faultsFromJson } from './fault-validate';
export type { FaultController, FaultHandle } from './faults';
export { JOB_TYPE } from './jobs';
export type { CollectionChanges, RevisionChanges } from './store';
export { MAX_TRAFFIC_RESULTS, POLICY_DECISIONS } from './traffic';
export type {
  DatasetSizes,
  RecordedRequest,
  RunningSimulator,
  SimulatorOptions,
  TrafficBurst,
  TrafficOptions,
  TrafficQueryRecord,
} from './types';

/** Starts a simulator; resolves once it is listening. */
export async function startSimulator(options: SimulatorOptions = {}): Promise<RunningSimulator> {
  return Simulator.start(options);
}
