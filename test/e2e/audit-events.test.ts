import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExportOutput } from '../../lambdas/contracts/output';
import { type Duck, openDuck, sqlString } from '../support/duckdb';
import { type Harness, startHarness, succeeded } from './harness';

const HOUR = 3_600_000;

describe('events exports, run locally against the simulator', () => {
  let h: Harness;
  let duck: Duck;
  let dir: string;
  let start: string;
  let end: string;
  let expected: { href: string; timestamp: string; event_type: string }[];

  beforeAll(async () => {
    h = await startHarness();
    duck = await openDuck();
    dir = await mkdtemp(join(tmpdir(), 'pce-export-events-'));
    const now = h.simulator.clock.now();
    start = new Date(now - 50 * HOUR).toISOString();
    end = new Date(now - 2 * HOUR).toISOString();
    const served = await h.datafile('/events', { 'timestamp[gte]': start, 'timestamp[lte]': end });
    expected = JSON.parse(served.toString('utf8'));
  });
  afterAll(async () => {
    duck?.close();
    await rm(dir, { recursive: true, force: true });
    await h?.close();
  });

  it('export every event of the window through the async job API, as ndjson', async () => {
    const output = succeeded<ExportOutput>(
      await h.run({ kind: 'events', exportName: 'audit', events: { start, end } }),
    );

    const events = gunzipSync(await h.getObject(output.key))
      .toString('utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(expected.length).toBeGreaterThan(90);
    expect(events).toEqual(expected);
    expect(output).toMatchObject({ objectCount: expected.length, format: 'ndjson' });
    expect(events.every((e) => e.timestamp >= start && e.timestamp <= end)).toBe(true);
    expect(
      h.simulator.requests.some(
        (r) =>
          r.path === '/api/v2/orgs/1/events' &&
          r.headers.prefer === 'respond-async' &&
          r.query['timestamp[gte]'] === start &&
          r.query['timestamp[lte]'] === end,
      ),
    ).toBe(true);
  });

  it('carry the window in the object metadata and the manifest', async () => {
    const output = succeeded<ExportOutput>(
      await h.run({ kind: 'events', exportName: 'audit-meta', events: { start, end }, format: 'raw' }),
    );

    expect(await h.head(output.key)).toMatchObject({ kind: 'events', 'start-date': start, 'end-date': end });
    const manifest = JSON.parse((await h.getObject(output.manifestKey)).toString('utf8'));
    expect(manifest).toMatchObject({
      kind: 'events',
      path: '/events',
      events: { startDate: start, endDate: end },
    });
  });

  it('export the same events as Parquet, with a timestamp column and resource changes as a list', async () => {
    const output = succeeded<ExportOutput>(
      await h.run({ kind: 'events', exportName: 'audit-parquet', events: { start, end }, format: 'parquet' }),
    );
    const file = join(dir, 'events.parquet');
    await writeFile(file, await h.getObject(output.key));

    const rows = await duck.rows(
      `SELECT href, strftime(timestamp, '%Y-%m-%dT%H:%M:%S.%gZ') AS timestamp, event_type
       FROM read_parquet(${sqlString(file)})`,
    );
    expect(output.key.endsWith('.parquet')).toBe(true);
    expect(rows).toEqual(
      expected.map(({ href, timestamp, event_type }) => ({ href, timestamp, event_type })),
    );
    const [types] = await duck.rows(
      `SELECT typeof(any_value(timestamp)) AS ts, typeof(any_value(resource_changes)) AS changes,
              count(extra_json) AS extra FROM read_parquet(${sqlString(file)})`,
    );
    expect(types?.ts).toBe('TIMESTAMP');
    expect(String(types?.changes)).toMatch(
      /^STRUCT\(uuid VARCHAR, change_type VARCHAR, resource VARCHAR, changes MAP/,
    );
    expect(types?.extra).toBe('0');
  });
});
