import type { JobState, WorkflowState } from '../contracts/state';
import type { PceClient } from '../pce/client';
import { PceProtocolError } from '../pce/errors';
import type { PollSettings } from './env';
import { kindOf } from './kinds';
import type { ExportLogger } from './logger';
import { nextWaitSeconds } from './workflow';

export interface PollDeps {
  readonly connect: () => Promise<PceClient>;
  readonly poll: PollSettings;
  readonly logger: ExportLogger;
  readonly now?: () => Date;
}

/**
 * Polls the job once and returns the next state: the new status, the datafile href once done,
 * the wait before the next poll, and `timedOut` once the deadline or the poll limit has passed
 * with the job still pending or running. A failed job and a timeout both carry `message`, the
 * sentence that becomes the Fail state's cause. `state` must already be validated.
 */
export async function pollExport(state: WorkflowState, deps: PollDeps): Promise<WorkflowState> {
  const { job } = state;
  const client = await deps.connect();
  const kind = kindOf(state.export);
  const { noun } = kind;
  const result = await kind.jobs(client).poll(job.href);
  const now = (deps.now ?? (() => new Date()))();
  const polls = job.polls + 1;
  const deadline = Date.parse(job.deadline);
  const secondsToDeadline = (deadline - now.getTime()) / 1000;
  const finished = result.status === 'done' || result.status === 'failed';

  if (result.status === 'done' && result.resultHref === undefined) {
    throw new PceProtocolError(`PCE job ${job.href} is done but names no datafile (result.href missing)`, {
      href: job.href,
    });
  }

  const pastDeadline = secondsToDeadline <= 0;
  const pollLimit = polls >= deps.poll.maxPolls;
  const timedOut = !finished && (pastDeadline || pollLimit);
  const elapsedSeconds = Math.round((now.getTime() - Date.parse(job.requestedAt)) / 1000);

  let message: string | undefined;
  if (result.status === 'failed') {
    message = `PCE ${noun} ${job.href} failed: ${result.message?.trim() || 'the PCE gave no reason'}`;
  } else if (timedOut) {
    message = pastDeadline
      ? `PCE ${noun} ${job.href} did not finish within ${state.export.maxWaitSeconds} seconds (status ${result.status} after ${polls} polls)`
      : `PCE ${noun} ${job.href} did not finish within ${deps.poll.maxPolls} polls (status ${result.status} after ${elapsedSeconds} seconds)`;
  }

  const waitSeconds = nextWaitSeconds({
    retryAfterSeconds: result.retryAfterSeconds,
    elapsedSeconds: (now.getTime() - Date.parse(job.requestedAt)) / 1000,
    maxIntervalSeconds: deps.poll.maxIntervalSeconds,
    secondsToDeadline,
  });

  const next: JobState = {
    href: job.href,
    status: result.status,
    polls,
    waitSeconds,
    retryAfterSeconds: result.retryAfterSeconds,
    requestedAt: job.requestedAt,
    deadline: job.deadline,
    timedOut,
    ...(result.status === 'done' ? { resultHref: result.resultHref } : {}),
    ...(message !== undefined ? { message } : {}),
  };

  const attributes = { status: result.status, polls, waitSeconds, elapsedSeconds, timedOut };
  if (result.status === 'failed' || timedOut)
    deps.logger.warn(message ?? 'PCE job did not finish', attributes);
  else deps.logger.info('Polled PCE async job', { ...attributes, resultHref: next.resultHref });

  return { export: state.export, execution: state.execution, job: next };
}
