/**
 * A PCE simulator in a process of its own, so that its CPU and memory are not the measured
 * process's. Methods: `start(options)` → {url, apiKey, apiSecret}, `stats()`, `clearRequests()`.
 */
import { startSimulator } from '../../simulator/index';
import type { RunningSimulator, SimulatorOptions } from '../../simulator/types';
import { serve } from '../lib/ipc';
import { mostInAnyWindow } from '../lib/per-minute';
import { cpuSeconds } from '../lib/process-stats';

export interface SimulatorStats {
  readonly cpu: { readonly user: number; readonly system: number };
  readonly rssBytes: number;
  readonly requests: number;
  readonly byEndpoint: Readonly<Record<string, number>>;
  readonly byStatus: Readonly<Record<string, number>>;
  /** Most requests that arrived within any 60 s. */
  readonly maxPerMinute: number;
  readonly firstAt?: number;
  readonly lastAt?: number;
}

let sim: RunningSimulator | undefined;

serve(
  {
    async start(options: SimulatorOptions) {
      sim = await startSimulator(options);
      return { url: sim.url, ...sim.credentials };
    },
    async stats(): Promise<SimulatorStats> {
      const requests = sim?.requests ?? [];
      const byEndpoint: Record<string, number> = {};
      const byStatus: Record<string, number> = {};
      for (const r of requests) {
        const endpoint = r.endpoint ?? 'unrouted';
        byEndpoint[endpoint] = (byEndpoint[endpoint] ?? 0) + 1;
        const status = String(r.status ?? 'none');
        byStatus[status] = (byStatus[status] ?? 0) + 1;
      }
      const maxPerMinute = mostInAnyWindow(requests.map((r) => r.time));
      return {
        cpu: cpuSeconds(),
        rssBytes: process.memoryUsage.rss(),
        requests: requests.length,
        byEndpoint,
        byStatus,
        maxPerMinute,
        ...(requests.length > 0
          ? { firstAt: requests[0]?.time, lastAt: requests[requests.length - 1]?.time }
          : {}),
      };
    },
    /** Traffic queries made so far, and those never deleted. */
    async trafficQueries() {
      const queries = sim?.trafficQueries() ?? [];
      return { made: queries.length, open: queries.filter((q) => q.deletedAt === undefined).length };
    },
    async clearRequests() {
      if (sim) sim.requests.length = 0;
      return null;
    },
  },
  async () => {
    await sim?.close();
  },
);
