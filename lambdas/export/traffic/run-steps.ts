import type { S3Client } from '@aws-sdk/client-s3';
import { ExportConfigError } from '../../contracts/errors';
import { MAX_TROUBLE_WAIT_SECONDS } from '../../contracts/limits';
import type { TrafficRequest } from '../../contracts/traffic';
import type {
  TrafficOutput,
  TrafficRun,
  TrafficRunStart,
  TrafficRunState,
} from '../../contracts/traffic-run';
import type { TrafficRunClient } from '../../pce/client';
import { PceJobTimeout } from '../../pce/errors';
import { writeCurrentRun } from '../changes/current';
import type { StorageSettings } from '../env';
import { latestKeyFor, runKeyInput } from '../layout';
import type { ExportLogger } from '../logger';
import { isTransientPceError, troubleOf, troubleWaitSeconds, warnTrouble } from '../pce-trouble';
import { putJson } from '../storage';
import {
  dedupeOf,
  mergeOverlapKeys,
  nextRange,
  type OverlapKey,
  readOverlapKeys,
  readWatermark,
  recordRun,
  watermarkKey,
} from '../watermark';
import { namesLabels, resolveLabels } from './labels';
import { overlapKeysKey, runKeys, windowResultsPrefix } from './layout';
import { buildTrafficManifest, trafficOutput } from './manifest';
import { deleteKeys, listKeys, readAllResults, readResults, readWindowKeys } from './results';
import { describeIncomplete, planNextRound } from './rounds';
import { type CaughtError, describeCaught } from './window-end';

/*
 * The steps of a traffic run in the parent execution, around the Map that runs each round's
 * windows as child executions:
 *
 *   plan      the run's range (from the watermark, for an incremental export), its labels resolved,
 *             its folders, its one deadline (`maxWaitSeconds` from the first plan attempt), and
 *             round 1: one window over the whole range; a PCE that cannot answer the label
 *             lookup now gives the start back with a wait, until the deadline;
 *   split     what the round's windows came to: the next round (the truncated windows' parts),
 *             or done, or the failure the run ends with (PceJobTimeout when a round is left
 *             and the deadline has passed);
 *   complete  the manifest, latest.json and, for an incremental export, the watermark and the
 *             overlap keys the next run drops, in that order, once every window object is stored;
 *   abort     a run that fails deletes the window objects it stored, so that its partition holds
 *             no part of a run, and ends with the error it failed with.
 */

export interface RunDeps {
  readonly connect: () => Promise<TrafficRunClient>;
  readonly s3: S3Client;
  readonly storage: Pick<StorageSettings, 'bucket' | 'prefix'>;
  readonly orgId: number;
  readonly logger: ExportLogger;
  readonly now?: () => Date;
}

const clock = (deps: Pick<RunDeps, 'now'>) => (deps.now ?? (() => new Date()))();

function trafficOf(request: { readonly traffic?: TrafficRequest }): TrafficRequest {
  if (request.traffic === undefined)
    throw new ExportConfigError('Invalid traffic run: it has no traffic query');
  return request.traffic;
}

/** The Plan step: `planTrafficRun`, or the start back with a wait when the PCE cannot answer now. */
export async function planTrafficStep(
  start: TrafficRunStart,
  deps: RunDeps,
): Promise<TrafficRunState | TrafficRunStart> {
  try {
    return await planTrafficRun(start, deps);
  } catch (error) {
    if (!isTransientPceError(error)) throw error;
    const now = clock(deps);
    const requestedAt = start.plan?.requestedAt ?? now.toISOString();
    const deadline = start.plan?.deadline ?? deadlineFrom(start, new Date(requestedAt));
    const trouble = troubleOf(error, now, start.plan?.unavailable);
    const toDeadline = (Date.parse(deadline) - now.getTime()) / 1000;
    if (toDeadline < 1) {
      throw new PceJobTimeout(
        `The PCE has not answered the traffic run's label lookup since ${trouble.since} (${trouble.attempts} attempts), and the run's deadline ${deadline} (maxWaitSeconds ${start.export.maxWaitSeconds}) has passed`,
      );
    }
    const waitSeconds = Math.min(
      troubleWaitSeconds(trouble.attempts, error.retryAfterSeconds, MAX_TROUBLE_WAIT_SECONDS),
      Math.floor(toDeadline),
    );
    warnTrouble(deps.logger, trouble, `planning again in ${waitSeconds} s`, { waitSeconds, deadline });
    return {
      export: start.export,
      execution: start.execution,
      fanOut: start.fanOut,
      plan: { requestedAt, deadline, waitSeconds, unavailable: trouble },
    };
  }
}

function deadlineFrom(start: TrafficRunStart, requestedAt: Date): string {
  return new Date(requestedAt.getTime() + start.export.maxWaitSeconds * 1000).toISOString();
}

async function planTrafficRun(start: TrafficRunStart, deps: RunDeps): Promise<TrafficRunState> {
  const { execution } = start;
  const request = start.export;
  const requestedAt = start.plan?.requestedAt ?? clock(deps).toISOString();
  const deadline = start.plan?.deadline ?? deadlineFrom(start, new Date(requestedAt));
  let traffic = trafficOf(request);
  if (namesLabels(traffic)) {
    const client = await deps.connect();
    traffic = await resolveLabels(traffic, client.labels);
  }
  const { bucket, prefix } = deps.storage;
  const keys = runKeys(runKeyInput(prefix, request, execution));
  let incremental: Pick<TrafficRun, 'owns' | 'previous' | 'tailFrom' | 'incremental'> = {
    owns: { before: 'first-window' },
  };
  if (traffic.incremental !== undefined) {
    const watermark = await readWatermark(deps.s3, bucket, watermarkKey(prefix, request.name));
    const range = nextRange({
      ...(watermark === undefined ? {} : { watermark }),
      now: new Date(execution.startTime),
      configured: { start: new Date(traffic.startDate), end: new Date(traffic.endDate) },
      settings: traffic.incremental,
    });
    traffic = { ...traffic, startDate: range.start.toISOString(), endDate: range.end.toISOString() };
    incremental = {
      owns: { before: range.mode === 'continued' ? 'earlier-run' : 'first-window' },
      ...dedupeOf(range),
      incremental: { mode: range.mode, ...(range.skipped === undefined ? {} : { skipped: range.skipped }) },
    };
    if (range.skipped) {
      deps.logger.warn('The last run ended before the catch-up limit: a range is skipped', range.skipped);
    }
  }
  const run: TrafficRun = {
    export: { ...request, traffic },
    execution,
    folder: keys.folder,
    work: keys.work,
    requestedAt,
    deadline,
    range: { start: traffic.startDate, end: traffic.endDate },
    ...incremental,
  };
  deps.logger.info('Planned traffic run', {
    range: run.range,
    deadline,
    folder: run.folder,
    mode: run.incremental?.mode,
  });
  return {
    run,
    round: {
      number: 1,
      windows: [{ id: 0, start: run.range.start, end: run.range.end, last: true }],
      queries: 1,
    },
    done: false,
  };
}

/** The failure a run ends with, in the state: the next step deletes what the run stored. */
export type SplitResult = TrafficRunState | (TrafficRunState & { readonly failure: CaughtError });

export async function splitTrafficRun(state: TrafficRunState, deps: RunDeps): Promise<SplitResult> {
  const { run, round } = state;
  const traffic = trafficOf(run.export);
  const results = await readResults(deps.s3, deps.storage.bucket, run, round.windows);
  const plan = planNextRound(round, results, traffic);
  if (plan.kind === 'failed') {
    deps.logger.warn('A traffic window failed; the run fails', { window: plan.window.id, error: plan.name });
    return { ...state, failure: lambdaError(plan.name, plan.message) };
  }
  if (plan.kind === 'incomplete') {
    return {
      ...state,
      failure: lambdaError('TrafficIncomplete', describeIncomplete(plan.windows, plan.maxResults)),
    };
  }
  if (plan.windows.length > 0 && Date.parse(run.deadline) <= clock(deps).getTime()) {
    const message = `The traffic run's deadline ${run.deadline} (maxWaitSeconds ${run.export.maxWaitSeconds}) passed with ${plan.windows.length} window${plan.windows.length === 1 ? '' : 's'} left to query (round ${round.number + 1})`;
    deps.logger.warn(message, { round: round.number + 1, windows: plan.windows.length });
    return { ...state, failure: lambdaError(PceJobTimeout.errorName, message) };
  }
  if (plan.partial.length > 0) {
    deps.logger.warn('Windows that cannot be split are stored as they are (allowPartial)', {
      windows: plan.partial.map((entry) => entry.window.id),
    });
  }
  deps.logger.info('Planned the next traffic round', {
    round: round.number + 1,
    windows: plan.windows.length,
    queries: plan.queries,
  });
  return {
    run,
    round: {
      number: round.number + (plan.windows.length > 0 ? 1 : 0),
      windows: [...plan.windows],
      queries: plan.queries,
    },
    done: plan.windows.length === 0,
  };
}

export async function completeTrafficRun(state: TrafficRunState, deps: RunDeps): Promise<TrafficOutput> {
  const { run } = state;
  const { bucket, prefix } = deps.storage;
  const all = await readAllResults(deps.s3, bucket, run);
  const stored = [...all.values()].filter((result) => result.status === 'stored');
  const completedAt = clock(deps).toISOString();
  const manifest = buildTrafficManifest({
    run,
    bucket,
    orgId: deps.orgId,
    stored,
    queries: state.round.queries,
    rounds: state.round.number,
    completedAt,
  });
  const { manifestKey } = runKeys(runKeyInput(prefix, run.export, run.execution));
  const output = trafficOutput(manifest, manifestKey);
  await putJson(deps.s3, bucket, manifestKey, manifest);
  await putJson(deps.s3, bucket, latestKeyFor(prefix, run.export.name), { ...output, manifestKey });
  await writeCurrentRun(deps.s3, prefix, { ...manifest, key: manifest.prefix });
  if (run.tailFrom !== undefined) {
    const keysKey = await writeOverlapKeys(deps, run, stored);
    await recordRun(deps.s3, bucket, watermarkKey(prefix, run.export.name), {
      exportName: run.export.name,
      end: run.range.end,
      keysKey,
      executionName: run.execution.name,
      manifestKey,
      completedAt,
    });
  }
  // The window results are in the manifest now; the overlap keys stay for the next run.
  const working = await listKeys(deps.s3, bucket, windowResultsPrefix(run));
  await deleteKeys(deps.s3, bucket, working);
  deps.logger.info('Traffic run complete', {
    manifestKey,
    windows: output.windows,
    objectCount: output.objectCount,
    complete: output.complete,
  });
  return output;
}

/** The keys of what this run and the runs before it stored in this run's last overlap period. */
async function writeOverlapKeys(
  deps: RunDeps,
  run: TrafficRun,
  stored: readonly { readonly tailKeysKey?: string }[],
): Promise<string> {
  const { bucket } = deps.storage;
  const sets: OverlapKey[][] = [];
  for (const result of stored) {
    if (result.tailKeysKey !== undefined)
      sets.push(await readWindowKeys(deps.s3, bucket, result.tailKeysKey));
  }
  if (run.previous?.keysKey !== undefined) {
    sets.push([...((await readOverlapKeys(deps.s3, bucket, run.previous.keysKey))?.keys ?? [])]);
  }
  const key = overlapKeysKey(run);
  await putJson(deps.s3, bucket, key, mergeOverlapKeys(new Date(run.tailFrom ?? run.range.end), ...sets));
  return key;
}

/**
 * Ends a failed run: deletes the window objects it stored (best effort) and returns the error in
 * the shape of a Lambda error, for the failure states that follow.
 */
export async function abortTrafficRun(
  event: { readonly run?: TrafficRun; readonly failure?: CaughtError; readonly caught?: CaughtError },
  deps: RunDeps,
): Promise<{ Error: string; Cause: string }> {
  const { name, message } = describeCaught(event.failure ?? event.caught ?? {});
  if (event.run !== undefined) {
    try {
      const keys = await listKeys(deps.s3, deps.storage.bucket, event.run.folder);
      await deleteKeys(deps.s3, deps.storage.bucket, keys);
      if (keys.length > 0)
        deps.logger.info('Deleted the window objects of the failed run', { objects: keys.length });
    } catch (error) {
      deps.logger.warn('Could not delete the window objects of the failed run', {
        folder: event.run.folder,
        error,
      });
    }
  }
  return lambdaError(name, message);
}

/** An error as a Lambda function's failure reads in a Catch: `{Error, Cause}` with the Cause as JSON. */
function lambdaError(name: string, message: string): { Error: string; Cause: string } {
  return { Error: name, Cause: JSON.stringify({ errorType: name, errorMessage: message }) };
}
