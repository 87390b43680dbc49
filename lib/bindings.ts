import { Stack } from 'aws-cdk-lib';
import { Grant, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { ProxyConfig } from './network-config';

/*
 * Wiring a resource into a function is one call that grants the access and sets the
 * environment variable the handler finds the resource by, so that no function has a variable
 * without the permission, or a permission it never uses.
 *
 * A customer-managed KMS key of an existing bucket or secret is granted here too, and only as far
 * as that use needs: the actions S3 or Secrets Manager performs with it for this function
 * (`kms:ViaService`), for the objects or the secret in question (the encryption context).
 */

/** A secret the workflow reads, with the customer-managed key it is encrypted with, if any. */
export interface SecretBinding {
  readonly secret: ISecret;
  /** @default - the AWS-managed key, which needs no grant */
  readonly key?: IKey;
}

/** Lets `fn` read the PCE API key and names the secret in `PCE_SECRET_ID`. */
export function bindSecret(fn: LambdaFunction, binding: SecretBinding): void {
  const { secret, key } = binding;
  secret.grantRead(fn);
  if (key) {
    // Secrets Manager decrypts with the secret's ARN as encryption context ("SecretARN").
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['kms:Decrypt'],
        resources: [key.keyArn],
        conditions: {
          StringEquals: { 'kms:ViaService': `secretsmanager.${Stack.of(fn).region}.amazonaws.com` },
          // A secret named without its ARN suffix matches any of the six characters.
          StringLike: {
            'kms:EncryptionContext:SecretARN': secret.secretFullArn ?? `${secret.secretArn}-??????`,
          },
        },
      }),
    );
  }
  fn.addEnvironment('PCE_SECRET_ID', secret.secretArn);
}

/** The PCE a function talks to: where it is, the secret with its API key, the proxy on the way. */
interface PceBinding {
  readonly url: string;
  readonly orgId: number;
  readonly secret: SecretBinding;
  readonly proxy?: ProxyConfig;
}

/**
 * Lets `fn` talk to the PCE: `PCE_URL`, `PCE_ORG_ID`, the secret (`bindSecret`), and with a proxy
 * `PCE_PROXY_URL` and `PCE_NO_PROXY`.
 */
export function bindPce(fn: LambdaFunction, binding: PceBinding): void {
  fn.addEnvironment('PCE_URL', binding.url);
  fn.addEnvironment('PCE_ORG_ID', String(binding.orgId));
  bindSecret(fn, binding.secret);
  const { proxy } = binding;
  if (proxy) {
    fn.addEnvironment('PCE_PROXY_URL', proxy.url);
    if (proxy.noProxy.length > 0) fn.addEnvironment('PCE_NO_PROXY', proxy.noProxy.join(','));
  }
}

/** The KMS actions S3 performs with a bucket's key for each kind of object access. */
export const S3_KMS_ACTIONS = {
  /** PutObject: a new data key. */
  write: ['kms:GenerateDataKey'],
  /** A multipart upload: a new data key, decrypted again for every part and for completion. */
  multipartWrite: ['kms:GenerateDataKey', 'kms:Decrypt'],
  /** GetObject. */
  read: ['kms:Decrypt'],
} as const;

export interface BucketBinding {
  /** Key prefix of everything the workflow writes (empty, or ending in `/`): `EXPORT_PREFIX`. */
  readonly prefix: string;
  /** The keys `fn` may touch, below the prefix, as an IAM pattern (`*`, `snapshots/*`). */
  readonly keys: string;
  /** S3 actions on those keys. */
  readonly actions: readonly string[];
  /** KMS actions on the bucket's customer-managed key, when it has one (`S3_KMS_ACTIONS`). */
  readonly kmsActions: readonly string[];
}

/**
 * Lets `fn` use the objects of `bucket` that match `binding.keys` below the prefix, and sets
 * `EXPORT_BUCKET` and `EXPORT_PREFIX`. Returns the objects ARN the grant names.
 */
export function bindBucket(fn: LambdaFunction, bucket: IBucket, binding: BucketBinding): string {
  const objectsArn = grantObjects(
    fn,
    bucket,
    `${binding.prefix}${binding.keys}`,
    binding.actions,
    binding.kmsActions,
  );
  fn.addEnvironment('EXPORT_BUCKET', bucket.bucketName);
  fn.addEnvironment('EXPORT_PREFIX', binding.prefix);
  return objectsArn;
}

/**
 * Grants `actions` on the objects of `bucket` matching `keys`, and the `kmsActions` on its key
 * (if it has one) through S3 for those objects only. Returns the objects ARN.
 */
export function grantObjects(
  fn: LambdaFunction,
  bucket: IBucket,
  keys: string,
  actions: readonly string[],
  kmsActions: readonly string[],
): string {
  const objectsArn = bucket.arnForObjects(keys);
  Grant.addToPrincipalOrResource({
    grantee: fn,
    actions: [...actions],
    resourceArns: [objectsArn],
    resource: bucket,
  });
  const key = bucket.encryptionKey;
  if (key && kmsActions.length > 0) fn.addToRolePolicy(s3KeyStatement(key, bucket, objectsArn, kmsActions));
  return objectsArn;
}

/**
 * The key statement for S3 objects: only through S3 in this region, only for these objects. S3
 * puts the object's ARN in the encryption context, or the bucket's when S3 Bucket Keys are on.
 */
export function s3KeyStatement(
  key: IKey,
  bucket: IBucket,
  objectsArn: string,
  actions: readonly string[],
): PolicyStatement {
  return new PolicyStatement({
    actions: [...actions],
    resources: [key.keyArn],
    conditions: {
      StringEquals: { 'kms:ViaService': `s3.${Stack.of(bucket).region}.amazonaws.com` },
      StringLike: { 'kms:EncryptionContext:aws:s3:arn': [objectsArn, bucket.bucketArn] },
    },
  });
}
