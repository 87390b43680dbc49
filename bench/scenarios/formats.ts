import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGunzip } from 'node:zlib';
import { spawnChild } from '../lib/ipc';
import type { ScanReply } from '../workers/duck';
import type { ExportResult } from '../workers/export-engine';

/*
 * Section 8: Parquet against ndjson.gz, on the simulator's workloads (one collection export, its
 * generators at any count) and on a day of its traffic population (a traffic run in windows).
 * Each export runs through the local engine with Fetch in processes of its own; its objects are
 * copied into a directory laid out by key, as `pce-export run --out DIR` leaves them, and DuckDB
 * (in a process of its own) scans one column of them there.
 */

const GIB = 1024 ** 3;

export interface FormatsOptions {
  readonly workloads: number;
  readonly flows: number;
}

export interface FormatRun {
  readonly data: 'workloads' | 'flows';
  readonly format: 'ndjson.gz' | 'parquet';
  readonly status: string;
  readonly error?: string;
  readonly objects: number;
  /** Rows exported (objects or flows). */
  readonly rows: number;
  /** The data files' bytes as stored. */
  readonly storedBytes: number;
  /** The datafiles' JSON bytes (the ndjson export decompressed: the same objects, one a line). */
  readonly datafileBytes: number;
  readonly exportSeconds: number;
  /** The Fetch function (all its invocations): CPU seconds, per GiB of datafile, peak RSS. */
  readonly fetchCpuSeconds: number;
  readonly fetchCpuSecondsPerGib: number;
  readonly fetchPeakRssBytes: number;
  readonly fetchInvocations: number;
  readonly query: string;
  readonly scanSeconds: readonly number[];
  readonly scanCpuSeconds: number;
  readonly scanRows: readonly Record<string, unknown>[];
  readonly duckPeakRssBytes?: number;
}

export interface FormatsResult {
  readonly options: FormatsOptions;
  readonly runs: readonly FormatRun[];
}

const env = { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };

async function gunzippedBytes(path: string): Promise<number> {
  let bytes = 0;
  for await (const chunk of createReadStream(path).pipe(createGunzip())) bytes += (chunk as Buffer).length;
  return bytes;
}

const sqlString = (value: string) => `'${value.replaceAll("'", "''")}'`;

/** The one-column query of each data set, on the files of one export. */
function scanSql(data: FormatRun['data'], format: FormatRun['format'], paths: readonly string[]): string {
  const list = `[${paths.map(sqlString).join(', ')}]`;
  const source = format === 'parquet' ? `read_parquet(${list})` : `read_json(${list})`;
  return data === 'workloads'
    ? `SELECT count(*) FILTER (WHERE managed) AS managed FROM ${source}`
    : `SELECT sum(service.port) AS port_sum FROM ${source}`;
}

async function runOne(
  data: FormatRun['data'],
  format: FormatRun['format'],
  options: FormatsOptions,
  dir: string,
  log: (line: string) => void,
): Promise<FormatRun & { paths: string[] }> {
  const until = '2026-11-20T00:00:00.000Z';
  const simulatorOptions = {
    dataset: { workloads: data === 'workloads' ? options.workloads : 200 },
    traffic: { flowsPerDay: options.flows, days: 2, until },
    rateLimitPerMinute: 500,
    maxRecordedRequests: 100_000,
  };
  const shape = format === 'parquet' ? { format: 'parquet' } : { format: 'ndjson', gzip: true };
  const input =
    data === 'workloads'
      ? { path: '/workloads', ...shape }
      : {
          kind: 'traffic',
          traffic: { start: '2026-11-19T00:00:00Z', end: '2026-11-20T00:00:00Z' },
          ...shape,
        };
  const fetchName = data === 'workloads' ? 'fetch' : 'traffic-fetch';
  const out = join(dir, `${data}-${format}`);
  const simulator = await spawnChild(new URL('../hosts/simulator-host.ts', import.meta.url), { env });
  const worker = await spawnChild(new URL('../workers/export-engine.ts', import.meta.url), { env });
  let result: ExportResult;
  try {
    const pce = await simulator.call<{ url: string; apiKey: string; apiSecret: string }>(
      'start',
      simulatorOptions,
    );
    log(`formats: ${data} as ${format}`);
    result = await worker.call<ExportResult>('run', { pce, input, isolate: [fetchName], copyTo: out });
  } finally {
    await Promise.all([worker.close(60_000), simulator.close()]);
  }
  const output = result.output ?? {};
  const suffix = format === 'parquet' ? '.parquet' : '.ndjson.gz';
  const files = result.files.filter((f) => f.key.endsWith(suffix) && !f.key.includes('/_'));
  const paths = files.map((f) => join(out, f.key));
  const fetch = result.functions[fetchName];
  const fetchCpuSeconds = fetch?.cpuSeconds ?? 0;
  const run = {
    data,
    format,
    status: result.status,
    ...(result.error ? { error: `${result.error}: ${result.cause ?? ''}`.slice(0, 500) } : {}),
    objects: files.length,
    rows: Number(output.objectCount ?? 0),
    storedBytes: files.reduce((a, f) => a + f.bytes, 0),
    datafileBytes: 0,
    exportSeconds: result.seconds,
    fetchCpuSeconds,
    fetchCpuSecondsPerGib: 0,
    fetchPeakRssBytes: fetch?.peakRssBytes ?? 0,
    fetchInvocations: fetch?.invocations ?? 0,
    query: scanSql(data, format, paths),
    scanSeconds: [],
    scanCpuSeconds: 0,
    scanRows: [],
    paths,
  };
  log(
    `formats: ${data} as ${format}: ${run.status}, ${run.rows} rows, ${run.storedBytes} bytes in ${files.length} files, ${run.exportSeconds.toFixed(0)} s, Fetch ${fetchCpuSeconds.toFixed(1)} CPU s${run.error ? `; ${run.error}` : ''}`,
  );
  return run;
}

async function scan(run: FormatRun & { paths: string[] }): Promise<FormatRun> {
  const { paths, ...rest } = run;
  if (run.status !== 'SUCCEEDED' || paths.length === 0) return rest;
  const duck = await spawnChild(new URL('../workers/duck.ts', import.meta.url), { env });
  try {
    const reply = await duck.call<ScanReply>('scan', { sql: run.query, repeats: 3 });
    return {
      ...rest,
      scanSeconds: reply.seconds,
      scanCpuSeconds: reply.cpuSeconds,
      scanRows: reply.rows,
      ...(reply.peakRssBytes === undefined ? {} : { duckPeakRssBytes: reply.peakRssBytes }),
    };
  } finally {
    await duck.close();
  }
}

export async function runFormats(
  options: FormatsOptions,
  log: (line: string) => void,
): Promise<FormatsResult> {
  const dir = await mkdtemp(join(tmpdir(), 'pce-export-bench-formats-'));
  const runs: FormatRun[] = [];
  try {
    for (const data of ['workloads', 'flows'] as const) {
      const ndjson = await runOne(data, 'ndjson.gz', options, dir, log);
      const parquet = await runOne(data, 'parquet', options, dir, log);
      // The same datafiles: their JSON bytes are the ndjson export's, decompressed.
      let datafileBytes = 0;
      for (const path of ndjson.paths) datafileBytes += await gunzippedBytes(path);
      for (const run of [ndjson, parquet]) {
        const scanned = await scan({
          ...run,
          datafileBytes,
          fetchCpuSecondsPerGib: datafileBytes === 0 ? 0 : run.fetchCpuSeconds / (datafileBytes / GIB),
        });
        log(
          `formats: ${data} as ${run.format}: DuckDB ${scanned.scanSeconds.map((s) => s.toFixed(2)).join(', ')} s → ${JSON.stringify(scanned.scanRows)}`,
        );
        runs.push(scanned);
      }
      await rm(join(dir, `${data}-ndjson.gz`), { recursive: true, force: true });
      await rm(join(dir, `${data}-parquet`), { recursive: true, force: true });
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return { options, runs };
}
