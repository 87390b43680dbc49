import { familyShares } from '../scenarios/cold-start';
import type { Measurement } from '../scenarios/fetch';
import { lambdaModel } from './lambda-model';
import { formatsTables, trafficTables } from './report-traffic';
import { fmt, table } from './table';
import type { BenchResults, Target } from './targets';

const MIB = 1024 * 1024;

/** The tables of every section that ran, then the targets and the load on the machine. */
export function reportOf(r: BenchResults, targets: readonly Target[]): string {
  const { fetch, poll, cold, batch, side, machine, formatsAt, interference, loadStart, loadEnd } = r;
  const sections: string[] = [];
  const cpuPerGiB = (m: Measurement, cpu: number) => (cpu / (m.sourceBytes / 1024 / MIB)).toFixed(1);

  if (fetch) {
    sections.push(
      '## 1. Fetch: simulator → streaming copy → embedded S3 (raw, no gzip)',
      table(
        [
          'Datafile',
          'Bytes',
          'Download only',
          'Upload only',
          'Limit',
          'Copy',
          'Copy / limit',
          'CPU-bound ceiling',
          'Copy peak RSS',
          'Naive',
          'Naive peak RSS',
        ],
        fetch.map((s) => [
          s.label,
          fmt.bytes(s.datafileBytes),
          fmt.rate(s.download.mibPerSecond),
          fmt.rate(s.upload.mibPerSecond),
          `${fmt.rate(s.limitMibPerSecond)} (${s.limitedBy})`,
          fmt.rate(s.copy.mibPerSecond),
          fmt.pct(s.copyRatioToLimit),
          fmt.rate(s.cpuCeilingMibPerSecond),
          fmt.mib(s.copy.peakRssBytes),
          'skipped' in s.naive ? 'not possible' : fmt.rate(s.naive.mibPerSecond),
          'skipped' in s.naive ? '—' : fmt.mib(s.naive.peakRssBytes),
        ]),
      ),
      '',
      `CPU seconds per GiB of datafile, by process (the machine has ${machine.nproc} cores):`,
      '',
      table(
        [
          'Datafile',
          'Measurement',
          'Wall s',
          'Measured process',
          'Simulator',
          'S3 server',
          'Peak RSS (sampled)',
        ],
        fetch.flatMap((s) =>
          [s.download, s.upload, s.copy, ...('skipped' in s.naive ? [] : [s.naive])].map((m) => [
            s.label,
            m.name,
            m.seconds.toFixed(1),
            cpuPerGiB(m, m.cpuSeconds.worker),
            cpuPerGiB(m, m.cpuSeconds.simulator),
            cpuPerGiB(m, m.cpuSeconds.s3),
            `${fmt.mib(m.peakRssBytes)} (${fmt.mib(m.sampledPeakRssBytes)})`,
          ]),
        ),
      ),
    );
    for (const s of fetch) {
      if ('skipped' in s.naive) sections.push('', `Naive at ${s.label}: ${s.naive.skipped}.`);
    }
    const at = fetch.find((s) => s.label === formatsAt);
    if (at) {
      sections.push(
        '',
        `## 2. Output formats at ${at.label}`,
        table(
          ['Output', 'Speed', 'vs raw copy', 'Stored bytes', 'Peak RSS', 'Copy CPU s/GiB'],
          [at.copy, ...at.formats].map((m) => [
            m.name.replace('copy ', ''),
            fmt.rate(m.mibPerSecond),
            fmt.pct(m.mibPerSecond / at.copy.mibPerSecond),
            fmt.bytes(m.storedBytes),
            fmt.mib(m.peakRssBytes),
            cpuPerGiB(m, m.cpuSeconds.worker),
          ]),
        ),
      );
      const perGib = (name: string) => {
        const m = at.formats.find((f) => f.name === name);
        return m === undefined ? undefined : m.cpuSeconds.worker / (m.sourceBytes / 1024 / MIB);
      };
      const gzipped = perGib('copy ndjson + gzip');
      const plain = perGib('copy ndjson');
      if (gzipped !== undefined && plain !== undefined) {
        sections.push(
          '',
          `Lambda model for Fetch (ndjson + gzip: ${gzipped.toFixed(1)} CPU s/GiB measured here, ${Math.max(0, gzipped - plain).toFixed(1)} of them gzip's, off the main thread; arm64 at $0.0000133334 per GB-second):`,
          '',
          table(
            ['Memory', 'vCPU', 'Speed', '$ per GiB', 'Largest datafile in 15 min'],
            lambdaModel(gzipped, Math.max(0, gzipped - plain)).map((row) => [
              `${fmt.bytes(row.memoryMb)} MB`,
              row.vcpus.toFixed(2),
              fmt.rate(row.mibPerSecond),
              `$${row.usdPerGib.toFixed(5)}`,
              `${row.gibIn15Minutes.toFixed(1)} GiB`,
            ]),
          ),
        );
      }
    }
  }
  if (poll) {
    sections.push(
      '',
      '## 3. Poll cost per export (Standard workflow, $0.025 per 1,000 transitions)',
      table(
        [
          'Job',
          'Retry-After',
          'Polls',
          'Transitions',
          'PCE requests',
          'Cost / export',
          'Seen after done',
          'Job ± 10%: polls, late',
        ],
        poll.rows.map((r) => [
          fmt.duration(r.jobSeconds),
          `${r.retryAfterSeconds} s`,
          String(r.polls),
          String(r.transitions),
          String(r.pceRequests),
          fmt.usd(r.usdPerExport),
          fmt.s(r.lateSeconds),
          `≤ ${r.window.maxPolls}, ≤ ${fmt.s(r.window.maxLateSeconds)}`,
        ]),
      ),
      '',
      `Engine check (${poll.engine.jobSeconds} s job, Retry-After ${poll.engine.retryAfterSeconds} s, real Wait states): ${poll.engine.status}, ${poll.engine.polls} polls (model: ${poll.engine.simulatedPolls}), ${poll.engine.transitions} transitions (model ${poll.engine.model.fixed} + ${poll.engine.model.perPoll} × polls = ${poll.engine.expectedTransitions}), ${poll.engine.pceRequests} PCE requests (model 3 + polls = ${poll.engine.expectedPceRequests}).`,
      `States entered: ${poll.engine.statesEntered.join(' → ')}.`,
    );
  }
  if (cold) {
    sections.push(
      '',
      `## 4. Cold start (esbuild as lib/lambda-defaults.ts; median of ${cold.runs} fresh processes)`,
      table(
        [
          'Handler',
          'Bundle',
          'Source map',
          'Init',
          'Init, CPU',
          'Init, no source maps',
          'node process',
          'Largest parts of the bundle',
        ],
        [cold.empty, ...cold.handlers].map((b) => [
          b.handler,
          `${(b.bytes / 1024).toFixed(1)} KiB`,
          `${(b.sourceMapBytes / 1024).toFixed(0)} KiB`,
          fmt.ms(b.initMedianMs),
          fmt.ms(b.initCpuMedianMs),
          fmt.ms(b.initNoSourceMapsMedianMs),
          fmt.ms(b.processMedianMs),
          b.handler === 'empty'
            ? '—'
            : familyShares(b.dependencies)
                .slice(0, 3)
                .map((d) => `${d.name} ${fmt.pct(d.share)}`)
                .join('; '),
        ]),
      ),
      '',
      `Budget: 2 × ${fmt.ms(cold.empty.initMedianMs)} + 150 ms = ${fmt.ms(cold.budgetMs)}.`,
    );
  }
  if (batch) {
    sections.push(
      '',
      '## 5. Batch load',
      table(
        [
          'Exports',
          'Rate limit',
          'Job',
          'Succeeded',
          'PceRateLimited',
          'Wall time',
          'PCE requests',
          'Most in 60 s',
          '429s',
          'Polls / export',
        ],
        [
          [
            String(batch.options.exports),
            `${batch.options.rateLimitPerMinute}/min`,
            `${batch.options.jobSeconds} s, Retry-After ${batch.options.retryAfterSeconds} s`,
            `${batch.succeeded}`,
            String(batch.rateLimitedFailures),
            fmt.s(batch.wallSeconds),
            String(batch.requests),
            String(batch.maxRequestsPerMinute),
            String(batch.responses429),
            `${batch.pollsPerExport.min}–${batch.pollsPerExport.max}`,
          ],
        ],
      ),
    );
  }
  if (side) {
    sections.push(
      '',
      '## 6. Side by side: one datafile through pce-export run and the alternatives',
      table(
        [
          'Datafile',
          'Client',
          'Wall',
          'Peak RSS (process tree)',
          'CPU s',
          'Simulator CPU s',
          'Wall vs SDK-like',
          'RSS vs SDK-like',
        ],
        side.flatMap((size) => {
          const sdk = size.runs.find((r) => r.client.startsWith('SDK-like'));
          return size.runs.map((r) => [
            `${size.label} (${fmt.bytes(size.datafileBytes)} B)`,
            r.exitCode === 0 ? r.client : `${r.client} (exit ${r.exitCode})`,
            fmt.s(r.seconds, 2),
            fmt.mib(r.peakTreeRssBytes),
            r.cpuSeconds.toFixed(1),
            r.simulatorCpuSeconds.toFixed(1),
            sdk ? `${(r.seconds / sdk.seconds).toFixed(2)}×` : '—',
            sdk ? `${(r.peakTreeRssBytes / sdk.peakTreeRssBytes).toFixed(2)}×` : '—',
          ]);
        }),
      ),
    );
  }
  if (r.traffic) sections.push('', ...trafficTables(r.traffic));
  if (r.formats) sections.push('', ...formatsTables(r.formats));
  sections.push(
    '',
    '## Targets',
    table(
      ['Target', 'Measured', 'Met'],
      targets.map((t) => [t.target, t.measured, t.met ? 'yes' : 'NO']),
    ),
    '',
    `Other work on the machine (CPU seconds of processes outside the benchmark ÷ wall time): ${Object.entries(
      interference,
    )
      .map(([section, w]) => `${section} ${w.foreignCores.toFixed(2)} cores`)
      .join(', ')}; load average ${loadStart.join(' ')} at the start, ${loadEnd.join(' ')} at the end.`,
  );
  return sections.join('\n');
}
