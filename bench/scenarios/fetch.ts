import { join } from 'node:path';
import type { OutputFormat } from '../../lambdas/contracts/input';
import { functionNodeOptions } from '../../lib/node-options';
import { DEFAULT_DATASET, OrgData } from '../../simulator/data';
import type { SimulatorStats } from '../hosts/simulator-host';
import { type Child, spawnChild } from '../lib/ipc';
import type { TransferMode, TransferRequest, TransferResult } from '../workers/transfer';

/*
 * Sections 1 and 2: the datafile copy. Per datafile size, one simulator process (holding that
 * many workloads) and one S3 process (fresh, its directory removed afterwards); per measurement
 * a fresh worker process. Three busy processes share this machine's cores during a copy.
 */

const MIB = 1024 * 1024;
const BUCKET = 'bench';
/** The Fetch function's defaults (UPLOAD_PART_SIZE_MIB, UPLOAD_QUEUE_SIZE). */
export const PART_SIZE_BYTES = 8 * MIB;
export const QUEUE_SIZE = 4;
/** The Fetch function's memory (lib/export-workflow.ts). */
export const FETCH_MEMORY_MIB = 1769;
/** The Fetch function's NODE_OPTIONS (lib/lambda-defaults.ts). */
export const FETCH_NODE_OPTIONS = functionNodeOptions(FETCH_MEMORY_MIB);

const HEAP_SIZE_FLAG = /^--max[-_](semi|old)[-_]space[-_]size=/;

/**
 * The V8 heap flags a function runs with on AWS Lambda. The Node.js runtime's bootstrap
 * (/var/runtime/bootstrap) starts node with `--max-semi-space-size` = memory / 20 MiB and
 * `--max-old-space-size` = memory × 9/10 MiB, unless NODE_OPTIONS names either size, in which
 * case NODE_OPTIONS' own flags are all there is. For Fetch's 1,769 MB that is a semi space of
 * 88 MiB, five times V8's own default, which Parquet's row groups (values that survive scavenges)
 * grow the young generation to: the worker runs with the same flags so that its peak RSS is the
 * function's.
 */
export function lambdaHeapFlags(memoryMib: number, nodeOptions: string): string[] {
  const own = nodeOptions.split(/\s+/).filter((flag) => HEAP_SIZE_FLAG.test(flag));
  if (own.length > 0) return own;
  const newSpace = Math.floor(memoryMib / 10);
  return [
    `--max-semi-space-size=${Math.floor(newSpace / 2)}`,
    `--max-old-space-size=${memoryMib - newSpace}`,
  ];
}

export interface FetchSize {
  readonly label: string;
  readonly targetBytes: number;
  /** Each measurement is run this many times; the fastest run is reported. @default 1 */
  readonly repeats?: number;
}

export interface ProcessCpu {
  /** CPU seconds of the measured process, the simulator's and the S3 server's. */
  readonly worker: number;
  readonly simulator: number;
  readonly s3: number;
}

export interface Measurement {
  readonly name: string;
  readonly mode: TransferMode;
  readonly format?: OutputFormat;
  readonly gzip?: boolean;
  readonly sourceBytes: number;
  readonly storedBytes: number;
  readonly seconds: number;
  /** Source bytes per second, in MiB/s. */
  readonly mibPerSecond: number;
  readonly peakRssBytes: number;
  readonly sampledPeakRssBytes: number;
  readonly baselineRssBytes: number;
  readonly cpuSeconds: ProcessCpu;
  /** Every run when repeated (the reported figures are the fastest run's; peak RSS is the largest). */
  readonly runs?: readonly { readonly mibPerSecond: number; readonly peakRssBytes: number }[];
}

export interface Skipped {
  readonly name: string;
  readonly mode: TransferMode;
  readonly skipped: string;
}

export interface SizeResult {
  readonly label: string;
  readonly targetBytes: number;
  readonly workloads: number;
  readonly datafileBytes: number;
  readonly download: Measurement;
  readonly upload: Measurement;
  /** The slower of download and upload. */
  readonly limitMibPerSecond: number;
  readonly limitedBy: 'download' | 'upload';
  readonly copy: Measurement;
  readonly copyRatioToLimit: number;
  /**
   * The copy's speed if the CPU its three processes used (copy, simulator, S3 server) were spread
   * perfectly over the machine's cores: cores ÷ CPU seconds per MiB.
   */
  readonly cpuCeilingMibPerSecond: number;
  readonly naive: Measurement | Skipped;
  /** ndjson / gzip variants, at the formats size only. */
  readonly formats: readonly Measurement[];
  /** The copy to Parquet (GZIP pages, the workloads' typed columns), at every size. */
  readonly parquet: Measurement;
}

export interface FetchOptions {
  readonly sizes: readonly FetchSize[];
  /** Label of the size at which ndjson and gzip are measured. */
  readonly formatsAt: string;
  /** The naive baseline is run only up to this many bytes. */
  readonly naiveMaxBytes: number;
  /** Cores of the machine, for the CPU-bound ceiling. */
  readonly cores: number;
  readonly log: (line: string) => void;
  /** Each process (simulator, S3 server, every worker) writes a V8 CPU profile into this directory. */
  readonly profileDir?: string;
}

const CHILD_ENV = { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' } as const;

/** Workloads needed for a datafile of about `targetBytes`: the mean size of a sample of them. */
export function workloadsFor(targetBytes: number): number {
  let estimate = Math.max(1, Math.round(targetBytes / 1600));
  for (let round = 0; round < 2; round++) {
    const data = new OrgData(1, 1, { ...DEFAULT_DATASET, workloads: estimate });
    const workloads = data.collection('workloads');
    if (!workloads) throw new Error('the simulator has no workloads collection');
    const samples = Math.min(estimate, 4000);
    let sampled = 0;
    for (let k = 0; k < samples; k++) {
      sampled += Buffer.byteLength(workloads.text(Math.floor((k * estimate) / samples))) + 1;
    }
    estimate = Math.max(1, Math.round((targetBytes - 1) / (sampled / samples)));
  }
  return estimate;
}

function cpuOf(stats: { cpu: { user: number; system: number } }): number {
  return stats.cpu.user + stats.cpu.system;
}

/** `--cpu-prof` into a folder of `dir` named after the process's role. */
function profiling(dir: string | undefined, role: string): readonly string[] {
  return dir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', join(dir, role)];
}

async function measure(
  name: string,
  request: TransferRequest,
  simulator: Child,
  s3: Child,
  profileDir: string | undefined,
): Promise<Measurement> {
  const worker = await spawnChild(new URL('../workers/transfer.ts', import.meta.url), {
    env: CHILD_ENV,
    execArgv: [
      ...lambdaHeapFlags(FETCH_MEMORY_MIB, FETCH_NODE_OPTIONS),
      ...profiling(profileDir, name.replace(/[^a-z0-9]+/gi, '-')),
    ],
  });
  try {
    const [sim0, s30] = await Promise.all([
      simulator.call<SimulatorStats>('stats'),
      s3.call<{ cpu: { user: number; system: number } }>('stats'),
    ]);
    const result = await worker.call<TransferResult>('measure', request);
    const [sim1, s31] = await Promise.all([
      simulator.call<SimulatorStats>('stats'),
      s3.call<{ cpu: { user: number; system: number } }>('stats'),
    ]);
    return {
      name,
      mode: request.mode,
      ...(request.mode === 'copy' ? { format: request.format ?? 'raw', gzip: request.gzip ?? false } : {}),
      sourceBytes: result.sourceBytes,
      storedBytes: result.storedBytes,
      seconds: result.seconds,
      mibPerSecond: result.sourceBytes / MIB / result.seconds,
      peakRssBytes: result.peakRssBytes,
      sampledPeakRssBytes: result.sampledPeakRssBytes,
      baselineRssBytes: result.baselineRssBytes,
      cpuSeconds: {
        worker: result.cpuSeconds,
        simulator: cpuOf(sim1) - cpuOf(sim0),
        s3: cpuOf(s31) - cpuOf(s30),
      },
    };
  } finally {
    await worker.close();
  }
}

export async function runFetch(options: FetchOptions): Promise<SizeResult[]> {
  const { cores } = options;
  const results: SizeResult[] = [];
  for (const size of options.sizes) {
    const workloads = workloadsFor(size.targetBytes);
    options.log(`fetch ${size.label}: ${workloads} workloads`);
    const simulator = await spawnChild(new URL('../hosts/simulator-host.ts', import.meta.url), {
      env: CHILD_ENV,
      execArgv: profiling(options.profileDir, 'simulator'),
    });
    const s3 = await spawnChild(new URL('../hosts/s3-host.ts', import.meta.url), {
      env: CHILD_ENV,
      execArgv: profiling(options.profileDir, 's3'),
    });
    try {
      const pce = await simulator.call<{ url: string; apiKey: string; apiSecret: string }>('start', {
        dataset: { workloads },
        jobDurationMs: 10,
        retryAfterSeconds: 1,
        rateLimitPerMinute: Number.POSITIVE_INFINITY,
      });
      const { endpoint } = await s3.call<{ endpoint: string }>('start', { bucket: BUCKET });
      const base = {
        pce,
        s3: { endpoint, bucket: BUCKET },
        partSizeBytes: PART_SIZE_BYTES,
        queueSize: QUEUE_SIZE,
      };
      const run = async (name: string, request: Omit<TransferRequest, keyof typeof base>) => {
        const runs: Measurement[] = [];
        for (let i = 0; i < (size.repeats ?? 1); i++) {
          runs.push(await measure(name, { ...base, ...request }, simulator, s3, options.profileDir));
        }
        const fastest = runs.reduce((a, b) => (b.mibPerSecond > a.mibPerSecond ? b : a));
        const m: Measurement = {
          ...fastest,
          peakRssBytes: Math.max(...runs.map((r) => r.peakRssBytes)),
          sampledPeakRssBytes: Math.max(...runs.map((r) => r.sampledPeakRssBytes)),
          ...(runs.length > 1
            ? { runs: runs.map((r) => ({ mibPerSecond: r.mibPerSecond, peakRssBytes: r.peakRssBytes })) }
            : {}),
        };
        const all =
          runs.length > 1 ? ` (runs: ${runs.map((r) => r.mibPerSecond.toFixed(1)).join(', ')})` : '';
        options.log(
          `  ${name.padEnd(22)} ${(m.sourceBytes / MIB).toFixed(1).padStart(8)} MiB  ${m.mibPerSecond.toFixed(1).padStart(6)} MiB/s${all}  peak RSS ${(m.peakRssBytes / MIB).toFixed(0)} MiB  CPU s: copy ${m.cpuSeconds.worker.toFixed(1)} sim ${m.cpuSeconds.simulator.toFixed(1)} s3 ${m.cpuSeconds.s3.toFixed(1)}`,
        );
        return m;
      };

      const download = await run('download only', { mode: 'download' });
      const datafileBytes = download.sourceBytes;
      const upload = await run('upload only', { mode: 'upload', bytes: datafileBytes });
      const copy = await run('copy raw', { mode: 'copy', format: 'raw', gzip: false });
      let naive: Measurement | Skipped;
      if (datafileBytes <= options.naiveMaxBytes) {
        naive = await run('naive (buffer + Put)', { mode: 'naive' });
      } else {
        naive = {
          name: 'naive (buffer + Put)',
          mode: 'naive',
          skipped: `not possible: the whole ${(datafileBytes / MIB).toFixed(0)} MiB body in one Buffer (plus its chunks while concatenating, about 2× at the peak) does not fit the Fetch function's ${FETCH_MEMORY_MIB} MB of memory`,
        };
        options.log(`  ${naive.name.padEnd(22)} skipped: ${naive.skipped}`);
      }
      const parquet = await run('copy parquet', { mode: 'copy', format: 'parquet', gzip: true });
      const formats: Measurement[] = [];
      if (size.label === options.formatsAt) {
        formats.push(await run('copy ndjson', { mode: 'copy', format: 'ndjson', gzip: false }));
        formats.push(await run('copy raw + gzip', { mode: 'copy', format: 'raw', gzip: true }));
        formats.push(await run('copy ndjson + gzip', { mode: 'copy', format: 'ndjson', gzip: true }));
      }
      const limitedBy = download.mibPerSecond <= upload.mibPerSecond ? 'download' : 'upload';
      const limitMibPerSecond = Math.min(download.mibPerSecond, upload.mibPerSecond);
      results.push({
        label: size.label,
        targetBytes: size.targetBytes,
        workloads,
        datafileBytes,
        download,
        upload,
        limitMibPerSecond,
        limitedBy,
        copy,
        copyRatioToLimit: copy.mibPerSecond / limitMibPerSecond,
        cpuCeilingMibPerSecond:
          cores /
          ((copy.cpuSeconds.worker + copy.cpuSeconds.simulator + copy.cpuSeconds.s3) /
            (copy.sourceBytes / MIB)),
        naive,
        formats,
        parquet,
      });
    } finally {
      await Promise.all([simulator.close(), s3.close(60_000)]);
    }
  }
  return results;
}
