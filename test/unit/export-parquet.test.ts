import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { extensionOf, formatStages } from '../../lambdas/export/formats';
import { EXTRA_COLUMN, hiveColumns, rowConverter } from '../../lambdas/export/formats/schema';
import { columnsOf } from '../../lambdas/export/formats/tables';
import { JsonArrayTransform } from '../../lambdas/export/json-array-transform';
import { DEFAULT_DATASET, OrgData } from '../../simulator/data';
import { columnTypes, type Duck, openDuck, sqlString } from '../support/duckdb';

let dir: string;
let duck: Duck;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pce-export-parquet-'));
  duck = await openDuck();
});
afterAll(async () => {
  duck.close();
  await rm(dir, { recursive: true, force: true });
});

const data = new OrgData(1, 7, { ...DEFAULT_DATASET, workloads: 500, labels: 40 });

function collection(path: string): Record<string, unknown>[] {
  const objects = data.collection(path);
  if (!objects) throw new Error(`no collection ${path}`);
  return Array.from({ length: objects.size }, (_, i) => objects.object(i));
}

/** Runs a JSON array through the copy's scanner and the format's stages into a file. */
async function writeParquet(
  name: string,
  objects: readonly unknown[],
  options: {
    path?: string;
    kind?: string;
    gzip?: boolean;
    rowGroupRows?: number;
    rowGroupBytes?: number;
  } = {},
): Promise<string> {
  const file = join(dir, `${name}.parquet`);
  const output = await formatStages('parquet', {
    gzip: options.gzip ?? true,
    table: { kind: options.kind ?? 'collection', path: options.path },
    rowGroup: {
      ...(options.rowGroupRows === undefined ? {} : { rowGroupRows: options.rowGroupRows }),
      ...(options.rowGroupBytes === undefined ? {} : { rowGroupBytes: options.rowGroupBytes }),
    },
  });
  const body = Buffer.from(JSON.stringify(objects, null, 1));
  const chunks = Array.from({ length: Math.ceil(body.length / 4096) }, (_, i) =>
    body.subarray(i * 4096, (i + 1) * 4096),
  );
  await pipeline([
    Readable.from(chunks),
    new JsonArrayTransform({ format: output.scan }),
    ...(output.stage ? [output.stage] : []),
    createWriteStream(file),
  ]);
  return sqlString(file);
}

describe('parquet format', () => {
  it('writes workloads with typed columns: managed a boolean, labels a list, times timestamps', async () => {
    const workloads = collection('workloads');
    const file = await writeParquet('workloads', workloads, { path: '/workloads' });

    const types = await columnTypes(duck, `read_parquet(${file})`);
    expect(types).toMatchObject({
      href: 'VARCHAR',
      managed: 'BOOLEAN',
      online: 'BOOLEAN',
      labels: 'STRUCT(href VARCHAR, "key" VARCHAR, "value" VARCHAR)[]',
      created_at: 'TIMESTAMP',
      [EXTRA_COLUMN]: 'VARCHAR',
    });
    expect(types.interfaces).toMatch(/^STRUCT\("name" VARCHAR, address VARCHAR, cidr_block INTEGER/);

    const [summary] = await duck.rows(
      `SELECT count(*) AS rows, count_if(managed) AS managed, count(${EXTRA_COLUMN}) AS extra FROM read_parquet(${file})`,
    );
    expect(summary).toEqual({
      rows: String(workloads.length),
      managed: String(workloads.filter((w) => w.managed === true).length),
      extra: '0',
    });
  });

  it('keeps every value: each workload reads back with the hrefs of its labels and its times', async () => {
    const workloads = collection('workloads').slice(0, 50);
    const file = await writeParquet('labels-back', workloads, { path: '/workloads' });

    const rows = await duck.rows(
      `SELECT href, [l.href FOR l IN labels] AS labels, strftime(created_at, '%Y-%m-%dT%H:%M:%S.%gZ') AS created_at
       FROM read_parquet(${file}) ORDER BY href`,
    );
    const expected = workloads
      .map((w) => ({
        href: w.href,
        labels: (w.labels as { href: string }[]).map((l) => l.href),
        created_at: w.created_at,
      }))
      .sort((a, b) => String(a.href).localeCompare(String(b.href)));
    expect(rows).toEqual(expected);
  });

  it('unnests nested lists, so labels can be joined', async () => {
    const workloads = collection('workloads');
    const file = await writeParquet('unnest', workloads, { path: '/workloads' });

    const [row] = await duck.rows(
      `SELECT count(*) AS pairs FROM read_parquet(${file}) w, unnest(w.labels) AS t(label)`,
    );
    const pairs = workloads.reduce((sum, w) => sum + (w.labels as unknown[]).length, 0);
    expect(row?.pairs).toBe(String(pairs));
  });

  it('puts fields without a column, and values that do not fit theirs, into extra_json unchanged', async () => {
    const objects = [
      { href: '/orgs/1/labels/1', key: 'env', value: 'Prod', brand_new: { nested: [1, 2] } },
      { href: '/orgs/1/labels/2', key: 7, value: 'Dev', created_at: '2026-01-01T00:00:00Z' },
    ];
    const file = await writeParquet('extra', objects, { path: '/labels' });

    const rows = await duck.rows(
      `SELECT href, "key", ${EXTRA_COLUMN} AS extra, created_at::VARCHAR AS created_at FROM read_parquet(${file}) ORDER BY href`,
    );
    expect(rows.map((row) => ({ ...row, extra: row.extra && JSON.parse(String(row.extra)) }))).toEqual([
      { href: '/orgs/1/labels/1', key: 'env', extra: { brand_new: { nested: [1, 2] } }, created_at: null },
      {
        href: '/orgs/1/labels/2',
        key: null,
        extra: { key: 7, created_at: '2026-01-01T00:00:00Z' },
        created_at: '2026-01-01 00:00:00',
      },
    ]);
  });

  it('keeps an undeclared nested field by keeping its whole top-level field in extra_json', () => {
    const toRow = rowConverter(columnsOf({ path: '/workloads' }));
    const ven = { href: '/orgs/1/vens/1', status: 'active', cloud_region: 'eu-1' };

    const row = toRow({ href: '/orgs/1/workloads/1', ven });

    expect(row.ven).toMatchObject({ href: '/orgs/1/vens/1', status: 'active' });
    expect(JSON.parse(String(row[EXTRA_COLUMN]))).toEqual({ ven });
  });

  it('writes row groups of a bounded size', async () => {
    const workloads = collection('workloads');
    const file = await writeParquet('groups', workloads, { path: '/workloads', rowGroupRows: 120 });

    const groups = await duck.rows(
      `SELECT DISTINCT row_group_id, row_group_num_rows FROM parquet_metadata(${file}) ORDER BY row_group_id`,
    );
    expect(groups.map((group) => Number(group.row_group_num_rows))).toEqual([120, 120, 120, 120, 20]);
  });

  it('bounds row groups by their JSON bytes too, and a file of many groups reads back whole', async () => {
    const workloads = collection('workloads');
    const bound = 16 * 1024;
    // A group closes with the line that reaches the bound: its compact JSON bytes, newline excluded.
    const expected: number[] = [];
    let rows = 0;
    let bytes = 0;
    for (const workload of workloads) {
      rows++;
      bytes += Buffer.byteLength(JSON.stringify(workload));
      if (bytes >= bound) {
        expected.push(rows);
        rows = 0;
        bytes = 0;
      }
    }
    if (rows > 0) expected.push(rows);
    const file = await writeParquet('byte-groups', workloads, { path: '/workloads', rowGroupBytes: bound });

    const groups = await duck.rows(
      `SELECT DISTINCT row_group_id, row_group_num_rows FROM parquet_metadata(${file}) ORDER BY row_group_id`,
    );
    expect(expected.length).toBeGreaterThan(30);
    expect(groups.map((group) => Number(group.row_group_num_rows))).toEqual(expected);
    const read = await duck.rows(`SELECT href, managed, len(labels) AS labels FROM ${file}`);
    expect(read).toEqual(
      workloads.map((w) => ({
        href: w.href,
        managed: w.managed,
        labels: String((w.labels as unknown[]).length),
      })),
    );
  });

  it('compresses pages with GZIP when gzip is on and with Snappy when it is off', async () => {
    const labels = collection('labels');
    const gzip = await writeParquet('gzip', labels, { path: '/labels', gzip: true });
    const snappy = await writeParquet('snappy', labels, { path: '/labels', gzip: false });

    const codecs = async (file: string) =>
      (await duck.rows(`SELECT DISTINCT compression FROM parquet_metadata(${file})`)).map(
        (r) => r.compression,
      );
    expect(await codecs(gzip)).toEqual(['GZIP']);
    expect(await codecs(snappy)).toEqual(['SNAPPY']);
    expect(extensionOf('parquet', true)).toBe('parquet');
  });

  it('writes a readable file with no rows for an empty collection', async () => {
    const file = await writeParquet('empty', [], { path: '/labels' });

    const [row] = await duck.rows(`SELECT count(*) AS rows FROM read_parquet(${file})`);
    expect(row?.rows).toBe('0');
  });

  it('writes traffic flows and audit events with their own tables', async () => {
    const events = collection('events').slice(0, 200);
    const flows = [
      {
        src: {
          ip: '10.0.0.1',
          workload: { href: '/orgs/1/workloads/a', labels: [{ href: '/orgs/1/labels/1' }] },
        },
        dst: { ip: '10.0.0.2' },
        service: { port: 443, proto: 6 },
        num_connections: 12,
        timestamp_range: {
          first_detected: '2026-11-30T00:00:00.000Z',
          last_detected: '2026-11-30T00:10:00.000Z',
        },
        dst_bi: 2 ** 40,
        policy_decision: 'allowed',
      },
    ];
    const eventsFile = await writeParquet('events', events, { kind: 'events', path: '/events' });
    const flowsFile = await writeParquet('flows', flows, { kind: 'traffic' });

    const [event] = await duck.rows(
      `SELECT count(*) AS rows, count(${EXTRA_COLUMN}) AS extra, typeof(any_value(timestamp)) AS type,
              sum(len(resource_changes)) AS changes FROM read_parquet(${eventsFile})`,
    );
    expect(event).toEqual({
      rows: '200',
      extra: '0',
      type: 'TIMESTAMP',
      changes: String(events.reduce((sum, e) => sum + (e.resource_changes as unknown[]).length, 0)),
    });
    const [flow] = await duck.rows(
      `SELECT service.port AS port, dst_bi, typeof(dst_bi) AS type, timestamp_range.first_detected::VARCHAR AS first
       FROM read_parquet(${flowsFile})`,
    );
    expect(flow).toEqual({
      port: 443,
      dst_bi: String(2 ** 40),
      type: 'BIGINT',
      first: '2026-11-30 00:00:00',
    });
  });

  it('declares the same columns to Glue as it writes, with extra_json last', () => {
    const columns = hiveColumns(columnsOf({ path: '/workloads' }), 'parquet');

    expect(columns.at(-1)).toEqual([EXTRA_COLUMN, 'string']);
    expect(Object.fromEntries(columns)).toMatchObject({
      managed: 'boolean',
      labels: 'array<struct<href:string,key:string,value:string>>',
      created_at: 'timestamp',
    });
    expect(Object.fromEntries(hiveColumns(columnsOf({ path: '/workloads' }), 'ndjson'))).toMatchObject({
      created_at: 'string',
    });
  });
});
