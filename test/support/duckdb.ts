import { DuckDBInstance } from '@duckdb/node-api';

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

/** `'…'` with quotes doubled, for a path in a DuckDB statement. */
export function sqlString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}
