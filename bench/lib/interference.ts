import { readdirSync, readFileSync } from 'node:fs';

/*
 * How much CPU other work on the machine used while the benchmark ran: every `intervalMs`, the
 * CPU time of every process (from /proc) that is not this process or one of its descendants.
 * Linux only; elsewhere it reports nothing. Processes that start and end between two samples
 * are missed, so the figure is a lower bound.
 */

const TICKS_PER_SECOND = 100;

interface ProcSample {
  readonly ppid: number;
  readonly ticks: number;
  readonly name: string;
}

function readProcs(): Map<number, ProcSample> {
  const procs = new Map<number, ProcSample>();
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return procs;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const name = stat.slice(stat.indexOf('(') + 1, close);
      const fields = stat.slice(close + 2).split(' ');
      // After the name: state(0) ppid(1) … utime(11) stime(12)
      procs.set(Number(entry), {
        ppid: Number(fields[1]),
        ticks: Number(fields[11]) + Number(fields[12]),
        name,
      });
    } catch {
      // the process ended while we looked
    }
  }
  return procs;
}

function isOurs(pid: number, procs: Map<number, ProcSample>, root: number): boolean {
  let current: number | undefined = pid;
  for (let depth = 0; current !== undefined && current > 1 && depth < 64; depth++) {
    if (current === root) return true;
    current = procs.get(current)?.ppid;
  }
  return false;
}

export interface InterferenceWindow {
  readonly seconds: number;
  /** CPU seconds used by processes outside the benchmark. */
  readonly foreignCpuSeconds: number;
  /** foreignCpuSeconds / seconds: how many cores other work kept busy on average. */
  readonly foreignCores: number;
  /** The busiest foreign process names with their CPU seconds. */
  readonly top: readonly { readonly name: string; readonly cpuSeconds: number }[];
}

export class InterferenceMonitor {
  private previous = readProcs();
  private readonly foreign = new Map<string, number>();
  private total = 0;
  private started = performance.now();
  private readonly timer: NodeJS.Timeout;

  constructor(intervalMs = 2000) {
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  private sample(): void {
    const now = readProcs();
    for (const [pid, proc] of now) {
      if (isOurs(pid, now, process.pid)) continue;
      const before = this.previous.get(pid);
      // A process first seen now started since the last sample: all its CPU time is new.
      const delta = (proc.ticks - (before?.ticks ?? 0)) / TICKS_PER_SECOND;
      if (delta <= 0) continue;
      this.total += delta;
      this.foreign.set(proc.name, (this.foreign.get(proc.name) ?? 0) + delta);
    }
    this.previous = now;
  }

  /** Figures since the last call (or since the start), then starts a new window. */
  window(): InterferenceWindow {
    this.sample();
    const seconds = (performance.now() - this.started) / 1000;
    const result: InterferenceWindow = {
      seconds,
      foreignCpuSeconds: this.total,
      foreignCores: seconds > 0 ? this.total / seconds : 0,
      top: [...this.foreign.entries()]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 4)
        .map(([name, cpuSeconds]) => ({ name, cpuSeconds })),
    };
    this.total = 0;
    this.foreign.clear();
    this.started = performance.now();
    return result;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
