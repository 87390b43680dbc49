import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { columnsOf } from '../../lambdas/export/formats/tables';
import { fault, type RunningSimulator, startSimulator } from '../../simulator/index';
import {
  columnTypes,
  type Duck,
  ndjsonObjects,
  openDuck,
  parquetObjects,
  sqlString,
} from '../support/duckdb';

// A loaded machine makes these tests slower, never wrong: they have no time limit.
vi.setConfig({ testTimeout: 0, hookTimeout: 0 });

/*
 * The acceptance, through the command line as a user runs it: the same simulated data,
 * exported by `pce-export run` as ndjson and as Parquet into a directory laid out as in S3, reads
 * the same through DuckDB, and the Parquet columns have their own types.
 */

const BIN = resolve(import.meta.dirname, '../../bin/pce-export.mjs');
const execute = promisify(execFile);
const WORKLOADS = 1_500;
/** The end of the simulated traffic, fixed so that two runs see the same flows. */
const TRAFFIC_UNTIL = '2026-11-20T00:00:00.000Z';

interface Output {
  localPath: string;
  objectCount: number;
  format: string;
  key: string;
  objects?: { exportName: string; key: string; objectCount: number }[];
}

describe('Parquet and ndjson exports of pce-export run, read through DuckDB', () => {
  let simulator: RunningSimulator;
  let duck: Duck;
  let out: string;
  const exported = new Map<string, string>();

  async function run(args: string[]): Promise<Output> {
    const result = await execute(
      process.execPath,
      [BIN, 'run', '--pce-url', simulator.url, '--org', '1', ...args],
      {
        env: {
          ...process.env,
          PCE_API_KEY: simulator.credentials.apiKey,
          PCE_API_SECRET: simulator.credentials.apiSecret,
        },
        maxBuffer: 16 * 1024 * 1024,
      },
    );
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    return JSON.parse(lines[0] ?? '') as Output;
  }

  /** The workloads exported in `format` (each format once, on first use). */
  async function workloads(format: 'ndjson' | 'parquet'): Promise<string> {
    const known = exported.get(format);
    if (known) return known;
    const output = await run(['--path', '/workloads', '--format', format, '--out', join(out, format)]);
    expect(output).toMatchObject({ objectCount: WORKLOADS, format });
    exported.set(format, output.localPath);
    return output.localPath;
  }

  beforeAll(async () => {
    simulator = await startSimulator({
      jobDurationMs: 300,
      retryAfterSeconds: 1,
      dataset: { workloads: WORKLOADS, labels: 60 },
      traffic: { until: TRAFFIC_UNTIL, flowsPerDay: 1_200, days: 2 },
    });
    duck = await openDuck();
    out = await mkdtemp(join(tmpdir(), 'pce-export-parquet-'));
  });
  afterAll(async () => {
    duck?.close();
    await simulator?.close();
    if (out) await rm(out, { recursive: true, force: true });
  });

  it('reads the same workloads from the Parquet export as from the ndjson export, row for row', async () => {
    const [ndjson, parquet] = [await workloads('ndjson'), await workloads('parquet')];

    expect(ndjson.endsWith('.ndjson.gz')).toBe(true);
    expect(parquet.endsWith('.parquet')).toBe(true);
    const fromNdjson = await ndjsonObjects(duck, ndjson);
    expect(fromNdjson).toHaveLength(WORKLOADS);
    expect(await parquetObjects(duck, parquet, columnsOf({ path: '/workloads' }))).toEqual(fromNdjson);
  });

  it('answers the same typed query on both exports: managed as a boolean, labels as a list', async () => {
    const [ndjson, parquet] = [await workloads('ndjson'), await workloads('parquet')];
    const query = (source: string) => `
      SELECT href, managed, online, hostname, enforcement_mode, created_at,
             [label.href FOR label IN labels] AS label_hrefs,
             len(interfaces) AS interfaces, ven.status AS ven_status
      FROM ${source}
      ORDER BY href`;

    const fromNdjson = await duck.rows(query(`read_json(${sqlString(ndjson)})`));
    const fromParquet = await duck.rows(query(`read_parquet(${sqlString(parquet)})`));
    expect(fromParquet).toHaveLength(WORKLOADS);
    expect(fromParquet).toEqual(fromNdjson);
    const [counts] = await duck.rows(
      `SELECT count(*) FILTER (WHERE managed) AS managed, count(*) FILTER (WHERE NOT managed) AS unmanaged,
              sum(len(labels)) AS labels
       FROM read_parquet(${sqlString(parquet)})`,
    );
    const [expected] = await duck.rows(
      `SELECT count(*) FILTER (WHERE managed) AS managed, count(*) FILTER (WHERE NOT managed) AS unmanaged,
              sum(len(labels)) AS labels
       FROM read_json(${sqlString(ndjson)})`,
    );
    expect(counts).toEqual(expected);
    expect(Number(counts?.managed)).toBeGreaterThan(0);
    expect(Number(counts?.unmanaged)).toBeGreaterThan(0);
  });

  it('types the Parquet columns: booleans, lists of structs, timestamps, integers, and a JSON string column', async () => {
    const parquet = await workloads('parquet');

    const types = await columnTypes(duck, `read_parquet(${sqlString(parquet)}, hive_partitioning = false)`);
    expect(types).toMatchObject({
      href: 'VARCHAR',
      managed: 'BOOLEAN',
      online: 'BOOLEAN',
      labels: 'STRUCT(href VARCHAR, "key" VARCHAR, "value" VARCHAR)[]',
      created_at: 'TIMESTAMP',
      updated_at: 'TIMESTAMP',
      extra_json: 'VARCHAR',
    });
    expect(types.interfaces).toMatch(/^STRUCT\(.*cidr_block INTEGER.*\)\[\]$/);
    const [unnested] = await duck.rows(
      `SELECT count(*) AS pairs, count(DISTINCT label.href) AS labels
       FROM read_parquet(${sqlString(parquet)}), UNNEST(labels) AS t(label)`,
    );
    expect(Number(unnested?.pairs)).toBeGreaterThan(WORKLOADS);
    expect(Number(unnested?.labels)).toBeGreaterThan(1);
  });

  it('keeps the fields it has no column for, and values that do not fit theirs, in extra_json', async () => {
    const served = ((await ndjsonObjects(duck, await workloads('ndjson'))) as Record<string, unknown>[])
      .slice(0, 40)
      .map((workload, i) => ({
        ...workload,
        risk_summary: { ransomware: { exposure: i % 3 } },
        ...(i % 4 === 0 ? { online: 'unknown' } : {}),
      }));
    const added = simulator.faults.add(
      fault.respond(200, {
        endpoint: 'datafile',
        body: served,
        headers: { 'content-type': 'application/json' },
      }),
    );
    try {
      const output = await run([
        '--path',
        '/workloads',
        '--format',
        'parquet',
        '--export-name',
        'workloads-extra',
        '--out',
        join(out, 'extra'),
      ]);

      expect(output.objectCount).toBe(served.length);
      expect(await parquetObjects(duck, output.localPath, columnsOf({ path: '/workloads' }))).toEqual(served);
      const [extra] = await duck.rows(
        `SELECT count(extra_json) AS rows,
                count(*) FILTER (WHERE json_extract_string(extra_json, '$.online') = 'unknown') AS mistyped,
                count(*) FILTER (WHERE online IS NULL) AS null_online
         FROM read_parquet(${sqlString(output.localPath)})`,
      );
      expect(extra).toEqual({ rows: '40', mistyped: '10', null_online: '10' });
    } finally {
      added.remove();
    }
  });

  it('reads the same labels, policy objects and traffic flows from a Parquet snapshot as from an ndjson one', async () => {
    const members = (format: string) => [
      { exportName: 'labels', path: '/labels', format },
      { exportName: 'label-groups', path: '/sec_policy/draft/label_groups', format },
      { exportName: 'services', path: '/sec_policy/draft/services', format },
      { exportName: 'ip-lists', path: '/sec_policy/draft/ip_lists', format },
      { exportName: 'rule-sets', path: '/sec_policy/active/rule_sets', format },
      {
        exportName: 'flows',
        kind: 'traffic',
        format,
        traffic: { start: '2026-11-19T00:00:00Z', end: '2026-11-19T12:00:00Z' },
      },
    ];
    const snapshot = async (format: string) => {
      const file = join(out, `snapshot-${format}.json`);
      await writeFile(
        file,
        JSON.stringify({ snapshot: { name: `all-${format}`, exports: members(format) } }),
      );
      return run(['--input-json', file, '--out', join(out, `snapshot-${format}`)]);
    };
    const ndjson = await snapshot('ndjson');
    const parquet = await snapshot('parquet');

    const subjects: Record<string, { kind?: string; path?: string }> = Object.fromEntries(
      members('parquet').map((member) => [member.exportName, member]),
    );
    for (const [i, object] of (parquet.objects ?? []).entries()) {
      const other = ndjson.objects?.[i];
      expect(object.key.endsWith(`${object.exportName}.parquet`)).toBe(true);
      expect(other?.exportName).toBe(object.exportName);
      const file = (key: string, root: Output) => join(root.localPath, key.slice(key.lastIndexOf('/') + 1));
      const fromNdjson = await ndjsonObjects(duck, file(other?.key ?? '', ndjson));
      const fromParquet = await parquetObjects(
        duck,
        file(object.key, parquet),
        columnsOf(subjects[object.exportName] ?? {}),
      );
      expect(fromNdjson.length, object.exportName).toBeGreaterThan(0);
      expect(fromParquet, object.exportName).toEqual(fromNdjson);
    }
    expect(parquet.objects?.map((object) => object.exportName)).toEqual(Object.keys(subjects));
  });
});
