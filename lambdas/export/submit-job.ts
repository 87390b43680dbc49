import type { ExportInput } from '../contracts/input';
import type { ExportRequest, SubmitEvent, WorkflowState } from '../contracts/state';
import type { TrafficRunStart } from '../contracts/traffic-run';
import type { PceClient } from '../pce/client';
import type { PollSettings } from './env';
import { resolveExportRequest } from './input';
import { kindOf } from './kinds';
import type { ExportLogger } from './logger';
import { nextWaitSeconds, parseExecution } from './workflow';

export interface SubmitDeps {
  /** Connects to the PCE; called only once the input is known to be valid. */
  readonly connect: () => Promise<PceClient>;
  readonly configuredExports: Readonly<Record<string, ExportInput>>;
  readonly poll: PollSettings;
  readonly logger: ExportLogger;
  /** Called with the resolved request before the PCE is contacted (log keys). */
  readonly onRequest?: (request: ExportRequest, execution: WorkflowState['execution']) => void;
  readonly now?: () => Date;
  /** The configured org: hrefs in a traffic query's filters must belong to it. */
  readonly orgId?: number;
}

/**
 * What the Submit step does with an execution input: a traffic export that runs on its own is
 * not submitted as one job; its checked request goes on to the traffic run, which splits it into
 * windows (`lambdas/export/traffic/`). Everything else is submitted as one job (`submitExport`).
 * Bad input throws ExportConfigError before the secret is read or the PCE contacted.
 */
export async function startExport(
  event: SubmitEvent,
  deps: SubmitDeps,
): Promise<WorkflowState | TrafficRunStart> {
  const execution = parseExecution(event?.execution);
  const request = resolveRequest(event, execution, deps);
  const kind = kindOf(request);
  if (kind.fanOut === undefined || execution.snapshot !== undefined) return submitExport(event, deps);
  kind.fanOut.check(request, { exportName: request.name, executionName: execution.name, orgId: deps.orgId });
  deps.onRequest?.(request, execution);
  deps.logger.info('Handing the traffic export to the traffic run', { traffic: request.traffic });
  return { export: request, execution, fanOut: kind.fanOut.kind };
}

function resolveRequest(event: SubmitEvent, execution: WorkflowState['execution'], deps: SubmitDeps) {
  return resolveExportRequest(event.input ?? {}, deps.configuredExports, {
    now: new Date(execution.startTime),
  });
}

/**
 * Validates the execution input, submits its request as one async job and returns the first
 * workflow state. Bad input throws ExportConfigError before the secret is read or the PCE
 * contacted.
 */
export async function submitExport(event: SubmitEvent, deps: SubmitDeps): Promise<WorkflowState> {
  const execution = parseExecution(event?.execution);
  const request = resolveRequest(event, execution, deps);
  const kind = kindOf(request);
  const context = { exportName: request.name, executionName: execution.name, orgId: deps.orgId };
  const job = kind.prepare(request, context);
  deps.onRequest?.(request, execution);

  const submitted = await job.submit(await deps.connect());
  const requestedAt = (deps.now ?? (() => new Date()))();
  const deadline = new Date(requestedAt.getTime() + request.maxWaitSeconds * 1000);
  const waitSeconds = nextWaitSeconds({
    retryAfterSeconds: submitted.retryAfterSeconds,
    elapsedSeconds: 0,
    maxIntervalSeconds: deps.poll.maxIntervalSeconds,
    secondsToDeadline: request.maxWaitSeconds,
  });
  deps.logger.info(kind.messages.submitted, {
    jobHref: submitted.jobHref,
    ...job.logged,
    retryAfterSeconds: submitted.retryAfterSeconds,
    waitSeconds,
    deadline: deadline.toISOString(),
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
    },
  };
}
