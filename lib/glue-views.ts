import { CfnTable } from 'aws-cdk-lib/aws-glue';
import type { Construct } from 'constructs';
import { CHANGE_COLUMNS, CURRENT_RUN_COLUMNS } from '../lambdas/export/changes/rows';
import { hiveColumns } from '../lambdas/export/formats/schema';

/*
 * The tables and the view that sit beside an export's own table:
 *
 *   {table}_changes      the change history, {prefix}{export}/_changes/dt=…/ (ndjson, projected dt)
 *   {table}_current_run  the one-line pointer {prefix}{export}/_current/run.json to the newest run
 *   {table}_current      a view of {table} that reads only that run
 *
 * The view is a Glue table of type VIRTUAL_VIEW holding Athena's (Presto's) view definition,
 * which is what `CREATE VIEW` in Athena writes to the catalog, so CloudFormation creates and
 * deletes it with the stack. (An AWS::Athena::NamedQuery would only save the SQL: nobody could
 * SELECT from it.) The pointer is written after the run's manifest and latest.json, so the view
 * never sees a run that did not complete.
 */

/** What a table builder needs: where, in which database, and the common parameters. */
export interface TableContext {
  readonly scope: Construct;
  readonly catalogId: string;
  readonly databaseRef: string;
  readonly databaseName: string;
  /** `s3://{bucket}/{prefix}{exportName}/` */
  readonly exportLocation: string;
  /** The export's own table name. */
  readonly table: string;
  readonly exportName: string;
  /** What the constructs' ids are made of: the export's name, `{pce}-{name}` with several PCEs. */
  readonly id: string;
  readonly projection: Readonly<Record<string, string>>;
}

const JSON_SERDE = 'org.openx.data.jsonserde.JsonSerDe';
const TEXT_FORMAT = {
  inputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
  outputFormat: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
  serdeInfo: { serializationLibrary: JSON_SERDE },
};

const columnsOf = (columns: readonly (readonly [string, string])[]) =>
  columns.map(([name, type]) => ({ name, type }));

/** `{table}_changes`: one row per href added, removed or changed, per run, by day. */
export function changesTable(context: TableContext): CfnTable {
  const location = `${context.exportLocation}_changes/`;
  return new CfnTable(context.scope, `Changes-${context.id}`, {
    catalogId: context.catalogId,
    databaseName: context.databaseRef,
    tableInput: {
      name: `${context.table}_changes`,
      description: `pce-export "${context.exportName}": what changed since the previous successful run, one row per href`,
      tableType: 'EXTERNAL_TABLE',
      parameters: {
        classification: 'json',
        EXTERNAL: 'TRUE',
        ...context.projection,
        'storage.location.template': `${location}dt=\${dt}/`,
      },
      partitionKeys: [{ name: 'dt', type: 'string', comment: 'Day the run ran (UTC), yyyy-MM-dd' }],
      storageDescriptor: {
        location,
        ...TEXT_FORMAT,
        columns: columnsOf(hiveColumns(CHANGE_COLUMNS, 'ndjson')),
      },
    },
  });
}

/** `{table}_current_run`: the newest complete run of the export, one row. */
export function currentRunTable(context: TableContext): CfnTable {
  return new CfnTable(context.scope, `CurrentRun-${context.id}`, {
    catalogId: context.catalogId,
    databaseName: context.databaseRef,
    tableInput: {
      name: `${context.table}_current_run`,
      description: `pce-export "${context.exportName}": the newest complete run (one row)`,
      tableType: 'EXTERNAL_TABLE',
      parameters: { classification: 'json', EXTERNAL: 'TRUE' },
      storageDescriptor: {
        location: `${context.exportLocation}_current/`,
        ...TEXT_FORMAT,
        columns: columnsOf(hiveColumns(CURRENT_RUN_COLUMNS, 'ndjson')),
      },
    },
  });
}

/** The view's SQL: the export's table, at the newest run's day and object (or traffic run folder) only. */
function currentViewSql(databaseName: string, table: string): string {
  const run = `"${databaseName}"."${table}_current_run"`;
  return [
    `SELECT t.* FROM "${databaseName}"."${table}" t`,
    `WHERE t.dt = (SELECT dt FROM ${run})`,
    `AND starts_with(t."$path", (SELECT uri FROM ${run}))`,
  ].join(' ');
}

/** `{table}_current`: the view (see the top of this file). `columns` are the table's, `dt` last. */
export function currentView(
  context: TableContext,
  columns: readonly (readonly [string, string])[],
): CfnTable {
  const all = [...columns, ['dt', 'string'] as const];
  const definition = {
    originalSql: currentViewSql(context.databaseName, context.table),
    catalog: 'awsdatacatalog',
    schema: context.databaseName,
    columns: all.map(([name, type]) => ({ name, type: prestoType(type) })),
  };
  const encoded = Buffer.from(JSON.stringify(definition)).toString('base64');
  return new CfnTable(context.scope, `Current-${context.id}`, {
    catalogId: context.catalogId,
    databaseName: context.databaseRef,
    tableInput: {
      name: `${context.table}_current`,
      description: `pce-export "${context.exportName}": the newest complete run only`,
      tableType: 'VIRTUAL_VIEW',
      parameters: { presto_view: 'true', comment: 'Presto View' },
      viewOriginalText: `/* Presto View: ${encoded} */`,
      viewExpandedText: '/* Presto View */',
      storageDescriptor: { columns: columnsOf(all), serdeInfo: {} },
    },
  });
}

/** A Hive type (`array<struct<a:int>>`) in the view definition's Presto spelling (`array(row(a integer))`). */
export function prestoType(hive: string): string {
  let at = 0;
  const word = (): string => {
    const match = /^[a-z_0-9]+/.exec(hive.slice(at));
    if (!match) throw new Error(`no type at ${at} in ${hive}`);
    at += match[0].length;
    return match[0];
  };
  const type = (): string => {
    const name = word();
    if (name === 'array' || name === 'map' || name === 'struct') {
      at += 1; // <
      const parts: string[] = [];
      for (;;) {
        if (name === 'struct') {
          const field = word();
          at += 1; // :
          parts.push(`${field} ${type()}`);
        } else {
          parts.push(type());
        }
        if (hive[at] === ',') {
          at += 1;
          continue;
        }
        at += 1; // >
        return `${name === 'struct' ? 'row' : name}(${parts.join(', ')})`;
      }
    }
    const scalar: Readonly<Record<string, string>> = {
      string: 'varchar',
      int: 'integer',
      timestamp: 'timestamp(3)',
    };
    return scalar[name] ?? name;
  };
  return type();
}
