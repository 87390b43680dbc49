import type { S3Client } from '@aws-sdk/client-s3';
import { ExportConfigError } from '../../contracts/errors';
import { DEFAULT_SUBMIT_RETRY_WINDOW_SECONDS } from '../../contracts/limits';
import type { WindowResult, WindowState } from '../../contracts/traffic-run';
import type { TrafficRunClient } from '../../pce/client';
import type { PceRateLimited, PceUnavailable } from '../../pce/errors';
import type { PollSettings, SubmitSettings } from '../env';
import type { ExportLogger } from '../logger';
import {
  isTransientPceError,
  NO_RETRIES,
  submitRetry,
  submitsOf,
  troubleOf,
  troubleWaitSeconds,
  warnTrouble,
} from '../pce-trouble';
import { trafficQueryBody } from '../traffic-query';
import { nextWaitSeconds } from '../workflow';
import { windowQueryName } from './layout';
import { describeWindow, isTruncated, windowRequest } from './plan';
import { markSubmitted, wasSubmitted } from './results';
import { clock, deleteQuietly, endWindow, record } from './window-end';

/*
 * A window's child execution, before its download: Submit sends the window's query (or, on a
 * retry, finds the one an earlier attempt created), Poll follows it until it completes, and
 * decides from the counts the PCE reports whether the result is truncated, in which case the
 * query is deleted and the window recorded as truncated without downloading a row. A window
 * whose query fails, or that hits an error of its own, records that too and deletes its query:
 * the run fails once every window of the round has ended, and no query stays on the PCE.
 *
 * Transient PCE trouble (5xx, 429, resets, timeouts) fails no step: Submit, Poll and Fetch hand
 * the state back with the trouble noted and a wait, and the child's Wait states call them again,
 * as the collection path does (pce-trouble.ts). Submit tries within its retry window, Poll and
 * Fetch until the run's deadline (`run.deadline`); past the deadline the window ends as
 * PceJobTimeout, its query deleted.
 */

/**
 * A window's query is polled at most every 3 seconds, its first poll too. A window slot thus
 * makes at most 4 requests (submit, poll, download, delete) per 3 seconds: 80 a minute when
 * every window completes at its first poll, 20 a minute while one waits for its query.
 */
export const WINDOW_MIN_WAIT_SECONDS = 3;

/** PCE statuses of a query a retried submit does not reuse. */
const ENDED = new Set(['failed', 'cancel_requested', 'cancelled', 'canceled']);

export interface WindowDeps {
  readonly connect: () => Promise<TrafficRunClient>;
  readonly s3: S3Client;
  readonly bucket: string;
  readonly poll: PollSettings;
  readonly logger: ExportLogger;
  readonly orgId: number;
  /** @default a retry window of DEFAULT_SUBMIT_RETRY_WINDOW_SECONDS */
  readonly submit?: SubmitSettings;
  readonly now?: () => Date;
}

function trafficOf(state: WindowState) {
  const traffic = state.run.export.traffic;
  if (traffic === undefined)
    throw new ExportConfigError('Invalid window state: the run has no traffic query');
  return traffic;
}

/** Seconds from `now` to the run's deadline. */
export function secondsToDeadline(run: WindowState['run'], now: Date): number {
  return (Date.parse(run.deadline) - now.getTime()) / 1000;
}

/** `what` happened, and the run's deadline has passed: the cause of a window's PceJobTimeout. */
export function deadlineMessage(run: WindowState['run'], what: string): string {
  return `${what}, and the run's deadline ${run.deadline} (maxWaitSeconds ${run.export.maxWaitSeconds}) has passed`;
}

/**
 * The Submit step: `submitWindow`, except that a PCE that cannot take the query now gives the
 * window state back with the trouble and a wait, until the retry window is over (then the error
 * itself) or the run's deadline has passed (then the window ends as PceJobTimeout).
 */
export async function submitWindowStep(state: WindowState, deps: WindowDeps): Promise<WindowState> {
  const { run, window } = state;
  const started = clock(deps);
  if (secondsToDeadline(run, started) <= 0) {
    const message = deadlineMessage(run, `Traffic window ${window.id} was not submitted`);
    await record(deps, state, { status: 'failed', error: { name: 'PceJobTimeout', message } });
    return { run, window, outcome: 'failed' };
  }
  try {
    return await submitWindow(state, deps);
  } catch (error) {
    if (!isTransientPceError(error)) throw error;
    return submitAgain(state, error, deps);
  }
}

async function submitAgain(
  state: WindowState,
  error: PceUnavailable | PceRateLimited,
  deps: WindowDeps,
): Promise<WindowState> {
  const { run, window } = state;
  const now = clock(deps);
  const trouble = troubleOf(error, now, state.submit?.unavailable);
  const toDeadline = secondsToDeadline(run, now);
  if (toDeadline < 1) {
    const message = deadlineMessage(
      run,
      `The PCE has not taken traffic window ${window.id}'s query since ${trouble.since} (${submitsOf(trouble)})`,
    );
    await record(deps, state, { status: 'failed', error: { name: 'PceJobTimeout', message } });
    return { run, window, outcome: 'failed' };
  }
  const submit = submitRetry(error, trouble, {
    previous: state.submit,
    firstAttemptAt: now.toISOString(),
    retryWindowSeconds: deps.submit?.retryWindowSeconds ?? DEFAULT_SUBMIT_RETRY_WINDOW_SECONDS,
    now,
    what: 'traffic query',
    capSeconds: toDeadline,
  });
  warnTrouble(deps.logger, trouble, `submitting again in ${submit.waitSeconds} s`, {
    window: window.id,
    windowEndsAt: submit.windowEndsAt,
    waitSeconds: submit.waitSeconds,
  });
  return { run, window, submit };
}

/** Sends the window's query, or finds the one an earlier attempt of this step created. */
async function submitWindow(state: WindowState, deps: WindowDeps): Promise<WindowState> {
  const { run, window } = state;
  const request = windowRequest(trafficOf(state), window);
  if (request === undefined) {
    await record(deps, state, { status: 'empty' });
    return { run, window, outcome: 'empty' };
  }
  const queryName = windowQueryName(run, window);
  const body = trafficQueryBody(request, {
    exportName: run.export.name,
    executionName: run.execution.name,
    orgId: deps.orgId,
    queryName,
  });
  const client = await deps.connect();
  let href: string | undefined;
  let retryAfterSeconds = 0;
  if (await wasSubmitted(deps.s3, deps.bucket, run, window)) {
    const found = await client.traffic.listByName(queryName);
    const reused = found.find((query) => !ENDED.has(query.status));
    for (const query of found.filter((q) => q !== reused))
      await deleteQuietly(client, query.href, deps.logger);
    href = reused?.href;
    if (href) deps.logger.info('Reusing the traffic query an earlier attempt submitted', { jobHref: href });
  }
  if (href === undefined) {
    await markSubmitted(deps.s3, deps.bucket, run, window);
    const submitted = await client.traffic.submit(body);
    href = submitted.jobHref;
    retryAfterSeconds = submitted.retryAfterSeconds;
  }
  const requestedAt = clock(deps);
  const waitSeconds = Math.max(
    WINDOW_MIN_WAIT_SECONDS,
    nextWaitSeconds({
      retryAfterSeconds,
      elapsedSeconds: 0,
      maxIntervalSeconds: deps.poll.maxIntervalSeconds,
      secondsToDeadline: Math.max(1, secondsToDeadline(run, requestedAt)),
    }),
  );
  deps.logger.info('Submitted traffic window query', {
    window: window.id,
    range: describeWindow(window),
    jobHref: href,
    waitSeconds,
  });
  return {
    run,
    window,
    job: {
      href,
      status: 'pending',
      polls: 0,
      waitSeconds,
      requestedAt: requestedAt.toISOString(),
      deadline: run.deadline,
      timedOut: false,
      ...(state.submit === undefined ? {} : { retries: { ...NO_RETRIES, submit: state.submit.attempts } }),
    },
  };
}

/**
 * The Poll step: `pollWindow`, except that a poll the PCE did not answer leaves the query as it
 * was, notes the trouble and waits (Retry-After, or the backoff) until the run's deadline; past
 * it, or past the poll limit, the window ends as PceJobTimeout and its query is deleted.
 */
export async function pollWindowStep(state: WindowState, deps: WindowDeps): Promise<WindowState> {
  try {
    return await pollWindow(state, deps);
  } catch (error) {
    if (!isTransientPceError(error) || state.job === undefined) throw error;
    const { run, window, job } = state;
    const now = clock(deps);
    const polls = job.polls + 1;
    const trouble = troubleOf(error, now, job.unavailable);
    const toDeadline = secondsToDeadline(run, now);
    const since = `since ${trouble.since} (${trouble.attempts} poll${trouble.attempts === 1 ? '' : 's'})`;
    if (toDeadline <= 0 || polls >= deps.poll.maxPolls) {
      const what = `The PCE has not answered the poll of traffic query ${job.href} ${since}`;
      const message =
        toDeadline <= 0
          ? deadlineMessage(run, what)
          : `${what}, and the query has been polled ${polls} times, the most allowed`;
      return endWindow(state, 'failed', { error: { name: 'PceJobTimeout', message } }, polls, deps);
    }
    const waitSeconds = Math.min(
      troubleWaitSeconds(trouble.attempts, error.retryAfterSeconds, deps.poll.maxIntervalSeconds),
      Math.max(1, Math.floor(toDeadline)),
    );
    const retries = job.retries ?? NO_RETRIES;
    warnTrouble(deps.logger, trouble, `polling again in ${waitSeconds} s`, {
      window: window.id,
      polls,
      waitSeconds,
    });
    return {
      run,
      window,
      job: {
        ...job,
        polls,
        waitSeconds,
        unavailable: trouble,
        retries: { ...retries, poll: retries.poll + 1 },
      },
    };
  }
}

/** Polls the window's query once; a truncated, failed or timed-out query ends the window here. */
async function pollWindow(state: WindowState, deps: WindowDeps): Promise<WindowState> {
  const { run, window, job } = state;
  if (job === undefined) throw new ExportConfigError('Invalid window state: Poll needs the window query');
  const traffic = trafficOf(state);
  const client = await deps.connect();
  const result = await client.traffic.poll(job.href);
  const now = clock(deps);
  const polls = job.polls + 1;
  const end = (outcome: 'failed' | 'truncated', fields: Partial<WindowResult>) =>
    endWindow(state, outcome, fields, polls, deps, client);

  if (result.status === 'failed') {
    const reason = result.message?.trim() || 'the PCE gave no reason';
    return end('failed', {
      error: { name: 'PceJobFailed', message: `PCE traffic query ${job.href} failed: ${reason}` },
    });
  }
  const counts = {
    ...(result.flowsCount === undefined ? {} : { flowsCount: result.flowsCount }),
    ...(result.matchesCount === undefined ? {} : { matchesCount: result.matchesCount }),
  };
  if (result.status === 'done' && window.partial !== true && isTruncated(counts, traffic.maxResults)) {
    deps.logger.info('Traffic window is truncated; it will be split', {
      window: window.id,
      range: describeWindow(window),
      ...counts,
    });
    return end('truncated', counts);
  }
  let status = result.status;
  let rulesRequested = job.rulesRequested;
  if (status === 'done' && traffic.draftPolicy === true) {
    if (rulesRequested !== true) {
      await client.traffic.updateRules(job.href);
      rulesRequested = true;
      status = 'running';
    } else if (result.rulesStatus !== 'completed') {
      if (result.rulesStatus !== undefined && ENDED.has(result.rulesStatus)) {
        return end('failed', {
          error: {
            name: 'PceJobFailed',
            message: `PCE traffic query ${job.href} could not compute draft policy decisions (rules ${result.rulesStatus})`,
          },
        });
      }
      status = 'running';
    }
  }
  const toDeadline = secondsToDeadline(run, now);
  const finished = status === 'done';
  if (!finished && (toDeadline <= 0 || polls >= deps.poll.maxPolls)) {
    const limit =
      toDeadline <= 0
        ? `the run's deadline ${run.deadline} (maxWaitSeconds ${run.export.maxWaitSeconds})`
        : `${deps.poll.maxPolls} polls`;
    return end('failed', {
      error: {
        name: 'PceJobTimeout',
        message: `PCE traffic query ${job.href} did not finish within ${limit} (status ${status} after ${polls} polls)`,
      },
    });
  }
  const waitSeconds = Math.max(
    WINDOW_MIN_WAIT_SECONDS,
    nextWaitSeconds({
      retryAfterSeconds: result.retryAfterSeconds,
      elapsedSeconds: (now.getTime() - Date.parse(job.requestedAt)) / 1000,
      maxIntervalSeconds: deps.poll.maxIntervalSeconds,
      secondsToDeadline: toDeadline,
    }),
  );
  const { unavailable: _trouble, ...rest } = job;
  return {
    run,
    window,
    job: {
      ...rest,
      status,
      polls,
      waitSeconds,
      ...(finished ? { resultHref: result.resultHref } : {}),
      ...counts,
      ...(rulesRequested ? { rulesRequested } : {}),
    },
  };
}
