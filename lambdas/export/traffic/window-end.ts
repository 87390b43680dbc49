import { ExportConfigError } from '../../contracts/errors';
import type { WindowResult, WindowState } from '../../contracts/traffic-run';
import type { TrafficRunClient } from '../../pce/client';
import { ERROR_NAMES } from '../errors';
import { describeError, type ExportLogger } from '../logger';
import { writeResult } from './results';
import type { WindowDeps } from './window-steps';

/*
 * How a window's child execution ends when it does not download: its query is deleted (a failure
 * to delete is logged; the query expires on the PCE by itself) and its result recorded in S3,
 * where the run reads it once the round is over. A step's error, as its Catch hands it over, is
 * recorded the same way.
 */

export const clock = (deps: Pick<WindowDeps, 'now'>) => (deps.now ?? (() => new Date()))();

/** Deletes the window's query, if the PCE can be reached at all. */
async function deleteWindowQuery(
  deps: Pick<WindowDeps, 'connect' | 'logger'>,
  href: string,
  client?: Pick<TrafficRunClient, 'traffic'>,
): Promise<void> {
  try {
    await deleteQuietly(client ?? (await deps.connect()), href, deps.logger);
  } catch (error) {
    deps.logger.warn('Could not reach the PCE to delete the window query', { error: describeError(error) });
  }
}

/** Ends the window here: deletes its query (quietly) and records the outcome. */
export async function endWindow(
  state: WindowState,
  outcome: 'failed' | 'truncated',
  fields: Partial<WindowResult>,
  polls: number,
  deps: Pick<WindowDeps, 'connect' | 's3' | 'bucket' | 'logger' | 'now'>,
  client?: Pick<TrafficRunClient, 'traffic'>,
): Promise<WindowState> {
  const { run, window, job } = state;
  if (job === undefined) throw new ExportConfigError('Invalid window state: no window query to end');
  await deleteWindowQuery(deps, job.href, client);
  await record(deps, state, {
    status: outcome,
    jobHref: job.href,
    polls,
    requestedAt: job.requestedAt,
    ...fields,
  });
  const { unavailable: _trouble, ...rest } = job;
  return { run, window, job: { ...rest, polls }, outcome };
}

/** The error a step of the window's execution ended with, as its Catch hands it over. */
export interface CaughtError {
  readonly Error?: unknown;
  readonly Cause?: unknown;
}

/** Records an error a step of the window hit, and deletes the window's query if it has one. */
export async function recordWindowError(
  state: WindowState,
  caught: CaughtError,
  deps: Pick<WindowDeps, 'connect' | 's3' | 'bucket' | 'logger' | 'now'>,
): Promise<WindowState> {
  const { name, message } = describeCaught(caught);
  if (state.job !== undefined) await deleteWindowQuery(deps, state.job.href);
  await record(deps, state, {
    status: 'failed',
    ...(state.job
      ? { jobHref: state.job.href, polls: state.job.polls, requestedAt: state.job.requestedAt }
      : {}),
    error: { name, message },
  });
  return {
    run: state.run,
    window: state.window,
    ...(state.job ? { job: state.job } : {}),
    outcome: 'failed',
  };
}

/** A caught error as a state machine error name and a sentence. */
export function describeCaught(caught: CaughtError): { name: string; message: string } {
  const error = typeof caught.Error === 'string' ? caught.Error : 'ExportInternalError';
  let message = typeof caught.Cause === 'string' ? caught.Cause : '';
  try {
    const parsed = JSON.parse(message) as { errorMessage?: unknown };
    if (typeof parsed?.errorMessage === 'string') message = parsed.errorMessage;
  } catch {
    // a plain sentence already
  }
  if ((ERROR_NAMES as readonly string[]).includes(error)) return { name: error, message };
  return { name: 'ExportInternalError', message: `${error}${message ? `: ${message}` : ''}` };
}

/** Writes the window's result, as of now. */
export async function record(
  deps: Pick<WindowDeps, 's3' | 'bucket' | 'now'>,
  state: WindowState,
  fields: Omit<WindowResult, 'window' | 'completedAt'>,
): Promise<void> {
  await writeResult(deps.s3, deps.bucket, state.run, {
    window: state.window,
    ...fields,
    completedAt: clock(deps).toISOString(),
  });
}

/** Deletes a query; a failure is logged (the query expires on the PCE by itself). */
export async function deleteQuietly(
  client: Pick<TrafficRunClient, 'traffic'>,
  href: string,
  logger: ExportLogger,
): Promise<void> {
  try {
    await client.traffic.delete(href);
  } catch (error) {
    logger.warn('Deleting the traffic query failed; it stays on the PCE until it expires', {
      jobHref: href,
      error: describeError(error),
    });
  }
}
