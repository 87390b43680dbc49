/**
 * The data that passes between the states of the export workflow. It stays small (a few KB):
 * nothing large and no credential ever goes through state.
 */

import type { TrafficRequest } from './traffic-query';

export type OutputFormat = 'raw' | 'ndjson';

/** A validated, fully-defaulted export request (what Submit makes of the execution input). */
export interface ExportRequest {
  /**
   * `traffic`: an Explorer traffic query (`traffic` holds it). Absent: a collection export, as
   * in state written before traffic exports existed.
   */
  readonly kind?: 'collection' | 'traffic';
  readonly name: string;
  /** Org-relative collection path, e.g. `/workloads`; `/traffic_flows/async_queries` for traffic. */
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly format: OutputFormat;
  readonly gzip: boolean;
  readonly maxWaitSeconds: number;
  /** The resolved traffic query (absolute times), for `kind: 'traffic'`. */
  readonly traffic?: TrafficRequest;
}

export interface JobState {
  /** `/orgs/{org}/jobs/{id}`; for traffic, the query `/orgs/{org}/traffic_flows/async_queries/{id}`. */
  readonly href: string;
  /** pending | running | done | failed */
  readonly status: 'pending' | 'running' | 'done' | 'failed';
  readonly polls: number;
  /** Seconds the Wait state waits before the next poll (always ≥ 1 and within the deadline). */
  readonly waitSeconds: number;
  /** Latest Retry-After the PCE sent, clamped. */
  readonly retryAfterSeconds: number;
  /** ISO time Submit got the 202. */
  readonly requestedAt: string;
  /** ISO time after which Poll reports timedOut. */
  readonly deadline: string;
  /** true once the deadline or the poll limit has passed without the job being done. */
  readonly timedOut: boolean;
  /** `/orgs/{org}/datafiles/{id}` once done; for traffic, the query's `…/download`. */
  readonly resultHref?: string;
  /** Human sentence for failed or timed-out jobs (becomes the Fail state's Cause). */
  readonly message?: string;
}

/**
 * The execution an export runs in. `snapshot` names the snapshot when the export is one member
 * of a snapshot run (its object then goes to the snapshot's folder).
 */
export interface ExecutionRef {
  readonly name: string;
  readonly startTime: string;
  readonly snapshot?: string;
}

/** The state after Submit and after every Poll. */
export interface WorkflowState {
  readonly export: ExportRequest;
  readonly execution: ExecutionRef;
  readonly job: JobState;
}

/** Event Submit receives: the execution input plus the context the state machine adds. */
export interface SubmitEvent {
  readonly input: unknown;
  readonly execution: ExecutionRef;
}

/** The execution outputs (PRODUCT.md 3.3) are the published types callers read. */
export type { ExportOutput, SnapshotObject, SnapshotOutput } from '../../schema/index';
