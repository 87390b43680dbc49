import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { keyOf } from '../../bench/lib/flow-check';
import type { TrafficOutput } from '../../lambdas/contracts/traffic-run';
import type { TrafficManifest } from '../../lambdas/export/traffic/manifest';
import { type RunningSimulator, type SimulatorOptions, startSimulator } from '../../simulator/index';
import { simulatorOptions } from './traffic-support';

/*
 * The acceptance, through the command line: `pce-export run --traffic --since 24h
 * --max-results 200000 --format ndjson --no-gzip --out DIR` against the simulator's population
 * (inclusive window ends, 500 requests a minute, the 200,000 cap). Its cases are in two files, so
 * that two test workers share them.
 */

const BIN = resolve(import.meta.dirname, '../../bin/pce-export.mjs');
const exec = promisify(execFile);

interface Cli {
  readonly code: number;
  readonly output: Record<string, unknown>;
}

interface Population {
  readonly options: SimulatorOptions;
  readonly simulator: RunningSimulator;
  /** The simulator's CA, as a file for `--ca-file`. */
  readonly ca: string;
}

/** Registers the hooks of an acceptance file: a directory for the runs, simulators closed after each case. */
export function useTrafficCli() {
  let dir: string;
  const stops: (() => Promise<void>)[] = [];
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pce-export-traffic-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  afterEach(async () => {
    for (const stop of stops.splice(0)) await stop();
  });

  return {
    /** The `--out` directory of one case. */
    out: (name: string) => join(dir, name),

    /** A simulator with `traffic` as its population, up to now; closed after the case. */
    async population(traffic: NonNullable<SimulatorOptions['traffic']>): Promise<Population> {
      const options: SimulatorOptions = { traffic: { days: 2, ...traffic, until: new Date().toISOString() } };
      const simulator = await startSimulator(simulatorOptions(options));
      stops.push(() => simulator.close());
      const ca = join(dir, `ca-${simulator.url.split(':').at(-1)}.pem`);
      await writeFile(ca, simulator.caPem ?? '');
      return { options, simulator, ca };
    },

    /** The acceptance's command line, in a process of its own, as a user runs it. */
    async run(simulator: RunningSimulator, ca: string, out: string): Promise<Cli> {
      const args = [
        BIN,
        'run',
        '--pce-url',
        simulator.url,
        '--org',
        '1',
        '--ca-file',
        ca,
        '--traffic',
        '--since',
        '24h',
        '--max-results',
        '200000',
        '--format',
        'ndjson',
        '--no-gzip',
        '--out',
        out,
      ];
      const env = {
        ...process.env,
        PCE_API_KEY: simulator.credentials.apiKey,
        PCE_API_SECRET: simulator.credentials.apiSecret,
      };
      const result = await exec(process.execPath, args, { env, maxBuffer: 64 * 1024 * 1024 }).then(
        (r) => ({ code: 0, stdout: r.stdout }),
        (e: { code: number; stdout: string }) => e,
      );
      const last = result.stdout.trimEnd().split('\n').at(-1) ?? '{}';
      return { code: result.code, output: JSON.parse(last) as Record<string, unknown> };
    },
  };
}

/** The keys of every flow the run left in `out`, read from the window files its manifest lists. */
export async function exported(out: string, output: TrafficOutput) {
  const manifest = JSON.parse(await readFile(join(out, output.manifestKey), 'utf8')) as TrafficManifest;
  const keys: string[] = [];
  for (const window of manifest.windows) {
    const rows = (await readFile(join(out, window.key), 'utf8')).split('\n').filter((line) => line !== '');
    expect(rows).toHaveLength(window.objectCount);
    for (const row of rows) keys.push(keyOf(JSON.parse(row)));
  }
  return { manifest, keys };
}

/** No query is left on the PCE, and no request was answered 429. */
export function checkPce(simulator: RunningSimulator) {
  expect(simulator.trafficQueries().filter((q) => q.deletedAt === undefined)).toEqual([]);
  expect(simulator.requests.filter((r) => r.status === 429)).toEqual([]);
}
