import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { AwsClientStub } from 'aws-sdk-client-mock';
import { vi } from 'vitest';

/**
 * The environment the deployed Submit, Poll and Fetch functions get: org 7 of
 * https://pce.example.com:8443, its key in the secret pce-export/api-key (read afresh on every
 * call), exports stored under s3://exports-bucket/pce.
 */
export function stubExportEnv(): void {
  vi.stubEnv('AWS_REGION', 'eu-west-1');
  vi.stubEnv('PCE_URL', 'https://pce.example.com:8443');
  vi.stubEnv('PCE_ORG_ID', '7');
  vi.stubEnv('PCE_SECRET_ID', 'pce-export/api-key');
  vi.stubEnv('EXPORT_BUCKET', 'exports-bucket');
  vi.stubEnv('EXPORT_PREFIX', 'pce');
  vi.stubEnv('SECRET_CACHE_SECONDS', '0');
}

/**
 * The deployment's configuration object s3://exports-bucket/`key`, holding `body`, and the
 * variables that name it and the sha256 it must hash to (by default, that of `body`).
 */
export function stubConfigurationObject(
  s3: AwsClientStub<S3Client>,
  key: string,
  body: string,
  sha256 = createHash('sha256').update(body).digest('hex'),
): void {
  vi.stubEnv('EXPORTS_CONFIG_BUCKET', 'exports-bucket');
  vi.stubEnv('EXPORTS_CONFIG_KEY', key);
  vi.stubEnv('EXPORTS_CONFIG_SHA256', sha256);
  s3.on(GetObjectCommand, { Bucket: 'exports-bucket', Key: key }).callsFake(() => ({
    Body: Readable.from([Buffer.from(body)]),
  }));
}
