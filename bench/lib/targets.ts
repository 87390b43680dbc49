import type { BatchScenarioResult } from '../scenarios/batch';
import type { ColdStartResult } from '../scenarios/cold-start';
import type { SizeResult } from '../scenarios/fetch';
import type { FormatsResult } from '../scenarios/formats';
import type { PollCostResult } from '../scenarios/poll-cost';
import type { SideBySideResult } from '../scenarios/side-by-side';
import type { TrafficResult } from '../scenarios/traffic';
import type { InterferenceWindow } from './interference';
import type { Machine } from './machine';
import { formatsTargets, trafficTargets } from './report-traffic';
import { fmt } from './table';

export const SECTIONS = ['fetch', 'poll', 'cold', 'batch', 'side', 'traffic', 'formats'] as const;
export type Section = (typeof SECTIONS)[number];

export interface Target {
  readonly section: Section;
  readonly target: string;
  readonly measured: string;
  readonly met: boolean;
}

const MIB = 1024 * 1024;

/** What the sections measured, for the targets and the tables. */
export interface BenchResults {
  readonly machine: Machine;
  readonly formatsAt: string;
  readonly errors: Partial<Record<Section, string>>;
  readonly interference: Partial<Record<Section, InterferenceWindow>>;
  readonly loadStart: readonly number[];
  readonly loadEnd: readonly number[];
  readonly fetch?: SizeResult[];
  readonly poll?: PollCostResult;
  readonly cold?: ColdStartResult;
  readonly batch?: BatchScenarioResult;
  readonly side?: SideBySideResult[];
  readonly traffic?: TrafficResult;
  readonly formats?: FormatsResult;
}

/** The targets each section is held to, met or not. */
export function targetsOf(r: BenchResults): Target[] {
  const { errors, fetch, poll, cold, batch, side, formatsAt } = r;
  const targets: Target[] = [];
  for (const [name, error] of Object.entries(errors)) {
    targets.push({
      section: name as Section,
      target: `${name}: section ran`,
      measured: `failed: ${error.split('\n')[0]}`,
      met: false,
    });
  }
  if (fetch) {
    for (const size of fetch) {
      targets.push({
        section: 'fetch',
        target: `copy ≥ 85% of the limit (${size.label})`,
        measured: `${fmt.pct(size.copyRatioToLimit)} (${fmt.rate(size.copy.mibPerSecond)} of ${fmt.rate(size.limitMibPerSecond)}, ${size.limitedBy}-bound)`,
        met: size.copyRatioToLimit >= 0.85,
      });
    }
    const smallest = fetch[0];
    const largest = fetch[fetch.length - 1];
    if (smallest && largest && smallest !== largest) {
      const growth = largest.copy.peakRssBytes - smallest.copy.peakRssBytes;
      targets.push({
        section: 'fetch',
        target: `copy peak RSS at ${largest.label} ≤ peak RSS at ${smallest.label} + 64 MiB`,
        measured: `${fmt.mib(largest.copy.peakRssBytes)} vs ${fmt.mib(smallest.copy.peakRssBytes)} (${growth >= 0 ? '+' : ''}${fmt.mib(growth, 1)})`,
        met: growth <= 64 * MIB,
      });
    }
    if (smallest && largest && smallest !== largest) {
      const growth = largest.parquet.peakRssBytes - smallest.parquet.peakRssBytes;
      targets.push({
        section: 'fetch',
        target: `parquet copy peak RSS at ${largest.label} ≤ peak RSS at ${smallest.label} + 64 MiB`,
        measured: `${fmt.mib(largest.parquet.peakRssBytes)} vs ${fmt.mib(smallest.parquet.peakRssBytes)} (${growth >= 0 ? '+' : ''}${fmt.mib(growth, 1)}), stored ${fmt.mib(largest.parquet.storedBytes)} of ${fmt.mib(largest.parquet.sourceBytes)}`,
        met: growth <= 64 * MIB,
      });
    }
    for (const size of fetch) {
      const alone = size.download.cpuSeconds.worker + size.upload.cpuSeconds.worker;
      targets.push({
        section: 'fetch',
        target: `copy CPU ≤ 1.2 × download alone + upload alone (${size.label})`,
        measured: `${(size.copy.cpuSeconds.worker / alone).toFixed(2)}× (${size.copy.cpuSeconds.worker.toFixed(1)} s vs ${size.download.cpuSeconds.worker.toFixed(1)} + ${size.upload.cpuSeconds.worker.toFixed(1)} s)`,
        met: size.copy.cpuSeconds.worker <= 1.2 * alone,
      });
      if (!('skipped' in size.naive)) {
        targets.push({
          section: 'fetch',
          target: `streaming copy ≥ naive copy's speed (${size.label})`,
          measured: `${fmt.rate(size.copy.mibPerSecond)} vs ${fmt.rate(size.naive.mibPerSecond)}`,
          met: size.copy.mibPerSecond >= size.naive.mibPerSecond,
        });
      }
    }
    const at = fetch.find((s) => s.label === formatsAt);
    for (const f of at?.formats ?? []) {
      const ratio = f.mibPerSecond / (at?.copy.mibPerSecond ?? Number.NaN);
      targets.push({
        section: 'fetch',
        target: `${f.name.replace('copy ', '')} ≥ 50% of the raw copy's speed (${formatsAt})`,
        measured: `${fmt.pct(ratio)} (${fmt.rate(f.mibPerSecond)})`,
        met: ratio >= 0.5,
      });
    }
  }
  if (poll) {
    for (const row of poll.rows) {
      if (row.jobSeconds === 7200) {
        targets.push({
          section: 'poll',
          target: `2 h job: ≤ 60 polls (Retry-After ${row.retryAfterSeconds} s)`,
          measured: `${row.polls} polls (≤ ${row.window.maxPolls} for jobs of 2 h ± 10%)`,
          met: row.window.maxPolls <= 60,
        });
      }
      if (row.jobSeconds === 10) {
        targets.push({
          section: 'poll',
          target: `10 s job seen done within one Retry-After (${row.retryAfterSeconds} s)`,
          measured: `${fmt.s(row.lateSeconds)} after done (≤ ${fmt.s(row.window.maxLateSeconds)} for jobs of 9–11 s)`,
          met: row.window.maxLateSeconds <= row.retryAfterSeconds,
        });
      }
    }
    targets.push({
      section: 'poll',
      target: 'engine run matches the model (transitions, polls, PCE requests)',
      measured: `${poll.engine.transitions}/${poll.engine.expectedTransitions} transitions, ${poll.engine.polls}/${poll.engine.simulatedPolls} polls, ${poll.engine.pceRequests}/${poll.engine.expectedPceRequests} requests`,
      met:
        poll.engine.status === 'SUCCEEDED' &&
        poll.engine.transitions === poll.engine.expectedTransitions &&
        poll.engine.pceRequests === poll.engine.expectedPceRequests,
    });
  }
  if (cold) {
    for (const h of cold.handlers) {
      targets.push({
        section: 'cold',
        target: `${h.handler} init < 2 × empty + 150 ms (${fmt.ms(cold.budgetMs)})`,
        measured: fmt.ms(h.initMedianMs),
        met: h.initMedianMs < cold.budgetMs,
      });
    }
  }
  if (batch) {
    targets.push({
      section: 'batch',
      target: `${batch.options.exports} concurrent exports at ${batch.options.rateLimitPerMinute} requests/min: none fails with PceRateLimited`,
      measured: `${batch.succeeded}/${batch.options.exports} succeeded, ${batch.rateLimitedFailures} PceRateLimited, ${batch.responses429} × 429`,
      met: batch.rateLimitedFailures === 0 && batch.failed === 0,
    });
  }

  for (const size of side ?? []) {
    const sdk = size.runs.find((r) => r.client.startsWith('SDK-like'));
    const ours = size.runs.find((r) => r.client === 'pce-export run (ndjson, gzip)');
    if (!sdk || !ours || size.label !== '310 MB') continue;
    targets.push({
      section: 'side',
      target: `pce-export run wall ≤ 1.5 × the SDK-like client's (${size.label})`,
      measured: `${fmt.s(ours.seconds, 2)} vs ${fmt.s(sdk.seconds, 2)} (${(ours.seconds / sdk.seconds).toFixed(2)}×)`,
      met: ours.seconds <= 1.5 * sdk.seconds,
    });
    targets.push({
      section: 'side',
      target: `pce-export run peak RSS ≤ 0.4 × the SDK-like client's (${size.label})`,
      measured: `${fmt.mib(ours.peakTreeRssBytes)} vs ${fmt.mib(sdk.peakTreeRssBytes)} (${(ours.peakTreeRssBytes / sdk.peakTreeRssBytes).toFixed(2)}×)`,
      met: ours.peakTreeRssBytes <= 0.4 * sdk.peakTreeRssBytes,
    });
  }
  targets.push(...trafficTargets(r.traffic), ...formatsTargets(r.formats));
  return targets;
}
