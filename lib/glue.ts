import { Annotations, Stack } from 'aws-cdk-lib';
import { CfnDatabase, CfnTable } from 'aws-cdk-lib/aws-glue';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

/*
 * A Glue database with one external table per ndjson export, so that Athena can query the
 * exports right after deploy, with no crawler:
 *
 *   SELECT hostname, enforcement_mode FROM pce.workloads WHERE dt = '2026-11-28'
 *
 * Each table reads `{prefix}{exportName}/dt=YYYY-MM-DD/` with the OpenX JSON SerDe (one object
 * per line, gzip or not) and projects the `dt` partitions from the date, so new days need no
 * `MSCK REPAIR TABLE` or `ALTER TABLE ADD PARTITION`. Raw exports (one JSON array per object)
 * get no table: a JSON SerDe reads one record per line.
 */

/** What the catalog needs to know about an export. */
export interface CatalogExport {
  readonly name: string;
  /** `collection` or `traffic`. */
  readonly kind: string;
  /** Org-relative collection path (collections only). */
  readonly path?: string;
  /** @default 'ndjson' */
  readonly format?: 'raw' | 'ndjson';
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
/** First day the `dt` projection covers; no export of this tool is older. */
const PROJECTION_START = '2024-01-01';

type Column = readonly [name: string, type: string];

const REF = 'struct<href:string>';
const LABEL = 'struct<href:string,key:string,value:string>';
const ACTOR = `struct<actors:string,label:${REF},label_group:${REF},workload:${REF},ip_list:${REF}>`;
const AUDIT: readonly Column[] = [
  ['update_type', 'string'],
  ['created_at', 'string'],
  ['updated_at', 'string'],
  ['deleted_at', 'string'],
];

/**
 * Columns of the main fields of each known collection, by the collection's last path segment
 * (`/sec_policy/active/rule_sets` → `rule_sets`). Fields left out stay in the data and can be
 * added to a table later; a struct lists only the members worth querying.
 */
export const COLLECTION_COLUMNS: Readonly<Record<string, readonly Column[]>> = {
  labels: [
    ['href', 'string'],
    ['key', 'string'],
    ['value', 'string'],
    ['external_data_set', 'string'],
    ['external_data_reference', 'string'],
    ['deleted', 'boolean'],
    ['created_at', 'string'],
    ['updated_at', 'string'],
  ],
  workloads: [
    ['href', 'string'],
    ['name', 'string'],
    ['hostname', 'string'],
    ['description', 'string'],
    ['managed', 'boolean'],
    ['online', 'boolean'],
    ['enforcement_mode', 'string'],
    ['visibility_level', 'string'],
    ['os_id', 'string'],
    ['os_detail', 'string'],
    ['public_ip', 'string'],
    ['data_center', 'string'],
    ['external_data_set', 'string'],
    ['external_data_reference', 'string'],
    [
      'interfaces',
      'array<struct<name:string,address:string,cidr_block:int,default_gateway_address:string,link_state:string>>',
    ],
    ['labels', `array<${LABEL}>`],
    ['ven', 'struct<href:string,hostname:string,status:string,version:string,ven_type:string>'],
    ['deleted', 'boolean'],
    ['created_at', 'string'],
    ['updated_at', 'string'],
  ],
  rule_sets: [
    ['href', 'string'],
    ['name', 'string'],
    ['description', 'string'],
    ['enabled', 'boolean'],
    ['scopes', `array<array<struct<label:${REF},label_group:${REF},exclusion:boolean>>>`],
    [
      'rules',
      `array<struct<href:string,enabled:boolean,description:string,unscoped_consumers:boolean,providers:array<${ACTOR}>,consumers:array<${ACTOR}>,ingress_services:array<struct<href:string,port:int,to_port:int,proto:int>>>>`,
    ],
    ['external_data_set', 'string'],
    ['external_data_reference', 'string'],
    ...AUDIT,
  ],
  services: [
    ['href', 'string'],
    ['name', 'string'],
    ['description', 'string'],
    ['process_name', 'string'],
    ['service_ports', 'array<struct<port:int,to_port:int,proto:int>>'],
    ...AUDIT,
  ],
  ip_lists: [
    ['href', 'string'],
    ['name', 'string'],
    ['description', 'string'],
    ['ip_ranges', 'array<struct<from_ip:string,to_ip:string,exclusion:boolean>>'],
    ['fqdns', 'array<struct<fqdn:string>>'],
    ...AUDIT,
  ],
  label_groups: [
    ['href', 'string'],
    ['name', 'string'],
    ['description', 'string'],
    ['key', 'string'],
    ['labels', `array<${REF}>`],
    ['sub_groups', `array<${REF}>`],
    ...AUDIT,
  ],
};

/** Every collection object has an href; most have these too. */
export const GENERIC_COLUMNS: readonly Column[] = [
  ['href', 'string'],
  ['name', 'string'],
  ['description', 'string'],
  ['created_at', 'string'],
  ['updated_at', 'string'],
];

const FLOW_END = `struct<ip:string,workload:struct<href:string,hostname:string,name:string,labels:array<${LABEL}>,managed:boolean,enforcement_mode:string,os_type:string>>`;

/** One traffic flow record of an Explorer query result. */
export const TRAFFIC_COLUMNS: readonly Column[] = [
  ['src', FLOW_END],
  ['dst', FLOW_END],
  ['service', 'struct<port:int,proto:int,process_name:string>'],
  ['num_connections', 'bigint'],
  ['state', 'string'],
  ['timestamp_range', 'struct<first_detected:string,last_detected:string>'],
  ['dst_bi', 'bigint'],
  ['dst_bo', 'bigint'],
  ['policy_decision', 'string'],
  ['flow_direction', 'string'],
  ['transmission', 'string'],
  ['network', 'struct<href:string,name:string>'],
];

/** The columns of an export's table: traffic flows, a known collection, or the generic few. */
export function columnsFor(entry: CatalogExport): readonly Column[] {
  if (entry.kind === 'traffic') return TRAFFIC_COLUMNS;
  const collection = entry.path?.split('/').pop() ?? '';
  return COLLECTION_COLUMNS[collection] ?? GENERIC_COLUMNS;
}

/** `rule-sets` → `rule_sets`: Athena table names are lowercase letters, digits and `_`. */
export function tableNameFor(exportName: string): string {
  return exportName.toLowerCase().replaceAll('-', '_');
}

/**
 * The Glue database and tables. Tables are defined for ndjson exports only; each raw export is
 * reported as an info annotation at synth.
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
        description: 'pce-export: Illumio PCE exports in S3, one table per ndjson export (Athena, Spark)',
      },
    });

    const tables: Record<string, CfnTable> = {};
    const byTableName = new Map<string, string>();
    for (const entry of props.exports) {
      if ((entry.format ?? 'ndjson') !== 'ndjson') {
        Annotations.of(this).addInfo(
          `Export "${entry.name}" is raw (one JSON array per object, not one object per line): it gets no Glue table. Make it ndjson to query it with Athena.`,
        );
        continue;
      }
      const name = tableNameFor(entry.pce === undefined ? entry.name : `${entry.pce}_${entry.name}`);
      const clash = byTableName.get(name);
      if (clash !== undefined) {
        throw new Error(
          `${this.node.path}: exports "${clash}" and "${entry.name}" would both be Glue table ${props.databaseName}.${name}; rename one of them`,
        );
      }
      byTableName.set(name, entry.name);
      const prefix = entry.pce === undefined ? props.prefix : `${props.prefix}${entry.pce}/`;
      tables[entry.pce === undefined ? entry.name : `${entry.pce}/${entry.name}`] = this.table(
        entry,
        name,
        props.bucket,
        prefix,
      );
    }
    this.tables = tables;
  }

  private table(entry: CatalogExport, name: string, bucket: IBucket, prefix: string): CfnTable {
    const location = `s3://${bucket.bucketName}/${prefix}${entry.name}/`;
    const what = entry.kind === 'traffic' ? 'traffic flows' : (entry.path ?? 'collection');
    return new CfnTable(
      this,
      entry.pce === undefined ? `Table-${entry.name}` : `Table-${entry.pce}-${entry.name}`,
      {
        catalogId: Stack.of(this).account,
        // The database's Ref is its name; referring to it also orders the table after it.
        databaseName: this.database.ref,
        tableInput: {
          name,
          description: `pce-export "${entry.name}" (${what}): one row per PCE object, one partition per day (dt, UTC)`,
          tableType: 'EXTERNAL_TABLE',
          parameters: {
            classification: 'json',
            EXTERNAL: 'TRUE',
            'projection.enabled': 'true',
            'projection.dt.type': 'date',
            'projection.dt.format': 'yyyy-MM-dd',
            'projection.dt.range': `${PROJECTION_START},NOW`,
            'projection.dt.interval': '1',
            'projection.dt.interval.unit': 'DAYS',
            'storage.location.template': `${location}dt=\${dt}/`,
          },
          partitionKeys: [{ name: 'dt', type: 'string', comment: 'Day the export ran (UTC), yyyy-MM-dd' }],
          storageDescriptor: {
            location,
            inputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
            outputFormat: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
            serdeInfo: { serializationLibrary: JSON_SERDE },
            columns: columnsFor(entry).map(([column, type]) => ({ name: column, type })),
          },
        },
      },
    );
  }
}
