import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { TrafficOutput } from '../../lambdas/contracts/traffic-run';
import type { TrafficManifest } from '../../lambdas/export/traffic/manifest';
import { type RunningSimulator, type SimulatorOptions, startSimulator } from '../../simulator/index';
import { duplicates, expectedKeys, keyOf, missingFrom, simulatorOptions } from './traffic-support';

/*
 * The acceptance, through the command line: `pce-export run --traffic --since 24h
 * --max-results 200000 --format ndjson --no-gzip --out DIR` against the simulator's population
 * (inclusive window ends, 500 requests a minute, the 200,000 cap). Every flow of the range is
 * in DIR exactly once, no query is left on the PCE, no request was answered 429, and a window
 * that cannot be split fails the run.
 */

const BIN = resolve(import.meta.dirname, '../../bin/pce-export.mjs');
const exec = promisify(execFile);
const HOUR = 3_600_000;

interface Cli {
  readonly code: number;
  readonly output: Record<string, unknown>;
  readonly stderr: string;
}

describe('pce-export run --traffic past the 200,000 cap', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pce-export-traffic-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** A simulator with `traffic` as its population, up to now. */
  async function population(traffic: NonNullable<SimulatorOptions['traffic']>) {
    const options: SimulatorOptions = { traffic: { days: 2, ...traffic, until: new Date().toISOString() } };
    const simulator = await startSimulator(simulatorOptions(options));
    const ca = join(dir, `ca-${simulator.url.split(':').at(-1)}.pem`);
    await writeFile(ca, simulator.caPem ?? '');
    return { options, simulator, ca };
  }

  async function run(
    simulator: RunningSimulator,
    ca: string,
    out: string,
    extra: string[] = [],
  ): Promise<Cli> {
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
      ...extra,
    ];
    const env = {
      ...process.env,
      PCE_API_KEY: simulator.credentials.apiKey,
      PCE_API_SECRET: simulator.credentials.apiSecret,
    };
    const result = await exec(process.execPath, args, { env, maxBuffer: 64 * 1024 * 1024 }).then(
      (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
      (e: { code: number; stdout: string; stderr: string }) => e,
    );
    const last = result.stdout.trimEnd().split('\n').at(-1) ?? '{}';
    return { code: result.code, output: JSON.parse(last) as Record<string, unknown>, stderr: result.stderr };
  }

  /** The keys of every flow the run left in `out`, read from the window files its manifest lists. */
  async function exported(out: string, output: TrafficOutput) {
    const manifest = JSON.parse(await readFile(join(out, output.manifestKey), 'utf8')) as TrafficManifest;
    const keys: string[] = [];
    for (const window of manifest.windows) {
      const rows = (await readFile(join(out, window.key), 'utf8')).split('\n').filter((line) => line !== '');
      expect(rows).toHaveLength(window.objectCount);
      for (const row of rows) keys.push(keyOf(JSON.parse(row)));
    }
    return { manifest, keys };
  }

  function checkPce(simulator: RunningSimulator) {
    expect(simulator.trafficQueries().filter((q) => q.deletedAt === undefined)).toEqual([]);
    expect(simulator.requests.filter((r) => r.status === 429)).toEqual([]);
  }

  const stops: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const stop of stops.splice(0)) await stop();
  });

  it('exports 450,000 flows of a day exactly once, in windows under the cap', async () => {
    const { options, simulator, ca } = await population({ flowsPerDay: 450_000 });
    stops.push(() => simulator.close());
    const out = join(dir, 'uniform');

    const { code, output } = await run(simulator, ca, out);

    expect(code, JSON.stringify(output)).toBe(0);
    const result = output as unknown as TrafficOutput;
    const { manifest, keys } = await exported(out, result);
    const expected = expectedKeys(options, { start: result.startDate, end: result.endDate });
    expect(expected.length).toBeGreaterThan(400_000);
    expect(duplicates(keys)).toEqual([]);
    expect(missingFrom(expected, keys)).toEqual([]);
    expect(keys).toHaveLength(expected.length);
    expect(result).toMatchObject({ complete: true, objectCount: expected.length });
    expect(manifest.windows.length).toBeGreaterThanOrEqual(3);
    for (const window of manifest.windows) {
      expect(window.flowsCount).toBeLessThan(200_000);
      expect(window).toMatchObject({ flowsCount: window.matchesCount });
    }
    checkPce(simulator);
  });

  it('exports a burst of 210,000 flows within one minute exactly once', async () => {
    const at = new Date(Date.now() - 6 * HOUR).toISOString();
    const { options, simulator, ca } = await population({
      flowsPerDay: 20_000,
      burst: { at, flows: 210_000, seconds: 60 },
    });
    stops.push(() => simulator.close());
    const out = join(dir, 'burst');

    const { code, output } = await run(simulator, ca, out);

    expect(code, JSON.stringify(output)).toBe(0);
    const result = output as unknown as TrafficOutput;
    const { manifest, keys } = await exported(out, result);
    const expected = expectedKeys(options, { start: result.startDate, end: result.endDate });
    expect(expected.length).toBeGreaterThan(210_000);
    expect(duplicates(keys)).toEqual([]);
    expect(missingFrom(expected, keys)).toEqual([]);
    expect(keys).toHaveLength(expected.length);
    expect(result).toMatchObject({ complete: true, objectCount: expected.length });
    expect(manifest.windows.length).toBeGreaterThan(2);
    checkPce(simulator);
  });

  it('splits by policy decision a burst that no minute can hold under the cap, and exports it exactly once', async () => {
    const at = new Date(Date.now() - 6 * HOUR).toISOString();
    const { options, simulator, ca } = await population({
      flowsPerDay: 20_000,
      burst: { at, flows: 450_000, seconds: 1 },
    });
    stops.push(() => simulator.close());
    const out = join(dir, 'burst-decisions');

    // Twice the cap in one second: whichever minute slices it falls in, one holds more than the
    // cap, and a quarter of it (one decision) fits.
    const { code, output } = await run(simulator, ca, out);

    expect(code, JSON.stringify(output)).toBe(0);
    const result = output as unknown as TrafficOutput;
    const { manifest, keys } = await exported(out, result);
    const expected = expectedKeys(options, { start: result.startDate, end: result.endDate });
    expect(expected.length).toBeGreaterThan(450_000);
    expect(duplicates(keys)).toEqual([]);
    expect(missingFrom(expected, keys)).toEqual([]);
    expect(keys).toHaveLength(expected.length);
    expect(result).toMatchObject({ complete: true, objectCount: expected.length });
    expect(manifest.windows.some((w) => w.decision !== undefined)).toBe(true);
    checkPce(simulator);
  });

  it('fails with TrafficIncomplete on a burst no split can bring under the cap, leaving no query behind', async () => {
    const at = new Date(Date.now() - 6 * HOUR).toISOString();
    const { simulator, ca } = await population({
      flowsPerDay: 20_000,
      // Twice the cap in one second of one service: whichever minute slices it falls in, one holds
      // more than the cap.
      burst: { at, flows: 400_002, seconds: 1, shape: 'uniform' },
    });
    stops.push(() => simulator.close());
    const out = join(dir, 'unsplittable');

    const { code, output } = await run(simulator, ca, out);

    expect(code).toBe(1);
    expect(output).toMatchObject({ error: 'TrafficIncomplete' });
    expect(String(output.cause)).toContain('cannot be split further');
    checkPce(simulator);
  });
});
