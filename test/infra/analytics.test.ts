import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { ExportWorkflow } from '../../lib/export-workflow';
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
  unbundledApp,
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
    expect(stateOf(definition, 'FetchStatus').Default).toBe('ChangeHistory');
    expect(stateOf(definition, 'WriteChanges').Next).toBe('NotifySucceeded');
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

  it('NotifyExportFailed puts "Export Failed" with the error, cause, original error, execution and input, then ends in ExportFailed', () => {
    const entry = {
      Source: 'pce-export',
      DetailType: 'Export Failed',
      EventBusName: DEFAULT_BUS,
      Detail: {
        'error.$': '$.error',
        'cause.$': '$.cause',
        'original.$': '$.original',
        execution: {
          'name.$': '$$.Execution.Name',
          'id.$': '$$.Execution.Id',
          'startTime.$': '$$.Execution.StartTime',
        },
        'input.$': '$$.Execution.Input',
      },
    };

    expect(stateOf(definition, 'NotifyExportFailed')).toMatchObject({
      Type: 'Task',
      Resource: PUT_EVENTS,
      Parameters: { Entries: [entry] },
      ResultPath: null,
      Next: 'ExportFailed',
    });
    expect(stateOf(definition, 'ExportFailed')).toEqual({
      Type: 'Fail',
      ErrorPath: '$.error',
      CausePath: '$.cause',
    });
  });

  it.each(['NotifySucceeded', 'NotifyExportFailed'])(
    '%s retries, gives up on an attempt after 60 s, and an event that still cannot be sent leaves the outcome as it was',
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
      expect(state.TimeoutSeconds).toBe(60);
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
    const exportTables = Object.entries(synth.template.findResources('AWS::Glue::Table'))
      .filter(([id]) => id.includes('Table'))
      .map(([, table]) => (table.Properties as { TableInput: TableInput }).TableInput);
    expect(exportTables.map((entry) => entry.Name).sort()).toEqual(['flows', 'labels', 'vens', 'workloads']);
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
      service: expect.stringMatching(/^struct<port:int,proto:int,process_name:string[,>]/),
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

describe('snapshot mode', () => {
  const config = {
    ...configObject(),
    snapshots: [
      {
        name: 'policy-model',
        exports: ['labels', 'rule-sets'],
        schedule: { expression: 'cron(0 4 * * ? *)', timeZone: 'Europe/Zurich' },
      },
      { name: 'adhoc', exports: ['workloads'] },
    ],
  };
  const synth = synthStack(config);
  const definition = renderDefinition(synth.template);
  const { workflow } = synth.stack;
  const functionArn = (fn: { node: unknown }) => `<${logicalId(fn as never)}.Arn>`;
  const map = stateOf(definition, 'ExportSnapshot') as unknown as {
    ItemProcessor: {
      StartAt: string;
      States: Record<string, Record<string, unknown>>;
      ProcessorConfig: unknown;
    };
  } & Record<string, unknown>;
  const inner = (name: string) => {
    const state = map.ItemProcessor.States[name];
    if (!state) throw new Error(`no state ${name} in the Map's ItemProcessor`);
    return state;
  };

  it('plans the snapshot from the input and the execution before the Map', () => {
    expect(stateOf(definition, 'PlanSnapshot')).toMatchObject({
      Type: 'Task',
      Resource: functionArn(workflow.snapshotFunction),
      Parameters: {
        step: 'plan',
        'input.$': '$',
        execution: { 'name.$': '$$.Execution.Name', 'startTime.$': '$$.Execution.StartTime' },
      },
      Next: 'ExportSnapshot',
    });
  });

  it('runs a Distributed Map of STANDARD child executions over the planned members, at most 5 at a time, into $.results', () => {
    expect(map).toMatchObject({
      Type: 'Map',
      ItemsPath: '$.snapshot.members',
      ItemSelector: {
        'input.$': '$$.Map.Item.Value',
        execution: {
          'name.$': '$$.Execution.Name',
          'startTime.$': '$$.Execution.StartTime',
          'snapshot.$': '$.snapshot.name',
        },
      },
      MaxConcurrency: 5,
      Label: 'SnapshotMembers',
      ResultPath: '$.results',
      Next: 'ReadSnapshotResults',
    });
    expect(map).not.toHaveProperty('ToleratedFailurePercentage');
    expect(map).not.toHaveProperty('ToleratedFailureCount');
    expect(map.ItemProcessor.ProcessorConfig).toEqual({ Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' });
  });

  it('fails with the first failed member once every member has ended, and otherwise writes the manifest', () => {
    expect(stateOf(definition, 'ReadSnapshotResults')).toEqual({
      Type: 'Pass',
      Parameters: { 'failed.$': '$.results[*].failed' },
      ResultPath: '$.members',
      Next: 'CheckSnapshotResults',
    });
    expect(stateOf(definition, 'CheckSnapshotResults')).toEqual({
      Type: 'Pass',
      Parameters: { 'anyFailed.$': 'States.ArrayContains($.members.failed, true)' },
      ResultPath: '$.members',
      Next: 'SnapshotStatus',
    });
    expect(stateOf(definition, 'SnapshotStatus')).toEqual({
      Type: 'Choice',
      Choices: [{ Variable: '$.members.anyFailed', BooleanEquals: true, Next: 'SnapshotMemberFailed' }],
      Default: 'WriteSnapshotManifest',
    });
    expect(stateOf(definition, 'SnapshotMemberFailed')).toEqual({
      Type: 'Pass',
      Parameters: { 'failures.$': '$.results[*].failure' },
      OutputPath: '$.failures[0]',
      Next: 'NotifyExportFailed',
    });
  });

  it('runs in each child execution the Submit → Wait → Poll → JobStatus → Fetch chain of a single export, under its own names', () => {
    const types = Object.fromEntries(
      Object.entries(map.ItemProcessor.States).map(([name, state]) => [name, state.Type]),
    );

    expect(map.ItemProcessor.StartAt).toBe('SnapshotSubmit');
    expect(types).toEqual({
      SnapshotSubmit: 'Task',
      SnapshotSubmitStatus: 'Choice',
      SnapshotWaitToSubmit: 'Wait',
      SnapshotRetrySubmit: 'Task',
      SnapshotWaitForJob: 'Wait',
      SnapshotPoll: 'Task',
      SnapshotJobStatus: 'Choice',
      SnapshotFetch: 'Task',
      SnapshotFetchStatus: 'Choice',
      SnapshotWaitToFetch: 'Wait',
      SnapshotExported: 'Pass',
      SnapshotJobFailed: 'Pass',
      SnapshotJobTimedOut: 'Pass',
      SnapshotClassifyFailure: 'Choice',
      SnapshotReadFailureCause: 'Pass',
      SnapshotClassifyFunctionError: 'Choice',
      SnapshotDescribeFailure: 'Pass',
      SnapshotDescribeInternalError: 'Pass',
      SnapshotDescribeNamedFailure: 'Pass',
      SnapshotDescribeInternalFailure: 'Pass',
      SnapshotDescribeNamedFailureWithoutCause: 'Pass',
      SnapshotDescribeInternalFailureWithoutCause: 'Pass',
      SnapshotExportFailed: 'Pass',
    });
    expect(inner('SnapshotSubmit')).toMatchObject({
      Resource: functionArn(workflow.submitFunction),
      Next: 'SnapshotSubmitStatus',
    });
    expect(inner('SnapshotSubmit')).not.toHaveProperty('Parameters');
    expect(inner('SnapshotPoll')).toMatchObject({
      Resource: functionArn(workflow.pollFunction),
      Next: 'SnapshotJobStatus',
    });
    expect(inner('SnapshotFetch')).toMatchObject({
      Resource: functionArn(workflow.fetchFunction),
      Next: 'SnapshotFetchStatus',
    });
    expect(inner('SnapshotJobStatus')).toEqual({
      Type: 'Choice',
      Choices: [
        { Variable: '$.job.status', StringEquals: 'done', Next: 'SnapshotFetch' },
        { Variable: '$.job.status', StringEquals: 'failed', Next: 'SnapshotJobFailed' },
        { Variable: '$.job.timedOut', BooleanEquals: true, Next: 'SnapshotJobTimedOut' },
      ],
      Default: 'SnapshotWaitForJob',
    });
    for (const name of ['SnapshotSubmit', 'SnapshotPoll', 'SnapshotFetch']) {
      expect(inner(name).Retry).toEqual(stateOf(definition, name.replace('Snapshot', '')).Retry);
      expect(inner(name).Catch).toEqual([{ ErrorEquals: ['States.ALL'], Next: 'SnapshotClassifyFailure' }]);
    }
  });

  it('ends a member, a failed or timed-out job too, in a child that succeeds with failed and the described failure', () => {
    expect(inner('SnapshotJobFailed')).toMatchObject({
      Type: 'Pass',
      Parameters: { error: 'PceJobFailed', 'cause.$': '$.job.message' },
      Next: 'SnapshotExportFailed',
    });
    expect(inner('SnapshotJobTimedOut')).toMatchObject({
      Type: 'Pass',
      Parameters: { error: 'PceJobTimeout', 'cause.$': '$.job.message' },
      Next: 'SnapshotExportFailed',
    });
    expect(inner('SnapshotExportFailed')).toEqual({
      Type: 'Pass',
      Parameters: {
        failed: true,
        failure: { 'error.$': '$.error', 'cause.$': '$.cause', 'original.$': '$.original' },
      },
      End: true,
    });
    expect(inner('SnapshotFetchStatus').Default).toBe('SnapshotExported');
    expect(inner('SnapshotExported')).toEqual({
      Type: 'Pass',
      Result: false,
      ResultPath: '$.failed',
      End: true,
    });
  });

  it.each(['PlanSnapshot', 'ExportSnapshot', 'WriteSnapshotManifest'])(
    '%s hands every error to ClassifyFailure, so a failed member fails the execution with its error',
    (name) => {
      expect(stateOf(definition, name).Catch).toEqual([
        { ErrorEquals: ['States.ALL'], Next: 'ClassifyFailure' },
      ]);
    },
  );

  it('writes the manifest after the Map, then puts "Snapshot Succeeded" with the output before Done', () => {
    expect(stateOf(definition, 'WriteSnapshotManifest')).toMatchObject({
      Resource: functionArn(workflow.snapshotFunction),
      Parameters: {
        step: 'complete',
        'snapshot.$': '$.snapshot',
        'results.$': '$.results',
        execution: { 'name.$': '$$.Execution.Name', 'startTime.$': '$$.Execution.StartTime' },
      },
      Next: 'NotifySnapshotSucceeded',
    });
    expect(stateOf(definition, 'WriteSnapshotManifest').Retry).toContainEqual(
      expect.objectContaining({ ErrorEquals: ['ExportStorageError'] }),
    );
    expect(stateOf(definition, 'NotifySnapshotSucceeded')).toMatchObject({
      Resource: PUT_EVENTS,
      Parameters: { Entries: [{ Source: 'pce-export', DetailType: 'Snapshot Succeeded', 'Detail.$': '$' }] },
      ResultPath: null,
      Next: 'Done',
    });
  });

  it('tells the snapshot step the configured snapshots and exports, and nothing that reaches the PCE', () => {
    const variables = (
      synth.template.toJSON().Resources[logicalId(workflow.snapshotFunction)].Properties.Environment as {
        Variables: Record<string, unknown>;
      }
    ).Variables;
    const configured = JSON.parse(workflow.exportsConfig?.body ?? '{}') as {
      exports: Record<string, unknown>;
      snapshots: Record<string, unknown>;
    };

    expect(variables.EXPORTS_CONFIG_KEY).toBe(workflow.exportsConfig?.key);
    expect(variables.EXPORTS_CONFIG_SHA256).toBe(workflow.exportsConfig?.sha256);
    expect(configured.snapshots).toEqual({
      'policy-model': ['labels', 'rule-sets'],
      adhoc: ['workloads'],
    });
    expect(Object.keys(configured.exports).sort()).toEqual(['labels', 'rule-sets', 'workloads']);
    expect(variables).toMatchObject({ EXPORT_PREFIX: 'pce/', PCE_ORG_ID: '1' });
    expect(variables).not.toHaveProperty('PCE_SECRET_ID');
    expect(variables).not.toHaveProperty('PCE_URL');
  });

  it('lets the snapshot step put objects below {prefix}snapshots/, read its configuration object and do nothing else in S3', () => {
    const statements = statementsOfRole(
      synth.template,
      logicalId(workflow.snapshotFunction.role ?? synth.stack),
    );
    const s3 = statements
      .filter((statement) => actionsOf(statement).some((action) => action.startsWith('s3:')))
      .map((statement) => ({ ...statement, Resource: renderIntrinsics(statement.Resource) }));

    expect(s3).toEqual([
      {
        Effect: 'Allow',
        Action: 's3:GetObject',
        Resource: `<${logicalId(synth.stack.bucket)}.Arn>/${workflow.exportsConfig?.key}`,
      },
      {
        Effect: 'Allow',
        Action: 's3:PutObject',
        Resource: `<${logicalId(synth.stack.bucket)}.Arn>/pce/snapshots/*`,
      },
    ]);
  });

  it('schedules a configured snapshot with its name as the input', () => {
    const schedules = Object.values(synth.template.findResources('AWS::Scheduler::Schedule')).map(
      (schedule) => schedule.Properties,
    );
    const snapshotSchedules = schedules.filter((schedule) => 'snapshot' in JSON.parse(schedule.Target.Input));

    expect(snapshotSchedules).toHaveLength(1);
    expect(snapshotSchedules[0]).toMatchObject({
      ScheduleExpression: 'cron(0 4 * * ? *)',
      ScheduleExpressionTimezone: 'Europe/Zurich',
      Target: { Arn: { Ref: logicalId(workflow.stateMachine) } },
    });
    expect(JSON.parse(snapshotSchedules[0]?.Target.Input)).toEqual({ snapshot: { name: 'policy-model' } });
    expect(Object.keys(synth.stack.snapshotSchedules)).toEqual(['policy-model']);
  });

  it.each([
    [
      'a member that is not a configured export',
      [{ name: 'model', exports: ['labels', 'vens'] }],
      /snapshots\[0\]\.exports\[1\] names export "vens", which is not configured/,
    ],
    [
      'a member listed twice',
      [{ name: 'model', exports: ['labels', 'labels'] }],
      /snapshots\[0\]\.exports\[1\] repeats export "labels"/,
    ],
    [
      'two snapshots of one name',
      [
        { name: 'model', exports: ['labels'] },
        { name: 'model', exports: ['workloads'] },
      ],
      /snapshots\[1\]\.name "model" is already used by snapshots\[0\]/,
    ],
    ['a snapshot without exports', [{ name: 'model', exports: [] }], /snapshots\[0\]\.exports/],
  ])('rejects %s, naming the field', (_, snapshots, message) => {
    expect(() => synthStack({ ...configObject(), snapshots })).toThrow(message);
  });

  it('reserves the export name "snapshots" for the snapshots folder', () => {
    const config = configObject();
    config.exports.push({ name: 'snapshots', kind: 'collection', path: '/labels' });

    expect(() => synthStack(config)).toThrow(/exports\[3\]\.name "snapshots" is reserved/);
  });

  function workflowWith(snapshotMaxConcurrency?: number) {
    const stack = new Stack(unbundledApp(), 'Test');
    return new ExportWorkflow(stack, 'Workflow', {
      pceUrl: 'https://pce.example.com:8443',
      orgId: 1,
      secret: new Secret(stack, 'Secret'),
      bucket: new Bucket(stack, 'Bucket'),
      snapshotMaxConcurrency,
    });
  }

  it('takes another MaxConcurrency up to 8, the most that stays below the PCE rate limit when every export polls each second', () => {
    const workflow8 = workflowWith(8);
    const rendered = renderDefinition(Template.fromStack(Stack.of(workflow8)));

    expect(stateOf(rendered, 'ExportSnapshot').MaxConcurrency).toBe(8);
    expect(() => workflowWith(9)).toThrow(/snapshotMaxConcurrency must be an integer from 1 to 8 \(got 9\)/);
    expect(() => workflowWith(0)).toThrow(/snapshotMaxConcurrency must be an integer from 1 to 8/);
  });
});

describe('example parent state machine', () => {
  const synth = synthStack({ ...configObject(), exampleParent: true });
  const parent = synth.stack.exampleParent;
  if (!parent) throw new Error('exampleParent: true deployed no parent');
  const childId = logicalId(synth.stack.workflow.stateMachine);
  const parentResource = synth.template.toJSON().Resources[logicalId(parent.stateMachine)];
  const definition = JSON.parse(renderIntrinsics(parentResource.Properties.DefinitionString)) as {
    StartAt: string;
    States: Record<string, Record<string, unknown>>;
  };

  it('runs the export with startExecution.sync:2, passing its own input as the export input', () => {
    expect(definition.StartAt).toBe('RunExport');
    expect(definition.States.RunExport).toEqual({
      Type: 'Task',
      Resource: 'arn:<AWS::Partition>:states:::states:startExecution.sync:2',
      Parameters: { StateMachineArn: `<${childId}>`, 'Input.$': '$' },
      Next: 'ReadExportOutput',
    });
  });

  it("reads the export's output, which .sync:2 returns as JSON", () => {
    expect(definition.States.ReadExportOutput).toEqual({
      Type: 'Pass',
      Parameters: {
        'uri.$': '$.Output.uri',
        'bucket.$': '$.Output.bucket',
        'manifestKey.$': '$.Output.manifestKey',
        'exportExecutionArn.$': '$.ExecutionArn',
      },
      Next: 'Done',
    });
    expect(JSON.stringify(definition)).not.toMatch(/JSONata|QueryLanguage/);
  });

  /** renderIntrinsics, with the name part of a state machine ARN (`Fn::Select` 6 of its split) as `<Id.Name>`. */
  function render(value: unknown): string {
    const named = JSON.parse(JSON.stringify(value), (_key, node: unknown) => {
      const select = (
        node as { 'Fn::Select'?: [number, { 'Fn::Split': [string, { Ref: string }] }] } | null
      )?.['Fn::Select'];
      return select?.[0] === 6 ? `<${select[1]['Fn::Split'][1].Ref}.Name>` : node;
    }) as unknown;
    return renderIntrinsics(named);
  }

  it('may start the export state machine, watch and stop its executions, and nothing else', () => {
    const statements = statementsOfRole(synth.template, logicalId(parent.stateMachine.role))
      .filter((statement) => render(statement.Resource) !== '*')
      .map((statement) => ({ ...statement, Resource: render(statement.Resource) }));

    expect(statements).toEqual([
      { Effect: 'Allow', Action: 'states:StartExecution', Resource: `<${childId}>` },
      {
        Effect: 'Allow',
        Action: ['states:DescribeExecution', 'states:StopExecution'],
        Resource: `arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:<${childId}.Name>*`,
      },
      {
        Effect: 'Allow',
        Action: ['events:DescribeRule', 'events:PutRule', 'events:PutTargets'],
        Resource:
          'arn:<AWS::Partition>:events:<AWS::Region>:<AWS::AccountId>:rule/StepFunctionsGetEventsForStepFunctionsExecutionRule',
      },
    ]);
  });

  it('is a Standard state machine with tracing and full logging, named by CloudFormation', () => {
    expect(parentResource.Properties).toMatchObject({
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: true },
    });
    expect(parentResource.Properties).not.toHaveProperty('StateMachineName');
    synth.template.hasOutput('ExampleParentArn', { Value: { Ref: logicalId(parent.stateMachine) } });
  });

  it('is not deployed unless exampleParent is set', () => {
    const plain = synthStack();

    expect(plain.stack.exampleParent).toBeUndefined();
    expect(Object.keys(plain.template.findResources('AWS::StepFunctions::StateMachine'))).toEqual([
      logicalId(plain.stack.workflow.stateMachine),
    ]);
  });
});

describe('cdk-nag with every analytics option on', () => {
  it('reports no unacknowledged finding for Glue, snapshots, a custom bus and the example parent', () => {
    const { app } = synthStack({
      ...configObject(),
      glue: { database: 'pce' },
      snapshots: [
        { name: 'policy-model', exports: ['labels', 'workloads'], schedule: { expression: 'rate(1 day)' } },
      ],
      events: { bus: 'pce-exports' },
      exampleParent: true,
    });

    const report = new AwsSolutionsChecks(app, { verbose: true }).validateScope(app);

    expect(report.violations.map((violation) => violation.ruleName)).toEqual([]);
    expect(report.success).toBe(true);
  });
});
