import {
  CfnOutput,
  Duration,
  RemovalPolicy,
  SecretValue,
  Stack,
  type StackProps,
  TimeZone,
  Validations,
} from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, MathExpression, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { EventBus, type IEventBus } from 'aws-cdk-lib/aws-events';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import {
  BlockPublicAccess,
  Bucket,
  BucketEncryption,
  type IBucket,
  ObjectOwnership,
} from 'aws-cdk-lib/aws-s3';
import { Schedule, ScheduleExpression, ScheduleTargetInput, TimeWindow } from 'aws-cdk-lib/aws-scheduler';
import { StepFunctionsStartExecution } from 'aws-cdk-lib/aws-scheduler-targets';
import { type ISecret, Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import type { ExportInput } from '../lambdas/contracts/input';
import { type ExportConfig, exportInputOf } from './config';
import { ExampleParent } from './example-parent';
import { ExportWorkflow } from './export-workflow';
import { AnalyticsCatalog } from './glue';

export interface PceExportStackProps extends StackProps {
  /** The parsed deploy configuration (`lib/config.ts`). */
  readonly config: ExportConfig;
}

/** Value the created secret holds until someone puts the real API key in. */
const SECRET_PLACEHOLDER = { apiKey: 'api_REPLACE_ME', apiSecret: 'REPLACE_ME' } as const;

/**
 * The deployable unit: the export workflow with its bucket, its secret, one EventBridge
 * Scheduler schedule per scheduled export, and an alarm on failed executions.
 */
export class PceExportStack extends Stack {
  public readonly workflow: ExportWorkflow;
  /** Where the exports land: created with secure defaults, or the configured existing bucket. */
  public readonly bucket: IBucket;
  /** The PCE API key: a created placeholder, or the configured existing secret. */
  public readonly secret: ISecret;
  /** Schedules by export name, for the exports that have one. */
  public readonly schedules: Readonly<Record<string, Schedule>>;
  /** Schedules by snapshot name, for the configured snapshots that have one. */
  public readonly snapshotSchedules: Readonly<Record<string, Schedule>>;
  /** Fires when an execution fails, times out or is aborted. */
  public readonly alarm: Alarm;
  public readonly alarmTopic: Topic;
  /** The Glue database and tables Athena reads, when `glue` is configured. */
  public readonly catalog?: AnalyticsCatalog;
  /** The example parent state machine, when `exampleParent` is configured. */
  public readonly exampleParent?: ExampleParent;

  constructor(scope: Construct, id: string, props: PceExportStackProps) {
    super(scope, id, {
      description: 'pce-export: Illumio PCE collections to Amazon S3 through the PCE asynchronous job API',
      ...props,
    });
    const { config } = props;

    this.bucket = config.bucket.name
      ? Bucket.fromBucketName(this, 'Bucket', config.bucket.name)
      : this.createBucket();
    this.secret = this.secretFor(config.secret);

    const exports: Record<string, ExportInput> = Object.fromEntries(
      config.exports.map((definition) => [definition.name, exportInputOf(definition)]),
    );
    this.workflow = new ExportWorkflow(this, 'Workflow', {
      pceUrl: config.pce.url,
      orgId: config.pce.orgId,
      secret: this.secret,
      bucket: this.bucket,
      prefix: config.bucket.prefix,
      exports,
      maxPollIntervalSeconds: config.maxPollIntervalSeconds,
      ...(config.fetchMemoryMb === undefined ? {} : { fetchMemorySize: config.fetchMemoryMb }),
      logRetention: config.logRetentionDays,
      eventBus: this.eventBusFor(config.events?.bus),
      snapshots: Object.fromEntries(
        (config.snapshots ?? []).map((snapshot) => [snapshot.name, snapshot.exports]),
      ),
    });

    if (config.glue) {
      this.catalog = new AnalyticsCatalog(this, 'Analytics', {
        databaseName: config.glue.database,
        bucket: this.bucket,
        prefix: config.bucket.prefix,
        exports: config.exports,
      });
    }

    if (config.exampleParent) {
      this.exampleParent = new ExampleParent(this, 'ExampleParent', {
        exportStateMachine: this.workflow.stateMachine,
        logRetention: config.logRetentionDays,
      });
      new CfnOutput(this, 'ExampleParentArn', {
        description:
          'Example parent state machine: runs an export with startExecution.sync:2 and reads its output',
        value: this.exampleParent.stateMachine.stateMachineArn,
      });
    }

    const schedules = this.createSchedules(config);
    this.schedules = schedules.exports;
    this.snapshotSchedules = schedules.snapshots;
    this.alarmTopic = new Topic(this, 'AlarmTopic', { displayName: 'pce-export alarms', enforceSSL: true });
    if (config.alarmEmail) this.alarmTopic.addSubscription(new EmailSubscription(config.alarmEmail));
    this.alarm = this.createFailureAlarm();

    this.createOutputs(config);
  }

  private createBucket(): Bucket {
    const accessLogs = new Bucket(this, 'AccessLogsBucket', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      // Server access log delivery only supports S3-managed keys.
      encryption: BucketEncryption.S3_MANAGED,
      // Object ownership is left to CDK: with @aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy
      // (cdk.json) log delivery is granted by a bucket policy and ACLs stay disabled; without the
      // flag CDK falls back to the log-delivery ACL, which needs ObjectWriter ownership.
      lifecycleRules: [{ id: 'ExpireAccessLogs', expiration: Duration.days(365) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(accessLogs).acknowledge({
      id: 'AwsSolutions-S1',
      reason: "This bucket receives the export bucket's server access logs; logging it to itself would loop.",
    });
    return new Bucket(this, 'ExportBucket', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      encryption: BucketEncryption.S3_MANAGED,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      lifecycleRules: [
        { id: 'AbortIncompleteUploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
        { id: 'ExpireNoncurrentVersions', noncurrentVersionExpiration: Duration.days(30) },
      ],
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: 'export-bucket/',
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }

  /** The configured bus by name or ARN; undefined leaves the workflow on the default bus. */
  private eventBusFor(bus: string | undefined): IEventBus | undefined {
    if (bus === undefined) return undefined;
    return bus.startsWith('arn:')
      ? EventBus.fromEventBusArn(this, 'EventBus', bus)
      : EventBus.fromEventBusName(this, 'EventBus', bus);
  }

  private secretFor(config: ExportConfig['secret']): ISecret {
    if (config.arn) return Secret.fromSecretCompleteArn(this, 'Secret', config.arn);
    if (config.name) return Secret.fromSecretNameV2(this, 'Secret', config.name);
    const secret = new Secret(this, 'Secret', {
      description:
        'pce-export: PCE API key as {"apiKey","apiSecret"} and optionally "caBundle" (PEM of the PCE\'s CA)',
      secretObjectValue: {
        apiKey: SecretValue.unsafePlainText(SECRET_PLACEHOLDER.apiKey),
        apiSecret: SecretValue.unsafePlainText(SECRET_PLACEHOLDER.apiSecret),
      },
    });
    Validations.of(secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'The secret holds a PCE API key, which only the PCE can issue; it is rotated by creating a new key in the PCE and putting it here.',
    });
    return secret;
  }

  private createSchedules(config: ExportConfig): {
    exports: Record<string, Schedule>;
    snapshots: Record<string, Schedule>;
  } {
    const scheduled = config.exports.filter((definition) => definition.schedule !== undefined);
    const scheduledSnapshots = (config.snapshots ?? []).filter((snapshot) => snapshot.schedule !== undefined);
    if (scheduled.length === 0 && scheduledSnapshots.length === 0) return { exports: {}, snapshots: {} };
    const scope = new Construct(this, 'Schedules');
    // One role for all schedules, allowed to start this state machine and nothing else.
    const role = new Role(scope, 'Role', {
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': this.account } },
      }),
      description: 'Lets EventBridge Scheduler start the pce-export state machine',
    });
    const schedules: Record<string, Schedule> = {};
    for (const definition of scheduled) {
      const { schedule } = definition;
      if (schedule === undefined) continue;
      schedules[definition.name] = new Schedule(scope, definition.name, {
        description: `pce-export ${definition.name} (${definition.kind === 'traffic' ? 'traffic flows' : definition.path})`,
        schedule: ScheduleExpression.expression(schedule.expression, TimeZone.of(schedule.timeZone)),
        enabled: schedule.enabled,
        timeWindow: TimeWindow.off(),
        target: new StepFunctionsStartExecution(this.workflow.stateMachine, {
          role,
          input: ScheduleTargetInput.fromObject(exportInputOf(definition)),
          // StartExecution only fails on throttling or a service fault: retry for up to an hour.
          retryAttempts: 10,
          maxEventAge: Duration.hours(1),
        }),
      });
    }
    const snapshotSchedules: Record<string, Schedule> = {};
    for (const snapshot of scheduledSnapshots) {
      const { schedule } = snapshot;
      if (schedule === undefined) continue;
      // "." cannot occur in an export name, so these ids never meet an export's.
      snapshotSchedules[snapshot.name] = new Schedule(scope, `snapshot.${snapshot.name}`, {
        description: `pce-export snapshot ${snapshot.name} (${snapshot.exports.join(', ')})`.slice(0, 512),
        schedule: ScheduleExpression.expression(schedule.expression, TimeZone.of(schedule.timeZone)),
        enabled: schedule.enabled,
        timeWindow: TimeWindow.off(),
        target: new StepFunctionsStartExecution(this.workflow.stateMachine, {
          role,
          input: ScheduleTargetInput.fromObject({ snapshot: { name: snapshot.name } }),
          retryAttempts: 10,
          maxEventAge: Duration.hours(1),
        }),
      });
    }
    return { exports: schedules, snapshots: snapshotSchedules };
  }

  private createFailureAlarm(): Alarm {
    const { stateMachine } = this.workflow;
    const period = Duration.minutes(5);
    const alarm = new Alarm(this, 'ExecutionsFailedAlarm', {
      alarmDescription:
        'A pce-export execution failed, timed out or was aborted. The execution history shows the error (PceAuthError, PceJobFailed, ...) and its cause.',
      metric: new MathExpression({
        expression: 'failed + timedOut + aborted',
        label: 'Executions failed, timed out or aborted',
        period,
        usingMetrics: {
          failed: stateMachine.metricFailed({ period, statistic: 'Sum' }),
          timedOut: stateMachine.metricTimedOut({ period, statistic: 'Sum' }),
          aborted: stateMachine.metricAborted({ period, statistic: 'Sum' }),
        },
      }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(new SnsAction(this.alarmTopic));
    Validations.of(this.alarmTopic).acknowledge({
      id: 'AwsSolutions-SNS2',
      reason:
        'The topic carries alarm state changes only (alarm name, metric values), no export data. CloudWatch cannot publish to a topic encrypted with the AWS-managed SNS key, and a customer-managed key would cost more than the data warrants.',
    });
    return alarm;
  }

  private createOutputs(config: ExportConfig): void {
    const { stateMachine } = this.workflow;
    const placeholder = JSON.stringify(SECRET_PLACEHOLDER);
    const firstExport = config.exports[0];
    const input = JSON.stringify(firstExport ? { exportName: firstExport.name } : { path: '/labels' });
    new CfnOutput(this, 'BucketName', {
      description: 'Bucket the exports are written to',
      value: this.bucket.bucketName,
    });
    new CfnOutput(this, 'StateMachineArn', {
      description: 'The export state machine',
      value: stateMachine.stateMachineArn,
    });
    new CfnOutput(this, 'SecretArn', {
      description: 'Secret holding the PCE API key',
      value: this.secret.secretArn,
    });
    new CfnOutput(this, 'PutSecretValueCommand', {
      description: 'Stores the PCE API key (replace the placeholders; add "caBundle" for a private CA)',
      value: `aws secretsmanager put-secret-value --secret-id ${this.secret.secretArn} --secret-string '${placeholder}'`,
    });
    new CfnOutput(this, 'StartExecutionCommand', {
      description: 'Runs one export now',
      value: `aws stepfunctions start-execution --state-machine-arn ${stateMachine.stateMachineArn} --input '${input}'`,
    });
  }
}
