import { Readable } from 'node:stream';
import type { WorkflowState } from '../../lambdas/contracts/state';
import type { PollSettings } from '../../lambdas/export/env';
import type { ExportLogger } from '../../lambdas/export/logger';
import { pollExport } from '../../lambdas/export/poll-job';
import { submitExport } from '../../lambdas/export/submit-job';
import type { PceClient } from '../../lambdas/pce/client';
import type { AsyncJobApi, PollResult } from '../../lambdas/pce/jobs';

/*
 * A discrete-time run of the real Submit and Poll logic (submitExport, pollExport and therefore
 * nextWaitSeconds) against a job that is done `jobSeconds` after it was submitted. Time is a
 * virtual clock: each Wait state advances it by the state's waitSeconds, each Lambda call by
 * `overheadSeconds` (invocation and PCE round trip).
 */

export const POLL_SETTINGS: PollSettings = { maxIntervalSeconds: 300, maxPolls: 1000 };

export interface PollSimOptions {
  readonly jobSeconds: number;
  readonly retryAfterSeconds: number;
  /** Seconds each Lambda call adds to the clock. @default 0 */
  readonly overheadSeconds?: number;
  /** @default 3 × jobSeconds, at least 3600 */
  readonly maxWaitSeconds?: number;
  readonly poll?: PollSettings;
}

export interface PollSimResult {
  readonly jobSeconds: number;
  readonly retryAfterSeconds: number;
  readonly polls: number;
  /** Seconds from submit at which each poll ran. */
  readonly pollTimes: readonly number[];
  /** Seconds from the job being done to the poll that saw it done. */
  readonly lateSeconds: number;
  readonly outcome: 'done' | 'timedOut';
  /** The longest wait between two polls. */
  readonly maxWaitSeconds: number;
}

const silent: ExportLogger = { debug() {}, info() {}, warn() {}, error() {} };

export async function simulatePolls(options: PollSimOptions): Promise<PollSimResult> {
  const overhead = options.overheadSeconds ?? 0;
  const start = Date.UTC(2030, 0, 1);
  let clock = 0;
  const now = () => new Date(start + clock * 1000);
  const jobHref = '/orgs/1/jobs/bench-job';
  const retryAfterSeconds = options.retryAfterSeconds;
  const jobs: AsyncJobApi<unknown> = {
    async submit() {
      return { jobHref, retryAfterSeconds };
    },
    async poll(): Promise<PollResult> {
      return clock >= options.jobSeconds
        ? { status: 'done', resultHref: '/orgs/1/datafiles/bench-file', retryAfterSeconds }
        : { status: clock < options.jobSeconds * 0.2 ? 'pending' : 'running', retryAfterSeconds };
    },
    async open() {
      return { body: Readable.from([]) };
    },
    async delete() {},
  };
  const client: PceClient = {
    collections: jobs,
    traffic: { ...jobs, findByName: async () => undefined },
    async close() {},
  };
  const poll = options.poll ?? POLL_SETTINGS;
  const connect = async () => client;
  let state: WorkflowState = await submitExport(
    {
      input: {
        path: '/workloads',
        maxWaitSeconds: options.maxWaitSeconds ?? Math.max(3600, Math.ceil(options.jobSeconds * 3)),
      },
      execution: { name: 'bench', startTime: now().toISOString() },
    },
    { connect, configuredExports: {}, poll, logger: silent, now },
  );
  clock += overhead;
  const pollTimes: number[] = [];
  let maxWait = 0;
  for (;;) {
    maxWait = Math.max(maxWait, state.job.waitSeconds);
    clock += state.job.waitSeconds;
    pollTimes.push(clock);
    state = await pollExport(state, { connect, poll, logger: silent, now });
    clock += overhead;
    if (state.job.status === 'done' || state.job.status === 'failed' || state.job.timedOut) break;
  }
  const last = pollTimes[pollTimes.length - 1] ?? 0;
  return {
    jobSeconds: options.jobSeconds,
    retryAfterSeconds,
    polls: state.job.polls,
    pollTimes,
    lateSeconds: state.job.status === 'done' ? last - options.jobSeconds : Number.NaN,
    outcome: state.job.status === 'done' ? 'done' : 'timedOut',
    maxWaitSeconds: maxWait,
  };
}
