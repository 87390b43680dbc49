import { describe, expect, it } from 'vitest';
import { prestoType } from '../../lib/glue-views';
import { configObject, logicalId, renderIntrinsics, synthStack } from './support';

interface TableInput {
  Name: string;
  TableType: string;
  Parameters: Record<string, unknown>;
  PartitionKeys?: { Name: string; Type: string }[];
  ViewOriginalText?: string;
  ViewExpandedText?: string;
  StorageDescriptor: {
    Location?: unknown;
    InputFormat?: string;
    OutputFormat?: string;
    SerdeInfo?: { SerializationLibrary?: string };
    Columns: { Name: string; Type: string }[];
  };
}

describe('Glue tables and views for Athena', () => {
  const synth = synthStack({
    ...configObject(),
    glue: { database: 'pce' },
    exports: [
      {
        name: 'workloads',
        kind: 'collection',
        path: '/workloads',
        format: 'parquet',
        changes: { fields: ['managed'] },
      },
      { name: 'labels', kind: 'collection', path: '/labels' },
      { name: 'audit', kind: 'events', format: 'parquet', events: { since: '24h' } },
    ],
  });
  const bucket = `<${logicalId(synth.stack.bucket)}>`;
  const tables = Object.values(synth.template.findResources('AWS::Glue::Table')).map(
    (table) => (table.Properties as { TableInput: TableInput }).TableInput,
  );
  function table(name: string): TableInput {
    const found = tables.find((candidate) => candidate.Name === name);
    if (!found) throw new Error(`no table ${name} (${tables.map((t) => t.Name).join(', ')})`);
    return found;
  }
  const columns = (name: string) =>
    Object.fromEntries(table(name).StorageDescriptor.Columns.map((column) => [column.Name, column.Type]));

  it('reads a parquet export with the Parquet SerDe and projects its dt partitions as for ndjson', () => {
    const workloads = table('workloads');

    expect(workloads.StorageDescriptor).toMatchObject({
      InputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
      OutputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
      SerdeInfo: { SerializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' },
    });
    expect(workloads.Parameters).toMatchObject({
      classification: 'parquet',
      'projection.enabled': 'true',
      'projection.dt.type': 'date',
      'projection.dt.range': '2024-01-01,NOW',
    });
    expect(renderIntrinsics(workloads.Parameters['storage.location.template'])).toBe(
      `s3://${bucket}/pce/workloads/dt=\${dt}/`,
    );
    expect(table('labels').StorageDescriptor.SerdeInfo?.SerializationLibrary).toBe(
      'org.openx.data.jsonserde.JsonSerDe',
    );
  });

  it('types parquet columns as they are written: booleans, lists, timestamps, and extra_json last', () => {
    const workloads = table('workloads').StorageDescriptor.Columns;

    expect(columns('workloads')).toMatchObject({
      managed: 'boolean',
      labels: 'array<struct<href:string,key:string,value:string>>',
      created_at: 'timestamp',
    });
    expect(workloads.at(-1)).toEqual({ Name: 'extra_json', Type: 'string' });
    expect(columns('labels').created_at).toBe('string');
    expect(columns('audit')).toMatchObject({
      timestamp: 'timestamp',
      resource_changes: expect.stringMatching(
        /^array<struct<uuid:string,change_type:string,resource:string,changes:map<string,/,
      ),
    });
  });

  it('gives each queryable export a view of its newest complete run, read through the run pointer', () => {
    const view = table('workloads_current');
    const pointer = table('workloads_current_run');

    expect(view.TableType).toBe('VIRTUAL_VIEW');
    expect(view.Parameters).toEqual({ presto_view: 'true', comment: 'Presto View' });
    expect(view.ViewExpandedText).toBe('/* Presto View */');
    const encoded = /^\/\* Presto View: ([A-Za-z0-9+/=]+) \*\/$/.exec(view.ViewOriginalText ?? '')?.[1] ?? '';
    const definition = JSON.parse(Buffer.from(encoded, 'base64').toString('utf8'));
    expect(definition).toMatchObject({
      catalog: 'awsdatacatalog',
      schema: 'pce',
      originalSql:
        'SELECT t.* FROM "pce"."workloads" t WHERE t.dt = (SELECT dt FROM "pce"."workloads_current_run") AND starts_with(t."$path", (SELECT uri FROM "pce"."workloads_current_run"))',
    });
    expect(definition.columns).toContainEqual({ name: 'managed', type: 'boolean' });
    expect(definition.columns).toContainEqual({
      name: 'labels',
      type: 'array(row(href varchar, key varchar, value varchar))',
    });
    expect(definition.columns.at(-1)).toEqual({ name: 'dt', type: 'varchar' });
    expect(view.StorageDescriptor.Columns.map((c) => c.Name)).toEqual(
      definition.columns.map((c: { name: string }) => c.name),
    );
    expect(renderIntrinsics(pointer.StorageDescriptor.Location)).toBe(
      `s3://${bucket}/pce/workloads/_current/`,
    );
    expect(columns('workloads_current_run')).toEqual({
      uri: 'string',
      key: 'string',
      dt: 'string',
      execution_name: 'string',
      completed_at: 'string',
    });
  });

  it('gives an export with change history a changes table of its own, by day', () => {
    const changes = table('workloads_changes');

    expect(renderIntrinsics(changes.StorageDescriptor.Location)).toBe(
      `s3://${bucket}/pce/workloads/_changes/`,
    );
    expect(renderIntrinsics(changes.Parameters['storage.location.template'])).toBe(
      `s3://${bucket}/pce/workloads/_changes/dt=\${dt}/`,
    );
    expect(changes.PartitionKeys).toEqual([expect.objectContaining({ Name: 'dt', Type: 'string' })]);
    expect(columns('workloads_changes')).toEqual({
      href: 'string',
      change: 'string',
      changed_fields: 'array<string>',
      values: 'map<string,struct<before:string,after:string>>',
      previous_run: 'string',
      current_run: 'string',
      previous_key: 'string',
      current_key: 'string',
    });
    expect(tables.map((t) => t.Name)).not.toContain('labels_changes');
  });

  it('spells Hive types the way Presto view definitions do', () => {
    expect(prestoType('map<string,struct<a:int,b:array<timestamp>>>')).toBe(
      'map(varchar, row(a integer, b array(timestamp(3))))',
    );
  });
});
