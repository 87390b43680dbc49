import { createHash } from 'node:crypto';
import { Stack } from 'aws-cdk-lib';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import {
  AwsCustomResource,
  AwsCustomResourcePolicy,
  type AwsSdkCall,
  PhysicalResourceId,
} from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import type { ExportInput } from '../lambdas/contracts/input';
import { EXPORTS_CONFIG_FOLDER } from '../lambdas/export/exports-config';
import { grantObjects, S3_KMS_ACTIONS, s3KeyStatement } from './bindings';

/*
 * The configured exports and snapshots reach the functions as one S3 object that the stack
 * writes at deploy time, instead of an environment variable capped at 4 KB. Its key holds the
 * sha256 of its content, and the functions get that hash in their environment: a reader uses the
 * object only when its bytes hash to it, so it never acts on an object that was changed after
 * the deployment, nor on one of another deployment. Each deployment writes a new object (a new
 * key) before the functions that name it are updated, and the old one is deleted afterwards.
 */

export interface ExportsConfigProps {
  readonly bucket: IBucket;
  /** The workflow's key prefix: the object goes below `{prefix}_pce-export/`. */
  readonly prefix: string;
  readonly exports: Readonly<Record<string, ExportInput>>;
  readonly snapshots: Readonly<Record<string, readonly string[]>>;
  /** Retention of the log group of the function that writes the object. */
  readonly logRetention: RetentionDays;
}

/** The configuration object of one workflow, and the writer that puts it in the bucket. */
export class ExportsConfig extends Construct {
  public readonly bucket: IBucket;
  public readonly key: string;
  /** sha256 (hex) of `body`. */
  public readonly sha256: string;
  /** The object's content: `{"exports": {...}, "snapshots": {...}}`. */
  public readonly body: string;
  /** The custom resource that writes the object. */
  public readonly writer: AwsCustomResource;

  constructor(scope: Construct, id: string, props: ExportsConfigProps) {
    super(scope, id);
    this.bucket = props.bucket;
    this.body = JSON.stringify({ exports: props.exports, snapshots: props.snapshots });
    this.sha256 = createHash('sha256').update(this.body).digest('hex');
    this.key = `${props.prefix}${EXPORTS_CONFIG_FOLDER}/exports-${this.sha256}.json`;

    const objectArn = props.bucket.arnForObjects(this.key);
    const put: AwsSdkCall = {
      service: 'S3',
      action: 'putObject',
      parameters: {
        Bucket: props.bucket.bucketName,
        Key: this.key,
        Body: this.body,
        ContentType: 'application/json',
      },
      // A new key is a new resource: CloudFormation then deletes the previous object.
      physicalResourceId: PhysicalResourceId.of(this.key),
    };
    const statements = [
      new PolicyStatement({ actions: ['s3:PutObject', 's3:DeleteObject'], resources: [objectArn] }),
    ];
    const key = props.bucket.encryptionKey;
    if (key) statements.push(s3KeyStatement(key, props.bucket, objectArn, S3_KMS_ACTIONS.write));
    this.writer = new AwsCustomResource(this, 'Writer', {
      resourceType: 'Custom::PceExportConfiguration',
      onCreate: put,
      onUpdate: put,
      onDelete: {
        service: 'S3',
        action: 'deleteObject',
        parameters: { Bucket: props.bucket.bucketName, Key: this.key },
      },
      policy: AwsCustomResourcePolicy.fromStatements(statements),
      installLatestAwsSdk: false,
      ...writerLogging(this, props.logRetention),
    });
  }

  /**
   * Lets `fn` read the object (and decrypt it with the bucket's key, if it has one), names it in
   * `EXPORTS_CONFIG_BUCKET`, `EXPORTS_CONFIG_KEY` and `EXPORTS_CONFIG_SHA256`, and updates `fn`
   * only once the object is written.
   */
  bind(fn: LambdaFunction): void {
    grantObjects(fn, this.bucket, this.key, ['s3:GetObject'], S3_KMS_ACTIONS.read);
    fn.addEnvironment('EXPORTS_CONFIG_BUCKET', this.bucket.bucketName);
    fn.addEnvironment('EXPORTS_CONFIG_KEY', this.key);
    fn.addEnvironment('EXPORTS_CONFIG_SHA256', this.sha256);
    fn.node.addDependency(this.writer);
  }
}

const WRITER_LOG_GROUP_ID = 'ConfigurationWriterLogGroup';
const WRITER_ROLE_ID = 'ConfigurationWriterRole';

/**
 * The log group and role of the one function that runs a stack's AwsCustomResource calls, made
 * once per stack: the role may write to that log group only (not AWSLambdaBasicExecutionRole's
 * every log group), and each writer adds its own object's permissions to it.
 */
function writerLogging(scope: Construct, retention: RetentionDays): { logGroup: LogGroup; role: Role } {
  const stack = Stack.of(scope);
  const existing = stack.node.tryFindChild(WRITER_ROLE_ID) as Role | undefined;
  if (existing) return { logGroup: stack.node.findChild(WRITER_LOG_GROUP_ID) as LogGroup, role: existing };
  const logGroup = new LogGroup(stack, WRITER_LOG_GROUP_ID, { retention });
  const role = new Role(stack, WRITER_ROLE_ID, {
    assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
    description: 'Execution role of the function that writes the pce-export configuration objects',
  });
  logGroup.grantWrite(role);
  return { logGroup, role };
}
