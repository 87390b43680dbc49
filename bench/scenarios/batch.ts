import type { SimulatorStats } from '../hosts/simulator-host';
import { spawnChild } from '../lib/ipc';
import type { BatchResult } from '../workers/engine';

/*
 * Section 5: many exports against one PCE API key. All runs go through the local engine in one
 * process (the real definition, Retry policies and handlers); the simulator enforces the PCE's
 * per-key rate limit in a process of its own.
 */

export interface BatchOptions {
  readonly exports: number;
  readonly rateLimitPerMinute: number;
  readonly jobSeconds: number;
  readonly retryAfterSeconds: number;
  readonly workloads: number;
}

export interface BatchScenarioResult {
  readonly options: BatchOptions;
  readonly wallSeconds: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly failures: Readonly<Record<string, number>>;
  readonly rateLimitedFailures: number;
  readonly pollsPerExport: { readonly min: number; readonly max: number };
  readonly transitions: number;
  readonly requests: number;
  readonly requestsByEndpoint: Readonly<Record<string, number>>;
  /** 429 answers the simulator sent (the client waits them out; only repeated ones fail a run). */
  readonly responses429: number;
  readonly maxRequestsPerMinute: number;
  readonly enginePeakRssBytes?: number;
}

export async function runBatch(
  options: BatchOptions,
  log: (line: string) => void,
): Promise<BatchScenarioResult> {
  const env = { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
  const simulator = await spawnChild(new URL('../hosts/simulator-host.ts', import.meta.url), { env });
  const worker = await spawnChild(new URL('../workers/engine.ts', import.meta.url), { env });
  try {
    const pce = await simulator.call<{ url: string; apiKey: string; apiSecret: string }>('start', {
      dataset: { workloads: options.workloads },
      jobDurationMs: options.jobSeconds * 1000,
      retryAfterSeconds: options.retryAfterSeconds,
      rateLimitPerMinute: options.rateLimitPerMinute,
      maxRecordedRequests: 100_000,
    });
    const result = await worker.call<BatchResult>('batch', {
      pce,
      count: options.exports,
      input: { path: '/workloads' },
    });
    const stats = await simulator.call<SimulatorStats>('stats');
    const failures: Record<string, number> = {};
    for (const run of result.runs) {
      if (run.status !== 'SUCCEEDED')
        failures[run.error ?? 'unknown'] = (failures[run.error ?? 'unknown'] ?? 0) + 1;
    }
    const polls = result.runs.map((r) => r.polls ?? 0);
    const summary: BatchScenarioResult = {
      options,
      wallSeconds: result.seconds,
      succeeded: result.runs.filter((r) => r.status === 'SUCCEEDED').length,
      failed: result.runs.filter((r) => r.status !== 'SUCCEEDED').length,
      failures,
      rateLimitedFailures: failures.PceRateLimited ?? 0,
      pollsPerExport: { min: Math.min(...polls), max: Math.max(...polls) },
      transitions: result.runs.reduce((a, r) => a + r.transitions, 0),
      requests: stats.requests,
      requestsByEndpoint: stats.byEndpoint,
      responses429: stats.byStatus['429'] ?? 0,
      maxRequestsPerMinute: stats.maxPerMinute,
      ...(result.peakRssBytes !== undefined ? { enginePeakRssBytes: result.peakRssBytes } : {}),
    };
    log(
      `batch: ${summary.succeeded}/${options.exports} succeeded in ${summary.wallSeconds.toFixed(1)} s, ${summary.requests} PCE requests (most in any 60 s: ${summary.maxRequestsPerMinute}, 429s: ${summary.responses429}), failures ${JSON.stringify(failures)}`,
    );
    return summary;
  } finally {
    await Promise.all([worker.close(), simulator.close()]);
  }
}
