/**
 * `npm run bench [-- --quick] [-- --only fetch,poll,cold,batch,side]`: measures the export's
 * performance on this machine, prints the tables and writes them as JSON to bench/results/.
 * See BENCHMARKS.md for what each section measures and how to read it.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { InterferenceMonitor, type InterferenceWindow } from './lib/interference';
import { lambdaModel } from './lib/lambda-model';
import { describeMachine, describeSource, loadAverage } from './lib/machine';
import { fmt, table } from './lib/table';
import { type BatchScenarioResult, runBatch } from './scenarios/batch';
import { type ColdStartResult, familyShares, runColdStart } from './scenarios/cold-start';
import { type FetchSize, type Measurement, runFetch, type SizeResult } from './scenarios/fetch';
import { type PollCostResult, runPollCost } from './scenarios/poll-cost';
import { runSideBySide, type SideBySideResult } from './scenarios/side-by-side';

const MIB = 1024 * 1024;
const SECTIONS = ['fetch', 'poll', 'cold', 'batch', 'side'] as const;
type Section = (typeof SECTIONS)[number];

interface Target {
  readonly section: Section;
  readonly target: string;
  readonly measured: string;
  readonly met: boolean;
}

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    out: { type: 'string' },
    sizes: { type: 'string' },
    repeats: { type: 'string' },
    profile: { type: 'string' },
  },
});
const quick = values.quick ?? false;
const only = new Set(
  (values.only ?? SECTIONS.join(','))
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== ''),
);
for (const section of only) {
  if (!(SECTIONS as readonly string[]).includes(section)) {
    console.error(`unknown section "${section}" (sections: ${SECTIONS.join(', ')})`);
    process.exit(2);
  }
}
const want = (section: Section) => only.has(section);

const allSizes: FetchSize[] = quick
  ? [
      { label: '16 MiB', targetBytes: 16 * MIB },
      { label: '64 MiB', targetBytes: 64 * MIB },
      { label: '128 MiB', targetBytes: 128 * MIB },
    ]
  : [
      { label: '64 MiB', targetBytes: 64 * MIB, repeats: 3 },
      { label: '512 MiB', targetBytes: 512 * MIB, repeats: 2 },
      { label: '2 GiB', targetBytes: 2048 * MIB },
    ];
/** `--sizes 512,2048 [--repeats N]`: only these datafile sizes (MiB), each measurement run N times. */
const repeats = Number(values.repeats ?? 1);
if (!Number.isInteger(repeats) || repeats < 1) {
  console.error(`--repeats takes a whole number of at least 1, got "${values.repeats}"`);
  process.exit(2);
}
const sizes: FetchSize[] =
  values.sizes === undefined
    ? allSizes
    : values.sizes.split(',').map((s) => {
        const mib = Number(s.trim());
        if (!Number.isInteger(mib) || mib <= 0) {
          console.error(`--sizes takes MiB as whole numbers, got "${s}"`);
          process.exit(2);
        }
        return {
          label: mib % 1024 === 0 ? `${mib / 1024} GiB` : `${mib} MiB`,
          targetBytes: mib * MIB,
          repeats,
        };
      });
const formatsAt = quick ? '64 MiB' : '512 MiB';
/** `--profile DIR`: every process of the fetch section writes a V8 CPU profile there. */
const profileDir = values.profile === undefined ? undefined : resolve(values.profile);

const startedAt = new Date();
const log = (line: string) => {
  const elapsed = ((Date.now() - startedAt.getTime()) / 1000).toFixed(0).padStart(4);
  console.error(`[${elapsed} s] ${line}`);
};

const machine = describeMachine();
const source = describeSource();
const monitor = new InterferenceMonitor();
const interference: Partial<Record<Section, InterferenceWindow>> = {};
const loadStart = loadAverage();
log(
  `${machine.nproc} × ${machine.cpuModel}, ${fmt.mib(machine.memoryBytes)}, node ${machine.node}; load average ${loadStart.join(' ')}${quick ? '; quick mode' : ''}`,
);

let fetch: SizeResult[] | undefined;
let poll: PollCostResult | undefined;
let cold: ColdStartResult | undefined;
let batch: BatchScenarioResult | undefined;
let side: SideBySideResult[] | undefined;

const errors: Partial<Record<Section, string>> = {};

/** Runs one section; a section that fails is reported as such and the others still run. */
async function section<T>(name: Section, run: () => Promise<T>): Promise<T | undefined> {
  if (!want(name)) return undefined;
  monitor.window();
  try {
    return await run();
  } catch (error) {
    errors[name] = error instanceof Error ? (error.stack ?? error.message) : String(error);
    log(`${name}: FAILED: ${error instanceof Error ? error.message : String(error)}`);
    return undefined;
  } finally {
    interference[name] = monitor.window();
  }
}

fetch = await section('fetch', () =>
  runFetch({ sizes, formatsAt, naiveMaxBytes: 1024 * MIB, cores: machine.nproc, log, profileDir }),
);
poll = await section('poll', () => runPollCost(log));
cold = await section('cold', () => runColdStart(quick ? 5 : 9, log));
batch = await section('batch', () =>
  runBatch(
    {
      exports: 12,
      rateLimitPerMinute: 500,
      jobSeconds: quick ? 20 : 60,
      retryAfterSeconds: 1,
      workloads: 5000,
    },
    log,
  ),
);
/** The 310 MB datafile: 191,808 workloads, 314,159,286 bytes. */
const SIDE_BY_SIDE = { label: '310 MB', targetBytes: 314_159_286, workloads: 191_808 };
side = await section('side', () =>
  runSideBySide(quick ? [SIDE_BY_SIDE] : [{ label: '64 MiB', targetBytes: 64 * MIB }, SIDE_BY_SIDE], log),
);
monitor.stop();
const finishedAt = new Date();
const loadEnd = loadAverage();

// ---- targets ---------------------------------------------------------------------------------

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

// ---- tables ------------------------------------------------------------------------------------

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
        'Init, no source maps',
        'node process',
        'Largest parts of the bundle',
      ],
      [cold.empty, ...cold.handlers].map((b) => [
        b.handler,
        `${(b.bytes / 1024).toFixed(1)} KiB`,
        `${(b.sourceMapBytes / 1024).toFixed(0)} KiB`,
        fmt.ms(b.initMedianMs),
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

const report = sections.join('\n');
console.log(report);

const results = {
  startedAt: startedAt.toISOString(),
  finishedAt: finishedAt.toISOString(),
  durationSeconds: (finishedAt.getTime() - startedAt.getTime()) / 1000,
  quick,
  sections: [...only],
  machine,
  source,
  loadAverage: { start: loadStart, end: loadEnd },
  interference,
  errors,
  targets,
  fetch,
  poll,
  coldStart: cold,
  batch,
  sideBySide: side,
};
const out =
  values.out ??
  join(
    import.meta.dirname,
    'results',
    `${startedAt.toISOString().slice(0, 19).replace(/[:T]/g, '-')}${quick ? '-quick' : ''}.json`,
  );
await mkdir(join(out, '..'), { recursive: true });
await writeFile(out, `${JSON.stringify(results, null, 2)}\n`);
log(`wrote ${out} (${((finishedAt.getTime() - startedAt.getTime()) / 1000).toFixed(0)} s in all)`);
