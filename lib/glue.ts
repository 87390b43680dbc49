import { Annotations, Stack } from 'aws-cdk-lib';
import { CfnDatabase, CfnTable } from 'aws-cdk-lib/aws-glue';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import type { OutputFormat } from '../lambdas/contracts/input';
import { hiveColumns } from '../lambdas/export/formats/schema';
import { columnsOf, KNOWN_COLLECTIONS } from '../lambdas/export/formats/tables';
import { changesTable, currentRunTable, currentView, type TableContext } from './glue-views';

/*
 * A Glue database with one external table per ndjson or Parquet export, so that Athena can
 * query the exports right after deploy, with no crawler:
 *
 *   SELECT hostname, enforcement_mode FROM pce.workloads WHERE dt = '2026-11-28'
 *
 * Each table reads `{prefix}{exportName}/dt=YYYY-MM-DD/` with the OpenX JSON SerDe (ndjson, one
 * object per line, gzip or not) or the Parquet SerDe, and projects the `dt` partitions from the
 * date, so new days need no `MSCK REPAIR TABLE` or `ALTER TABLE ADD PARTITION`. Raw exports (one
 * JSON array per object) get no table: a JSON SerDe reads one record per line. The columns come
 * from `lambdas/export/formats/tables.ts`, the definitions Parquet files are written with.
 */

/** What the catalog needs to know about an export. */
export interface CatalogExport {
  readonly name: string;
  /** `collection`, `traffic` or `events`. */
  readonly kind: string;
  /** Org-relative collection path (collections only). */
  readonly path?: string;
  /** @default 'ndjson' */
  readonly format?: OutputFormat;
  /** The export also writes its change history (a `{table}_changes` table). @default false */
  readonly changes?: boolean | object;
  /**
   * The export's PCE, in a deployment with several: the table is `{pce}_{name}` and reads
   * `{prefix}{pce}/{name}/`.
   * @default - the deployment's one PCE: `{name}`, reading `{prefix}{name}/`
   */
  readonly pce?: string;
}

export interface AnalyticsCatalogProps {
  /** Glue database name: lowercase letters, digits and `_` (what Athena accepts unquoted). */
  readonly databaseName: string;
  readonly bucket: IBucket;
  /** The workflow's key prefix, empty or ending with `/`. */
  readonly prefix: string;
  readonly exports: readonly CatalogExport[];
}

const JSON_SERDE = 'org.openx.data.jsonserde.JsonSerDe';
const PARQUET_SERDE = 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe';
/** First day the `dt` projection covers; no export of this tool is older. */
const PROJECTION_START = '2024-01-01';

type Column = readonly [name: string, type: string];

/**
 * Columns of the main fields of each known collection (ndjson tables), by the collection's last
 * path segment (`/sec_policy/active/rule_sets` → `rule_sets`), from the same table definitions
 * Parquet exports are written with (`lambdas/export/formats/tables.ts`).
 */
export const COLLECTION_COLUMNS: Readonly<Record<string, readonly Column[]>> = Object.fromEntries(
  KNOWN_COLLECTIONS.map((name) => [name, hiveColumns(columnsOf({ path: `/${name}` }), 'ndjson')]),
);

/** Every collection object has an href; most have these too. */
export const GENERIC_COLUMNS: readonly Column[] = hiveColumns(columnsOf({ path: '/' }), 'ndjson');

/** One traffic flow record of an Explorer query result. */
export const TRAFFIC_COLUMNS: readonly Column[] = hiveColumns(columnsOf({ kind: 'traffic' }), 'ndjson');

const EVENT_COLUMNS: readonly Column[] = hiveColumns(columnsOf({ kind: 'events' }), 'ndjson');

/** The ndjson columns of an export's table: traffic flows, events, a known collection, or the generic few. */
export function columnsFor(entry: CatalogExport): readonly Column[] {
  if (entry.kind === 'traffic') return TRAFFIC_COLUMNS;
  if (entry.kind === 'events') return EVENT_COLUMNS;
  const collection = entry.path?.split('/').pop() ?? '';
  if (collection === 'events') return EVENT_COLUMNS;
  return COLLECTION_COLUMNS[collection] ?? GENERIC_COLUMNS;
}

/** `rule-sets` → `rule_sets`: Athena table names are lowercase letters, digits and `_`. */
export function tableNameFor(exportName: string): string {
  return exportName.toLowerCase().replaceAll('-', '_');
}

/**
 * The Glue database and tables: one table per ndjson or Parquet export (each raw export is
 * reported as an info annotation at synth), its `_current` view and pointer table, and a
 * `_changes` table for each export that writes its change history.
 */
export class AnalyticsCatalog extends Construct {
  public readonly database: CfnDatabase;
  /** Tables by export name (`pce/export` with several PCEs). */
  public readonly tables: Readonly<Record<string, CfnTable>>;

  constructor(scope: Construct, id: string, props: AnalyticsCatalogProps) {
    super(scope, id);
    const { account } = Stack.of(this);
    this.database = new CfnDatabase(this, 'Database', {
      catalogId: account,
      databaseInput: {
        name: props.databaseName,
        description:
          'pce-export: Illumio PCE exports in S3, one table per ndjson or Parquet export (Athena, Spark)',
      },
    });

    const tables: Record<string, CfnTable> = {};
    const byTableName = new Map<string, string>();
    for (const entry of props.exports) {
      const format = entry.format ?? 'ndjson';
      if (format === 'raw') {
        Annotations.of(this).addInfo(
          `Export "${entry.name}" is raw (one JSON array per object, not one object per line): it gets no Glue table. Make it ndjson or parquet to query it with Athena.`,
        );
        continue;
      }
      const name = tableNameFor(entry.pce === undefined ? entry.name : `${entry.pce}_${entry.name}`);
      for (const taken of [name, `${name}_current`, `${name}_current_run`, `${name}_changes`]) {
        const clash = byTableName.get(taken);
        if (clash !== undefined) {
          throw new Error(
            `${this.node.path}: exports "${clash}" and "${entry.name}" would both be Glue table ${props.databaseName}.${taken}; rename one of them`,
          );
        }
      }
      for (const taken of [name, `${name}_current`, `${name}_current_run`, `${name}_changes`]) {
        byTableName.set(taken, entry.name);
      }
      const prefix = entry.pce === undefined ? props.prefix : `${props.prefix}${entry.pce}/`;
      const context: TableContext = {
        scope: this,
        catalogId: account,
        databaseRef: this.database.ref,
        databaseName: props.databaseName,
        exportLocation: `s3://${props.bucket.bucketName}/${prefix}${entry.name}/`,
        table: name,
        exportName: entry.name,
        id: entry.pce === undefined ? entry.name : `${entry.pce}-${entry.name}`,
        projection: PROJECTION,
      };
      const columns =
        format === 'parquet'
          ? hiveColumns(columnsOf({ kind: entry.kind, path: entry.path }), 'parquet')
          : columnsFor(entry);
      const table = this.table(entry, name, context, format, columns);
      tables[entry.pce === undefined ? entry.name : `${entry.pce}/${entry.name}`] = table;
      const run = currentRunTable(context);
      const view = currentView(context, columns);
      view.addDependency(table);
      view.addDependency(run);
      if (entry.changes) changesTable(context);
    }
    this.tables = tables;
  }

  private table(
    entry: CatalogExport,
    name: string,
    context: TableContext,
    format: 'ndjson' | 'parquet',
    columns: readonly Column[],
  ): CfnTable {
    const location = context.exportLocation;
    const what =
      entry.kind === 'traffic'
        ? 'traffic flows'
        : entry.kind === 'events'
          ? 'audit events'
          : (entry.path ?? 'collection');
    const parquet = format === 'parquet';
    return new CfnTable(this, `Table-${context.id}`, {
      catalogId: context.catalogId,
      // The database's Ref is its name; referring to it also orders the table after it.
      databaseName: context.databaseRef,
      tableInput: {
        name,
        description: `pce-export "${entry.name}" (${what}, ${format}): one row per PCE object, one partition per day (dt, UTC)`,
        tableType: 'EXTERNAL_TABLE',
        parameters: {
          classification: parquet ? 'parquet' : 'json',
          EXTERNAL: 'TRUE',
          ...PROJECTION,
          'storage.location.template': `${location}dt=\${dt}/`,
        },
        partitionKeys: [{ name: 'dt', type: 'string', comment: 'Day the export ran (UTC), yyyy-MM-dd' }],
        storageDescriptor: {
          location,
          ...(parquet
            ? {
                inputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
                outputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
                serdeInfo: { serializationLibrary: PARQUET_SERDE },
              }
            : {
                inputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
                outputFormat: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
                serdeInfo: { serializationLibrary: JSON_SERDE },
              }),
          columns: columns.map(([column, type]) => ({ name: column, type })),
        },
      },
    });
  }
}

/** Partition projection of `dt`, the same for every table. */
const PROJECTION: Readonly<Record<string, string>> = {
  'projection.enabled': 'true',
  'projection.dt.type': 'date',
  'projection.dt.format': 'yyyy-MM-dd',
  'projection.dt.range': `${PROJECTION_START},NOW`,
  'projection.dt.interval': '1',
  'projection.dt.interval.unit': 'DAYS',
};
