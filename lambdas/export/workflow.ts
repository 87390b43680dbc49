import { ExportConfigError } from '../contracts/errors';
import {
  type ExecutionRef,
  type ExportRequest,
  executionSchema,
  JOB_HREFS,
  type SubmitRetryState,
  submitRetryStateSchema,
  type WorkflowState,
  workflowStateSchema,
} from '../contracts/state';
import { describeIssues } from './input';
import { kindOf } from './kinds';

/*
 * The state that passes between Submit, Poll and Fetch comes back to the Lambdas from the state
 * machine, so it is validated like any other input: a hand-edited or tampered state (a job href
 * on another org, a path with `..`, a non-ISO deadline) fails with ExportConfigError before
 * anything is sent to the PCE.
 */

/**
 * Parses the workflow state a state machine passed in. Unknown keys are dropped; the hrefs must
 * belong to `orgId`.
 */
export function parseWorkflowState(value: unknown, orgId: number): WorkflowState {
  const parsed = workflowStateSchema.safeParse(value);
  if (!parsed.success)
    throw new ExportConfigError(`Invalid workflow state: ${describeIssues(parsed.error, 'state')}`);
  const state = parsed.data;
  checkKind(state.export);
  const hrefs = JOB_HREFS[state.export.kind ?? 'collection'];
  if (
    !hrefs.job.test(state.job.href) ||
    (state.job.resultHref !== undefined && !hrefs.result.test(state.job.resultHref))
  ) {
    throw new ExportConfigError(
      `Invalid workflow state: state.job does not hold the hrefs of ${hrefs.what}, as state.export.kind requires`,
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

/** A kind that takes a traffic query carries it in the state, and only such a kind does. */
function checkKind(request: ExportRequest): void {
  const takesTraffic = kindOf(request).fields.includes('traffic');
  if (takesTraffic !== (request.traffic !== undefined)) {
    throw new ExportConfigError(
      `Invalid workflow state: state.export.traffic ${takesTraffic ? 'is missing for a traffic export' : 'belongs to a traffic export only'}`,
    );
  }
}

/** Whether Submit's event is the state of a submit to make again rather than an execution's first. */
export function isSubmitRetry(event: unknown): boolean {
  return event !== null && typeof event === 'object' && 'submit' in event && 'export' in event;
}

/** Parses the state a Submit the PCE did not take handed back; unknown keys are dropped. */
export function parseSubmitRetryState(value: unknown): SubmitRetryState {
  const parsed = submitRetryStateSchema.safeParse(value);
  if (!parsed.success)
    throw new ExportConfigError(`Invalid workflow state: ${describeIssues(parsed.error, 'state')}`);
  checkKind(parsed.data.export);
  return parsed.data;
}

/** Parses the `execution` object the state machine adds to Submit's event. */
export function parseExecution(value: unknown): ExecutionRef {
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
