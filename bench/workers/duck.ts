/**
 * DuckDB in a process of its own. Method `scan({sql, repeats})`: runs the statement `repeats`
 * times on one in-memory database and answers with each run's wall seconds and the first run's
 * rows (JSON-safe), and the process's CPU seconds and peak RSS.
 */
import { DuckDBInstance } from '@duckdb/node-api';
import { serve } from '../lib/ipc';
import { cpuDelta, cpuSeconds, peakRssBytes } from '../lib/process-stats';

export interface ScanReply {
  readonly seconds: readonly number[];
  readonly cpuSeconds: number;
  readonly rows: readonly Record<string, unknown>[];
  readonly peakRssBytes?: number;
}

serve({
  async scan(request: { sql: string; repeats: number }): Promise<ScanReply> {
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    try {
      await connection.run("SET TimeZone = 'UTC'");
      const seconds: number[] = [];
      let rows: Record<string, unknown>[] = [];
      const cpu = cpuSeconds();
      for (let i = 0; i < request.repeats; i++) {
        const started = performance.now();
        const reader = await connection.runAndReadAll(request.sql);
        seconds.push((performance.now() - started) / 1000);
        if (i === 0) rows = reader.getRowObjectsJson() as Record<string, unknown>[];
      }
      // DuckDB's own threads are in this process too: the CPU is the process's.
      return { seconds, cpuSeconds: cpuDelta(cpu, cpuSeconds()), rows, peakRssBytes: peakRssBytes() };
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
  },
});
