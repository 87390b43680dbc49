import { join } from 'node:path';
import { Duration, Token, Validations } from 'aws-cdk-lib';
import { EventBus, type IEventBus } from 'aws-cdk-lib/aws-events';
import { Grant } from 'aws-cdk-lib/aws-iam';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import {
  Choice,
  Condition,
  DefinitionBody,
  Fail,
  type IChainable,
  JitterType,
  JsonPath,
  LogLevel,
  Map as MapState,
  Pass,
  StateMachine,
  StateMachineType,
  Succeed,
  TaskInput,
  Wait,
  WaitTime,
} from 'aws-cdk-lib/aws-stepfunctions';
import { LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { type ExportInput, exportInputSchema } from '../lambdas/contracts/input';
import { MAX_CONFIGURED_EXPORTS_BYTES, MAX_SNAPSHOT_MEMBERS } from '../lambdas/contracts/limits';
import { EXPORT_NAME, EXPORT_NAME_RULE, keyPrefixIssue, pceUrlIssue } from '../lambdas/contracts/patterns';
import { ERROR_NAMES } from '../lambdas/export/errors';
import { describeIssues, kindIssues } from '../lambdas/export/input';
import { SNAPSHOTS_FOLDER } from '../lambdas/export/layout';
import { DETAIL_TYPES, failureDetail, notifyTask } from './events';
import { createExportFunction, HANDLERS_DIR } from './lambda-defaults';
import { nagResourceFinding } from './nag';

export interface ExportWorkflowProps {
  /** Origin of the PCE, e.g. `https://pce.example.com:8443` (https; http only on loopback). */
  readonly pceUrl: string;
  /** The PCE organisation id (a positive integer). */
  readonly orgId: number;
  /** Secret holding `{"apiKey", "apiSecret", "caBundle"?}`; the three functions may read it. */
  readonly secret: ISecret;
  /** Bucket the export objects are written to. */
  readonly bucket: IBucket;
  /**
   * Key prefix of everything the workflow writes: empty, or ending with `/`. Fetch may only
   * write below it.
   * @default '' - objects are written at the root of the bucket and Fetch may write anywhere in it
   */
  readonly prefix?: string;
  /**
   * Configured exports by name; an execution input `{"exportName": name}` picks one up, and
   * fields in the input override its fields.
   * @default {} - every execution input must carry its own `path`
   */
  readonly exports?: Readonly<Record<string, ExportInput>>;
  /**
   * Longest pause between two polls of a PCE job, in seconds (1 to 3600).
   * @default 300
   */
  readonly maxPollIntervalSeconds?: number;
  /**
   * Retention of the functions' and the state machine's log groups.
   * @default RetentionDays.ONE_MONTH
   */
  readonly logRetention?: RetentionDays;
  /**
   * Name of the state machine.
   * @default - CloudFormation generates a unique name
   */
  readonly stateMachineName?: string;
  /**
   * Event bus that receives the "Export Succeeded" and "Export Failed" events
   * (`source: "pce-export"`). The state machine may put events on this bus only.
   * @default - the account's default event bus
   */
  readonly eventBus?: IEventBus;
  /**
   * Configured snapshots by name, each a list of configured export names: an execution input
   * `{"snapshot": {"name": name}}` exports all of them into one folder with one manifest.
   * @default {} - every snapshot input must list its own `exports`
   */
  readonly snapshots?: Readonly<Record<string, readonly string[]>>;
  /**
   * How many exports of a snapshot run at the same time (1 to 8). A running export polls its
   * PCE job at most once a second, about 60 requests a minute at worst, so 5 stay at or below
   * 300 of the PCE's 500 requests a minute per API key, leaving the rest for scheduled exports
   * and other clients of the same key.
   * @default 5
   */
  readonly snapshotMaxConcurrency?: number;
}

/** At most one poll a second each: 8 exports polling flat out stay below 500 requests a minute. */
const MAX_SNAPSHOT_CONCURRENCY = 8;
export const DEFAULT_SNAPSHOT_MAX_CONCURRENCY = 5;

/** Step Functions retries on the Lambda service's own transient errors. */
const LAMBDA_SERVICE_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
];

/**
 * Exports PCE collections to S3 through the PCE's asynchronous job API: a Standard state
 * machine (JSONPath) that runs Submit → WaitForJob → Poll → JobStatus (loop) → Fetch, with
 * three Lambda functions.
 *
 * Execution input: `{"exportName"?, "path"?, "query"?, "format"?, "gzip"?, "maxWaitSeconds"?}`,
 * or `{"snapshot": {"name", "exports"?}}` for several exports into one folder with one manifest
 * (IsSnapshot → PlanSnapshot → ExportSnapshot, an inline Map of the same Submit … Fetch chain →
 * WriteSnapshotManifest). Execution output: the small JSON Fetch returns (bucket, key, uri,
 * bytes, sha256, ...), or for a snapshot the folder, its manifest and its objects (`schema/`).
 * Failures end in a Fail state whose error is one of the `ERROR_NAMES`. Before it ends, every
 * execution puts an "Export Succeeded" or "Export Failed" event on the event bus (`lib/events.ts`).
 */
export class ExportWorkflow extends Construct {
  public readonly stateMachine: StateMachine;
  public readonly submitFunction: NodejsFunction;
  public readonly pollFunction: NodejsFunction;
  public readonly fetchFunction: NodejsFunction;
  /** Plans a snapshot run and writes its manifest. */
  public readonly snapshotFunction: NodejsFunction;
  /** Log group of the state machine's execution history (level ALL, with execution data). */
  public readonly logGroup: LogGroup;
  /** Where the completion and failure events go. */
  public readonly eventBus: IEventBus;

  constructor(scope: Construct, id: string, props: ExportWorkflowProps) {
    super(scope, id);
    const prefix = props.prefix ?? '';
    const exports = props.exports ?? {};
    const maxPollIntervalSeconds = props.maxPollIntervalSeconds ?? 300;
    const logRetention = props.logRetention ?? RetentionDays.ONE_MONTH;
    const exportsJson = JSON.stringify(exports);
    const snapshots = props.snapshots ?? {};
    const snapshotsJson = JSON.stringify(snapshots);
    const snapshotMaxConcurrency = props.snapshotMaxConcurrency ?? DEFAULT_SNAPSHOT_MAX_CONCURRENCY;
    this.validate(props, { prefix, exports, exportsJson, maxPollIntervalSeconds });
    this.validateSnapshots(exports, snapshots, exportsJson, snapshotsJson, snapshotMaxConcurrency);

    const submit = createExportFunction(this, 'SubmitFunction', {
      entry: join(HANDLERS_DIR, 'submit.ts'),
      description: 'pce-export Submit: starts an asynchronous PCE job',
      memorySize: 256,
      timeout: Duration.seconds(90),
      logRetention,
    });
    const poll = createExportFunction(this, 'PollFunction', {
      entry: join(HANDLERS_DIR, 'poll.ts'),
      description: 'pce-export Poll: checks the PCE job and schedules the next poll',
      memorySize: 256,
      timeout: Duration.seconds(90),
      logRetention,
    });
    const fetch = createExportFunction(this, 'FetchFunction', {
      entry: join(HANDLERS_DIR, 'fetch.ts'),
      description: 'pce-export Fetch: streams the job datafile into S3',
      memorySize: 1024,
      timeout: Duration.minutes(15),
      logRetention,
    });
    const snapshot = createExportFunction(this, 'SnapshotFunction', {
      entry: join(HANDLERS_DIR, 'snapshot.ts'),
      description: 'pce-export Snapshot: plans a snapshot run and writes its manifest',
      memorySize: 256,
      timeout: Duration.seconds(60),
      logRetention,
    });
    this.submitFunction = submit.function;
    this.pollFunction = poll.function;
    this.fetchFunction = fetch.function;
    this.snapshotFunction = snapshot.function;

    for (const fn of [this.submitFunction, this.pollFunction, this.fetchFunction]) {
      fn.addEnvironment('PCE_URL', props.pceUrl);
      fn.addEnvironment('PCE_ORG_ID', String(props.orgId));
      props.secret.grantRead(fn);
      fn.addEnvironment('PCE_SECRET_ID', props.secret.secretArn);
      fn.addEnvironment('EXPORT_BUCKET', props.bucket.bucketName);
      fn.addEnvironment('EXPORT_PREFIX', prefix);
    }
    this.submitFunction.addEnvironment('PCE_EXPORTS', exportsJson);
    this.pollFunction.addEnvironment('POLL_MAX_INTERVAL_SECONDS', String(maxPollIntervalSeconds));
    // The snapshot step resolves export names, then writes the manifest: no PCE, no secret.
    this.snapshotFunction.addEnvironment('PCE_ORG_ID', String(props.orgId));
    this.snapshotFunction.addEnvironment('EXPORT_BUCKET', props.bucket.bucketName);
    this.snapshotFunction.addEnvironment('EXPORT_PREFIX', prefix);
    this.snapshotFunction.addEnvironment('PCE_EXPORTS', exportsJson);
    this.snapshotFunction.addEnvironment('PCE_SNAPSHOTS', snapshotsJson);

    // Fetch writes the object (multipart), the manifest and the "latest" pointer, and copies an
    // object onto itself to update its metadata: all of it below the prefix, nothing else.
    const objectsArn = props.bucket.arnForObjects(`${prefix}*`);
    Grant.addToPrincipalOrResource({
      grantee: this.fetchFunction,
      actions: ['s3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts', 's3:GetObject'],
      resourceArns: [objectsArn],
      resource: props.bucket,
    });
    // SSE-KMS: S3 asks for a data key on upload and decrypts it to complete a multipart upload
    // and to read for CopyObject.
    props.bucket.encryptionKey?.grant(
      this.fetchFunction,
      'kms:Decrypt',
      'kms:Encrypt',
      'kms:GenerateDataKey',
    );
    // The snapshot step writes the snapshot manifest and latest.json, below {prefix}snapshots/.
    const snapshotsArn = props.bucket.arnForObjects(`${prefix}${SNAPSHOTS_FOLDER}/*`);
    Grant.addToPrincipalOrResource({
      grantee: this.snapshotFunction,
      actions: ['s3:PutObject'],
      resourceArns: [snapshotsArn],
      resource: props.bucket,
    });
    props.bucket.encryptionKey?.grant(this.snapshotFunction, 'kms:Encrypt', 'kms:GenerateDataKey');

    this.logGroup = new LogGroup(this, 'StateMachineLogGroup', { retention: logRetention });
    this.eventBus = props.eventBus ?? EventBus.fromEventBusName(this, 'DefaultEventBus', 'default');

    this.stateMachine = new StateMachine(this, 'StateMachine', {
      stateMachineName: props.stateMachineName,
      stateMachineType: StateMachineType.STANDARD,
      definitionBody: DefinitionBody.fromChainable(this.definition(snapshotMaxConcurrency)),
      tracingEnabled: true,
      logs: { destination: this.logGroup, level: LogLevel.ALL, includeExecutionData: true },
    });

    this.acknowledgeNagFindings(objectsArn, snapshotsArn);
  }

  private definition(snapshotMaxConcurrency: number): IChainable {
    const execution = {
      name: JsonPath.stringAt('$$.Execution.Name'),
      startTime: JsonPath.stringAt('$$.Execution.StartTime'),
    };
    const done = new Succeed(this, 'Done');

    // A Lambda error's Cause is the JSON {errorType, errorMessage, trace}; the execution fails
    // with the error's name and its message as the cause.
    const describeFailure = new Pass(this, 'DescribeFailure', {
      parameters: {
        error: JsonPath.stringAt('$.Error'),
        detail: JsonPath.stringToJson(JsonPath.stringAt('$.Cause')),
      },
    }).next(
      notifyTask(this, 'NotifyExportFailed', {
        eventBus: this.eventBus,
        detailType: DETAIL_TYPES.exportFailed,
        detail: failureDetail({
          error: JsonPath.stringAt('$.error'),
          cause: JsonPath.stringAt('$.detail.errorMessage'),
        }),
        next: new Fail(this, 'ExportFailed', { errorPath: '$.error', causePath: '$.detail.errorMessage' }),
      }),
    );
    // The error ({Error, Cause}) replaces the state: a ResultPath such as "$.failure" cannot be
    // applied to an execution input that is not an object (an array, a string), which would end
    // the run in States.ResultPathMatchFailure instead of ExportConfigError. ResultPath is left
    // out rather than written as "$", which the local executor would take for a key named "$".
    const catchNamedErrors = (...states: (LambdaInvoke | MapState)[]) => {
      for (const state of states) state.addCatch(describeFailure, { errors: [...ERROR_NAMES] });
    };

    // One export: Submit → WaitForJob → Poll → JobStatus → Fetch, each outcome announced.
    const jobMessage = JsonPath.stringAt('$.job.message');
    const single = this.exportChain('', {
      submitPayload: TaskInput.fromObject({ input: JsonPath.entirePayload, execution }),
      afterFetch: notifyTask(this, 'NotifySucceeded', {
        eventBus: this.eventBus,
        detailType: DETAIL_TYPES.exportSucceeded,
        detail: TaskInput.fromJsonPathAt('$'),
        next: done,
      }),
      jobFailed: notifyTask(this, 'NotifyJobFailed', {
        eventBus: this.eventBus,
        detailType: DETAIL_TYPES.exportFailed,
        detail: failureDetail({ error: 'PceJobFailed', cause: jobMessage }),
        next: new Fail(this, 'JobFailed', { error: 'PceJobFailed', causePath: '$.job.message' }),
      }),
      jobTimedOut: notifyTask(this, 'NotifyJobTimedOut', {
        eventBus: this.eventBus,
        detailType: DETAIL_TYPES.exportFailed,
        detail: failureDetail({ error: 'PceJobTimeout', cause: jobMessage }),
        next: new Fail(this, 'JobTimedOut', { error: 'PceJobTimeout', causePath: '$.job.message' }),
      }),
    });
    catchNamedErrors(...single.tasks);

    // A snapshot: the same chain per export in an inline Map. A job that fails or times out ends
    // its iteration in a Fail whose cause has the shape of a Lambda error's, so that the Map's
    // one Catch describes every member failure alike; the first failure fails the Map, and the
    // execution, before the manifest is written.
    const memberEnded = new Pass(this, 'SnapshotJobEnded', {
      parameters: {
        error: JsonPath.stringAt('$.errorType'),
        cause: JsonPath.jsonToString(JsonPath.objectAt('$')),
      },
    }).next(new Fail(this, 'SnapshotMemberFailed', { errorPath: '$.error', causePath: '$.cause' }));
    const member = this.exportChain('Snapshot', {
      jobFailed: new Pass(this, 'SnapshotJobFailed', {
        parameters: { errorType: 'PceJobFailed', errorMessage: jobMessage },
      }).next(memberEnded),
      jobTimedOut: new Pass(this, 'SnapshotJobTimedOut', {
        parameters: { errorType: 'PceJobTimeout', errorMessage: jobMessage },
      }).next(memberEnded),
    });
    const plan = this.task('PlanSnapshot', this.snapshotFunction, {
      payload: TaskInput.fromObject({ step: 'plan', input: JsonPath.entirePayload, execution }),
    });
    const exportSnapshot = new MapState(this, 'ExportSnapshot', {
      itemsPath: '$.snapshot.members',
      itemSelector: {
        input: JsonPath.objectAt('$$.Map.Item.Value'),
        execution: { ...execution, snapshot: JsonPath.stringAt('$.snapshot.name') },
      },
      maxConcurrency: snapshotMaxConcurrency,
      resultPath: '$.results',
    }).itemProcessor(member.chain);
    const writeManifest = this.task('WriteSnapshotManifest', this.snapshotFunction, {
      payload: TaskInput.fromObject({
        step: 'complete',
        snapshot: JsonPath.objectAt('$.snapshot'),
        results: JsonPath.objectAt('$.results'),
        execution,
      }),
      storageRetries: true,
    });
    catchNamedErrors(plan, exportSnapshot, writeManifest);
    const snapshotRun = plan
      .next(exportSnapshot)
      .next(writeManifest)
      .next(
        notifyTask(this, 'NotifySnapshotSucceeded', {
          eventBus: this.eventBus,
          detailType: DETAIL_TYPES.snapshotSucceeded,
          detail: TaskInput.fromJsonPathAt('$'),
          next: done,
        }),
      );

    return new Choice(this, 'IsSnapshot')
      .when(Condition.isPresent('$.snapshot'), snapshotRun)
      .otherwise(single.chain);
  }

  /**
   * Submit → WaitForJob → Poll → JobStatus (loop) → Fetch, with state names starting with
   * `prefix` (names are unique across a definition, Map iterations included). Submit's event is
   * `submitPayload`, or the whole state when left out.
   */
  private exportChain(
    prefix: string,
    next: {
      submitPayload?: TaskInput;
      afterFetch?: IChainable;
      jobFailed: IChainable;
      jobTimedOut: IChainable;
    },
  ) {
    const submit = this.task(`${prefix}Submit`, this.submitFunction, { payload: next.submitPayload });
    const waitForJob = new Wait(this, `${prefix}WaitForJob`, {
      time: WaitTime.secondsPath('$.job.waitSeconds'),
    });
    // Poll and Fetch take the whole state as their event: without Parameters a task's input is `$`.
    const poll = this.task(`${prefix}Poll`, this.pollFunction, {});
    const fetch = this.task(`${prefix}Fetch`, this.fetchFunction, { storageRetries: true });
    const jobStatus = new Choice(this, `${prefix}JobStatus`)
      .when(
        Condition.stringEquals('$.job.status', 'done'),
        next.afterFetch ? fetch.next(next.afterFetch) : fetch,
      )
      .when(Condition.stringEquals('$.job.status', 'failed'), next.jobFailed)
      .when(Condition.booleanEquals('$.job.timedOut', true), next.jobTimedOut)
      .otherwise(waitForJob);
    return { tasks: [submit, poll, fetch], chain: submit.next(waitForJob).next(poll).next(jobStatus) };
  }

  /**
   * A Lambda task whose result replaces the state. Retries: the PCE's rate limit and
   * unavailability, S3 failures for Fetch, and the Lambda service's transient errors; the other
   * named errors are final.
   */
  private task(
    name: string,
    fn: NodejsFunction,
    options: { payload?: TaskInput; storageRetries?: boolean },
  ): LambdaInvoke {
    const task = new LambdaInvoke(this, name, {
      lambdaFunction: fn,
      payloadResponseOnly: true,
      payload: options.payload,
      retryOnServiceExceptions: false,
    });
    task.addRetry({
      errors: ['PceRateLimited'],
      interval: Duration.seconds(10),
      backoffRate: 2,
      maxAttempts: 4,
      maxDelay: Duration.seconds(120),
      jitterStrategy: JitterType.FULL,
    });
    task.addRetry({
      errors: ['PceUnavailable'],
      interval: Duration.seconds(2),
      backoffRate: 2,
      maxAttempts: 4,
      maxDelay: Duration.seconds(30),
      jitterStrategy: JitterType.FULL,
    });
    if (options.storageRetries) {
      task.addRetry({
        errors: ['ExportStorageError'],
        interval: Duration.seconds(2),
        backoffRate: 2,
        maxAttempts: 3,
        maxDelay: Duration.seconds(30),
        jitterStrategy: JitterType.FULL,
      });
    }
    task.addRetry({
      errors: LAMBDA_SERVICE_ERRORS,
      interval: Duration.seconds(1),
      backoffRate: 2,
      maxAttempts: 3,
      jitterStrategy: JitterType.FULL,
    });
    return task;
  }

  private validate(
    props: ExportWorkflowProps,
    resolved: {
      prefix: string;
      exports: Readonly<Record<string, ExportInput>>;
      exportsJson: string;
      maxPollIntervalSeconds: number;
    },
  ): void {
    const fail = (field: string, issue: string): never => {
      throw new Error(`${this.node.path}: ${field} ${issue}`);
    };
    const urlIssue = Token.isUnresolved(props.pceUrl) ? undefined : pceUrlIssue(props.pceUrl);
    if (urlIssue) fail('pceUrl', urlIssue);
    if (!Token.isUnresolved(props.orgId) && !(Number.isSafeInteger(props.orgId) && props.orgId > 0)) {
      fail('orgId', 'must be a positive integer');
    }
    const prefixIssue = Token.isUnresolved(resolved.prefix) ? undefined : keyPrefixIssue(resolved.prefix);
    if (prefixIssue) fail('prefix', prefixIssue);
    const interval = resolved.maxPollIntervalSeconds;
    if (!Number.isInteger(interval) || interval < 1 || interval > 3600) {
      fail('maxPollIntervalSeconds', `must be an integer from 1 to 3600 (got ${interval})`);
    }
    if (props.stateMachineName !== undefined && !/^[A-Za-z0-9_-]{1,80}$/.test(props.stateMachineName)) {
      fail('stateMachineName', 'must be 1 to 80 letters, digits, "_" or "-"');
    }
    for (const [name, input] of Object.entries(resolved.exports)) {
      const field = `exports[${JSON.stringify(name)}]`;
      const named = exportInputSchema.safeParse({ exportName: name });
      if (!named.success) fail(field, `has an invalid name: ${describeIssues(named.error, 'exportName')}`);
      const parsed = exportInputSchema.safeParse(input);
      if (!parsed.success) fail(field, `is not a valid export input: ${describeIssues(parsed.error, field)}`);
      if (input.exportName !== undefined && input.exportName !== name) {
        fail(`${field}.exportName`, `must be "${name}", the key it is configured under`);
      }
      for (const issue of kindIssues(input)) fail(`${field}.${issue.field}`, issue.message);
      if (input.kind !== 'traffic' && input.path === undefined) {
        fail(`${field}.path`, 'is required for a configured collection export');
      }
    }
    const bytes = Buffer.byteLength(resolved.exportsJson);
    if (bytes > MAX_CONFIGURED_EXPORTS_BYTES) {
      fail(
        'exports',
        `take ${bytes} bytes as JSON, more than the ${MAX_CONFIGURED_EXPORTS_BYTES} that fit in the Submit function's environment`,
      );
    }
  }

  private validateSnapshots(
    exports: Readonly<Record<string, ExportInput>>,
    snapshots: Readonly<Record<string, readonly string[]>>,
    exportsJson: string,
    snapshotsJson: string,
    maxConcurrency: number,
  ): void {
    const fail = (field: string, issue: string): never => {
      throw new Error(`${this.node.path}: ${field} ${issue}`);
    };
    if (
      !Number.isInteger(maxConcurrency) ||
      maxConcurrency < 1 ||
      maxConcurrency > MAX_SNAPSHOT_CONCURRENCY
    ) {
      fail(
        'snapshotMaxConcurrency',
        `must be an integer from 1 to ${MAX_SNAPSHOT_CONCURRENCY} (got ${maxConcurrency}): each running export may poll once a second, and the PCE allows 500 requests a minute`,
      );
    }
    for (const [name, members] of Object.entries(snapshots)) {
      const field = `snapshots[${JSON.stringify(name)}]`;
      if (!EXPORT_NAME.test(name)) {
        fail(field, `has an invalid name: ${EXPORT_NAME_RULE}`);
      }
      if (members.length < 1 || members.length > MAX_SNAPSHOT_MEMBERS) {
        fail(field, `must list 1 to ${MAX_SNAPSHOT_MEMBERS} exports, not ${members.length}`);
      }
      members.forEach((member, index) => {
        if (exports[member] === undefined)
          fail(`${field}[${index}]`, `names export "${member}", which is not configured`);
        if (members.indexOf(member) !== index) fail(`${field}[${index}]`, `repeats export "${member}"`);
      });
    }
    const bytes = Buffer.byteLength(exportsJson) + Buffer.byteLength(snapshotsJson);
    if (bytes > MAX_CONFIGURED_EXPORTS_BYTES) {
      fail(
        'snapshots',
        `take ${bytes} bytes as JSON together with the exports, more than the ${MAX_CONFIGURED_EXPORTS_BYTES} that fit in the Snapshot function's environment`,
      );
    }
  }

  /**
   * cdk-nag acknowledgements, each for one named finding: the wildcards that remain are the
   * ones IAM cannot scope further.
   */
  private acknowledgeNagFindings(objectsArn: string, snapshotsArn: string): void {
    const xray = 'X-Ray PutTraceSegments and PutTelemetryRecords do not support resource-level permissions.';
    for (const fn of [this.submitFunction, this.pollFunction, this.fetchFunction, this.snapshotFunction]) {
      if (fn.role)
        Validations.of(fn.role).acknowledge({ id: 'AwsSolutions-IAM5[Resource::*]', reason: xray });
    }
    if (this.fetchFunction.role) {
      Validations.of(this.fetchFunction.role).acknowledge({
        id: `AwsSolutions-IAM5[${nagResourceFinding(this, objectsArn)}]`,
        reason:
          'Fetch writes export objects, manifests and the latest pointer under generated keys below the configured prefix; the grant covers that prefix only.',
      });
    }
    if (this.snapshotFunction.role) {
      Validations.of(this.snapshotFunction.role).acknowledge({
        id: `AwsSolutions-IAM5[${nagResourceFinding(this, snapshotsArn)}]`,
        reason:
          'The snapshot step writes each snapshot manifest and latest pointer under generated keys below {prefix}snapshots/; the grant covers that folder only.',
      });
    }
    const stateMachineRole = Validations.of(this.stateMachine.role);
    stateMachineRole.acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'CloudWatch Logs delivery (logs:CreateLogDelivery and related) and X-Ray tracing actions do not support resource-level permissions.',
    });
    for (const fn of [this.submitFunction, this.pollFunction, this.fetchFunction, this.snapshotFunction]) {
      stateMachineRole.acknowledge({
        id: `AwsSolutions-IAM5[${nagResourceFinding(this, `${fn.functionArn}:*`)}]`,
        reason:
          'The LambdaInvoke grant includes the versions and aliases (":*") of this workflow function only.',
      });
    }
  }
}
