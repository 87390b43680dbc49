import { DuckDBInstance } from '@duckdb/node-api';
import { EXTRA_COLUMN, type Fields, type FieldType } from '../../lambdas/export/formats/schema';

/** A DuckDB connection that answers with JSON-safe rows (bigints as strings, times as text). */
export interface Duck {
  rows(sql: string): Promise<Record<string, unknown>[]>;
  close(): void;
}

/** An in-memory DuckDB, in UTC, for reading exports the way Athena would. */
export async function openDuck(): Promise<Duck> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  await connection.run("SET TimeZone = 'UTC'");
  return {
    async rows(sql) {
      const reader = await connection.runAndReadAll(sql);
      return reader.getRowObjectsJson() as Record<string, unknown>[];
    },
    close() {
      connection.closeSync();
      instance.closeSync();
    },
  };
}

/** The type DuckDB gives each column it reads from `source` (e.g. `read_parquet('…')`), by column name. */
export async function columnTypes(duck: Duck, source: string): Promise<Record<string, unknown>> {
  const described = await duck.rows(`DESCRIBE SELECT * FROM ${source}`);
  return Object.fromEntries(described.map((row) => [row.column_name, row.column_type]));
}

/** `'…'` with quotes doubled, for a path in a DuckDB statement. */
export function sqlString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** A DuckDB TIMESTAMP as JSON gives it (`2026-01-01 10:00:00.12`), in the PCE's form (`…T10:00:00.120Z`). */
function isoOf(text: string): string {
  return new Date(`${text.replace(' ', 'T')}Z`).toISOString();
}

/** A column value as to_json gives it, back in the form the PCE wrote it (times as ISO text, JSON columns parsed). */
function fromColumn(value: unknown, type: FieldType): unknown {
  if (value === null || value === undefined) return null;
  switch (type.kind) {
    case 'timestamp':
      return isoOf(String(value));
    case 'json':
      return JSON.parse(String(value));
    case 'list':
      return (value as unknown[]).map((item) => fromColumn(item, type.items));
    case 'map':
      return Object.fromEntries(
        Object.entries(value as Record<string, unknown>).map(([key, item]) => [
          key,
          fromColumn(item, type.values),
        ]),
      );
    case 'struct':
      return Object.fromEntries(
        Object.entries(type.fields).map(([name, field]) => [
          name,
          fromColumn((value as Record<string, unknown>)[name], field),
        ]),
      );
    default:
      return value;
  }
}

/** `value` without its null members, at any depth (Parquet cannot tell a null from a missing field). */
export function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, member]) => member !== null && member !== undefined)
      .map(([key, member]) => [key, withoutNulls(member)]),
  );
}

/**
 * The objects of a Parquet export read back through DuckDB: each row's columns in the PCE's
 * forms, overlaid with its `extra_json`, without nulls; in the file's order.
 */
export async function parquetObjects(duck: Duck, file: string, columns: Fields): Promise<unknown[]> {
  const rows = await duck.rows(
    `SELECT to_json(t) AS row FROM read_parquet(${sqlString(file)}, hive_partitioning = false) t`,
  );
  return rows.map(({ row }) => {
    const parsed = JSON.parse(String(row)) as Record<string, unknown>;
    const object: Record<string, unknown> = {};
    for (const [name, type] of Object.entries(columns)) object[name] = fromColumn(parsed[name], type);
    const extra = parsed[EXTRA_COLUMN];
    if (typeof extra === 'string') Object.assign(object, JSON.parse(extra));
    return withoutNulls(object);
  });
}

/** The objects of an ndjson (or ndjson.gz) export read through DuckDB, without nulls, in the file's order. */
export async function ndjsonObjects(duck: Duck, file: string): Promise<unknown[]> {
  const rows = await duck.rows(`SELECT json FROM read_ndjson_objects(${sqlString(file)})`);
  return rows.map(({ json }) => withoutNulls(JSON.parse(String(json))));
}
