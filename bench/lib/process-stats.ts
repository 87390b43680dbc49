import { readFileSync } from 'node:fs';

/** Samples this process's resident set size every `intervalMs` and keeps the largest value. */
export class RssSampler {
  private peak = process.memoryUsage.rss();
  private readonly timer: NodeJS.Timeout;

  constructor(intervalMs = 50) {
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  sample(): number {
    const rss = process.memoryUsage.rss();
    if (rss > this.peak) this.peak = rss;
    return rss;
  }

  /** Stops sampling; returns the largest RSS seen, in bytes. */
  stop(): number {
    clearInterval(this.timer);
    this.sample();
    return this.peak;
  }
}

/** Peak RSS of this process since it started (VmHWM), in bytes; undefined off Linux. */
export function peakRssBytes(): number | undefined {
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    const kib = /^VmHWM:\s+(\d+)\s+kB/m.exec(status)?.[1];
    return kib === undefined ? undefined : Number(kib) * 1024;
  } catch {
    return undefined;
  }
}

export interface CpuSeconds {
  readonly user: number;
  readonly system: number;
}

/** CPU seconds this process has used so far. */
export function cpuSeconds(): CpuSeconds {
  const usage = process.cpuUsage();
  return { user: usage.user / 1e6, system: usage.system / 1e6 };
}

export function cpuDelta(before: CpuSeconds, after: CpuSeconds): number {
  return after.user - before.user + (after.system - before.system);
}
