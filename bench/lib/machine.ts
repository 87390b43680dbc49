import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg, totalmem } from 'node:os';

export interface Machine {
  readonly nproc: number;
  readonly cpuModel: string;
  readonly memoryBytes: number;
  /** `free -h` as printed. */
  readonly free: string;
  readonly node: string;
  readonly platform: string;
  readonly kernel: string;
}

function run(command: string, args: readonly string[]): string {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : '';
}

export function describeMachine(): Machine {
  let cpuModel = 'unknown';
  try {
    cpuModel =
      /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? cpuModel;
  } catch {
    // not Linux
  }
  return {
    nproc: Number(run('nproc', [])) || availableParallelism(),
    cpuModel,
    memoryBytes: totalmem(),
    free: run('free', ['-h']),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    kernel: run('uname', ['-r']),
  };
}

/** 1, 5 and 15 minute load averages. */
export function loadAverage(): readonly [number, number, number] {
  const [a = 0, b = 0, c = 0] = loadavg();
  return [a, b, c];
}

/** Processes other than this benchmark's using the most CPU right now (`ps`), for the record. */
export function busyProcesses(ownPids: ReadonlySet<number>, limit = 5): string[] {
  const out = run('ps', ['-eo', 'pid,pcpu,etime,args', '--sort=-pcpu', '--no-headers']);
  return out
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !ownPids.has(Number(line.split(/\s+/)[0])))
    .filter((line) => Number(line.split(/\s+/)[1]) >= 5)
    .slice(0, limit)
    .map((line) => line.slice(0, 160));
}

export interface SourceState {
  readonly commit: string;
  /** Files that differ from the commit (other work in progress in the same checkout). */
  readonly uncommitted: readonly string[];
}

/** The commit measured, and what in the checkout differed from it. */
export function describeSource(): SourceState {
  const status = spawnSync('git', ['status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' });
  return {
    commit: run('git', ['rev-parse', 'HEAD']),
    uncommitted: (status.stdout ?? '')
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => line.slice(3)),
  };
}
