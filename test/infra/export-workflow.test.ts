import { createHash } from 'node:crypto';
import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Bucket, BucketEncryption } from 'aws-cdk-lib/aws-s3';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { describe, expect, it } from 'vitest';
import { ERROR_NAMES } from '../../lambdas/export/errors';
import { ExportWorkflow, type ExportWorkflowProps } from '../../lib/export-workflow';
import {
  actionsOf,
  logicalId,
  renderDefinition,
  renderIntrinsics,
  statementsOfRole,
  stateOf,
  unbundledApp,
} from './support';

const EXPORTS = {
  workloads: {
    exportName: 'workloads',
    path: '/workloads',
    query: { managed: 'true' },
    format: 'ndjson' as const,
  },
  labels: { exportName: 'labels', path: '/labels' },
};

function build(props: Partial<ExportWorkflowProps> = {}, bucketEncryption = BucketEncryption.S3_MANAGED) {
  const stack = new Stack(unbundledApp(), 'Test');
  const bucket = new Bucket(stack, 'Bucket', { encryption: bucketEncryption });
  const secret = new Secret(stack, 'Secret');
  const workflow = new ExportWorkflow(stack, 'Workflow', {
    pceUrl: 'https://pce.example.com:8443',
    orgId: 7,
    secret,
    bucket,
    prefix: 'pce/',
    exports: EXPORTS,
    ...props,
  });
  const template = Template.fromStack(stack);
  const ids = {
    bucket: logicalId(bucket),
    secret: logicalId(secret),
    submit: logicalId(workflow.submitFunction),
    poll: logicalId(workflow.pollFunction),
    fetch: logicalId(workflow.fetchFunction),
    snapshot: logicalId(workflow.snapshotFunction),
    changes: logicalId(workflow.changesFunction),
    trafficRun: logicalId(workflow.trafficFunctions.run),
    trafficWindow: logicalId(workflow.trafficFunctions.window),
    trafficFetch: logicalId(workflow.trafficFunctions.fetch),
  };
  return { stack, bucket, workflow, template, ids, definition: renderDefinition(template) };
}

function functionProperties(template: Template, id: string): Record<string, unknown> {
  const resource = template.toJSON().Resources[id] as { Type: string; Properties: Record<string, unknown> };
  expect(resource.Type).toBe('AWS::Lambda::Function');
  return resource.Properties;
}

function roleIdOf(template: Template, functionId: string): string {
  const role = functionProperties(template, functionId).Role as { 'Fn::GetAtt': [string, string] };
  return role['Fn::GetAtt'][0];
}

const retry = (errors: string[], interval: number, attempts: number, maxDelay?: number) => ({
  ErrorEquals: errors,
  IntervalSeconds: interval,
  BackoffRate: 2,
  MaxAttempts: attempts,
  ...(maxDelay === undefined ? {} : { MaxDelaySeconds: maxDelay }),
  JitterStrategy: 'FULL',
});
const STORAGE = retry(['ExportStorageError'], 2, 3, 30);
const LAMBDA_SERVICE = retry(
  [
    'Lambda.ServiceException',
    'Lambda.AWSLambdaException',
    'Lambda.SdkClientException',
    'Lambda.TooManyRequestsException',
    'Lambda.ClientExecutionTimeoutException',
    'Lambda.Unknown',
  ],
  1,
  3,
);

describe('ExportWorkflow state machine definition', () => {
  const { definition, ids, template, workflow } = build();

  it('starts at IsSnapshot and consists of exactly the documented states', () => {
    const types = Object.fromEntries(
      Object.entries(definition.States).map(([name, state]) => [name, state.Type]),
    );

    expect(definition.StartAt).toBe('IsSnapshot');
    expect(types).toEqual({
      IsSnapshot: 'Choice',
      PlanSnapshot: 'Task',
      ExportSnapshot: 'Map',
      ReadSnapshotResults: 'Pass',
      CheckSnapshotResults: 'Pass',
      SnapshotStatus: 'Choice',
      SnapshotMemberFailed: 'Pass',
      WriteSnapshotManifest: 'Task',
      NotifySnapshotSucceeded: 'Task',
      Submit: 'Task',
      IsTrafficRun: 'Choice',
      PlanTraffic: 'Task',
      TrafficPlanStatus: 'Choice',
      WaitToPlanTraffic: 'Wait',
      TrafficRound: 'Map',
      SplitTraffic: 'Task',
      TrafficRoundStatus: 'Choice',
      CompleteTraffic: 'Task',
      AbortTraffic: 'Task',
      SubmitStatus: 'Choice',
      WaitToSubmit: 'Wait',
      RetrySubmit: 'Task',
      WaitForJob: 'Wait',
      Poll: 'Task',
      JobStatus: 'Choice',
      JobFailed: 'Pass',
      JobTimedOut: 'Pass',
      Fetch: 'Task',
      FetchStatus: 'Choice',
      WaitToFetch: 'Wait',
      ChangeHistory: 'Choice',
      WriteChanges: 'Task',
      NotifySucceeded: 'Task',
      Done: 'Succeed',
      ClassifyFailure: 'Choice',
      ReadFailureCause: 'Pass',
      ClassifyFunctionError: 'Choice',
      DescribeFailure: 'Pass',
      DescribeInternalError: 'Pass',
      DescribeNamedFailure: 'Pass',
      DescribeInternalFailure: 'Pass',
      DescribeNamedFailureWithoutCause: 'Pass',
      DescribeInternalFailureWithoutCause: 'Pass',
      NotifyExportFailed: 'Task',
      ExportFailed: 'Fail',
    });
  });

  it('is written in JSONPath only, never JSONata', () => {
    const text = JSON.stringify(definition);

    expect(definition.QueryLanguage).toBeUndefined();
    expect(Object.values(definition.States).filter((state) => 'QueryLanguage' in state)).toEqual([]);
    expect(text).not.toMatch(/JSONata/i);
    expect(text).not.toContain('{%');
  });

  it('IsSnapshot sends a snapshot input to PlanSnapshot and every other input to Submit', () => {
    expect(stateOf(definition, 'IsSnapshot')).toEqual({
      Type: 'Choice',
      Choices: [{ Variable: '$.snapshot', IsPresent: true, Next: 'PlanSnapshot' }],
      Default: 'Submit',
    });
  });

  it('Submit gets the execution input, name and start time, calls its function directly and replaces the state', () => {
    const submit = stateOf(definition, 'Submit');

    expect(submit.Resource).toBe(`<${ids.submit}.Arn>`);
    expect(submit.Parameters).toEqual({
      'input.$': '$',
      execution: { 'name.$': '$$.Execution.Name', 'startTime.$': '$$.Execution.StartTime' },
    });
    expect(submit).not.toHaveProperty('ResultPath');
    expect(submit).not.toHaveProperty('ResultSelector');
    expect(submit).not.toHaveProperty('OutputPath');
    expect(submit.Next).toBe('IsTrafficRun');
    expect(stateOf(definition, 'IsTrafficRun')).toEqual({
      Type: 'Choice',
      Choices: [{ Variable: '$.fanOut', IsPresent: true, Next: 'PlanTraffic' }],
      Default: 'SubmitStatus',
    });
  });

  it('polls once Submit has a job, and otherwise waits the seconds the PCE asked for and submits again', () => {
    expect(stateOf(definition, 'SubmitStatus')).toEqual({
      Type: 'Choice',
      Choices: [{ Variable: '$.job', IsPresent: true, Next: 'WaitForJob' }],
      Default: 'WaitToSubmit',
    });
    expect(stateOf(definition, 'WaitToSubmit')).toEqual({
      Type: 'Wait',
      SecondsPath: '$.submit.waitSeconds',
      Next: 'RetrySubmit',
    });
    const retry = stateOf(definition, 'RetrySubmit');
    expect(retry.Resource).toBe(`<${ids.submit}.Arn>`);
    expect(retry).not.toHaveProperty('Parameters');
    expect(retry.Next).toBe('SubmitStatus');
  });

  it('downloads again after the wait Fetch asked for when the PCE cut the download short, and otherwise goes on to the change history and the announcement', () => {
    expect(stateOf(definition, 'FetchStatus')).toEqual({
      Type: 'Choice',
      Choices: [{ Variable: '$.job', IsPresent: true, Next: 'WaitToFetch' }],
      Default: 'ChangeHistory',
    });
    expect(stateOf(definition, 'WaitToFetch')).toEqual({
      Type: 'Wait',
      SecondsPath: '$.job.waitSeconds',
      Next: 'Fetch',
    });
  });

  it('WaitForJob waits the seconds the job state asks for, then polls', () => {
    expect(stateOf(definition, 'WaitForJob')).toEqual({
      Type: 'Wait',
      SecondsPath: '$.job.waitSeconds',
      Next: 'Poll',
    });
  });

  it.each([
    ['Poll', 'poll', 'JobStatus'],
    ['Fetch', 'fetch', 'FetchStatus'],
    ['WriteChanges', 'changes', 'NotifySucceeded'],
  ] as const)('%s gets the whole state as its event and its result replaces the state', (name, fn, next) => {
    const state = stateOf(definition, name);

    expect(state.Resource).toBe(`<${ids[fn]}.Arn>`);
    for (const field of ['Parameters', 'InputPath', 'ResultPath', 'ResultSelector', 'OutputPath']) {
      expect(state).not.toHaveProperty(field);
    }
    expect(state.Next).toBe(next);
  });

  it('JobStatus fetches a done job, describes a failed or timed-out one and otherwise waits again', () => {
    expect(stateOf(definition, 'JobStatus')).toEqual({
      Type: 'Choice',
      Choices: [
        { Variable: '$.job.status', StringEquals: 'done', Next: 'Fetch' },
        { Variable: '$.job.status', StringEquals: 'failed', Next: 'JobFailed' },
        { Variable: '$.job.timedOut', BooleanEquals: true, Next: 'JobTimedOut' },
      ],
      Default: 'WaitForJob',
    });
  });

  it('writes the change history after Fetch only for an export whose output names changes', () => {
    expect(stateOf(definition, 'ChangeHistory')).toEqual({
      Type: 'Choice',
      Choices: [{ Variable: '$.changes', IsPresent: true, Next: 'WriteChanges' }],
      Default: 'NotifySucceeded',
    });
    expect(stateOf(definition, 'WriteChanges').Retry).toEqual([STORAGE, LAMBDA_SERVICE]);
  });

  it("ends a successful run in Done with Fetch's result as the output, once the event is sent", () => {
    expect(stateOf(definition, 'FetchStatus').Default).toBe('ChangeHistory');
    expect(stateOf(definition, 'NotifySucceeded')).toMatchObject({ ResultPath: null, Next: 'Done' });
    expect(stateOf(definition, 'Done')).toEqual({ Type: 'Succeed' });
  });

  it('names a failed job PceJobFailed and a timed-out job PceJobTimeout, the job message as cause, and announces it', () => {
    for (const [state, error] of [
      ['JobFailed', 'PceJobFailed'],
      ['JobTimedOut', 'PceJobTimeout'],
    ] as const) {
      expect(stateOf(definition, state)).toEqual({
        Type: 'Pass',
        Parameters: {
          error,
          'cause.$': '$.job.message',
          original: { error, 'cause.$': '$.job.message' },
        },
        Next: 'NotifyExportFailed',
      });
    }
  });

  it.each(['Submit', 'RetrySubmit', 'Poll'])(
    '%s retries the Lambda service errors with backoff and full jitter',
    (name) => {
      expect(stateOf(definition, name).Retry).toEqual([LAMBDA_SERVICE]);
    },
  );

  it('Fetch also retries S3 storage errors', () => {
    expect(stateOf(definition, 'Fetch').Retry).toEqual([STORAGE, LAMBDA_SERVICE]);
  });

  it('leaves PCE unavailability and rate limiting to the Wait loops, which honour Retry-After', () => {
    const retried = ['Submit', 'RetrySubmit', 'Poll', 'Fetch'].flatMap((name) =>
      (stateOf(definition, name).Retry as { ErrorEquals: string[] }[]).flatMap((rule) => rule.ErrorEquals),
    );

    expect(retried).not.toContain('PceUnavailable');
    expect(retried).not.toContain('PceRateLimited');
  });

  it('never retries authentication, request, protocol or configuration errors, nor everything at once', () => {
    const retried = ['Submit', 'RetrySubmit', 'Poll', 'Fetch'].flatMap((name) =>
      (stateOf(definition, name).Retry as { ErrorEquals: string[] }[]).flatMap((rule) => rule.ErrorEquals),
    );

    for (const error of ['PceAuthError', 'PceRequestError', 'PceProtocolError', 'ExportConfigError']) {
      expect(retried).not.toContain(error);
    }
    expect(retried).not.toContain('States.ALL');
    expect(retried).not.toContain('States.TaskFailed');
  });

  it.each([
    'Submit',
    'RetrySubmit',
    'Poll',
    'Fetch',
    'PlanSnapshot',
    'ExportSnapshot',
    'WriteSnapshotManifest',
  ])('%s catches every error, the error replacing the state, and hands it to ClassifyFailure', (name) => {
    expect(stateOf(definition, name).Catch).toEqual([
      { ErrorEquals: ['States.ALL'], Next: 'ClassifyFailure' },
    ]);
  });

  it('names errors with the eleven names of PRODUCT.md 3.3', () => {
    expect(ERROR_NAMES).toEqual([
      'PceAuthError',
      'PceRequestError',
      'PceRateLimited',
      'PceUnavailable',
      'PceProtocolError',
      'PceJobFailed',
      'PceJobTimeout',
      'ExportConfigError',
      'ExportStorageError',
      'TrafficIncomplete',
      'ExportInternalError',
    ]);
  });

  it('parses a cause only when it has the Lambda runtime shape, and reads only fields it saw present', () => {
    const classify = stateOf(definition, 'ClassifyFailure') as unknown as {
      Choices: { Next: string; And?: unknown[] }[];
      Default: string;
    };

    expect(classify.Choices[0]?.And).toEqual([
      { Variable: '$.Cause', IsPresent: true },
      { Variable: '$.Cause', IsString: true },
      {
        Or: [
          { Variable: '$.Cause', StringMatches: '{"errorType":"*","errorMessage":"*","trace":[*]}' },
          { Variable: '$.Cause', StringMatches: '{"errorType":"*","errorMessage":"*"}' },
          { Variable: '$.Cause', StringMatches: '{"errorMessage":"*"}' },
        ],
      },
    ]);
    expect(classify.Choices.map((choice) => choice.Next)).toEqual([
      'ReadFailureCause',
      'DescribeNamedFailure',
      'DescribeInternalFailure',
      'DescribeNamedFailureWithoutCause',
    ]);
    expect(classify.Default).toBe('DescribeInternalFailureWithoutCause');
    expect(stateOf(definition, 'ReadFailureCause')).toEqual({
      Type: 'Pass',
      Parameters: { 'Error.$': '$.Error', 'Cause.$': '$.Cause', 'detail.$': 'States.StringToJson($.Cause)' },
      Next: 'ClassifyFunctionError',
    });
  });

  it('fails every described failure in ExportFailed with its error and cause, once the event is sent', () => {
    for (const name of [
      'DescribeFailure',
      'DescribeInternalError',
      'DescribeNamedFailure',
      'DescribeInternalFailure',
      'DescribeNamedFailureWithoutCause',
      'DescribeInternalFailureWithoutCause',
      'JobFailed',
      'JobTimedOut',
    ]) {
      expect(stateOf(definition, name).Next).toBe('NotifyExportFailed');
    }
    expect(stateOf(definition, 'DescribeInternalError').Parameters).toEqual({
      error: 'ExportInternalError',
      'cause.$': "States.Format('{}: {}', $.Error, $.detail.errorMessage)",
      original: { 'error.$': '$.Error', 'cause.$': '$.detail.errorMessage' },
    });
    expect(stateOf(definition, 'NotifyExportFailed')).toMatchObject({
      ResultPath: null,
      Next: 'ExportFailed',
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: null, Next: 'ExportFailed' }],
    });
    expect(stateOf(definition, 'ExportFailed')).toEqual({
      Type: 'Fail',
      ErrorPath: '$.error',
      CausePath: '$.cause',
    });
  });

  it('gives every Lambda task a timeout 30 s past its function timeout', () => {
    expect(
      Object.fromEntries(
        ['Submit', 'RetrySubmit', 'Poll', 'Fetch', 'PlanSnapshot', 'WriteSnapshotManifest'].map((name) => [
          name,
          stateOf(definition, name).TimeoutSeconds,
        ]),
      ),
    ).toEqual({
      Submit: 120,
      RetrySubmit: 120,
      Poll: 120,
      Fetch: 930,
      PlanSnapshot: 90,
      WriteSnapshotManifest: 90,
    });
  });

  it('is a Standard state machine with X-Ray tracing and full logging, execution data included', () => {
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: {
        Level: 'ALL',
        IncludeExecutionData: true,
        Destinations: [
          {
            CloudWatchLogsLogGroup: { LogGroupArn: { 'Fn::GetAtt': [logicalId(workflow.logGroup), 'Arn'] } },
          },
        ],
      },
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    expect(template.toJSON().Resources[logicalId(workflow.logGroup)].Properties).not.toHaveProperty(
      'LogGroupName',
    );
  });

  it('lets CloudFormation name the state machine', () => {
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', { StateMachineName: Match.absent() });
  });
});

describe('ExportWorkflow functions', () => {
  const { template, ids, workflow } = build();
  const configuration = workflow.exportsConfig;
  const configObject = {
    EXPORTS_CONFIG_BUCKET: { Ref: ids.bucket },
    EXPORTS_CONFIG_KEY: configuration?.key,
    EXPORTS_CONFIG_SHA256: configuration?.sha256,
  };

  it.each([
    ['submit', 256, 90],
    ['poll', 256, 90],
    ['fetch', 1769, 900],
  ] as const)('%s runs Node.js 24 on arm64 with %i MB, %i s and X-Ray tracing', (fn, memory, timeout) => {
    expect(functionProperties(template, ids[fn])).toMatchObject({
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      MemorySize: memory,
      Timeout: timeout,
      Handler: 'index.handler',
      TracingConfig: { Mode: 'Active' },
    });
  });

  it.each(['submit', 'poll', 'fetch'] as const)('%s logs to its own log group kept for 30 days', (fn) => {
    const loggingConfig = functionProperties(template, ids[fn]).LoggingConfig as {
      LogGroup: { Ref: string };
    };
    const logGroup = template.toJSON().Resources[loggingConfig.LogGroup.Ref];

    expect(logGroup).toMatchObject({ Type: 'AWS::Logs::LogGroup', Properties: { RetentionInDays: 30 } });
  });

  // Source maps, and V8's heap sized for the function's memory: an 8 MiB semi space and 9/10 of
  // the memory for the old space (256 MB for Submit, Poll and the snapshot step, 1,769 MB for Fetch).
  const heap256 = '--enable-source-maps --max-semi-space-size=8 --max-old-space-size=230';
  const defaults = {
    NODE_OPTIONS: heap256,
    POWERTOOLS_SERVICE_NAME: 'pce-export',
    POWERTOOLS_LOG_LEVEL: 'INFO',
  };
  const pce = (secret: { Ref: string }) => ({
    ...defaults,
    PCE_URL: 'https://pce.example.com:8443',
    PCE_ORG_ID: '7',
    PCE_SECRET_ID: secret,
  });

  it('Submit is told the PCE, the secret, the configuration object, the bucket its watermarks are in and the longest poll interval', () => {
    expect(functionProperties(template, ids.submit).Environment).toEqual({
      Variables: {
        ...pce({ Ref: ids.secret }),
        ...configObject,
        EXPORT_BUCKET: { Ref: ids.bucket },
        EXPORT_PREFIX: 'pce/',
        SUBMIT_RETRY_WINDOW_SECONDS: '600',
        POLL_MAX_INTERVAL_SECONDS: '300',
      },
    });
  });

  it('writes the configured exports and snapshots into an object whose key and variable carry its sha256', () => {
    expect(configuration).toBeDefined();
    expect(JSON.parse(configuration?.body ?? '')).toEqual({ exports: EXPORTS, snapshots: {} });
    expect(configuration?.sha256).toBe(
      createHash('sha256')
        .update(configuration?.body ?? '')
        .digest('hex'),
    );
    expect(configuration?.key).toBe(`pce/_pce-export/exports-${configuration?.sha256}.json`);
    const writer = Object.values(template.findResources('Custom::PceExportConfiguration'));
    expect(writer).toHaveLength(1);
    const create = JSON.parse(renderIntrinsics(writer[0]?.Properties.Create)) as Record<string, unknown>;
    expect(create).toEqual({
      service: 'S3',
      action: 'putObject',
      parameters: {
        Bucket: `<${ids.bucket}>`,
        Key: configuration?.key,
        Body: configuration?.body,
        ContentType: 'application/json',
      },
      physicalResourceId: { id: configuration?.key },
    });
  });

  it('updates Submit and the snapshot step only after the object is written', () => {
    const writerId = Object.keys(template.findResources('Custom::PceExportConfiguration'))[0];
    for (const fn of [ids.submit, ids.snapshot]) {
      expect(template.toJSON().Resources[fn].DependsOn).toContain(writerId);
    }
  });

  it('Poll is told the PCE, the secret and the longest poll interval, not the bucket', () => {
    expect(functionProperties(template, ids.poll).Environment).toEqual({
      Variables: { ...pce({ Ref: ids.secret }), POLL_MAX_INTERVAL_SECONDS: '300' },
    });
  });

  it('Fetch is told the PCE, the secret and the bucket', () => {
    expect(functionProperties(template, ids.fetch).Environment).toEqual({
      Variables: {
        ...pce({ Ref: ids.secret }),
        NODE_OPTIONS: '--enable-source-maps --max-semi-space-size=8 --max-old-space-size=1592',
        EXPORT_BUCKET: { Ref: ids.bucket },
        EXPORT_PREFIX: 'pce/',
      },
    });
  });

  it('the snapshot step is told the org, the bucket and the configuration object, not the PCE or the secret', () => {
    expect(functionProperties(template, ids.snapshot).Environment).toEqual({
      Variables: {
        ...defaults,
        PCE_ORG_ID: '7',
        ...configObject,
        EXPORT_BUCKET: { Ref: ids.bucket },
        EXPORT_PREFIX: 'pce/',
      },
    });
  });

  it('gives Fetch the configured memory size', () => {
    const custom = build({ fetchMemorySize: 3008 });

    expect(functionProperties(custom.template, custom.ids.fetch).MemorySize).toBe(3008);
    expect(functionProperties(custom.template, custom.ids.submit).MemorySize).toBe(256);
  });

  it('passes the configured poll interval and log retention through', () => {
    const custom = build({ maxPollIntervalSeconds: 60, logRetention: RetentionDays.ONE_WEEK });

    for (const fn of [custom.ids.submit, custom.ids.poll]) {
      expect(functionProperties(custom.template, fn).Environment).toMatchObject({
        Variables: { POLL_MAX_INTERVAL_SECONDS: '60' },
      });
    }
    expect(
      Object.values(custom.template.findResources('AWS::Logs::LogGroup')).map((group) => group.Properties),
    ).toEqual(Array(10).fill({ RetentionInDays: 7 }));
  });

  it('defaults to no prefix and no configured exports, and then writes no configuration object', () => {
    const bare = build({ prefix: undefined, exports: undefined });
    const submitVariables = (
      functionProperties(bare.template, bare.ids.submit).Environment as { Variables: Record<string, unknown> }
    ).Variables;

    expect(Object.keys(submitVariables).filter((name) => name.startsWith('EXPORTS_CONFIG'))).toEqual([]);
    expect(bare.template.findResources('Custom::PceExportConfiguration')).toEqual({});
    expect(functionProperties(bare.template, bare.ids.fetch).Environment).toMatchObject({
      Variables: { EXPORT_PREFIX: '' },
    });
  });
});

describe('ExportWorkflow permissions', () => {
  const { template, ids, workflow } = build();

  it.each(['submit', 'poll', 'fetch'] as const)(
    '%s may read the one secret and nothing else from it',
    (fn) => {
      const secretStatements = statementsOfRole(template, roleIdOf(template, ids[fn])).filter((statement) =>
        actionsOf(statement).some((action) => action.startsWith('secretsmanager:')),
      );

      expect(secretStatements).toEqual([
        {
          Effect: 'Allow',
          Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'],
          Resource: { Ref: ids.secret },
        },
      ]);
    },
  );

  it('Submit may only read its configuration object and the watermarks, Poll touches no S3, Fetch only the objects below the prefix (reading only the overlap keys), and both may list the bucket', () => {
    const s3Statements = (fn: 'submit' | 'poll' | 'fetch') =>
      statementsOfRole(template, roleIdOf(template, ids[fn])).filter((statement) =>
        actionsOf(statement).some((action) => action.startsWith('s3:')),
      );

    const rendered = (resource: unknown) =>
      Array.isArray(resource) ? resource.map(renderIntrinsics) : renderIntrinsics(resource);
    expect(
      s3Statements('submit').map((statement) => ({
        ...statement,
        Resource: rendered(statement.Resource),
      })),
    ).toEqual([
      {
        Effect: 'Allow',
        Action: 's3:GetObject',
        Resource: [
          `<${ids.bucket}.Arn>/pce/*/watermark.json`,
          `<${ids.bucket}.Arn>/${workflow.exportsConfig?.key}`,
        ],
      },
      { Effect: 'Allow', Action: 's3:ListBucket', Resource: `<${ids.bucket}.Arn>` },
    ]);
    expect(s3Statements('poll')).toEqual([]);
    expect(
      s3Statements('fetch').map((statement) => ({
        ...statement,
        Resource: renderIntrinsics(statement.Resource),
      })),
    ).toEqual([
      {
        Effect: 'Allow',
        Action: ['s3:AbortMultipartUpload', 's3:DeleteObject', 's3:PutObject', 's3:PutObjectTagging'],
        Resource: `<${ids.bucket}.Arn>/pce/*`,
      },
      { Effect: 'Allow', Action: 's3:GetObject', Resource: `<${ids.bucket}.Arn>/pce/*/_incremental/*` },
      { Effect: 'Allow', Action: 's3:ListBucket', Resource: `<${ids.bucket}.Arn>` },
    ]);
  });

  it('grants no bucket-wide S3 access to anyone when a prefix is set', () => {
    const everyStatement = Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
      (policy) =>
        policy.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[],
    );
    // s3:ListBucket (the traffic run's steps, Submit and Fetch) lists keys and reads no object.
    const s3Resources = everyStatement
      .filter((statement) =>
        [statement.Action].flat().some((action) => action.startsWith('s3:') && action !== 's3:ListBucket'),
      )
      .flatMap((statement) => [statement.Resource].flat().map(renderIntrinsics));

    const configKey = `<${ids.bucket}.Arn>/${workflow.exportsConfig?.key}`;
    // Fetch, the traffic run's three functions, the changes step (the objects below the prefix,
    // and the export folders' _changes and _state), the snapshot step, and the configuration
    // object (read by Submit and the snapshot step, written by its writer), the watermarks
    // (read by Submit) and the overlap keys of incremental events exports (read by Fetch).
    expect(s3Resources.sort()).toEqual(
      [
        `<${ids.bucket}.Arn>/pce/*/watermark.json`,
        `<${ids.bucket}.Arn>/pce/*/_incremental/*`,
        `<${ids.bucket}.Arn>/pce/*`,
        `<${ids.bucket}.Arn>/pce/*`,
        `<${ids.bucket}.Arn>/pce/*/_changes/*`,
        `<${ids.bucket}.Arn>/pce/*/_state/*`,
        `<${ids.bucket}.Arn>/pce/*`,
        `<${ids.bucket}.Arn>/pce/*`,
        `<${ids.bucket}.Arn>/pce/*`,
        `<${ids.bucket}.Arn>/pce/snapshots/*`,
        configKey,
        configKey,
        configKey,
      ].sort(),
    );
  });

  it('with an empty prefix Fetch may write any object of the bucket', () => {
    const bare = build({ prefix: '' });
    const fetchS3 = statementsOfRole(bare.template, roleIdOf(bare.template, bare.ids.fetch)).filter(
      (statement) => actionsOf(statement).includes('s3:PutObject'),
    );

    expect(fetchS3.map((statement) => renderIntrinsics(statement.Resource))).toEqual([
      `<${bare.ids.bucket}.Arn>/*`,
    ]);
  });

  it("lets Fetch use the bucket's KMS key through S3, for the objects below the prefix only, decrypting only the overlap keys", () => {
    const kms = build({}, BucketEncryption.KMS);
    const keyId = logicalId(kms.bucket.encryptionKey ?? kms.bucket);
    const kmsStatements = statementsOfRole(kms.template, roleIdOf(kms.template, kms.ids.fetch)).filter(
      (statement) => actionsOf(statement).some((action) => action.startsWith('kms:')),
    );

    expect(kmsStatements).toEqual([
      {
        Effect: 'Allow',
        Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
        Resource: { 'Fn::GetAtt': [keyId, 'Arn'] },
        Condition: {
          StringEquals: {
            'kms:ViaService': { 'Fn::Join': ['', ['s3.', { Ref: 'AWS::Region' }, '.amazonaws.com']] },
          },
          StringLike: {
            'kms:EncryptionContext:aws:s3:arn': [
              { 'Fn::Join': ['', [{ 'Fn::GetAtt': [kms.ids.bucket, 'Arn'] }, '/pce/*']] },
              { 'Fn::GetAtt': [kms.ids.bucket, 'Arn'] },
            ],
          },
        },
      },
      // Reading an incremental events export's overlap keys back: only those objects.
      {
        Effect: 'Allow',
        Action: 'kms:Decrypt',
        Resource: { 'Fn::GetAtt': [keyId, 'Arn'] },
        Condition: {
          StringEquals: {
            'kms:ViaService': { 'Fn::Join': ['', ['s3.', { Ref: 'AWS::Region' }, '.amazonaws.com']] },
          },
          StringLike: {
            'kms:EncryptionContext:aws:s3:arn': [
              { 'Fn::Join': ['', [{ 'Fn::GetAtt': [kms.ids.bucket, 'Arn'] }, '/pce/*/_incremental/*']] },
              { 'Fn::GetAtt': [kms.ids.bucket, 'Arn'] },
            ],
          },
        },
      },
    ]);
  });

  it.each(['submit', 'poll', 'fetch'] as const)(
    '%s has its own role, allowed to write to its own log group only (no AWSLambdaBasicExecutionRole)',
    (fn) => {
      const roleId = roleIdOf(template, ids[fn]);
      const logGroupId = (
        functionProperties(template, ids[fn]).LoggingConfig as { LogGroup: { Ref: string } }
      ).LogGroup.Ref;
      const logStatements = statementsOfRole(template, roleId).filter((statement) =>
        actionsOf(statement).some((action) => action.startsWith('logs:')),
      );

      expect(template.toJSON().Resources[roleId].Properties.ManagedPolicyArns).toBeUndefined();
      expect(logStatements).toEqual([
        {
          Effect: 'Allow',
          Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          Resource: { 'Fn::GetAtt': [logGroupId, 'Arn'] },
        },
      ]);
    },
  );

  it("lets the state machine invoke the five workflow functions and the traffic run's three, and no other", () => {
    const roleId = logicalId(workflow.stateMachine.role);
    const invoke = statementsOfRole(template, roleId).filter((statement) =>
      actionsOf(statement).includes('lambda:InvokeFunction'),
    );
    const resources = invoke.flatMap((statement) => [statement.Resource].flat().map(renderIntrinsics));

    expect(resources.sort()).toEqual(
      ['submit', 'poll', 'fetch', 'snapshot', 'changes', 'trafficRun', 'trafficWindow', 'trafficFetch']
        .flatMap((fn) => [`<${ids[fn as 'submit']}.Arn>`, `<${ids[fn as 'submit']}.Arn>:*`])
        .sort(),
    );
  });
});

describe('ExportWorkflow props validation', () => {
  it.each<[string, Partial<ExportWorkflowProps>, RegExp]>([
    ['a plain-http PCE', { pceUrl: 'http://pce.example.com' }, /Workflow: pceUrl must use https/],
    [
      'a PCE URL with a path',
      { pceUrl: 'https://pce.example.com/api/v2' },
      /pceUrl must be the PCE origin only/,
    ],
    ['org id 0', { orgId: 0 }, /orgId must be a positive integer/],
    ['a fractional org id', { orgId: 1.5 }, /orgId must be a positive integer/],
    ['an org id above 2147483647', { orgId: 2 ** 31 }, /orgId must be at most 2147483647/],
    ['a prefix without a trailing slash', { prefix: 'pce' }, /prefix must be empty or end with "\/"/],
    ['a prefix with a leading slash', { prefix: '/pce/' }, /prefix must not start with "\/"/],
    ['a wildcard in the prefix', { prefix: 'pce*/' }, /prefix may only contain/],
    [
      'a zero poll interval',
      { maxPollIntervalSeconds: 0 },
      /maxPollIntervalSeconds must be an integer from 1 to 3600/,
    ],
    [
      'a Fetch memory size below 128 MB',
      { fetchMemorySize: 64 },
      /fetchMemorySize must be an integer from 128 to 10240 MB/,
    ],
    ['a fractional Fetch memory size', { fetchMemorySize: 1769.5 }, /fetchMemorySize must be an integer/],
    [
      'an invalid export name',
      { exports: { 'bad name': { path: '/labels' } } },
      /exports\["bad name"\] has an invalid name/,
    ],
    ['an export without a path', { exports: { labels: {} } }, /exports\["labels"\]\.path is required/],
    [
      'an export with a bad path',
      { exports: { labels: { path: 'labels' } } },
      /exports\["labels"\] is not a valid export input: .*path must be an org-relative collection path/,
    ],
    [
      'an export whose exportName differs from its key',
      { exports: { labels: { exportName: 'other', path: '/labels' } } },
      /exports\["labels"\]\.exportName must be "labels"/,
    ],
    ['a state machine name with spaces', { stateMachineName: 'pce export' }, /stateMachineName must be/],
  ])('rejects %s, naming the prop', (_, props, message) => {
    expect(() => build(props)).toThrow(message);
  });
});

describe('ExportWorkflow bindings', () => {
  const { template, ids } = build();
  const variables = (fn: keyof typeof ids) =>
    Object.keys((functionProperties(template, ids[fn]).Environment as { Variables: object }).Variables);
  const actions = (fn: keyof typeof ids, service: string) =>
    statementsOfRole(template, roleIdOf(template, ids[fn]))
      .flatMap(actionsOf)
      .filter((action) => action.startsWith(`${service}:`));

  it.each(['submit', 'poll', 'fetch', 'snapshot'] as const)(
    '%s has the secret variable exactly when it may read the secret',
    (fn) => {
      expect(variables(fn).includes('PCE_SECRET_ID')).toBe(actions(fn, 'secretsmanager').length > 0);
    },
  );

  /** The objects a function's S3 grants name (the bucket itself, for listing, left out). */
  const objects = (fn: keyof typeof ids) =>
    statementsOfRole(template, roleIdOf(template, ids[fn]))
      .filter((statement) => actionsOf(statement).some((action) => action.startsWith('s3:')))
      .flatMap((statement) => [statement.Resource].flat().map(renderIntrinsics))
      .filter((resource) => resource.startsWith(`<${ids.bucket}.Arn>/`));
  const configKey = `<${ids.bucket}.Arn>/${build().workflow.exportsConfig?.key}`;

  it.each(['submit', 'poll', 'fetch', 'snapshot'] as const)(
    '%s has the bucket variables exactly when it may use objects below the prefix beyond the configuration object',
    (fn) => {
      const told = variables(fn).filter((name) => name === 'EXPORT_BUCKET' || name === 'EXPORT_PREFIX');
      expect(told).toEqual(
        objects(fn).some((resource) => resource !== configKey) ? ['EXPORT_BUCKET', 'EXPORT_PREFIX'] : [],
      );
    },
  );

  it.each(['submit', 'poll', 'fetch', 'snapshot'] as const)(
    '%s has the configuration object variables exactly when it may read the object',
    (fn) => {
      const told = variables(fn).filter((name) => name.startsWith('EXPORTS_CONFIG_'));
      expect(told).toEqual(
        objects(fn).includes(configKey)
          ? ['EXPORTS_CONFIG_BUCKET', 'EXPORTS_CONFIG_KEY', 'EXPORTS_CONFIG_SHA256']
          : [],
      );
    },
  );

  it('lets Fetch and the snapshot step write to the bucket and Submit only read, and gives the secret to the three PCE steps only', () => {
    expect(actions('submit', 's3').sort()).toEqual(['s3:GetObject', 's3:ListBucket']);
    expect(actions('poll', 's3')).toEqual([]);
    // Fetch writes its object once and tags it (deleting an object it cannot tag), and reads
    // back only an incremental events export's overlap keys; it copies nothing.
    expect(actions('fetch', 's3').sort()).toEqual([
      's3:AbortMultipartUpload',
      's3:DeleteObject',
      's3:GetObject',
      's3:ListBucket',
      's3:PutObject',
      's3:PutObjectTagging',
    ]);
    expect(actions('snapshot', 's3').sort()).toEqual(['s3:GetObject', 's3:PutObject']);
    expect(actions('snapshot', 'secretsmanager')).toEqual([]);
    for (const fn of ['submit', 'poll', 'fetch'] as const) {
      expect(actions(fn, 'secretsmanager')).toEqual([
        'secretsmanager:DescribeSecret',
        'secretsmanager:GetSecretValue',
      ]);
    }
  });
});
