import { createHash } from 'node:crypto';
import { type Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AbortMultipartUploadCommand, type S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { isExportError } from '../contracts/errors';
import type { OutputFormat } from '../contracts/input';
import { PceUnavailable } from '../pce/errors';
import { type FormatStageOptions, formatStages } from './formats';
import { JsonArrayTransform } from './json-array-transform';
import { describeError, type ExportLogger } from './logger';
import { storageError } from './storage';

/*
 * The streaming copy from the PCE datafile into S3:
 *
 *   source ─► JSON array scanner (raw: bytes unchanged | ndjson: one element per line)
 *          ─► the format's stages (formats/: gzip, or Parquet row groups)
 *          ─► sha256 + byte count ─► lib-storage Upload (multipart, full-object CRC64NVME)
 *
 * Memory stays bounded by partSize × (queueSize + 1) whatever the body's size (for Parquet, one
 * part of S3's minimum size at a time: formats/). The upload runs
 * with leavePartsOnError, and on any failure this module aborts the multipart upload itself with
 * the upload id, so nothing is ever visible at the key: a multipart object appears only on
 * CompleteMultipartUpload, and a body smaller than one part goes up as one atomic PutObject.
 * The error thrown is the original one: a PceUnavailable from a cut-off body stays
 * PceUnavailable, a PceProtocolError from the scanner stays that; an error S3 answered becomes
 * ExportStorageError with S3's code, message and request id, and the S3 error as its cause, even
 * when the pipeline it tore down reported an AbortError or a premature close first.
 */

const PROGRESS_EVERY_BYTES = 64 * 1024 * 1024;
/**
 * zlib's fastest level. On the PCE's JSON it costs 0.6 times the CPU of the default level 6 for
 * 1.26 times the stored bytes (BENCHMARKS.md): the copy is CPU-bound, the bytes are cheap.
 */
const GZIP_LEVEL = 1;

export interface CopyToS3Options {
  readonly s3: S3Client;
  /** The datafile body, already decoded from any transport compression. */
  readonly source: Readable;
  readonly bucket: string;
  readonly key: string;
  readonly format: OutputFormat;
  readonly gzip: boolean;
  /** zlib level. @default 1 */
  readonly gzipLevel?: number;
  /** What the export holds, and Parquet's row group bounds (formats/). */
  readonly table?: FormatStageOptions['table'];
  readonly rowGroup?: FormatStageOptions['rowGroup'];
  readonly contentType: string;
  readonly metadata: Readonly<Record<string, string>>;
  readonly partSizeBytes: number;
  readonly queueSize: number;
  readonly logger?: ExportLogger;
  /** The datafile href, for error messages. */
  readonly href?: string;
  /** Log progress each time this many more source bytes have been read. @default 64 MiB */
  readonly progressEveryBytes?: number;
  /**
   * A stage after the scanner (which then hands it one element per line, whatever `format`
   * says), e.g. one that keeps some elements: it writes the bytes that are stored.
   * @default none
   */
  readonly filter?: Transform;
}

export interface CopyResult {
  /** Bytes stored in S3 (after gzip). */
  readonly bytes: number;
  /** Hex sha256 of the stored bytes. */
  readonly sha256: string;
  /** Elements of the top-level JSON array. */
  readonly objectCount: number;
  /** Bytes read from the source. */
  readonly sourceBytes: number;
  /** The multipart upload's id; absent when the body fitted one PutObject. */
  readonly uploadId?: string;
  /** ETag of the stored object. */
  readonly etag?: string;
}

/** Counts and hashes the bytes on their way to S3. */
class DigestTap extends Transform {
  bytes = 0;
  private readonly hash = createHash('sha256');

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    callback(null, chunk);
  }

  digest(): string {
    return this.hash.digest('hex');
  }
}

type Origin = 'source' | 'stream' | 'upload';

/** The source's chunks; its own error is noted before it travels down the pipeline. */
async function* readNoting(source: Readable, note: (error: unknown) => void): AsyncGenerator<Buffer> {
  try {
    for await (const chunk of source) yield chunk as Buffer;
  } catch (error) {
    note(error);
    throw error;
  }
}

export async function copyToS3(options: CopyToS3Options): Promise<CopyResult> {
  const { s3, source, bucket, key, logger } = options;
  const every = options.progressEveryBytes ?? PROGRESS_EVERY_BYTES;
  const tap = new DigestTap();
  let nextProgress = every;
  const output = await formatStages(options.format, {
    gzip: options.gzip,
    gzipLevel: options.gzipLevel ?? GZIP_LEVEL,
    table: options.table,
    rowGroup: options.rowGroup,
  });
  const scanner = new JsonArrayTransform({
    // A traffic window's filter reads and writes ndjson lines.
    format: options.filter ? 'ndjson' : output.scan,
    describe: options.href ? `Datafile ${options.href}` : 'The datafile',
    href: options.href,
    onProgress: (sourceBytes, objectCount) => {
      if (sourceBytes < nextProgress) return;
      nextProgress = (Math.floor(sourceBytes / every) + 1) * every;
      logger?.info('Streaming datafile to S3', { sourceBytes, storedBytes: tap.bytes, objectCount });
    },
  });
  // Between the scanner and the digest: the traffic run's filter of the flows a window keeps,
  // then the format's encoder, each only when there is one.
  const [first, second] = [options.filter, output.stage].filter((stage) => stage !== undefined);

  // Whichever part fails first owns the error; everything after it is a consequence.
  let origin: Origin | undefined;
  let firstError: unknown;
  const noteFailure =
    (where: Origin) =>
    (error: unknown): void => {
      if (origin !== undefined) return;
      origin = where;
      firstError = error;
    };

  // A request S3 fails (after the SDK's retries) fails the upload: it is noted the moment S3
  // answers, and the pipeline torn down at once, so the datafile is not read to its end first
  // and no error of the teardown (an AbortError, a premature close) can come before S3's.
  const failUpload = (error: unknown): void => {
    noteFailure('upload')(error);
    // Stop reading the PCE: destroying the tap tears the whole pipeline down.
    if (!tap.destroyed) tap.destroy(error instanceof Error ? error : new Error(String(error)));
  };
  const parts = output.upload ?? options;
  const upload = new Upload({
    client: reportingFailures(s3, failUpload),
    params: {
      Bucket: bucket,
      Key: key,
      Body: tap,
      ContentType: options.contentType,
      Metadata: { ...options.metadata },
      // S3 checks every part (or the one PutObject) against its CRC64NVME and keeps the
      // object's full-object CRC64NVME, combined from the parts, which any download can verify.
      ChecksumAlgorithm: 'CRC64NVME',
      ChecksumType: 'FULL_OBJECT',
    },
    partSize: parts.partSizeBytes,
    queueSize: parts.queueSize,
    leavePartsOnError: true,
  });

  // One pipeline: an error of any stage destroys the others. The source is read through a
  // generator that notes its own errors first, so a body cut off mid-stream is told apart from
  // a stage that rejected what it read.
  const chunks = readNoting(source, noteFailure('source'));
  const streamed = (
    second
      ? pipeline(chunks, scanner, first as Transform, second, tap)
      : first
        ? pipeline(chunks, scanner, first, tap)
        : pipeline(chunks, scanner, tap)
  ).then(
    () => undefined,
    (error: unknown) => {
      const reported = error ?? new Error('stream failed');
      noteFailure('stream')(reported);
      // The generator stops reading at its next chunk; the connection is released now.
      if (!source.destroyed) source.destroy();
      return reported;
    },
  );
  const uploaded = upload.done().then(
    (output) => ({ etag: output.ETag }),
    (error: unknown) => {
      failUpload(error);
      return { error };
    },
  );
  const [streamError, uploadOutcome] = await Promise.all([streamed, uploaded]);

  if (!('error' in uploadOutcome)) {
    // Only reachable once the tap ended, i.e. the scanner saw one complete array.
    if (streamError !== undefined) {
      logger?.warn('The datafile stream reported an error after it had ended', {
        error: describeError(streamError),
      });
    }
    const result: CopyResult = {
      bytes: tap.bytes,
      sha256: tap.digest(),
      objectCount: scanner.scanner.elements,
      sourceBytes: scanner.scanner.bytes,
      ...(upload.uploadId !== undefined ? { uploadId: upload.uploadId } : {}),
      ...(uploadOutcome.etag !== undefined ? { etag: uploadOutcome.etag } : {}),
    };
    logger?.info('Streamed datafile to S3', {
      sourceBytes: result.sourceBytes,
      storedBytes: result.bytes,
      objectCount: result.objectCount,
      multipart: result.uploadId !== undefined,
    });
    return result;
  }

  const original = classify(origin, firstError, [streamError, uploadOutcome.error], options);
  if (upload.uploadId !== undefined) {
    try {
      await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: upload.uploadId }));
      logger?.warn('Aborted the multipart upload', {
        uploadId: upload.uploadId,
        error: describeError(original),
      });
    } catch (abortError) {
      // The bucket's lifecycle rule for incomplete uploads is the backstop; the original error matters more.
      logger?.warn('Aborting the multipart upload failed', {
        uploadId: upload.uploadId,
        abortError: describeError(abortError),
      });
    }
  }
  throw original;
}

/** `s3`, whose every request that fails is also reported to `onFailure`, as it fails. */
function reportingFailures(s3: S3Client, onFailure: (error: unknown) => void): S3Client {
  const send = async (...args: Parameters<S3Client['send']>): Promise<unknown> => {
    try {
      return await (s3.send as (...sent: typeof args) => Promise<unknown>)(...args);
    } catch (error) {
      onFailure(error);
      throw error;
    }
  };
  return new Proxy(s3, {
    get: (target, property, receiver) =>
      property === 'send' ? send : Reflect.get(target, property, receiver),
  });
}

function classify(
  origin: Origin | undefined,
  firstError: unknown,
  others: readonly unknown[],
  options: CopyToS3Options,
): Error {
  const candidates = [firstError, ...others].filter((e) => e !== undefined);
  const named = candidates.find(isExportError);
  if (named) return named;
  const cause = firstError ?? candidates[0];
  const target = `s3://${options.bucket}/${options.key}`;
  // What S3 answered is the first error of the upload, whatever the torn-down pipeline reported
  // after it (an AbortError, a premature close): its code, message and request id go on.
  // S3ServiceException.isInstance: an error S3 answered (code, message, request id), not one of the client's.
  const answered = candidates.find((e) => S3ServiceException.isInstance(e));
  if (answered !== undefined && (origin === 'upload' || isTeardown(cause))) {
    return storageError(`Writing ${target} failed`, answered);
  }
  if (origin === 'upload') return storageError(`Writing ${target} failed`, cause);
  if (origin === 'source' || isPrematureClose(cause)) {
    const what = options.href ? `datafile ${options.href}` : 'the datafile';
    return new PceUnavailable(`Reading ${what} failed mid-stream: ${describeError(cause)}`, {
      href: options.href,
      cause,
    });
  }
  return storageError(`Streaming to ${target} failed`, cause);
}

/** An error a stream reports when it is destroyed because of another's failure. */
function isTeardown(error: unknown): boolean {
  return isPrematureClose(error) || (error as { name?: unknown } | undefined)?.name === 'AbortError';
}

function isPrematureClose(error: unknown): boolean {
  return (error as { code?: unknown } | undefined)?.code === 'ERR_STREAM_PREMATURE_CLOSE';
}
