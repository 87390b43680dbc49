import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  S3ServiceException,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type CopyToS3Options, copyToS3 } from '../../lambdas/export/copy';
import { ExportStorageError } from '../../lambdas/export/errors';
import type { ExportLogger } from '../../lambdas/export/logger';
import { PceProtocolError, PceUnavailable } from '../../lambdas/pce/errors';
import { mockedS3 } from '../support/s3-mock';

const MIB = 1024 * 1024;
const PART = 5 * MIB;

const { s3, s3Mock } = mockedS3();

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function silentLogger() {
  return { debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() } satisfies ExportLogger;
}

/** A JSON array of `count` objects, compact, roughly 100 bytes each. */
function bigArray(count: number): Buffer {
  const items: string[] = [];
  for (let i = 0; i < count; i++) {
    items.push(
      JSON.stringify({
        href: `/orgs/1/workloads/${i}`,
        name: `host-${i}`,
        labels: [{ href: '/orgs/1/labels/7' }],
      }),
    );
  }
  return Buffer.from(`[${items.join(',')}]`);
}

/** Streams `data` in 64 KiB chunks, then optionally fails after a pause. */
function sourceOf(data: Buffer, failWith?: unknown): Readable {
  return Readable.from(
    (async function* () {
      for (let i = 0; i < data.length; i += 64 * 1024) yield data.subarray(i, i + 64 * 1024);
      if (failWith !== undefined) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        throw failWith;
      }
    })(),
  );
}

/** The bytes S3 would hold: the PutObject body, or the uploaded parts in order. */
function storedBytes(): Buffer {
  const put = s3Mock.commandCalls(PutObjectCommand);
  if (put.length > 0) return Buffer.from(put[0]?.args[0].input.Body as Uint8Array);
  const parts = s3Mock
    .commandCalls(UploadPartCommand)
    .map((c) => c.args[0].input)
    .sort((a, b) => (a.PartNumber ?? 0) - (b.PartNumber ?? 0));
  return Buffer.concat(parts.map((p) => Buffer.from(p.Body as Uint8Array)));
}

function options(overrides: Partial<CopyToS3Options> & Pick<CopyToS3Options, 'source'>): CopyToS3Options {
  return {
    s3,
    bucket: 'exports',
    key: 'labels/dt=2026-01-02/030405Z_run.json',
    format: 'raw',
    gzip: false,
    contentType: 'application/json',
    metadata: { 'job-href': '/orgs/1/jobs/j1', org: '1' },
    partSizeBytes: PART,
    queueSize: 2,
    logger: silentLogger(),
    href: '/orgs/1/datafiles/d1',
    ...overrides,
  };
}

beforeEach(() => {
  s3Mock.reset();
  s3Mock.on(PutObjectCommand).resolves({ ETag: '"put-etag"' });
  s3Mock.on(CreateMultipartUploadCommand).resolves({ UploadId: 'upload-123' });
  s3Mock
    .on(UploadPartCommand)
    .callsFake((input: { PartNumber?: number }) => ({ ETag: `"part-${input.PartNumber}"` }));
  s3Mock.on(CompleteMultipartUploadCommand).resolves({ ETag: '"multipart-etag"' });
  s3Mock.on(AbortMultipartUploadCommand).resolves({});
});

afterEach(() => {
  s3Mock.reset();
});

describe('copyToS3 with a body smaller than one part', () => {
  it('stores raw bytes unchanged with one PutObject and reports size, sha256 and object count', async () => {
    const body = Buffer.from('[ {"a": 1},\n {"b": "x y"} ]\n');

    const result = await copyToS3(options({ source: sourceOf(body) }));

    const stored = storedBytes();
    expect(stored.equals(body)).toBe(true);
    expect(result).toMatchObject({
      bytes: body.length,
      sha256: sha256(body),
      objectCount: 2,
      sourceBytes: body.length,
    });
    expect(result.uploadId).toBeUndefined();
    expect(s3Mock.commandCalls(CreateMultipartUploadCommand)).toHaveLength(0);
  });

  it('sets content type and metadata and no Content-Encoding', async () => {
    await copyToS3(
      options({
        source: sourceOf(Buffer.from('[]')),
        metadata: { 'job-href': '/orgs/1/jobs/j1', format: 'raw' },
      }),
    );

    const input = s3Mock.commandCalls(PutObjectCommand)[0]?.args[0].input;
    expect(input).toMatchObject({
      Bucket: 'exports',
      Key: 'labels/dt=2026-01-02/030405Z_run.json',
      ContentType: 'application/json',
      Metadata: { 'job-href': '/orgs/1/jobs/j1', format: 'raw' },
    });
    expect(input?.ContentEncoding).toBeUndefined();
    expect(input?.ChecksumAlgorithm).toBe('CRC64NVME');
  });

  it('writes ndjson that gunzips to one element per line when gzip is on', async () => {
    const body = Buffer.from('[\n  {"a": [1, 2]},\n  "s t",\n  null\n]');

    const result = await copyToS3(options({ source: sourceOf(body), format: 'ndjson', gzip: true }));

    const stored = storedBytes();
    expect(stored.subarray(0, 2).equals(Buffer.from([0x1f, 0x8b]))).toBe(true);
    expect(gunzipSync(stored).toString()).toBe('{"a":[1,2]}\n"s t"\nnull\n');
    expect(result.sha256).toBe(sha256(stored));
    expect(result.bytes).toBe(stored.length);
    expect(result.objectCount).toBe(3);
  });

  it('writes nothing to S3 and throws PceProtocolError for a body that is not a JSON array', async () => {
    await expect(
      copyToS3(options({ source: sourceOf(Buffer.from('{"not": "an array"}')) })),
    ).rejects.toBeInstanceOf(PceProtocolError);

    expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(0);
  });

  it('throws ExportStorageError with the S3 error as cause when PutObject fails', async () => {
    const denied = new S3ServiceException({
      name: 'AccessDenied',
      $fault: 'client',
      $metadata: {},
      message: 'Access Denied',
    });
    s3Mock.on(PutObjectCommand).rejects(denied);

    const error = await copyToS3(options({ source: sourceOf(Buffer.from('[1]')) })).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ExportStorageError);
    expect((error as Error).message).toMatch(/s3:\/\/exports\/labels\/.*AccessDenied: Access Denied/);
    expect((error as Error).cause).toBe(denied);
    expect(s3Mock.commandCalls(AbortMultipartUploadCommand)).toHaveLength(0);
  });
});

describe('copyToS3 with a multipart upload', () => {
  const body = bigArray(130_000); // about 11 MiB: three parts of 5 MiB

  it('uploads parts whose concatenation is the body, and returns the upload id', async () => {
    const result = await copyToS3(options({ source: sourceOf(body) }));

    expect(s3Mock.commandCalls(UploadPartCommand).length).toBeGreaterThanOrEqual(3);
    const stored = storedBytes();
    expect(stored.equals(body)).toBe(true);
    expect(result).toMatchObject({
      bytes: body.length,
      sha256: sha256(body),
      objectCount: 130_000,
      uploadId: 'upload-123',
    });
    expect(s3Mock.commandCalls(CompleteMultipartUploadCommand)).toHaveLength(1);
    expect(s3Mock.commandCalls(AbortMultipartUploadCommand)).toHaveLength(0);
  });

  it('asks S3 for a full-object CRC64NVME checksum, checked on every part', async () => {
    await copyToS3(options({ source: sourceOf(body) }));

    expect(s3Mock.commandCalls(CreateMultipartUploadCommand)[0]?.args[0].input).toMatchObject({
      ChecksumAlgorithm: 'CRC64NVME',
      ChecksumType: 'FULL_OBJECT',
    });
    const parts = s3Mock.commandCalls(UploadPartCommand).map((c) => c.args[0].input.ChecksumAlgorithm);
    expect(new Set(parts)).toEqual(new Set(['CRC64NVME']));
    expect(s3Mock.commandCalls(CompleteMultipartUploadCommand)[0]?.args[0].input.ChecksumType).toBe(
      'FULL_OBJECT',
    );
  });

  it('logs progress while streaming and a summary at the end', async () => {
    const logger = silentLogger();

    await copyToS3(options({ source: sourceOf(body), logger, progressEveryBytes: 4 * MIB }));

    const messages = logger.info.mock.calls.map((c) => c[0]);
    expect(messages.filter((m) => m === 'Streaming datafile to S3').length).toBeGreaterThanOrEqual(2);
    expect(messages).toContain('Streamed datafile to S3');
  });

  it('aborts the multipart upload and rethrows the PceUnavailable from a cut-off body', async () => {
    const cutOff = new PceUnavailable('Reading /orgs/1/datafiles/d1 failed: socket hang up');

    const error = await copyToS3(options({ source: sourceOf(body.subarray(0, 7 * MIB), cutOff) })).catch(
      (e: unknown) => e,
    );

    expect(error).toBe(cutOff);
    expect((error as Error).name).toBe('PceUnavailable');
    const aborts = s3Mock.commandCalls(AbortMultipartUploadCommand);
    expect(aborts).toHaveLength(1);
    expect(aborts[0]?.args[0].input).toEqual({
      Bucket: 'exports',
      Key: 'labels/dt=2026-01-02/030405Z_run.json',
      UploadId: 'upload-123',
    });
    expect(s3Mock.commandCalls(CompleteMultipartUploadCommand)).toHaveLength(0);
  });

  it('turns an unnamed source error into PceUnavailable with the error as cause', async () => {
    const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });

    const error = await copyToS3(options({ source: sourceOf(body.subarray(0, 7 * MIB), reset) })).catch(
      (e: unknown) => e,
    );

    expect(error).toBeInstanceOf(PceUnavailable);
    expect((error as Error).message).toContain('ECONNRESET');
    expect((error as Error).cause).toBe(reset);
    expect(s3Mock.commandCalls(AbortMultipartUploadCommand)[0]?.args[0].input.UploadId).toBe('upload-123');
  });

  it('treats a source that closes without ending as PceUnavailable and aborts', async () => {
    const partial = body.subarray(0, 7 * MIB);
    let offset = 0;
    const source = new Readable({
      read() {
        if (offset < partial.length) {
          this.push(partial.subarray(offset, offset + 64 * 1024));
          offset += 64 * 1024;
        } else {
          setTimeout(() => this.destroy(), 20);
        }
      },
    });

    const error = await copyToS3(options({ source })).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(PceUnavailable);
    expect((error as Error).message).toMatch(/failed mid-stream: .*Premature close/);
    expect(s3Mock.commandCalls(AbortMultipartUploadCommand)).toHaveLength(1);
  });

  it('aborts and throws PceProtocolError when the body ends before the array does', async () => {
    const error = await copyToS3(options({ source: sourceOf(body.subarray(0, 7 * MIB)) })).catch(
      (e: unknown) => e,
    );

    expect(error).toBeInstanceOf(PceProtocolError);
    expect((error as Error).message).toMatch(/ends before the array is complete/);
    expect(s3Mock.commandCalls(AbortMultipartUploadCommand)).toHaveLength(1);
    expect(s3Mock.commandCalls(CompleteMultipartUploadCommand)).toHaveLength(0);
  });

  it('aborts and throws ExportStorageError when a part upload fails, and stops reading the source', async () => {
    const slowDown = new S3ServiceException({
      name: 'SlowDown',
      $fault: 'server',
      $metadata: {},
      message: 'Please reduce your request rate.',
    });
    s3Mock.on(UploadPartCommand).rejects(slowDown);
    const source = sourceOf(body);

    const error = await copyToS3(options({ source })).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ExportStorageError);
    expect((error as Error).cause).toBe(slowDown);
    expect(s3Mock.commandCalls(AbortMultipartUploadCommand)[0]?.args[0].input.UploadId).toBe('upload-123');
    expect(source.destroyed).toBe(true);
  });

  function s3Error(name: string, status: number, message: string, requestId: string) {
    return new S3ServiceException({
      name,
      $fault: status >= 500 ? 'server' : 'client',
      $metadata: { httpStatusCode: status, requestId, extendedRequestId: 'host-id' },
      message,
    });
  }

  it("names S3's error code, message, status and request id when a part upload fails", async () => {
    const slowDown = s3Error('SlowDown', 503, 'Please reduce your request rate.', 'REQ4711');
    s3Mock.on(UploadPartCommand).rejects(slowDown);

    const error = await copyToS3(options({ source: sourceOf(body) })).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ExportStorageError);
    expect((error as Error).message).toBe(
      'Writing s3://exports/labels/dt=2026-01-02/030405Z_run.json failed: SlowDown: Please reduce your request rate. (HTTP 503, request id REQ4711)',
    );
    expect(error).toMatchObject({ token: 'SlowDown', status: 503, requestId: 'REQ4711', cause: slowDown });
    expect(s3Mock.commandCalls(AbortMultipartUploadCommand)).toHaveLength(1);
  });

  it('keeps the failed part upload as the error when the datafile is torn down after it with an AbortError', async () => {
    const denied = s3Error('AccessDenied', 403, 'Access Denied', 'REQ0815');
    s3Mock.on(UploadPartCommand).rejects(denied);
    // One part's worth, then the connection is aborted while the upload is still going on.
    const aborted = Object.assign(new Error('This operation was aborted'), { name: 'AbortError' });
    const source = sourceOf(body.subarray(0, PART + 64 * 1024), aborted);

    const error = await copyToS3(options({ source })).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ExportStorageError);
    expect((error as Error).message).toContain('AccessDenied: Access Denied (HTTP 403, request id REQ0815)');
    expect((error as Error).cause).toBe(denied);
    expect(s3Mock.commandCalls(AbortMultipartUploadCommand)).toHaveLength(1);
    expect(s3Mock.commandCalls(CompleteMultipartUploadCommand)).toHaveLength(0);
  });

  it('names the request id when completing the upload fails', async () => {
    s3Mock
      .on(CompleteMultipartUploadCommand)
      .rejects(s3Error('InternalError', 500, 'We encountered an internal error.', 'REQ42'));

    const error = await copyToS3(options({ source: sourceOf(body) })).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ExportStorageError);
    expect((error as Error).message).toContain(
      'InternalError: We encountered an internal error. (HTTP 500, request id REQ42)',
    );
    expect((error as { requestId?: string }).requestId).toBe('REQ42');
    expect(s3Mock.commandCalls(AbortMultipartUploadCommand)).toHaveLength(1);
  });

  it('aborts and throws ExportStorageError when completing the upload fails', async () => {
    s3Mock.on(CompleteMultipartUploadCommand).rejects(new Error('InternalError'));

    const error = await copyToS3(options({ source: sourceOf(body) })).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ExportStorageError);
    expect(s3Mock.commandCalls(AbortMultipartUploadCommand)).toHaveLength(1);
  });

  it('still throws the original error when the abort itself fails, and logs a warning', async () => {
    s3Mock.on(AbortMultipartUploadCommand).rejects(new Error('abort failed'));
    const cutOff = new PceUnavailable('cut off');
    const logger = silentLogger();

    const error = await copyToS3(
      options({ source: sourceOf(body.subarray(0, 7 * MIB), cutOff), logger }),
    ).catch((e: unknown) => e);

    expect(error).toBe(cutOff);
    expect(logger.warn).toHaveBeenCalledWith(
      'Aborting the multipart upload failed',
      expect.objectContaining({ uploadId: 'upload-123' }),
    );
  });

  it('gzips a multipart ndjson body and hashes the stored bytes', async () => {
    const result = await copyToS3(
      options({ source: sourceOf(body), format: 'ndjson', gzip: true, gzipLevel: 1 }),
    );

    const stored = storedBytes();
    expect(result.sha256).toBe(sha256(stored));
    const lines = gunzipSync(stored).toString().split('\n');
    expect(lines).toHaveLength(130_001);
    expect(JSON.parse(lines[129_999] ?? '')).toEqual({
      href: '/orgs/1/workloads/129999',
      name: 'host-129999',
      labels: [{ href: '/orgs/1/labels/7' }],
    });
  });
});
