import { once } from 'node:events';
import { createGzip } from 'node:zlib';
import type { S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { storage } from '../storage';

/**
 * Lines written, gzipped, into one S3 object through a multipart upload: a line waits while the
 * upload is behind, so memory stays at a few parts. Nothing is visible at the key until `end()`
 * completes; a failed or abandoned upload is aborted.
 */
export class GzipLineUpload {
  private readonly gzip = createGzip({ level: 6 });
  private readonly upload: Upload;
  private readonly done: Promise<unknown>;
  private failure: unknown;
  lines = 0;

  constructor(
    s3: S3Client,
    private readonly bucket: string,
    private readonly key: string,
    contentType: string,
  ) {
    this.upload = new Upload({
      client: s3,
      params: { Bucket: bucket, Key: key, Body: this.gzip, ContentType: contentType },
      partSize: 8 * 1024 * 1024,
      queueSize: 2,
    });
    this.done = storage(bucket, key, 'writing', () => this.upload.done());
    this.done.catch((error: unknown) => {
      this.failure = error;
      this.gzip.destroy();
    });
  }

  async write(line: string): Promise<void> {
    if (this.failure !== undefined) throw this.failure;
    this.lines++;
    if (this.gzip.write(`${line}\n`)) return;
    await Promise.race([once(this.gzip, 'drain'), this.done.then(() => undefined)]);
    if (this.failure !== undefined) throw this.failure;
  }

  async end(): Promise<void> {
    if (this.failure !== undefined) throw this.failure;
    this.gzip.end();
    await this.done;
  }

  /** Gives up: the multipart upload is aborted and nothing appears at the key. */
  async abort(): Promise<void> {
    if (this.failure !== undefined) return;
    await this.upload.abort().catch(() => undefined);
    await this.done.catch(() => undefined);
  }

  get uri(): string {
    return `s3://${this.bucket}/${this.key}`;
  }
}
