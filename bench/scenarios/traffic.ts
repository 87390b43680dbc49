import type { SimulatorStats } from '../hosts/simulator-host';
import type { Completeness } from '../lib/flow-check';
import { spawnChild } from '../lib/ipc';
import type { ExportResult } from '../workers/export-engine';
import { USD_PER_TRANSITION } from './poll-cost';

/*
 * Section 7: traffic past the 200,000-flow cap, exported completely through the real path: the
 * local engine runs the synthesized definition (windows as child executions, their concurrency
 * bounded as deployed) with the real handlers, Fetch in processes of its own; the simulator, in
 * a process of its own, holds a fixed population of flows and enforces 500 requests a minute.
 * Two runs: a day (`--since 24h --max-results 200000`, ndjson.gz as the command line writes it),
 * and an incremental export whose watermark is 7 days old (its catch-up). Each run's objects are
 * read back and checked against the population: every flow once, none missing, nothing else.
 */

const DAY_MS = 86_400_000;
/** Lambda on arm64: $0.0000133334 per GB-second. */
const USD_PER_GB_SECOND = 0.0000133334;

export interface TrafficOptions {
  /** Flows a day of the day run's population. */
  readonly dayFlows: number;
  /** Flows a day of the catch-up's population (the issue's figure is the day run's; a smaller one is a scaled run). */
  readonly catchUpFlowsPerDay: number;
  readonly catchUpDays: number;
}

export interface TrafficRun {
  readonly name: string;
  readonly flowsPerDay: number;
  readonly days: number;
  readonly status: string;
  readonly error?: string;
  readonly range?: { readonly start: string; readonly end: string };
  readonly wallSeconds: number;
  readonly flows: number;
  readonly windows: number;
  readonly queries: number;
  readonly complete?: boolean;
  readonly check?: Completeness;
  readonly pceRequests: number;
  readonly requestsByEndpoint: Readonly<Record<string, number>>;
  readonly maxRequestsPerMinute: number;
  readonly responses429: number;
  readonly queriesLeftOnPce: number;
  readonly transitions: { readonly parent: number; readonly children: number; readonly total: number };
  readonly childExecutions: number;
  readonly stepFunctionsUsd: number;
  readonly lambdaGbSeconds: number;
  readonly lambdaUsd: number;
  readonly storedBytes: number;
  readonly dataBytes: number;
  readonly objects: number;
  readonly fetch: ExportResult['functions'][string] | undefined;
  readonly enginePeakRssBytes?: number;
  readonly simulatorCpuSeconds: number;
  readonly detail: ExportResult;
}

export interface TrafficResult {
  readonly options: TrafficOptions;
  readonly runs: readonly TrafficRun[];
}

interface RunSpec {
  readonly name: string;
  readonly flowsPerDay: number;
  readonly days: number;
  readonly input: Record<string, unknown>;
  readonly exports?: Record<string, unknown>;
  readonly watermark?: { readonly exportName: string; readonly end: string };
}

const env = { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };

async function runOne(spec: RunSpec, until: string, log: (line: string) => void): Promise<TrafficRun> {
  const options = {
    traffic: { flowsPerDay: spec.flowsPerDay, days: spec.days + 1, until },
    rateLimitPerMinute: 500,
    maxRecordedRequests: 5_000_000,
  };
  const simulator = await spawnChild(new URL('../hosts/simulator-host.ts', import.meta.url), { env });
  const worker = await spawnChild(new URL('../workers/export-engine.ts', import.meta.url), { env });
  try {
    const pce = await simulator.call<{ url: string; apiKey: string; apiSecret: string }>('start', options);
    log(`traffic ${spec.name}: ${spec.flowsPerDay.toLocaleString('en-US')} flows a day, ${spec.days} d`);
    const result = await worker.call<ExportResult>('run', {
      pce,
      input: spec.input,
      isolate: ['traffic-fetch'],
      ...(spec.exports ? { exports: spec.exports } : {}),
      ...(spec.watermark ? { watermark: spec.watermark } : {}),
    });
    const stats = await simulator.call<SimulatorStats>('stats');
    const queries = await simulator.call<{ made: number; open: number }>('trafficQueries');
    const output = result.output ?? {};
    const range =
      typeof output.startDate === 'string' && typeof output.endDate === 'string'
        ? { start: output.startDate, end: output.endDate }
        : undefined;
    const check =
      result.status === 'SUCCEEDED' && range
        ? await worker.call<Completeness>('flows', {
            manifestKey: output.manifestKey,
            simulator: options,
            range,
            earlierRunOwnsBefore: spec.watermark !== undefined,
          })
        : undefined;
    const total = result.transitions.parent + result.transitions.children;
    const gbSeconds = Object.values(result.functions).reduce((a, f) => a + f.gbSeconds, 0);
    const run: TrafficRun = {
      name: spec.name,
      flowsPerDay: spec.flowsPerDay,
      days: spec.days,
      status: result.status,
      ...(result.error ? { error: `${result.error}: ${result.cause ?? ''}`.slice(0, 500) } : {}),
      ...(range ? { range } : {}),
      wallSeconds: result.seconds,
      flows: Number(output.objectCount ?? 0),
      windows: Number(output.windows ?? 0),
      queries: Number(output.queries ?? 0),
      ...(typeof output.complete === 'boolean' ? { complete: output.complete } : {}),
      ...(check ? { check } : {}),
      pceRequests: stats.requests,
      requestsByEndpoint: stats.byEndpoint,
      maxRequestsPerMinute: stats.maxPerMinute,
      responses429: stats.byStatus['429'] ?? 0,
      queriesLeftOnPce: queries.open,
      transitions: { ...result.transitions, total },
      childExecutions: result.childExecutions,
      stepFunctionsUsd: total * USD_PER_TRANSITION,
      lambdaGbSeconds: gbSeconds,
      lambdaUsd: gbSeconds * USD_PER_GB_SECOND,
      storedBytes: result.storedBytes,
      dataBytes: Number(output.bytes ?? 0),
      objects: result.objects,
      fetch: result.functions['traffic-fetch'],
      ...(result.enginePeakRssBytes === undefined ? {} : { enginePeakRssBytes: result.enginePeakRssBytes }),
      simulatorCpuSeconds: stats.cpu.user + stats.cpu.system,
      detail: { ...result, files: result.files.slice(0, 50) },
    };
    log(
      `traffic ${spec.name}: ${run.status} in ${run.wallSeconds.toFixed(0)} s, ${run.flows} flows in ${run.windows} windows (${run.queries} queries); check ${check ? JSON.stringify(check) : 'not run'}; ${run.pceRequests} PCE requests (most in 60 s ${run.maxRequestsPerMinute}, 429s ${run.responses429}); ${total} transitions${run.error ? `; ${run.error}` : ''}`,
    );
    return run;
  } finally {
    await Promise.all([worker.close(60_000), simulator.close()]);
  }
}

export async function runTraffic(
  options: TrafficOptions,
  log: (line: string) => void,
): Promise<TrafficResult> {
  const runs: TrafficRun[] = [];
  // The populations end now; each run's range ends when it starts, moments later.
  runs.push(
    await runOne(
      {
        name: 'a day',
        flowsPerDay: options.dayFlows,
        days: 1,
        input: {
          kind: 'traffic',
          traffic: { since: '24h', maxResults: 200_000 },
          format: 'ndjson',
          gzip: true,
        },
      },
      new Date().toISOString(),
      log,
    ),
  );
  const now = Date.now();
  runs.push(
    await runOne(
      {
        name: `${options.catchUpDays}-day catch-up`,
        flowsPerDay: options.catchUpFlowsPerDay,
        days: options.catchUpDays,
        input: { exportName: 'flows' },
        exports: {
          flows: {
            kind: 'traffic',
            format: 'ndjson',
            gzip: true,
            // The catch-up limit is a day over the watermark's age, so that the overlap before it is read too.
            traffic: {
              since: '24h',
              incremental: true,
              maxResults: 200_000,
              catchUp: `${options.catchUpDays + 1}d`,
            },
          },
        },
        watermark: { exportName: 'flows', end: new Date(now - options.catchUpDays * DAY_MS).toISOString() },
      },
      new Date(now).toISOString(),
      log,
    ),
  );
  return { options, runs };
}
