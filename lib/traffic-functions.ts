import { join } from 'node:path';
import { Duration, Validations } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { bindBucket, bindPce, S3_KMS_ACTIONS, type SecretBinding } from './bindings';
import { createExportFunction, type FunctionPlacement, HANDLERS_DIR } from './lambda-defaults';
import { nagResourceFinding } from './nag';
import type { ProxyConfig } from './network-config';
import type { TrafficFunctions } from './traffic-fanout';

/*
 * The functions of a traffic run: the run's steps in the parent (plan, split, complete, abort),
 * a window's steps before its download, and the download. Each talks to the PCE and to the
 * bucket below the prefix only; a window's results and the watermark are objects there too.
 */

export interface TrafficFunctionsProps {
  readonly pceUrl: string;
  readonly orgId: number;
  readonly secret: SecretBinding;
  readonly bucket: IBucket;
  readonly prefix: string;
  readonly maxPollIntervalSeconds: number;
  /** How long a window's submit keeps trying a PCE that is unavailable (the workflow's). */
  readonly submitRetryWindowSeconds: number;
  readonly logRetention: RetentionDays;
  /** The VPC placement of the functions that talk to the PCE, as the workflow's. */
  readonly placement?: FunctionPlacement;
  readonly proxy?: ProxyConfig;
  /** The PCE's name, named in the functions' metrics. */
  readonly pceName?: string;
}

export class TrafficRunFunctions extends Construct implements TrafficFunctions {
  public readonly run: NodejsFunction;
  public readonly window: NodejsFunction;
  public readonly fetch: NodejsFunction;

  constructor(scope: Construct, id: string, props: TrafficFunctionsProps) {
    super(scope, id);
    const { logRetention } = props;
    this.run = createExportFunction(this, 'RunFunction', {
      entry: join(HANDLERS_DIR, 'traffic-run.ts'),
      description: 'pce-export traffic run: plans, splits and completes the windows of a traffic export',
      memorySize: 512,
      timeout: Duration.minutes(5),
      logRetention,
      placement: props.placement,
    }).function;
    this.window = createExportFunction(this, 'WindowFunction', {
      entry: join(HANDLERS_DIR, 'traffic-window.ts'),
      description: 'pce-export traffic window: submits and polls the query of one window',
      memorySize: 256,
      timeout: Duration.seconds(90),
      logRetention,
      placement: props.placement,
    }).function;
    this.fetch = createExportFunction(this, 'FetchFunction', {
      entry: join(HANDLERS_DIR, 'traffic-fetch.ts'),
      description: 'pce-export traffic fetch: streams the flows a window owns into S3',
      memorySize: 1024,
      timeout: Duration.minutes(15),
      logRetention,
      placement: props.placement,
    }).function;

    for (const fn of [this.run, this.window, this.fetch]) {
      bindPce(fn, { url: props.pceUrl, orgId: props.orgId, secret: props.secret, proxy: props.proxy });
      if (props.pceName) fn.addEnvironment('PCE_NAME', props.pceName);
    }
    this.window.addEnvironment('POLL_MAX_INTERVAL_SECONDS', String(props.maxPollIntervalSeconds));
    this.window.addEnvironment('SUBMIT_RETRY_WINDOW_SECONDS', String(props.submitRetryWindowSeconds));
    const grants = [
      // Reads results, the watermark and overlap keys; writes them, the manifest and latest.json;
      // deletes the window objects of a failed run and the window results of a complete one.
      {
        fn: this.run,
        actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'],
        kms: [...S3_KMS_ACTIONS.read, ...S3_KMS_ACTIONS.write],
      },
      // Writes the window's result and the marker of its submitted query, and reads the marker.
      {
        fn: this.window,
        actions: ['s3:GetObject', 's3:PutObject'],
        kms: [...S3_KMS_ACTIONS.read, ...S3_KMS_ACTIONS.write],
      },
      // Streams the window object (multipart), tags it with its sha256 and object count (deleting
      // it again if that fails), writes its result and keys, and reads the previous run's overlap
      // keys.
      {
        fn: this.fetch,
        actions: [
          's3:PutObject',
          's3:AbortMultipartUpload',
          's3:PutObjectTagging',
          's3:DeleteObject',
          's3:GetObject',
        ],
        kms: [...S3_KMS_ACTIONS.multipartWrite],
      },
    ];
    for (const { fn, actions, kms } of grants) {
      const objects = bindBucket(fn, props.bucket, {
        prefix: props.prefix,
        keys: '*',
        actions,
        kmsActions: kms,
      });
      // Listing: the run folder and the window results; and S3 answers 404, not 403, for an
      // object that is not there yet (the first run's watermark, a window's marker) only to a
      // caller that may list the bucket, whatever the prefix.
      fn.addToRolePolicy(
        new PolicyStatement({ actions: ['s3:ListBucket'], resources: [props.bucket.bucketArn] }),
      );
      this.acknowledge(fn, objects);
    }
  }

  private acknowledge(fn: NodejsFunction, objectsArn: string): void {
    if (!fn.role) return;
    Validations.of(fn.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'X-Ray PutTraceSegments and PutTelemetryRecords do not support resource-level permissions.',
    });
    Validations.of(fn.role).acknowledge({
      id: `AwsSolutions-IAM5[${nagResourceFinding(this, objectsArn)}]`,
      reason:
        'A traffic run writes window objects, results, manifests, latest.json and the watermark under generated keys below the configured prefix; the grant covers that prefix only.',
    });
  }
}
