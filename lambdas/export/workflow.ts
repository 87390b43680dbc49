import { z } from 'zod';
import { ExportConfigError } from '../pce/errors';
import { COLLECTION_PATH, describeIssues, MAX_WAIT_SECONDS_LIMIT, QUERY_KEY, QUERY_VALUE } from './input';
import type { WorkflowState } from './state';
import { trafficRequestSchema } from './traffic-query';

/*
 * The state that passes between Submit, Poll and Fetch comes back to the Lambdas from the state
 * machine, so it is validated like any other input: a hand-edited or tampered state (a job href
 * on another org, a path with `..`, a non-ISO deadline) fails with ExportConfigError before
 * anything is sent to the PCE.
 */

const EXPORT_NAME = /^[A-Za-z0-9_][A-Za-z0-9_-]{0,63}$/;
export const JOB_HREF = /^\/orgs\/([0-9]+)\/jobs\/[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;
export const DATAFILE_HREF = /^\/orgs\/([0-9]+)\/datafiles\/[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;
export const TRAFFIC_QUERY_HREF =
  /^\/orgs\/([0-9]+)\/traffic_flows\/async_queries\/[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;
export const TRAFFIC_DOWNLOAD_HREF =
  /^\/orgs\/([0-9]+)\/traffic_flows\/async_queries\/[A-Za-z0-9][A-Za-z0-9_-]{0,127}\/download$/;

const isoTime = z
  .string()
  .max(64)
  .refine((v) => /^\d{4}-\d{2}-\d{2}T/.test(v) && !Number.isNaN(Date.parse(v)), {
    message: 'must be an ISO 8601 time',
  });

export const executionSchema = z.object({
  name: z.string().min(1).max(256),
  startTime: isoTime,
  /** Set on the members of a snapshot run (see snapshot.ts). */
  snapshot: z.string().regex(EXPORT_NAME, 'letters, digits, "_" and "-", at most 64').optional(),
});

export const exportRequestSchema = z.object({
  kind: z.enum(['collection', 'traffic']).optional(),
  name: z.string().regex(EXPORT_NAME, 'letters, digits, "_" and "-", at most 64'),
  path: z
    .string()
    .max(256)
    .regex(COLLECTION_PATH, 'must be an org-relative collection path such as "/workloads"'),
  query: z.record(
    z.string().regex(QUERY_KEY, 'query keys are letters, digits, "_", "." and "[]"'),
    z
      .string()
      .regex(QUERY_VALUE, 'must not contain control characters, "?" or "#"')
      .refine((v) => !v.split('/').includes('..'), { message: 'must not contain ".." path traversal' }),
  ),
  format: z.enum(['raw', 'ndjson']),
  gzip: z.boolean(),
  maxWaitSeconds: z.number().int().min(1).max(MAX_WAIT_SECONDS_LIMIT),
  traffic: trafficRequestSchema.optional(),
});

export const jobStateSchema = z.object({
  href: z.string().refine((v) => JOB_HREF.test(v) || TRAFFIC_QUERY_HREF.test(v), {
    message: 'must be a job href /orgs/{org}/jobs/{id} or a traffic query href',
  }),
  status: z.enum(['pending', 'running', 'done', 'failed']),
  polls: z.number().int().min(0).max(1_000_000),
  waitSeconds: z.number().int().min(1),
  retryAfterSeconds: z.number().min(0),
  requestedAt: isoTime,
  deadline: isoTime,
  timedOut: z.boolean(),
  resultHref: z
    .string()
    .refine((v) => DATAFILE_HREF.test(v) || TRAFFIC_DOWNLOAD_HREF.test(v), {
      message: 'must be a datafile href /orgs/{org}/datafiles/{id} or a traffic query download href',
    })
    .optional(),
  message: z.string().max(4096).optional(),
});

export const workflowStateSchema = z.object({
  export: exportRequestSchema,
  execution: executionSchema,
  job: jobStateSchema,
});

/**
 * Parses the workflow state a state machine passed in. Unknown keys are dropped; the hrefs must
 * belong to `orgId`.
 */
export function parseWorkflowState(value: unknown, orgId: number): WorkflowState {
  const parsed = workflowStateSchema.safeParse(value);
  if (!parsed.success)
    throw new ExportConfigError(`Invalid workflow state: ${describeIssues(parsed.error, 'state')}`);
  const state = parsed.data;
  const traffic = state.export.kind === 'traffic';
  if (traffic !== (state.export.traffic !== undefined)) {
    throw new ExportConfigError(
      `Invalid workflow state: state.export.traffic ${traffic ? 'is missing for a traffic export' : 'belongs to a traffic export only'}`,
    );
  }
  const hrefShapes = traffic
    ? ([TRAFFIC_QUERY_HREF, TRAFFIC_DOWNLOAD_HREF, 'a traffic query'] as const)
    : ([JOB_HREF, DATAFILE_HREF, 'a collection job'] as const);
  if (
    !hrefShapes[0].test(state.job.href) ||
    (state.job.resultHref !== undefined && !hrefShapes[1].test(state.job.resultHref))
  ) {
    throw new ExportConfigError(
      `Invalid workflow state: state.job does not hold the hrefs of ${hrefShapes[2]}, as state.export.kind requires`,
    );
  }
  for (const [field, href] of [
    ['state.job.href', state.job.href],
    ['state.job.resultHref', state.job.resultHref],
  ] as const) {
    if (href === undefined) continue;
    const org = Number(/^\/orgs\/([0-9]+)\//.exec(href)?.[1]);
    if (org !== orgId) {
      throw new ExportConfigError(
        `Invalid workflow state: ${field} belongs to org ${org}, not the configured org ${orgId}`,
      );
    }
  }
  return state;
}

/** Parses the `execution` object the state machine adds to Submit's event. */
export function parseExecution(value: unknown): WorkflowState['execution'] {
  const parsed = executionSchema.safeParse(value);
  if (!parsed.success)
    throw new ExportConfigError(`Invalid event: ${describeIssues(parsed.error, 'execution')}`);
  return parsed.data;
}

/**
 * For this long after submit the wait between polls is the PCE's Retry-After as it is, so a job
 * that finishes in that time is fetched within one Retry-After of being done.
 */
export const POLL_GRACE_SECONDS = 10;

export interface NextWaitInput {
  /** Retry-After of the latest PCE response (already clamped by the client). */
  readonly retryAfterSeconds: number;
  /** Seconds since the job was submitted (0 for the wait before the first poll). */
  readonly elapsedSeconds: number;
  /** POLL_MAX_INTERVAL_SECONDS. */
  readonly maxIntervalSeconds: number;
  /** Seconds left until the deadline; the wait never goes past it. */
  readonly secondsToDeadline?: number;
}

/**
 * Seconds the Wait state waits before the next poll: the PCE's Retry-After during the first
 * POLL_GRACE_SECONDS, then half of the time the job has run past them, but never less than
 * Retry-After. Each poll thus comes about 1.5 times as long after the grace period as the one
 * before: a 2-hour job is polled about 50 times even with a 1 s Retry-After. Capped at the
 * maximum interval and at the time left to the deadline, and never below 1 second.
 */
export function nextWaitSeconds(input: NextWaitInput): number {
  const base =
    Number.isFinite(input.retryAfterSeconds) && input.retryAfterSeconds > 0 ? input.retryAfterSeconds : 1;
  const pastGrace = Number.isFinite(input.elapsedSeconds)
    ? Math.max(0, input.elapsedSeconds - POLL_GRACE_SECONDS)
    : 0;
  const stretched = Math.max(base, Math.round(pastGrace / 2));
  let wait = Math.min(Math.max(stretched, 1), Math.max(1, Math.floor(input.maxIntervalSeconds)));
  if (input.secondsToDeadline !== undefined && !Number.isNaN(input.secondsToDeadline))
    wait = Math.min(wait, Math.floor(input.secondsToDeadline));
  return Math.max(1, wait);
}
