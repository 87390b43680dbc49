/**
 * `npm run bench [-- --quick] [-- --only fetch,poll,cold,batch,side,traffic,formats]`: measures the export's
 * performance on this machine, prints the tables and writes them as JSON to bench/results/.
 * See BENCHMARKS.md for what each section measures and how to read it.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { InterferenceMonitor, type InterferenceWindow } from './lib/interference';
import { describeMachine, describeSource, loadAverage } from './lib/machine';
import { reportOf } from './lib/report';
import { fmt } from './lib/table';
import { type BenchResults, SECTIONS, type Section, targetsOf } from './lib/targets';
import { runBatch } from './scenarios/batch';
import { runColdStart } from './scenarios/cold-start';
import { type FetchSize, runFetch } from './scenarios/fetch';
import { runFormats } from './scenarios/formats';
import { runPollCost } from './scenarios/poll-cost';
import { runSideBySide } from './scenarios/side-by-side';
import { runTraffic } from './scenarios/traffic';

const MIB = 1024 * 1024;

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

const fetch = await section('fetch', () =>
  runFetch({ sizes, formatsAt, naiveMaxBytes: 1024 * MIB, cores: machine.nproc, log, profileDir }),
);
const poll = await section('poll', () => runPollCost(log));
const cold = await section('cold', () => runColdStart(quick ? 5 : 9, log));
const batch = await section('batch', () =>
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
const side = await section('side', () =>
  runSideBySide(quick ? [SIDE_BY_SIDE] : [{ label: '64 MiB', targetBytes: 64 * MIB }, SIDE_BY_SIDE], log),
);
/** A day of 1,000,000 flows, and a 7-day catch-up at a fifth of that a day (1.4M flows); --quick: 100,000 a day, and 30,000 a day for 7 days. */
const traffic = await section('traffic', () =>
  runTraffic(
    quick
      ? { dayFlows: 100_000, catchUpFlowsPerDay: 30_000, catchUpDays: 7 }
      : { dayFlows: 1_000_000, catchUpFlowsPerDay: 200_000, catchUpDays: 7 },
    log,
  ),
);
const formats = await section('formats', () =>
  runFormats(
    quick ? { workloads: 100_000, flows: 100_000 } : { workloads: 1_000_000, flows: 1_000_000 },
    log,
  ),
);
monitor.stop();
const finishedAt = new Date();
const loadEnd = loadAverage();

const measured: BenchResults = {
  machine,
  formatsAt,
  errors,
  interference,
  loadStart,
  loadEnd,
  ...(fetch ? { fetch } : {}),
  ...(poll ? { poll } : {}),
  ...(cold ? { cold } : {}),
  ...(batch ? { batch } : {}),
  ...(side ? { side } : {}),
  ...(traffic ? { traffic } : {}),
  ...(formats ? { formats } : {}),
};
const targets = targetsOf(measured);
const report = reportOf(measured, targets);

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
  traffic,
  formats,
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
