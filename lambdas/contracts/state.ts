import * as z from 'zod';
import { changesRequestSchema } from './changes';
import { eventsRequestSchema } from './events';
import {
  collectionPathSchema,
  EXPORT_KINDS,
  type ExportKind,
  exportNameSchema,
  OUTPUT_FORMATS,
  queryKeySchema,
  queryTextSchema,
} from './input';
import { MAX_WAIT_SECONDS_LIMIT } from './limits';
import { DATAFILE_HREF, JOB_HREF, TRAFFIC_DOWNLOAD_HREF, TRAFFIC_QUERY_HREF } from './patterns';
import { isoTime } from './time';
import { trafficRequestSchema } from './traffic';

/*
 * The data that passes between the states of the export workflow. It stays small (a few KB):
 * nothing large and no credential ever goes through state. It comes back to the Lambdas from
 * the state machine, so each step validates it like any other input.
 */

/** A job's status as the workflow tracks it; the PCE's own status words are mapped onto these. */
const JOB_STATUSES = ['pending', 'running', 'done', 'failed'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/**
 * The execution an export runs in. `snapshot` names the snapshot when the export is one member
 * of a snapshot run (its object then goes to the snapshot's folder).
 */
export const executionSchema = z.object({
  name: z.string().min(1).max(256),
  startTime: isoTime,
  /** Set on the members of a snapshot run. */
  snapshot: exportNameSchema.optional(),
});
export type ExecutionRef = z.infer<typeof executionSchema>;

/** A validated, fully-defaulted export request (what Submit makes of the execution input). */
const exportRequestSchema = z.object({
  /** Absent: a collection export, as in state written before traffic exports existed. */
  kind: z.enum(EXPORT_KINDS).optional(),
  name: exportNameSchema,
  /** Org-relative collection path, e.g. `/workloads`; `/traffic_flows/async_queries` for traffic. */
  path: collectionPathSchema,
  query: z.record(queryKeySchema, queryTextSchema),
  format: z.enum(OUTPUT_FORMATS),
  gzip: z.boolean(),
  maxWaitSeconds: z.number().int().min(1).max(MAX_WAIT_SECONDS_LIMIT),
  /** The resolved traffic query (absolute times), for `kind: 'traffic'`. */
  traffic: trafficRequestSchema.optional(),
  /** The resolved events window (absolute times), for `kind: 'events'`. */
  events: eventsRequestSchema.optional(),
  /** Write the change history after the run (absent: no change history). */
  changes: changesRequestSchema.optional(),
});
export type ExportRequest = z.infer<typeof exportRequestSchema>;

/** The hrefs of each kind's job and result, as they travel in `job`. */
export const JOB_HREFS: Readonly<
  Record<ExportKind, { readonly job: RegExp; readonly result: RegExp; readonly what: string }>
> = {
  collection: { job: JOB_HREF, result: DATAFILE_HREF, what: 'a collection job' },
  traffic: { job: TRAFFIC_QUERY_HREF, result: TRAFFIC_DOWNLOAD_HREF, what: 'a traffic query' },
  events: { job: JOB_HREF, result: DATAFILE_HREF, what: 'a collection job' },
};

/**
 * A PCE request that failed in a way that goes away (5xx, 429, a reset, a timeout, a DNS
 * failure), kept in the state while the step that made it waits and tries again.
 */
const pceTroubleSchema = z.object({
  /** The error the step would fail with if it gave up now. */
  error: z.enum(['PceUnavailable', 'PceRateLimited']),
  /** HTTP status of the answer, when there was one. */
  status: z.number().int().min(100).max(599).optional(),
  /** The transport's code when there was no answer (ECONNRESET, UND_ERR_CONNECT_TIMEOUT, …). */
  code: z
    .string()
    .regex(/^[A-Z][A-Z0-9_]{0,63}$/)
    .optional(),
  /** The error's sentence. */
  message: z.string().max(2048),
  /** When the first failure of this run of failures happened. */
  since: isoTime,
  /** Failures in a row. */
  attempts: z.number().int().min(1).max(100_000),
});
export type PceTrouble = z.infer<typeof pceTroubleSchema>;

/** PCE requests that failed transiently and were made again, by step. */
export const pceRetriesSchema = z.object({
  submit: z.number().int().min(0),
  poll: z.number().int().min(0),
  fetch: z.number().int().min(0),
});
export type PceRetries = z.infer<typeof pceRetriesSchema>;

const jobStateSchema = z.object({
  /** `/orgs/{org}/jobs/{id}`; for traffic, the query `/orgs/{org}/traffic_flows/async_queries/{id}`. */
  href: z.string().refine((v) => JOB_HREF.test(v) || TRAFFIC_QUERY_HREF.test(v), {
    message: 'must be a job href /orgs/{org}/jobs/{id} or a traffic query href',
  }),
  status: z.enum(JOB_STATUSES),
  polls: z.number().int().min(0).max(1_000_000),
  /** Seconds the Wait state waits before the next poll (always ≥ 1 and within the deadline). */
  waitSeconds: z.number().int().min(1),
  /** Latest Retry-After the PCE sent, clamped. */
  retryAfterSeconds: z.number().min(0),
  /** When Submit got the PCE's answer. */
  requestedAt: isoTime,
  /** After this, Poll reports timedOut. */
  deadline: isoTime,
  /** True once the deadline or the poll limit has passed without the job being done. */
  timedOut: z.boolean(),
  /** `/orgs/{org}/datafiles/{id}` once done; for traffic, the query's `…/download`. */
  resultHref: z
    .string()
    .refine((v) => DATAFILE_HREF.test(v) || TRAFFIC_DOWNLOAD_HREF.test(v), {
      message: 'must be a datafile href /orgs/{org}/datafiles/{id} or a traffic query download href',
    })
    .optional(),
  /** Human sentence for failed or timed-out jobs (becomes the Fail state's Cause). */
  message: z.string().max(4096).optional(),
  /** The PCE could not be reached on the latest poll or download; the step tries again after `waitSeconds`. */
  unavailable: pceTroubleSchema.optional(),
  /** Transient PCE failures retried so far. @default none */
  retries: pceRetriesSchema.optional(),
});
export type JobState = z.infer<typeof jobStateSchema>;

/** The state after Submit and after every Poll. */
export const workflowStateSchema = z.object({
  export: exportRequestSchema,
  execution: executionSchema,
  job: jobStateSchema,
});
export type WorkflowState = z.infer<typeof workflowStateSchema>;

/**
 * The state after a submit the PCE did not take because it was unavailable: the request (already
 * validated), and when Submit tries again. Submit comes back to it until the PCE accepts the job
 * or the retry window is over.
 */
export const submitRetryStateSchema = z.object({
  export: exportRequestSchema,
  execution: executionSchema,
  submit: z.object({
    /** Submits so far, all of them failed. */
    attempts: z.number().int().min(1).max(100_000),
    /** When the first one was made. */
    firstAttemptAt: isoTime,
    /** No submit is made after this. */
    windowEndsAt: isoTime,
    /** Seconds the Wait state waits before the next submit (always ≥ 1). */
    waitSeconds: z.number().int().min(1),
    unavailable: pceTroubleSchema,
  }),
});
export type SubmitRetryState = z.infer<typeof submitRetryStateSchema>;

/** Event Submit receives: the execution input plus the context the state machine adds. */
export interface SubmitEvent {
  readonly input: unknown;
  readonly execution: ExecutionRef;
}
