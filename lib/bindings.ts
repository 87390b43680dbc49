import { Grant } from 'aws-cdk-lib/aws-iam';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';

/*
 * Wiring a resource into a function is one call that grants the access and sets the
 * environment variable the handler finds the resource by, so that no function has a variable
 * without the permission, or a permission it never uses.
 */

/** Lets `fn` read the PCE API key and names the secret in `PCE_SECRET_ID`. */
export function bindSecret(fn: LambdaFunction, secret: ISecret): void {
  secret.grantRead(fn);
  fn.addEnvironment('PCE_SECRET_ID', secret.secretArn);
}

export interface BucketBinding {
  /** Key prefix of everything the workflow writes (empty, or ending in `/`): `EXPORT_PREFIX`. */
  readonly prefix: string;
  /** The keys `fn` may touch, below the prefix, as an IAM pattern (`*`, `snapshots/*`). */
  readonly keys: string;
  /** S3 actions on those keys. */
  readonly actions: readonly string[];
  /** KMS actions on the bucket's key, when it is encrypted with one. */
  readonly kmsActions: readonly string[];
}

/**
 * Lets `fn` use the objects of `bucket` that match `binding.keys` below the prefix, and sets
 * `EXPORT_BUCKET` and `EXPORT_PREFIX`. Returns the objects ARN the grant names.
 */
export function bindBucket(fn: LambdaFunction, bucket: IBucket, binding: BucketBinding): string {
  const objectsArn = bucket.arnForObjects(`${binding.prefix}${binding.keys}`);
  Grant.addToPrincipalOrResource({
    grantee: fn,
    actions: [...binding.actions],
    resourceArns: [objectsArn],
    resource: bucket,
  });
  bucket.encryptionKey?.grant(fn, ...binding.kmsActions);
  fn.addEnvironment('EXPORT_BUCKET', bucket.bucketName);
  fn.addEnvironment('EXPORT_PREFIX', binding.prefix);
  return objectsArn;
}
