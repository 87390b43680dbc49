import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readFileSync, rm, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { workloadsFor } from './fetch';

/*
 * Section 6: one datafile, in one run, through `pce-export run` (its defaults, and raw without
 * gzip), a naive Node.js download, curl, and what an SDK's get_collection does (Python, standard
 * library). The PCE is `pce-export simulate` in a process of its own; every client is a fresh
 * process whose wall time is measured from spawn to exit and whose peak RSS is the largest sum
 * of the RSS of it and all its descendants, sampled from /proc every 20 ms (Linux only).
 */

const REPO = join(import.meta.dirname, '..', '..');
const CLI = join(REPO, 'bin', 'pce-export.mjs');
const TICKS_PER_SECOND = 100;
const PAGE_BYTES = 4096;

export interface SideBySideSize {
  readonly label: string;
  readonly targetBytes: number;
  /** The simulator's workloads. @default about enough for targetBytes */
  readonly workloads?: number;
}

export interface ClientRun {
  readonly client: string;
  readonly seconds: number;
  /** Largest sum of the RSS of the process and its descendants. */
  readonly peakTreeRssBytes: number;
  /** CPU seconds of the process tree (as last sampled) and of the simulator meanwhile. */
  readonly cpuSeconds: number;
  readonly simulatorCpuSeconds: number;
  readonly exitCode: number | null;
}

export interface SideBySideResult {
  readonly label: string;
  readonly workloads: number;
  readonly datafileBytes: number;
  readonly runs: readonly ClientRun[];
}

interface ProcStat {
  readonly rssBytes: number;
  readonly ticks: number;
}

function procStat(pid: number): ProcStat | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After the name: state(0) … utime(11) stime(12) … rss(21), in pages.
    return {
      ticks: Number(fields[11]) + Number(fields[12]),
      rssBytes: Number(fields[21]) * PAGE_BYTES,
    };
  } catch {
    return undefined;
  }
}

function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .split(' ')
      .filter((s) => s !== '')
      .map(Number);
  } catch {
    return [];
  }
}

/** Runs a command to its exit, sampling the RSS and CPU of its process tree. */
async function measure(
  client: string,
  command: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  simulatorPid: number,
): Promise<ClientRun> {
  const simulatorBefore = procStat(simulatorPid)?.ticks ?? 0;
  const started = performance.now();
  const child = spawn(command, args, { env, stdio: ['ignore', 'ignore', 'ignore'] });
  const ticks = new Map<number, number>();
  let peak = 0;
  const sample = () => {
    if (child.pid === undefined) return;
    let total = 0;
    const pending = [child.pid];
    while (pending.length > 0) {
      const pid = pending.pop() as number;
      const stat = procStat(pid);
      if (stat === undefined) continue;
      total += stat.rssBytes;
      ticks.set(pid, stat.ticks);
      pending.push(...childrenOf(pid));
    }
    peak = Math.max(peak, total);
  };
  const timer = setInterval(sample, 20);
  const exitCode = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => resolve(code));
  });
  const seconds = (performance.now() - started) / 1000;
  clearInterval(timer);
  const simulatorAfter = procStat(simulatorPid)?.ticks ?? simulatorBefore;
  return {
    client,
    seconds,
    peakTreeRssBytes: peak,
    cpuSeconds: [...ticks.values()].reduce((a, b) => a + b, 0) / TICKS_PER_SECOND,
    simulatorCpuSeconds: (simulatorAfter - simulatorBefore) / TICKS_PER_SECOND,
    exitCode,
  };
}

interface Simulator {
  readonly process: ChildProcess;
  readonly apiBase: string;
}

async function startSimulator(workloads: number, env: NodeJS.ProcessEnv): Promise<Simulator> {
  const child = spawn(process.execPath, [CLI, 'simulate', '--port', '0', '--workloads', String(workloads)], {
    env,
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  let out = '';
  const apiBase = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`simulate exited with ${code}`)));
    child.stdout?.on('data', (data: Buffer) => {
      out += data.toString();
      const ready = out.split('\n').find((line) => line.startsWith('{"event":"ready"'));
      if (ready) resolve((JSON.parse(ready) as { apiBase: string }).apiBase);
    });
  });
  return { process: child, apiBase };
}

/** A finished job's datafile URL, for the clients that only download (curl). */
async function finishedDatafile(apiBase: string, headers: Record<string, string>): Promise<string> {
  const submitted = await fetch(`${apiBase}/orgs/1/workloads`, {
    headers: { ...headers, prefer: 'respond-async' },
  });
  const job = submitted.headers.get('location');
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    const status = (await (await fetch(`${apiBase}${job}`, { headers })).json()) as {
      status: string;
      result?: { href: string };
    };
    if (status.status === 'done' && status.result) return `${apiBase}${status.result.href}`;
  }
}

export async function runSideBySide(
  sizes: readonly SideBySideSize[],
  log: (line: string) => void,
): Promise<SideBySideResult[]> {
  const hasCurl = spawnSync('curl', ['--version']).status === 0;
  const hasPython = spawnSync('python3', ['--version']).status === 0;
  const env = {
    ...process.env,
    PCE_API_KEY: 'api_0123456789abcdef',
    PCE_API_SECRET: 'b'.repeat(64),
  };
  const results: SideBySideResult[] = [];
  for (const size of sizes) {
    const workloads = size.workloads ?? workloadsFor(size.targetBytes);
    const simulator = await startSimulator(workloads, env);
    const work = await promisify(mkdtemp)(join(tmpdir(), 'pce-export-side-'));
    const simulatorPid = simulator.process.pid ?? 0;
    const pceUrl = simulator.apiBase.replace(/\/api\/v2$/, '');
    const cli = (client: string, extra: readonly string[], out: string) =>
      measure(
        client,
        process.execPath,
        [
          CLI,
          'run',
          '--pce-url',
          pceUrl,
          '--org',
          '1',
          '--path',
          '/workloads',
          '--out',
          join(work, out),
          ...extra,
        ],
        env,
        simulatorPid,
      );
    try {
      log(`side by side ${size.label}: ${workloads} workloads; a first pce-export run fills its caches`);
      await cli('first run (not reported)', [], 'warm');
      const runs: ClientRun[] = [];
      runs.push(await cli('pce-export run (ndjson, gzip)', [], 'defaults'));
      runs.push(await cli('pce-export run --format raw --no-gzip', ['--format', 'raw', '--no-gzip'], 'raw'));
      runs.push(
        await measure(
          'naive Node.js (one request, body in memory, to a file)',
          process.execPath,
          [
            join(import.meta.dirname, '..', 'workers', 'naive-export.mjs'),
            simulator.apiBase,
            '1',
            '/workloads',
            join(work, 'naive.json'),
          ],
          env,
          simulatorPid,
        ),
      );
      if (hasPython) {
        runs.push(
          await measure(
            'SDK-like get_collection (Python: gzip, whole body parsed)',
            'python3',
            [
              join(import.meta.dirname, '..', 'workers', 'sdk-like-export.py'),
              simulator.apiBase,
              '1',
              '/workloads',
            ],
            env,
            simulatorPid,
          ),
        );
      }
      if (hasCurl) {
        const headers = {
          authorization: `Basic ${Buffer.from(`${env.PCE_API_KEY}:${env.PCE_API_SECRET}`).toString('base64')}`,
          accept: 'application/json',
        };
        const url = await finishedDatafile(simulator.apiBase, headers);
        runs.push(
          await measure(
            'curl (datafile of a finished job only)',
            'curl',
            ['-sf', '-u', `${env.PCE_API_KEY}:${env.PCE_API_SECRET}`, '-o', join(work, 'curl.json'), url],
            env,
            simulatorPid,
          ),
        );
      }
      const datafileBytes = statSync(join(work, 'naive.json'), { throwIfNoEntry: false })?.size ?? 0;
      for (const run of runs) {
        log(
          `  ${run.client}: ${run.seconds.toFixed(2)} s, ${(run.peakTreeRssBytes / 2 ** 20).toFixed(0)} MiB, exit ${run.exitCode}`,
        );
      }
      results.push({ label: size.label, workloads, datafileBytes, runs });
    } finally {
      simulator.process.kill();
      await promisify(rm)(work, { recursive: true, force: true });
    }
  }
  return results;
}
