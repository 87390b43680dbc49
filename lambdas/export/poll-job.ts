import type { JobState, WorkflowState } from '../contracts/state';
import type { PceClient } from '../pce/client';
import { PceProtocolError, type PceRateLimited, type PceUnavailable } from '../pce/errors';
import type { PollResult } from '../pce/jobs';
import type { PollSettings } from './env';
import { kindOf } from './kinds';
import type { ExportLogger } from './logger';
import {
  givenUp,
  isTransientPceError,
  NO_RETRIES,
  troubleOf,
  troubleWaitSeconds,
  warnTrouble,
} from './pce-trouble';
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
 *
 * A PCE that cannot be reached (5xx, 429, resets, timeouts, DNS) leaves the job as it was: the
 * state comes back with `job.unavailable` and a wait (the PCE's Retry-After, or a backoff), until
 * the deadline or the poll limit, past which the error is thrown as it is.
 */
export async function pollExport(state: WorkflowState, deps: PollDeps): Promise<WorkflowState> {
  const { job } = state;
  const client = await deps.connect();
  const kind = kindOf(state.export);
  const { noun } = kind;
  let result: PollResult;
  try {
    result = await kind.jobs(client).poll(job.href);
  } catch (error) {
    if (!isTransientPceError(error)) throw error;
    return unavailable(state, error, deps);
  }
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
    retries: job.retries ?? NO_RETRIES,
  };

  const attributes = { status: result.status, polls, waitSeconds, elapsedSeconds, timedOut };
  if (result.status === 'failed' || timedOut)
    deps.logger.warn(message ?? 'PCE job did not finish', attributes);
  else deps.logger.info('Polled PCE async job', { ...attributes, resultHref: next.resultHref });

  return { export: state.export, execution: state.execution, job: next };
}

/**
 * The state after a poll that could not reach the PCE: the job as it was, the trouble noted, the
 * next poll after Retry-After or the backoff (never past the deadline, nor longer than the
 * longest poll interval). Past the deadline or the poll limit, the error itself.
 */
function unavailable(
  state: WorkflowState,
  error: PceUnavailable | PceRateLimited,
  deps: PollDeps,
): WorkflowState {
  const { job } = state;
  const now = (deps.now ?? (() => new Date()))();
  const polls = job.polls + 1;
  const trouble = troubleOf(error, now, job.unavailable);
  const secondsToDeadline = (Date.parse(job.deadline) - now.getTime()) / 1000;
  const since = `since ${trouble.since} (${trouble.attempts} poll${trouble.attempts === 1 ? '' : 's'})`;
  if (secondsToDeadline <= 0) {
    throw givenUp(
      error,
      `the PCE has not answered the poll ${since}, and the export's deadline ${job.deadline} has passed`,
    );
  }
  if (polls >= deps.poll.maxPolls) {
    throw givenUp(
      error,
      `the PCE has not answered the poll ${since}, and the job has been polled ${polls} times, the most allowed`,
    );
  }
  const waitSeconds = Math.min(
    troubleWaitSeconds(trouble.attempts, error.retryAfterSeconds, deps.poll.maxIntervalSeconds),
    Math.max(1, Math.floor(secondsToDeadline)),
  );
  const retries = job.retries ?? NO_RETRIES;
  warnTrouble(deps.logger, trouble, `polling again in ${waitSeconds} s`, {
    polls,
    waitSeconds,
  });
  return {
    export: state.export,
    execution: state.execution,
    job: {
      ...job,
      polls,
      waitSeconds,
      unavailable: trouble,
      retries: { ...retries, poll: retries.poll + 1 },
    },
  };
}
