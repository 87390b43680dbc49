import {
  CfnOutput,
  Duration,
  RemovalPolicy,
  SecretValue,
  Stack,
  type StackProps,
  Validations,
} from 'aws-cdk-lib';
import type { Alarm } from 'aws-cdk-lib/aws-cloudwatch';
import { EventBus, type IEventBus } from 'aws-cdk-lib/aws-events';
import { type IKey, Key } from 'aws-cdk-lib/aws-kms';
import {
  BlockPublicAccess,
  Bucket,
  BucketEncryption,
  type IBucket,
  ObjectOwnership,
} from 'aws-cdk-lib/aws-s3';
import type { Schedule } from 'aws-cdk-lib/aws-scheduler';
import { type ISecret, Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Topic } from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import { proxyPort } from '../lambdas/contracts/proxy';
import { type ExportConfig, type ExportDefinition, exportInputOf } from './config';
import { type PceDeployment, pceDeployments, type SecretConfig } from './config-pces';
import { ExampleParent } from './example-parent';
import { ExportWorkflow } from './export-workflow';
import { AnalyticsCatalog } from './glue';
import { PceNetworks } from './network';
import { Operations } from './operations';
import { ExportSchedules, hasSchedules } from './schedules';

export interface PceExportStackProps extends StackProps {
  /** The parsed deploy configuration (`lib/config.ts`). */
  readonly config: ExportConfig;
}

/** Value the created secret holds until someone puts the real API key in. */
const SECRET_PLACEHOLDER = { apiKey: 'api_REPLACE_ME', apiSecret: 'REPLACE_ME' } as const;

type Deployment = PceDeployment<ExportDefinition, NonNullable<ExportConfig['snapshots']>[number]>;

/** `prod` → `Prod`, `eu-prod` → `EuProd`: a PCE's name inside a CloudFormation output's id. */
function pascal(name: string): string {
  return name.replace(/(?:^|-)([a-z0-9])/g, (_match, letter: string) => letter.toUpperCase());
}

/**
 * The deployable unit: one export workflow per PCE with the bucket, each PCE's secret, the
 * network its functions run in, one EventBridge Scheduler schedule per scheduled export or
 * snapshot, and the alarms and dashboard of `lib/operations.ts`. With one PCE, every name, key
 * and resource is what it was before several PCEs were possible.
 */
export class PceExportStack extends Stack {
  /** The workflow of the first (or only) PCE. */
  public readonly workflow: ExportWorkflow;
  /** Every PCE's workflow, by PCE name (`''` for the one PCE of a `pce` configuration). */
  public readonly workflows: Readonly<Record<string, ExportWorkflow>>;
  /** Where the exports land: created with secure defaults, or the configured existing bucket. */
  public readonly bucket: IBucket;
  /** The PCE API key of the first (or only) PCE: a created placeholder, or the configured existing secret. */
  public readonly secret: ISecret;
  /** Every PCE's secret, by PCE name (`''` for an unnamed one). */
  public readonly secrets: Readonly<Record<string, ISecret>>;
  /** Schedules by export name (`pce/export` with several PCEs), for the exports that have one. */
  public readonly schedules: Readonly<Record<string, Schedule>>;
  /** Schedules by snapshot name (`pce/snapshot` with several PCEs), for the snapshots that have one. */
  public readonly snapshotSchedules: Readonly<Record<string, Schedule>>;
  /** Fires when an execution of the first (or only) PCE's state machine fails, times out or is aborted. */
  public readonly alarm: Alarm;
  public readonly alarmTopic: Topic;
  /** Alarms, the dashboard and the topic. */
  public readonly operations: Operations;
  /** The VPC placements of the PCEs that run in one. */
  public readonly networks?: PceNetworks;
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
    const deployments: Deployment[] = pceDeployments(config);

    this.bucket = config.bucket.name
      ? this.existingBucket(config.bucket.name, config.bucket.kmsKeyArn)
      : this.createBucket();
    if (deployments.some((deployment) => deployment.network))
      this.networks = new PceNetworks(this, 'Network');
    const eventBus = this.eventBusFor(config.events?.bus);

    const workflows: Record<string, ExportWorkflow> = {};
    const secrets: Record<string, ISecret> = {};
    for (const deployment of deployments) {
      const key = deployment.qualified ? (deployment.name as string) : '';
      const suffix = key === '' ? '' : `-${key}`;
      const secret = this.secretFor(deployment.secret, `Secret${suffix}`, key);
      secrets[key] = secret;
      workflows[key] = new ExportWorkflow(this, `Workflow${suffix}`, {
        pceUrl: deployment.url,
        orgId: deployment.orgId,
        secret,
        ...(deployment.secret.kmsKeyArn
          ? { secretKey: Key.fromKeyArn(this, `SecretKey${suffix}`, deployment.secret.kmsKeyArn) }
          : {}),
        ...(deployment.name === undefined ? {} : { pce: { name: deployment.name, names: deployment.names } }),
        bucket: this.bucket,
        prefix: this.prefixOf(deployment, config.bucket.prefix),
        exports: Object.fromEntries(
          deployment.exports.map((definition) => {
            const { pce: _pce, ...input } = exportInputOf(definition);
            return [definition.name, input];
          }),
        ),
        maxPollIntervalSeconds: config.maxPollIntervalSeconds,
        ...(config.fetchMemoryMb === undefined ? {} : { fetchMemorySize: config.fetchMemoryMb }),
        logRetention: config.logRetentionDays,
        eventBus,
        snapshots: Object.fromEntries(
          deployment.snapshots.map((snapshot) => [snapshot.name, snapshot.exports]),
        ),
        ...(deployment.proxy ? { proxy: deployment.proxy } : {}),
        ...(deployment.network && this.networks
          ? {
              placement: this.networks.placement(key === '' ? 'Pce' : `Pce-${key}`, deployment.network, {
                pce: Number(new URL(deployment.url).port || 443),
                ...(deployment.proxy ? { proxy: proxyPort(deployment.proxy.url) } : {}),
              }),
            }
          : {}),
      });
    }
    this.workflows = workflows;
    this.secrets = secrets;
    const first = Object.values(workflows)[0];
    const firstSecret = Object.values(secrets)[0];
    if (!first || !firstSecret) throw new Error(`${this.node.path}: the configuration names no PCE`);
    this.workflow = first;
    this.secret = firstSecret;

    if (config.glue) {
      this.catalog = new AnalyticsCatalog(this, 'Analytics', {
        databaseName: config.glue.database,
        bucket: this.bucket,
        prefix: config.bucket.prefix,
        exports: deployments.flatMap((deployment) =>
          deployment.exports.map((entry) =>
            deployment.qualified ? { ...entry, pce: deployment.name } : entry,
          ),
        ),
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

    const scheduled = deployments.map((deployment) => ({
      ...(deployment.qualified ? { name: deployment.name } : {}),
      stateMachine: (workflows[deployment.qualified ? (deployment.name as string) : ''] as ExportWorkflow)
        .stateMachine,
      exports: deployment.exports,
      snapshots: deployment.snapshots,
    }));
    const schedules = hasSchedules(scheduled) ? new ExportSchedules(this, 'Schedules', scheduled) : undefined;
    this.schedules = schedules?.exports ?? {};
    this.snapshotSchedules = schedules?.snapshots ?? {};

    this.operations = new Operations(this, 'Operations', {
      stateMachines: Object.fromEntries(
        Object.entries(workflows).map(([pce, workflow]) => [pce, workflow.stateMachine]),
      ),
      ...(schedules ? { scheduleDeadLetterQueue: schedules.deadLetterQueue } : {}),
      ...(config.alarmEmail ? { alarmEmail: config.alarmEmail } : {}),
    });
    this.alarmTopic = this.operations.topic;
    this.alarm = Object.values(this.operations.executionAlarms)[0] as Alarm;

    for (const deployment of deployments) this.createOutputs(deployment);
    new CfnOutput(this, 'BucketName', {
      description: 'Bucket the exports are written to',
      value: this.bucket.bucketName,
    });
  }

  /** With several PCEs, each PCE's objects go below `{prefix}{pce}/`. */
  private prefixOf(deployment: Deployment, prefix: string): string {
    return deployment.qualified ? `${prefix}${deployment.name}/` : prefix;
  }

  private existingBucket(bucketName: string, kmsKeyArn: string | undefined): IBucket {
    const encryptionKey: IKey | undefined = kmsKeyArn
      ? Key.fromKeyArn(this, 'BucketKey', kmsKeyArn)
      : undefined;
    return Bucket.fromBucketAttributes(this, 'Bucket', {
      bucketName,
      ...(encryptionKey ? { encryptionKey } : {}),
    });
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

  private secretFor(config: SecretConfig, id: string, pce: string): ISecret {
    if (config.arn) return Secret.fromSecretCompleteArn(this, id, config.arn);
    if (config.name) return Secret.fromSecretNameV2(this, id, config.name);
    const secret = new Secret(this, id, {
      description: `pce-export${pce === '' ? '' : ` (PCE ${pce})`}: PCE API key as {"apiKey","apiSecret"} and optionally "caBundle" (PEM of the PCE's CA)`,
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

  /** The state machine, the secret and the two commands to fill the secret and run an export, per PCE. */
  private createOutputs(deployment: Deployment): void {
    const key = deployment.qualified ? (deployment.name as string) : '';
    const workflow = this.workflows[key] as ExportWorkflow;
    const secret = this.secrets[key] as ISecret;
    const id = (base: string) => (key === '' ? base : `${base}${pascal(key)}`);
    const of = key === '' ? '' : ` of PCE ${key}`;
    const placeholder = JSON.stringify(SECRET_PLACEHOLDER);
    const firstExport = deployment.exports[0];
    const pce = deployment.qualified ? { pce: deployment.name } : {};
    const input = JSON.stringify(
      firstExport ? { exportName: firstExport.name, ...pce } : { path: '/labels', ...pce },
    );
    const { stateMachineArn } = workflow.stateMachine;
    new CfnOutput(this, id('StateMachineArn'), {
      description: `The export state machine${of}`,
      value: stateMachineArn,
    });
    new CfnOutput(this, id('SecretArn'), {
      description: `Secret holding the PCE API key${of}`,
      value: secret.secretArn,
    });
    new CfnOutput(this, id('PutSecretValueCommand'), {
      description: `Stores the PCE API key${of} (replace the placeholders; add "caBundle" for a private CA)`,
      value: `aws secretsmanager put-secret-value --secret-id ${secret.secretArn} --secret-string '${placeholder}'`,
    });
    new CfnOutput(this, id('StartExecutionCommand'), {
      description: `Runs one export${of} now`,
      value: `aws stepfunctions start-execution --state-machine-arn ${stateMachineArn} --input '${input}'`,
    });
  }
}
