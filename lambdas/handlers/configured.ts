import type { S3Client } from '@aws-sdk/client-s3';
import {
  type ConfiguredExports,
  loadConfiguredExports,
  readExportsConfigLocation,
} from '../export/exports-config';
import { traceClient } from './powertools';

/*
 * The configured exports and snapshots for the handlers that resolve names (Submit, the snapshot
 * step), read from the deployment's configuration object. The S3 client is made on first use, so
 * that a Submit whose input names no configured export (and continues no watermark) never loads it.
 */

let client: Promise<S3Client> | undefined;

/** The handler's S3 client, made on its first use. */
export function s3Client(): Promise<S3Client> {
  client ??= import('@aws-sdk/client-s3').then(({ S3Client }) => traceClient(new S3Client({})));
  return client;
}

export async function configuredExports(): Promise<ConfiguredExports> {
  return loadConfiguredExports(readExportsConfigLocation(), async (bucket, key) => {
    const [{ GetObjectCommand }, s3] = await Promise.all([import('@aws-sdk/client-s3'), s3Client()]);
    return s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  });
}
