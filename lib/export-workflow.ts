import { join } from 'node:path';
import { Duration, Size } from 'aws-cdk-lib';
import { EventBus, type IEventBus } from 'aws-cdk-lib/aws-events';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { DefinitionBody, LogLevel, StateMachine, StateMachineType } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { ExportInput } from '../lambdas/contracts/input';
import { DEFAULT_SUBMIT_RETRY_WINDOW_SECONDS } from '../lambdas/contracts/limits';
import { EVENTS_KEYS_FOLDER } from '../lambdas/export/events-window';
import { SNAPSHOTS_FOLDER } from '../lambdas/export/layout';
import { WATERMARK_FILE } from '../lambdas/export/watermark';
import { bindBucket, bindSecret, grantObjects, S3_KMS_ACTIONS } from './bindings';
import { ExportsConfig } from './exports-config';
import { createExportFunction, type FunctionPlacement, HANDLERS_DIR } from './lambda-defaults';
import type { ProxyConfig } from './network-config';
import { DEFAULT_TRAFFIC_WINDOW_CONCURRENCY } from './traffic-fanout';
import { TrafficRunFunctions } from './traffic-functions';
import { WorkflowDefinition } from './workflow-definition';
import { acknowledgeWorkflowNagFindings } from './workflow-nag';
import { executionTimeoutSeconds } from './workflow-timeout';
import { WorkflowPropsValidator } from './workflow-validation';

export interface ExportWorkflowProps {
  /** Origin of the PCE, e.g. `https://pce.example.com:8443` (https; http only on loopback). */
  readonly pceUrl: string;
  /** The PCE organisation id (a positive integer). */
  readonly orgId: number;
  /** Secret holding `{"apiKey", "apiSecret", "caBundle"?}`; the three functions may read it. */
  readonly secret: ISecret;
  /**
   * The customer-managed key the secret is encrypted with: the functions may decrypt with it
   * through Secrets Manager, for this secret only.
   * @default - the AWS-managed key, which needs no grant
   */
  readonly secretKey?: IKey;
  /**
   * This workflow's PCE in a deployment with several: Submit and the snapshot step then require
   * `"pce": name` in the execution input (`PCE_NAME`, `PCE_NAMES`).
   * @default - the deployment's one PCE: `pce` may be left out of the input
   */
  readonly pce?: { readonly name: string; readonly names: readonly string[] };
  /**
   * Where the three functions that talk to the PCE run.
   * @default - not in a VPC
   */
  readonly placement?: FunctionPlacement;
  /**
   * The HTTP(S) proxy all PCE requests go through (`PCE_PROXY_URL`, `PCE_NO_PROXY`); AWS API
   * calls do not use it.
   * @default - straight to the PCE
   */
  readonly proxy?: ProxyConfig;
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
   * How long Submit keeps trying a PCE that is unavailable (5xx, 429, resets, timeouts), in
   * seconds from its first attempt (0 to 3600): each submit waits the PCE's Retry-After or a
   * backoff from 5 s to 60 s before the next. 0 tries once.
   * @default 600
   */
  readonly submitRetryWindowSeconds?: number;
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
  /**
   * Memory of the Fetch function in MB (128 to 10240). Lambda's CPU share grows with it (1,769 MB
   * is one vCPU), and the streaming copy is CPU-bound: below one vCPU a GiB costs the same at any
   * size and only takes longer, above it the copy gains little (BENCHMARKS.md, the Lambda model).
   * @default 1769 - one vCPU: the fastest copy at the lowest cost per GiB
   */
  readonly fetchMemorySize?: number;
  /**
   * How many windows of a traffic run are queried at the same time (1 to 6); see
   * `DEFAULT_TRAFFIC_WINDOW_CONCURRENCY` for the request budget.
   * @default 4 - at most 320 of the PCE's 500 requests a minute per API key
   */
  readonly trafficWindowConcurrency?: number;
}

const DEFAULT_SNAPSHOT_MAX_CONCURRENCY = 5;
/** One vCPU (BENCHMARKS.md, the Lambda model for Fetch). */
const DEFAULT_FETCH_MEMORY_MB = 1769;

/**
 * Exports PCE collections to S3 through the PCE's asynchronous job API: a Standard state
 * machine (JSONPath) that runs Submit → WaitForJob → Poll → JobStatus (loop) → Fetch, with
 * three Lambda functions.
 *
 * Execution input: `{"exportName"?, "path"?, "query"?, "format"?, "gzip"?, "maxWaitSeconds"?}`,
 * or `{"snapshot": {"name", "exports"?}}` for several exports into one folder with one manifest
 * (IsSnapshot → PlanSnapshot → ExportSnapshot, a Distributed Map running the same Submit … Fetch
 * chain in a child execution per member → WriteSnapshotManifest). Execution output: the small JSON Fetch returns (bucket, key, uri,
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
  /** Writes the change history of exports that ask for it (`changes`). */
  public readonly changesFunction: NodejsFunction;
  /** The functions of a traffic run: its steps, a window's steps and a window's download. */
  public readonly trafficFunctions: TrafficRunFunctions;
  /** Log group of the state machine's execution history (level ALL, with execution data). */
  public readonly logGroup: LogGroup;
  /** Where the completion and failure events go. */
  public readonly eventBus: IEventBus;
  /** The configured exports and snapshots as one S3 object, when there are any. */
  public readonly exportsConfig?: ExportsConfig;

  constructor(scope: Construct, id: string, props: ExportWorkflowProps) {
    super(scope, id);
    const prefix = props.prefix ?? '';
    const exports = props.exports ?? {};
    const maxPollIntervalSeconds = props.maxPollIntervalSeconds ?? 300;
    const submitRetryWindowSeconds = props.submitRetryWindowSeconds ?? DEFAULT_SUBMIT_RETRY_WINDOW_SECONDS;
    const logRetention = props.logRetention ?? RetentionDays.ONE_MONTH;
    const snapshots = props.snapshots ?? {};
    const snapshotMaxConcurrency = props.snapshotMaxConcurrency ?? DEFAULT_SNAPSHOT_MAX_CONCURRENCY;
    const validator = new WorkflowPropsValidator(this.node.path);
    validator.validate(props, { prefix, exports, maxPollIntervalSeconds, submitRetryWindowSeconds });
    validator.validateSnapshots(exports, snapshots, snapshotMaxConcurrency);
    const trafficWindowConcurrency = props.trafficWindowConcurrency ?? DEFAULT_TRAFFIC_WINDOW_CONCURRENCY;
    validator.validateTraffic(trafficWindowConcurrency);

    const submit = createExportFunction(this, 'SubmitFunction', {
      entry: join(HANDLERS_DIR, 'submit.ts'),
      description: 'pce-export Submit: starts an asynchronous PCE job',
      memorySize: 256,
      timeout: Duration.seconds(90),
      logRetention,
      placement: props.placement,
    });
    const poll = createExportFunction(this, 'PollFunction', {
      entry: join(HANDLERS_DIR, 'poll.ts'),
      description: 'pce-export Poll: checks the PCE job and schedules the next poll',
      memorySize: 256,
      timeout: Duration.seconds(90),
      logRetention,
      placement: props.placement,
    });
    const fetch = createExportFunction(this, 'FetchFunction', {
      entry: join(HANDLERS_DIR, 'fetch.ts'),
      description: 'pce-export Fetch: streams the job datafile into S3',
      memorySize: props.fetchMemorySize ?? DEFAULT_FETCH_MEMORY_MB,
      timeout: Duration.minutes(15),
      logRetention,
      placement: props.placement,
    });
    const snapshot = createExportFunction(this, 'SnapshotFunction', {
      entry: join(HANDLERS_DIR, 'snapshot.ts'),
      description: 'pce-export Snapshot: plans a snapshot run and writes its manifest',
      memorySize: 256,
      timeout: Duration.seconds(60),
      logRetention,
    });
    const changes = createExportFunction(this, 'ChangesFunction', {
      entry: join(HANDLERS_DIR, 'changes.ts'),
      description: 'pce-export Changes: writes what changed since the previous successful run',
      memorySize: 1024,
      timeout: Duration.minutes(15),
      ephemeralStorageSize: Size.gibibytes(2),
      logRetention,
    });
    this.changesFunction = changes.function;
    this.submitFunction = submit.function;
    this.pollFunction = poll.function;
    this.fetchFunction = fetch.function;
    this.snapshotFunction = snapshot.function;

    // Settings every function that talks to the PCE reads; the resources come with their grants.
    for (const fn of [this.submitFunction, this.pollFunction, this.fetchFunction]) {
      fn.addEnvironment('PCE_URL', props.pceUrl);
      fn.addEnvironment('PCE_ORG_ID', String(props.orgId));
      bindSecret(fn, { secret: props.secret, key: props.secretKey });
      if (props.proxy) {
        fn.addEnvironment('PCE_PROXY_URL', props.proxy.url);
        if (props.proxy.noProxy.length > 0) fn.addEnvironment('PCE_NO_PROXY', props.proxy.noProxy.join(','));
      }
    }
    // Submit and the snapshot step check the execution input's PCE and resolve names.
    for (const fn of [this.submitFunction, this.snapshotFunction]) {
      if (props.pce) {
        fn.addEnvironment('PCE_NAME', props.pce.name);
        fn.addEnvironment('PCE_NAMES', props.pce.names.join(','));
      }
    }
    // Every function names its PCE in its metrics.
    if (props.pce) {
      for (const fn of [this.pollFunction, this.fetchFunction]) fn.addEnvironment('PCE_NAME', props.pce.name);
    }
    if (Object.keys(exports).length > 0 || Object.keys(snapshots).length > 0) {
      this.exportsConfig = new ExportsConfig(this, 'Configuration', {
        bucket: props.bucket,
        prefix,
        exports,
        snapshots,
        logRetention,
      });
      this.exportsConfig.bind(this.submitFunction);
      this.exportsConfig.bind(this.snapshotFunction);
    }
    this.submitFunction.addEnvironment('SUBMIT_RETRY_WINDOW_SECONDS', String(submitRetryWindowSeconds));
    // Submit schedules the first poll, Poll every later one: both cap the wait.
    for (const fn of [this.submitFunction, this.pollFunction]) {
      fn.addEnvironment('POLL_MAX_INTERVAL_SECONDS', String(maxPollIntervalSeconds));
    }
    // Fetch writes the object (multipart, aborted on failure), tags it with its sha256 and object
    // count (deleting it again if that fails), and writes the manifest and the "latest" pointers
    // (and an incremental events export's overlap keys and watermark): all of it below the prefix. SSE-KMS: S3 asks for a data key on upload and
    // decrypts it for the parts and the completion of a multipart upload.
    const objectsArn = bindBucket(this.fetchFunction, props.bucket, {
      prefix,
      keys: '*',
      actions: ['s3:PutObject', 's3:AbortMultipartUpload', 's3:PutObjectTagging', 's3:DeleteObject'],
      kmsActions: S3_KMS_ACTIONS.multipartWrite,
    });
    // An incremental events export: Submit reads its watermark to find the window; Fetch reads
    // the previous run's overlap keys (and writes the new ones and the watermark under the grant
    // above). S3 answers 404 ("none yet", the first run) rather than 403 for an object that is
    // not there only to a caller that may list the bucket: an s3:prefix condition would not help,
    // since a GetObject request carries no prefix for it to match.
    const watermarksArn = bindBucket(this.submitFunction, props.bucket, {
      prefix,
      keys: `*/${WATERMARK_FILE}`,
      actions: ['s3:GetObject'],
      kmsActions: S3_KMS_ACTIONS.read,
    });
    const eventsKeysArn = grantObjects(
      this.fetchFunction,
      props.bucket,
      `${prefix}*/${EVENTS_KEYS_FOLDER}/*`,
      ['s3:GetObject'],
      S3_KMS_ACTIONS.read,
    );
    for (const fn of [this.submitFunction, this.fetchFunction]) {
      fn.addToRolePolicy(
        new PolicyStatement({ actions: ['s3:ListBucket'], resources: [props.bucket.bucketArn] }),
      );
    }
    // The snapshot step resolves export names, then writes the snapshot manifest and
    // latest.json below {prefix}snapshots/: no PCE, no secret.
    this.snapshotFunction.addEnvironment('PCE_ORG_ID', String(props.orgId));
    const snapshotsArn = bindBucket(this.snapshotFunction, props.bucket, {
      prefix,
      keys: `${SNAPSHOTS_FOLDER}/*`,
      actions: ['s3:PutObject'],
      kmsActions: S3_KMS_ACTIONS.write,
    });

    // Changes reads the run's object back (and the previous run's digest), and writes the
    // changes and the digest beside the export's data: {export}/_changes/ and {export}/_state/.
    const readArn = bindBucket(this.changesFunction, props.bucket, {
      prefix,
      keys: '*',
      actions: ['s3:GetObject'],
      kmsActions: ['kms:Decrypt'],
    });
    const changesArns = ['*/_changes/*', '*/_state/*'].map((keys) =>
      bindBucket(this.changesFunction, props.bucket, {
        prefix,
        keys,
        actions: ['s3:PutObject', 's3:AbortMultipartUpload'],
        kmsActions: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'],
      }),
    );
    this.trafficFunctions = new TrafficRunFunctions(this, 'Traffic', {
      pceUrl: props.pceUrl,
      orgId: props.orgId,
      secret: { secret: props.secret, key: props.secretKey },
      bucket: props.bucket,
      prefix,
      maxPollIntervalSeconds,
      submitRetryWindowSeconds,
      logRetention,
      placement: props.placement,
      proxy: props.proxy,
      pceName: props.pce?.name,
    });

    this.logGroup = new LogGroup(this, 'StateMachineLogGroup', { retention: logRetention });
    this.eventBus = props.eventBus ?? EventBus.fromEventBusName(this, 'DefaultEventBus', 'default');

    this.stateMachine = new StateMachine(this, 'StateMachine', {
      stateMachineName: props.stateMachineName,
      stateMachineType: StateMachineType.STANDARD,
      definitionBody: DefinitionBody.fromChainable(
        new WorkflowDefinition(
          this,
          {
            submit: this.submitFunction,
            poll: this.pollFunction,
            fetch: this.fetchFunction,
            snapshot: this.snapshotFunction,
            changes: this.changesFunction,
            traffic: this.trafficFunctions,
          },
          this.eventBus,
        ).build(snapshotMaxConcurrency, trafficWindowConcurrency),
      ),
      // The longest an execution the definition allows can take: one that runs longer is stuck.
      timeout: Duration.seconds(
        executionTimeoutSeconds({
          functionTimeouts: {
            submit: timeoutOf(this.submitFunction),
            poll: timeoutOf(this.pollFunction),
            fetch: timeoutOf(this.fetchFunction),
            snapshot: timeoutOf(this.snapshotFunction),
            changes: timeoutOf(this.changesFunction),
          },
          submitRetryWindowSeconds,
          snapshotMaxConcurrency,
          traffic: {
            functionTimeouts: {
              run: timeoutOf(this.trafficFunctions.run),
              window: timeoutOf(this.trafficFunctions.window),
              fetch: timeoutOf(this.trafficFunctions.fetch),
            },
            windowConcurrency: trafficWindowConcurrency,
          },
        }),
      ),
      tracingEnabled: true,
      logs: { destination: this.logGroup, level: LogLevel.ALL, includeExecutionData: true },
    });

    acknowledgeWorkflowNagFindings(this, {
      objectsArn,
      snapshotsArn,
      changesArns: [readArn, ...changesArns],
      watermarksArn,
      eventsKeysArn,
    });
  }
}

function timeoutOf(fn: NodejsFunction): number {
  return fn.timeout?.toSeconds() ?? 3;
}
