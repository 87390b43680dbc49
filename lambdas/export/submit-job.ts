import type { ExportInput } from '../contracts/input';
import { DEFAULT_SUBMIT_RETRY_WINDOW_SECONDS } from '../contracts/limits';
import type {
  ExecutionRef,
  ExportRequest,
  SubmitEvent,
  SubmitRetryState,
  WorkflowState,
} from '../contracts/state';
import type { TrafficRunStart } from '../contracts/traffic-run';
import type { PceClient } from '../pce/client';
import type { PollSettings, SubmitSettings } from './env';
import { continueEventsWindow, type WatermarkStore } from './events-window';
import { resolveExportRequest } from './input';
import { kindOf } from './kinds';
import type { ExportLogger } from './logger';
import { isTransientPceError, submitRetry, troubleOf, warnTrouble } from './pce-trouble';
import { nextWaitSeconds, parseExecution } from './workflow';

export interface SubmitDeps {
  /** Connects to the PCE; called only once the input is known to be valid. */
  readonly connect: () => Promise<PceClient>;
  readonly configuredExports: Readonly<Record<string, ExportInput>>;
  readonly poll: PollSettings;
  /** @default a retry window of DEFAULT_SUBMIT_RETRY_WINDOW_SECONDS */
  readonly submit?: SubmitSettings;
  readonly logger: ExportLogger;
  /** Called with the resolved request before the PCE is contacted (log keys). */
  readonly onRequest?: (request: ExportRequest, execution: WorkflowState['execution']) => void;
  readonly now?: () => Date;
  /** The configured org: hrefs in a traffic query's filters must belong to it. */
  readonly orgId?: number;
  /** Where an incremental events export's watermark is read. @default none: such an export fails */
  readonly watermarks?: () => WatermarkStore;
}

/**
 * What the Submit step does with an execution input: a traffic export that runs on its own is
 * not submitted as one job; its checked request goes on to the traffic run, which splits it into
 * windows (`lambdas/export/traffic/`). Everything else is submitted as one job, as `submitStep`
 * does: a PCE that cannot take it now gives a SubmitRetryState. Bad input throws
 * ExportConfigError before the secret is read or the PCE contacted.
 */
export async function startExport(
  event: SubmitEvent,
  deps: SubmitDeps,
): Promise<WorkflowState | SubmitRetryState | TrafficRunStart> {
  const { request, execution } = await resolveSubmit(event, deps);
  const kind = kindOf(request);
  if (kind.fanOut === undefined || execution.snapshot !== undefined) {
    return attemptSubmit(request, execution, undefined, deps, true);
  }
  kind.fanOut.check(request, { exportName: request.name, executionName: execution.name, orgId: deps.orgId });
  deps.onRequest?.(request, execution);
  deps.logger.info('Handing the traffic export to the traffic run', { traffic: request.traffic });
  return { export: request, execution, fanOut: kind.fanOut.kind };
}

/**
 * Validates the execution input, submits its request as one async job once and returns the
 * first workflow state. Bad input throws ExportConfigError before the secret is read or the PCE
 * contacted; every PCE error is thrown as it is.
 */
export async function submitExport(event: SubmitEvent, deps: SubmitDeps): Promise<WorkflowState> {
  const { request, execution } = await resolveSubmit(event, deps);
  const state = await attemptSubmit(request, execution, undefined, deps, false);
  return state as WorkflowState;
}

/**
 * The Submit step: `submitExport`, except that a PCE that cannot take the job now (5xx, 429,
 * resets, timeouts, DNS) gives a SubmitRetryState instead of an error, with the wait before the
 * next submit, until the retry window is over. That state, handed back (already validated),
 * submits again.
 */
export async function submitStep(
  event: SubmitEvent | SubmitRetryState,
  deps: SubmitDeps,
): Promise<WorkflowState | SubmitRetryState> {
  if ('submit' in event) return attemptSubmit(event.export, event.execution, event.submit, deps, true);
  const { request, execution } = await resolveSubmit(event, deps);
  return attemptSubmit(request, execution, undefined, deps, true);
}

/** The input resolved and checked, and an incremental events window continued from its watermark. */
async function resolveSubmit(event: SubmitEvent, deps: SubmitDeps) {
  const execution = parseExecution(event?.execution);
  const resolved = resolveExportRequest(event.input ?? {}, deps.configuredExports, {
    now: new Date(execution.startTime),
  });
  const request = await continueEventsWindow(resolved, execution, deps.watermarks?.(), deps.logger);
  return { request, execution };
}

async function attemptSubmit(
  request: ExportRequest,
  execution: ExecutionRef,
  previous: SubmitRetryState['submit'] | undefined,
  deps: SubmitDeps,
  retry: boolean,
): Promise<WorkflowState | SubmitRetryState> {
  const clock = deps.now ?? (() => new Date());
  const kind = kindOf(request);
  const context = { exportName: request.name, executionName: execution.name, orgId: deps.orgId };
  const job = kind.prepare(request, context);
  deps.onRequest?.(request, execution);

  const window = deps.submit?.retryWindowSeconds ?? DEFAULT_SUBMIT_RETRY_WINDOW_SECONDS;
  const firstAttemptAt = previous?.firstAttemptAt ?? clock().toISOString();
  let submitted: Awaited<ReturnType<typeof job.submit>>;
  try {
    submitted = await job.submit(await deps.connect());
  } catch (error) {
    if (!retry || !isTransientPceError(error)) throw error;
    const now = clock();
    const trouble = troubleOf(error, now, previous?.unavailable);
    const submit = submitRetry(error, trouble, {
      previous,
      firstAttemptAt,
      retryWindowSeconds: window,
      now,
      what: kind.noun,
    });
    warnTrouble(deps.logger, trouble, `submitting again in ${submit.waitSeconds} s`, {
      windowEndsAt: submit.windowEndsAt,
      waitSeconds: submit.waitSeconds,
    });
    return { export: request, execution, submit };
  }

  const requestedAt = clock();
  const deadline = new Date(requestedAt.getTime() + request.maxWaitSeconds * 1000);
  const waitSeconds = nextWaitSeconds({
    retryAfterSeconds: submitted.retryAfterSeconds,
    elapsedSeconds: 0,
    maxIntervalSeconds: deps.poll.maxIntervalSeconds,
    secondsToDeadline: request.maxWaitSeconds,
  });
  const message = submitted.reused
    ? `Found the ${kind.noun} an earlier submit of this execution left; polling it`
    : kind.messages.submitted;
  deps.logger.info(message, {
    jobHref: submitted.jobHref,
    ...job.logged,
    retryAfterSeconds: submitted.retryAfterSeconds,
    waitSeconds,
    deadline: deadline.toISOString(),
    ...(previous === undefined ? {} : { submits: previous.attempts + 1 }),
  });
  return {
    export: request,
    execution,
    job: {
      href: submitted.jobHref,
      status: 'pending',
      polls: 0,
      waitSeconds,
      retryAfterSeconds: submitted.retryAfterSeconds,
      requestedAt: requestedAt.toISOString(),
      deadline: deadline.toISOString(),
      timedOut: false,
      retries: { submit: previous?.attempts ?? 0, poll: 0, fetch: 0 },
    },
  };
}
