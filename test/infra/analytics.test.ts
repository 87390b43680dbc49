import { describe, expect, it } from 'vitest';
import {
  actionsOf,
  configObject,
  logicalId,
  renderDefinition,
  renderIntrinsics,
  type Statement,
  statementsOfRole,
  stateOf,
  synthStack,
} from './support';

const DEFAULT_BUS = 'arn:<AWS::Partition>:events:<AWS::Region>:<AWS::AccountId>:event-bus/default';
const PUT_EVENTS = 'arn:<AWS::Partition>:states:::events:putEvents';

function stateMachineStatements(synth: ReturnType<typeof synthStack>): Statement[] {
  const role = synth.stack.workflow.stateMachine.role;
  return statementsOfRole(synth.template, logicalId(role));
}

function eventStatements(statements: Statement[]) {
  return statements
    .filter((statement) => actionsOf(statement).some((action) => action.startsWith('events:')))
    .map((statement) => ({ ...statement, Resource: renderIntrinsics(statement.Resource) }));
}

describe('EventBridge events of the export workflow', () => {
  const synth = synthStack();
  const definition = renderDefinition(synth.template);

  it('puts "Export Succeeded" with the execution output as detail on the default bus before Done', () => {
    expect(stateOf(definition, 'Fetch').Next).toBe('NotifySucceeded');
    expect(stateOf(definition, 'NotifySucceeded')).toMatchObject({
      Type: 'Task',
      Resource: PUT_EVENTS,
      Parameters: {
        Entries: [
          {
            Source: 'pce-export',
            DetailType: 'Export Succeeded',
            'Detail.$': '$',
            EventBusName: DEFAULT_BUS,
          },
        ],
      },
      ResultPath: null,
      Next: 'Done',
    });
  });

  it.each([
    [
      'NotifyJobFailed',
      'JobFailed',
      { Error: 'PceJobFailed', CausePath: '$.job.message' },
      'PceJobFailed',
      '$.job.message',
    ],
    [
      'NotifyJobTimedOut',
      'JobTimedOut',
      { Error: 'PceJobTimeout', CausePath: '$.job.message' },
      'PceJobTimeout',
      '$.job.message',
    ],
    [
      'NotifyExportFailed',
      'ExportFailed',
      { ErrorPath: '$.error', CausePath: '$.detail.errorMessage' },
      '$.error',
      '$.detail.errorMessage',
    ],
  ])(
    '%s puts "Export Failed" with the error, cause, execution and input, then ends in %s as before',
    (notify, fail, failFields, error, cause) => {
      const entry = {
        Source: 'pce-export',
        DetailType: 'Export Failed',
        EventBusName: DEFAULT_BUS,
        Detail: {
          ...(error.startsWith('$') ? { 'error.$': error } : { error }),
          'cause.$': cause,
          execution: {
            'name.$': '$$.Execution.Name',
            'id.$': '$$.Execution.Id',
            'startTime.$': '$$.Execution.StartTime',
          },
          'input.$': '$$.Execution.Input',
        },
      };

      expect(stateOf(definition, notify)).toMatchObject({
        Type: 'Task',
        Resource: PUT_EVENTS,
        Parameters: { Entries: [entry] },
        ResultPath: null,
        Next: fail,
      });
      expect(stateOf(definition, fail)).toEqual({ Type: 'Fail', ...failFields });
    },
  );

  it.each(['NotifySucceeded', 'NotifyJobFailed', 'NotifyJobTimedOut', 'NotifyExportFailed'])(
    '%s retries, and an event that still cannot be sent leaves the outcome as it was',
    (notify) => {
      const state = stateOf(definition, notify);

      expect(state.Retry).toEqual([
        {
          ErrorEquals: ['States.ALL'],
          IntervalSeconds: 1,
          BackoffRate: 2,
          MaxAttempts: 3,
          JitterStrategy: 'FULL',
        },
      ]);
      expect(state.Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: null, Next: state.Next }]);
    },
  );

  it('lets the state machine put events on the default bus and nowhere else', () => {
    expect(eventStatements(stateMachineStatements(synth))).toEqual([
      { Effect: 'Allow', Action: 'events:PutEvents', Resource: DEFAULT_BUS },
    ]);
  });

  it('lets no function put events', () => {
    const { workflow } = synth.stack;
    for (const fn of [workflow.submitFunction, workflow.pollFunction, workflow.fetchFunction]) {
      const roleId = logicalId(fn.role ?? fn);
      expect(eventStatements(statementsOfRole(synth.template, roleId))).toEqual([]);
    }
  });

  it.each([
    [
      'a bus name',
      'pce-exports',
      'arn:<AWS::Partition>:events:<AWS::Region>:<AWS::AccountId>:event-bus/pce-exports',
    ],
    [
      'a bus ARN in another account',
      'arn:aws:events:eu-west-1:123456789012:event-bus/central',
      'arn:aws:events:eu-west-1:123456789012:event-bus/central',
    ],
  ])('sends the events to the configured bus given by %s, and may send only there', (_, bus, arn) => {
    const config = { ...configObject(), events: { bus } };
    const custom = synthStack(config);
    const customDefinition = renderDefinition(custom.template);

    for (const notify of ['NotifySucceeded', 'NotifyExportFailed']) {
      const entries = (
        stateOf(customDefinition, notify).Parameters as { Entries: { EventBusName: string }[] }
      ).Entries;
      expect(entries.map((entry) => entry.EventBusName)).toEqual([arn]);
    }
    expect(eventStatements(stateMachineStatements(custom))).toEqual([
      { Effect: 'Allow', Action: 'events:PutEvents', Resource: arn },
    ]);
  });

  it('rejects a configured bus that is neither a name nor an ARN, naming the field', () => {
    expect(() => synthStack({ ...configObject(), events: { bus: 'my bus!' } })).toThrow(
      /events\.bus must be an event bus name .* or an event bus ARN/,
    );
  });
});

describe('Glue database and tables for Athena', () => {
  function withGlue(exports?: Record<string, unknown>[]) {
    const config = configObject();
    return synthStack({ ...config, glue: { database: 'pce' }, ...(exports ? { exports } : {}) });
  }
  const synth = withGlue([
    ...configObject().exports,
    { name: 'vens', kind: 'collection', path: '/vens' },
    { name: 'flows', kind: 'traffic', traffic: { since: '24h' } },
  ]);
  const bucket = `<${logicalId(synth.stack.bucket)}>`;
  const tables = Object.values(synth.template.findResources('AWS::Glue::Table')).map(
    (table) => table.Properties as { CatalogId: unknown; DatabaseName: unknown; TableInput: TableInput },
  );
  function table(name: string): TableInput {
    const found = tables.find((candidate) => candidate.TableInput.Name === name)?.TableInput;
    if (!found) throw new Error(`no table ${name} (${tables.map((t) => t.TableInput.Name).join(', ')})`);
    return found;
  }
  function columns(name: string): Record<string, string> {
    return Object.fromEntries(
      table(name).StorageDescriptor.Columns.map((column) => [column.Name, column.Type]),
    );
  }

  it('creates the configured database in this account', () => {
    synth.template.hasResourceProperties('AWS::Glue::Database', {
      CatalogId: { Ref: 'AWS::AccountId' },
      DatabaseInput: { Name: 'pce' },
    });
    const database = synth.stack.catalog?.database;
    expect(database).toBeDefined();
    for (const entry of tables) {
      expect(entry.CatalogId).toEqual({ Ref: 'AWS::AccountId' });
      expect(entry.DatabaseName).toEqual({ Ref: logicalId(database ?? synth.stack) });
    }
  });

  it('defines one table per ndjson export, named for Athena, and none for the raw export', () => {
    expect(tables.map((entry) => entry.TableInput.Name).sort()).toEqual([
      'flows',
      'labels',
      'vens',
      'workloads',
    ]);
    expect(synth.stack.catalog?.tables).not.toHaveProperty('rule-sets');
  });

  it('reads each export folder with the OpenX JSON SerDe, one object per line', () => {
    const workloads = table('workloads');

    expect(workloads.TableType).toBe('EXTERNAL_TABLE');
    expect(workloads.StorageDescriptor).toMatchObject({
      InputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
      OutputFormat: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
      SerdeInfo: { SerializationLibrary: 'org.openx.data.jsonserde.JsonSerDe' },
    });
    expect(renderIntrinsics(workloads.StorageDescriptor.Location)).toBe(`s3://${bucket}/pce/workloads/`);
  });

  it('projects the dt partitions from the date, so new days are queryable without a crawler or repair', () => {
    const labels = table('labels');

    expect(labels.PartitionKeys).toEqual([expect.objectContaining({ Name: 'dt', Type: 'string' })]);
    expect(labels.Parameters).toMatchObject({
      classification: 'json',
      'projection.enabled': 'true',
      'projection.dt.type': 'date',
      'projection.dt.format': 'yyyy-MM-dd',
      'projection.dt.range': '2024-01-01,NOW',
      'projection.dt.interval': '1',
      'projection.dt.interval.unit': 'DAYS',
    });
    expect(renderIntrinsics(labels.Parameters['storage.location.template'])).toBe(
      `s3://${bucket}/pce/labels/dt=\${dt}/`,
    );
  });

  it('gives known collections typed columns for their main fields', () => {
    expect(columns('workloads')).toMatchObject({
      href: 'string',
      hostname: 'string',
      managed: 'boolean',
      online: 'boolean',
      enforcement_mode: 'string',
      labels: 'array<struct<href:string,key:string,value:string>>',
      interfaces: expect.stringMatching(/^array<struct<name:string,address:string,/),
    });
    expect(columns('labels')).toMatchObject({ href: 'string', key: 'string', value: 'string' });
    expect(columns('workloads')).not.toHaveProperty('dt');
  });

  it('falls back to the fields every collection has for a collection it does not know', () => {
    expect(columns('vens')).toEqual({
      href: 'string',
      name: 'string',
      description: 'string',
      created_at: 'string',
      updated_at: 'string',
    });
  });

  it('gives a traffic export a flows table with the columns of a flow record', () => {
    expect(columns('flows')).toMatchObject({
      src: expect.stringMatching(/^struct<ip:string,workload:struct<href:string,hostname:string,/),
      dst: expect.stringMatching(/^struct<ip:string,/),
      service: 'struct<port:int,proto:int,process_name:string>',
      num_connections: 'bigint',
      policy_decision: 'string',
      timestamp_range: 'struct<first_detected:string,last_detected:string>',
    });
  });

  it('turns an export name with "-" into a table name with "_"', () => {
    const dashed = withGlue([{ name: 'managed-workloads', kind: 'collection', path: '/workloads' }]);

    dashed.template.hasResourceProperties('AWS::Glue::Table', {
      TableInput: { Name: 'managed_workloads' },
    });
  });

  it('refuses two exports that would share a table, naming both', () => {
    expect(() =>
      withGlue([
        { name: 'rule-sets', kind: 'collection', path: '/sec_policy/active/rule_sets' },
        { name: 'rule_sets', kind: 'collection', path: '/sec_policy/draft/rule_sets' },
      ]),
    ).toThrow(/exports "rule-sets" and "rule_sets" would both be Glue table pce\.rule_sets/);
  });

  it('rejects a database name Athena would have to quote, naming the field', () => {
    expect(() => synthStack({ ...configObject(), glue: { database: 'PCE-exports' } })).toThrow(
      /glue\.database must be lowercase letters, digits and "_"/,
    );
  });

  it('creates no Glue resources unless glue is configured', () => {
    const plain = synthStack();

    expect(plain.template.findResources('AWS::Glue::Database')).toEqual({});
    expect(plain.template.findResources('AWS::Glue::Table')).toEqual({});
    expect(plain.stack.catalog).toBeUndefined();
  });
});

interface TableInput {
  Name: string;
  TableType: string;
  Parameters: Record<string, unknown>;
  PartitionKeys: { Name: string; Type: string }[];
  StorageDescriptor: { Location: unknown; Columns: { Name: string; Type: string }[] } & Record<
    string,
    unknown
  >;
}
