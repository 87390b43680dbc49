import type { SimulatorStats } from '../hosts/simulator-host';
import type { LoopModel } from '../lib/definition-model';
import { spawnChild } from '../lib/ipc';
import type { SingleResult } from '../workers/engine';
import { simulatePolls } from './poll-sim';

/*
 * Section 3: what polling costs. The schedule comes from the real Submit/Poll code run on a
 * virtual clock (poll-sim.ts); the state transitions per export and per poll come from the
 * synthesized definition (definition-model.ts), checked against one real run through the local
 * engine, which also counts the PCE requests.
 */

/** Step Functions Standard: USD per state transition ($0.025 per 1,000). */
export const USD_PER_TRANSITION = 0.025 / 1000;
export const JOB_SECONDS = [10, 600, 7200] as const;
/** The simulator's default Retry-After, and the one in the vendor's example. */
export const RETRY_AFTERS = [1, 5] as const;

/** PCE requests outside the loop: the submit, the datafile GET and the job DELETE. */
export const REQUESTS_FIXED = 3;

export interface PollCostRow {
  readonly jobSeconds: number;
  readonly retryAfterSeconds: number;
  readonly polls: number;
  readonly transitions: number;
  readonly pceRequests: number;
  readonly usdPerExport: number;
  /** Seconds between the job being done and the poll that saw it. */
  readonly lateSeconds: number;
  /** The most polls and the latest detection for jobs ending anywhere within ±10% of jobSeconds. */
  readonly window: { readonly maxPolls: number; readonly maxLateSeconds: number };
  readonly firstPolls: readonly number[];
}

export interface EngineCheck {
  readonly model: LoopModel;
  readonly jobSeconds: number;
  readonly retryAfterSeconds: number;
  readonly status: string;
  readonly error?: string;
  readonly polls: number;
  readonly statesEntered: readonly string[];
  readonly retries: number;
  readonly transitions: number;
  readonly expectedTransitions: number;
  readonly pceRequests: number;
  readonly expectedPceRequests: number;
  readonly simulatedPolls: number;
  readonly pollTimes: readonly number[];
  readonly seconds: number;
}

export interface PollCostResult {
  readonly rows: readonly PollCostRow[];
  readonly engine: EngineCheck;
}

export async function pollCostRows(model: LoopModel): Promise<PollCostRow[]> {
  const rows: PollCostRow[] = [];
  for (const retryAfterSeconds of RETRY_AFTERS) {
    for (const jobSeconds of JOB_SECONDS) {
      const at = await simulatePolls({ jobSeconds, retryAfterSeconds });
      let maxPolls = 0;
      let maxLateSeconds = 0;
      for (let k = 0; k <= 200; k++) {
        const r = await simulatePolls({
          jobSeconds: jobSeconds * (0.9 + (0.2 * k) / 200),
          retryAfterSeconds,
        });
        maxPolls = Math.max(maxPolls, r.polls);
        maxLateSeconds = Math.max(maxLateSeconds, r.lateSeconds);
      }
      const transitions = model.fixed + model.perPoll * at.polls;
      rows.push({
        jobSeconds,
        retryAfterSeconds,
        polls: at.polls,
        transitions,
        pceRequests: REQUESTS_FIXED + at.polls,
        usdPerExport: transitions * USD_PER_TRANSITION,
        lateSeconds: at.lateSeconds,
        window: { maxPolls, maxLateSeconds },
        firstPolls: at.pollTimes.slice(0, 12),
      });
    }
  }
  return rows;
}

/** One real run through the local engine: a job of `jobSeconds` with the simulator's Retry-After. */
export async function engineCheck(jobSeconds: number, retryAfterSeconds: number): Promise<EngineCheck> {
  const env = { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
  const simulator = await spawnChild(new URL('../hosts/simulator-host.ts', import.meta.url), { env });
  const worker = await spawnChild(new URL('../workers/engine.ts', import.meta.url), { env });
  try {
    const pce = await simulator.call<{ url: string; apiKey: string; apiSecret: string }>('start', {
      dataset: { workloads: 200 },
      jobDurationMs: jobSeconds * 1000,
      retryAfterSeconds,
    });
    const run = await worker.call<SingleResult>('single', {
      pce,
      input: { path: '/workloads', format: 'raw', gzip: false },
    });
    const stats = await simulator.call<SimulatorStats>('stats');
    const polls = run.polls ?? run.statesEntered.filter((s) => s === 'Poll').length;
    const simulated = await simulatePolls({ jobSeconds, retryAfterSeconds });
    return {
      model: run.model,
      jobSeconds,
      retryAfterSeconds,
      status: run.status,
      ...(run.error ? { error: `${run.error}: ${run.cause ?? ''}` } : {}),
      polls,
      statesEntered: run.statesEntered,
      retries: run.retries,
      transitions: run.statesEntered.length + run.retries,
      expectedTransitions: run.model.fixed + run.model.perPoll * polls,
      pceRequests: stats.requests,
      expectedPceRequests: REQUESTS_FIXED + polls,
      simulatedPolls: simulated.polls,
      pollTimes: run.pollTimes,
      seconds: run.seconds,
    };
  } finally {
    await Promise.all([worker.close(), simulator.close()]);
  }
}

export async function runPollCost(log: (line: string) => void): Promise<PollCostResult> {
  const engine = await engineCheck(4, 1);
  log(
    `poll cost: engine run of a 4 s job: ${engine.status}, ${engine.polls} polls (simulated ${engine.simulatedPolls}), ${engine.transitions} transitions (expected ${engine.expectedTransitions}), ${engine.pceRequests} PCE requests (expected ${engine.expectedPceRequests}); states: ${engine.statesEntered.join(' → ')}`,
  );
  const { model } = engine;
  log(
    `poll cost: per export ${model.fixed} transitions + ${model.perPoll} per poll (${model.loop.join(' → ')})`,
  );
  const rows = await pollCostRows(model);
  for (const r of rows) {
    log(
      `poll cost: job ${r.jobSeconds} s, Retry-After ${r.retryAfterSeconds} s: ${r.polls} polls, ${r.transitions} transitions, ${r.pceRequests} PCE requests, $${r.usdPerExport.toFixed(5)}, seen ${r.lateSeconds.toFixed(1)} s after done (±10%: ≤ ${r.window.maxPolls} polls, ≤ ${r.window.maxLateSeconds.toFixed(1)} s late)`,
    );
  }
  return { rows, engine };
}
