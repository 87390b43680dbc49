import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ExportConfigError } from '../../lambdas/contracts/errors';
import type { WorkflowState } from '../../lambdas/contracts/state';
import { ExportStorageError } from '../../lambdas/export/errors';
import { type FetchDeps, fetchExport } from '../../lambdas/export/fetch-export';
import type { ExportLogger } from '../../lambdas/export/logger';
import type { PceClient } from '../../lambdas/pce/client';
import { PceRequestError } from '../../lambdas/pce/errors';
import { TOOL_VERSION } from '../../lambdas/version';
import { datafileClient } from '../support/fake-pce';
import { mockedS3 } from '../support/s3-mock';

const JOB = '/orgs/1/jobs/8f3c0a52-1d8e-4a3e-9f4b-2c1d0e9f8a7b';
const DATAFILE = '/orgs/1/datafiles/5a1f6d2e-7c3b-4e8a-b9d0-1f2e3d4c5b6a';
const BODY =
  '[{"href":"/orgs/1/labels/1","key":"role","value":"web"},\n {"href":"/orgs/1/labels/2","key":"env","value":"prod"}]';
const KEY = 'pce/labels/dt=2026-03-04/050607Z_nightly.ndjson.gz';
const MANIFEST_KEY = 'pce/labels/_manifests/dt=2026-03-04/050607Z_nightly.manifest.json';

const { s3, s3Mock } = mockedS3();

function fakeClient(body = BODY) {
  return datafileClient(body);
}

function logger() {
  return { debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() } satisfies ExportLogger;
}

function doneState(overrides: Partial<WorkflowState['export']> = {}): WorkflowState {
  return {
    export: {
      name: 'labels',
      path: '/labels',
      query: { key: 'role' },
      format: 'ndjson',
      gzip: true,
      maxWaitSeconds: 600,
      ...overrides,
    },
    execution: { name: 'nightly', startTime: '2026-03-04T05:06:07.890Z' },
    job: {
      href: JOB,
      status: 'done',
      polls: 3,
      waitSeconds: 5,
      retryAfterSeconds: 5,
      requestedAt: '2026-03-04T05:06:08.000Z',
      deadline: '2026-03-04T05:16:08.000Z',
      timedOut: false,
      resultHref: DATAFILE,
    },
  };
}

function deps(client: PceClient, log: ExportLogger = logger()): FetchDeps {
  return {
    connect: async () => client,
    s3,
    storage: { bucket: 'exports', prefix: 'pce/', partSizeBytes: 5 * 1024 * 1024, queueSize: 2 },
    orgId: 1,
    logger: log,
    now: () => new Date('2026-03-04T05:07:00.000Z'),
  };
}

function putTo(key: string) {
  return s3Mock.commandCalls(PutObjectCommand).find((c) => c.args[0].input.Key === key)?.args[0].input;
}

beforeEach(() => {
  s3Mock.reset();
  s3Mock.on(PutObjectCommand).resolves({ ETag: '"etag-1"' });
  s3Mock.on(PutObjectTaggingCommand).resolves({});
});

afterEach(() => {
  s3Mock.reset();
});

describe('fetchExport', () => {
  it('stores the datafile as gzipped ndjson and returns the execution output', async () => {
    const client = fakeClient();

    const output = await fetchExport(doneState(), deps(client));

    const stored = Buffer.from(putTo(KEY)?.Body as Uint8Array);
    expect(gunzipSync(stored).toString()).toBe(
      '{"href":"/orgs/1/labels/1","key":"role","value":"web"}\n{"href":"/orgs/1/labels/2","key":"env","value":"prod"}\n',
    );
    expect(client.collections.open).toHaveBeenCalledWith(DATAFILE);
    expect(output).toEqual({
      exportName: 'labels',
      bucket: 'exports',
      key: KEY,
      uri: `s3://exports/${KEY}`,
      bytes: stored.length,
      sha256: createHash('sha256').update(stored).digest('hex'),
      format: 'ndjson',
      gzip: true,
      objectCount: 2,
      jobHref: JOB,
      polls: 3,
      retries: { submit: 0, poll: 0, fetch: 0 },
      requestedAt: '2026-03-04T05:06:08.000Z',
      completedAt: '2026-03-04T05:07:00.000Z',
      manifestKey: MANIFEST_KEY,
    });
  });

  it('uploads with content type and job metadata, then tags the object with sha256 and object count, copying nothing', async () => {
    const output = await fetchExport(doneState(), deps(fakeClient()));

    expect(putTo(KEY)).toMatchObject({
      ContentType: 'application/x-ndjson',
      Metadata: {
        'job-href': JOB,
        org: '1',
        path: '/labels',
        query: 'key=role',
        format: 'ndjson',
        gzip: 'true',
      },
    });
    expect(putTo(KEY)?.ContentEncoding).toBeUndefined();
    expect(s3Mock.commandCalls(PutObjectTaggingCommand).map((c) => c.args[0].input)).toEqual([
      {
        Bucket: 'exports',
        Key: KEY,
        Tagging: {
          TagSet: [
            { Key: 'sha256', Value: output.sha256 },
            { Key: 'object-count', Value: '2' },
          ],
        },
      },
    ]);
    expect(s3Mock.commandCalls(CopyObjectCommand)).toEqual([]);
  });

  it('writes the object once and tags it before the manifest: one PutObject for a small body, then the tags', async () => {
    await fetchExport(doneState(), deps(fakeClient()));

    const sent = s3Mock.calls().map((call) => {
      const command = call.args[0] as { constructor: { name: string }; input: { Key?: string } };
      return `${command.constructor.name} ${command.input.Key}`;
    });
    expect(sent).toEqual([
      `PutObjectCommand ${KEY}`,
      `PutObjectTaggingCommand ${KEY}`,
      `PutObjectCommand ${MANIFEST_KEY}`,
      'PutObjectCommand pce/labels/latest.json',
      'PutObjectCommand pce/labels/_current/run.json',
    ]);
  });

  it('writes an object larger than a part once, as one multipart upload, and tags it after completion', async () => {
    s3Mock.on(CreateMultipartUploadCommand).resolves({ UploadId: 'upload-1' });
    s3Mock
      .on(UploadPartCommand)
      .callsFake((input: { PartNumber?: number }) => ({ ETag: `"p${input.PartNumber}"` }));
    s3Mock.on(CompleteMultipartUploadCommand).resolves({ ETag: '"mp-2"' });
    const label = (i: number) => `{"href":"/orgs/1/labels/${i}","key":"role","value":"${'w'.repeat(200)}"}`;
    const body = `[${Array.from({ length: 30_000 }, (_, i) => label(i)).join(',')}]`;

    const output = await fetchExport(doneState({ format: 'raw', gzip: false }), deps(fakeClient(body)));

    const sent = s3Mock
      .calls()
      .map((call) => (call.args[0] as { constructor: { name: string } }).constructor.name);
    expect(output.bytes).toBe(Buffer.byteLength(body));
    expect(sent.filter((name) => name !== 'UploadPartCommand')).toEqual([
      'CreateMultipartUploadCommand',
      'CompleteMultipartUploadCommand',
      'PutObjectTaggingCommand',
      'PutObjectCommand',
      'PutObjectCommand',
      'PutObjectCommand',
    ]);
    expect(sent.filter((name) => name === 'UploadPartCommand')).toHaveLength(2);
    expect(s3Mock.commandCalls(CreateMultipartUploadCommand)[0]?.args[0].input.Metadata).toMatchObject({
      'job-href': JOB,
      path: '/labels',
    });
    expect(s3Mock.commandCalls(PutObjectTaggingCommand)[0]?.args[0].input.Tagging?.TagSet).toEqual([
      { Key: 'sha256', Value: createHash('sha256').update(body).digest('hex') },
      { Key: 'object-count', Value: '30000' },
    ]);
  });

  it('writes the manifest beside the object and then latest.json, after the object', async () => {
    const output = await fetchExport(doneState(), deps(fakeClient()));

    const keys = s3Mock.commandCalls(PutObjectCommand).map((c) => c.args[0].input.Key);
    expect(keys).toEqual([KEY, MANIFEST_KEY, 'pce/labels/latest.json', 'pce/labels/_current/run.json']);
    const manifest = JSON.parse(String(putTo(MANIFEST_KEY)?.Body));
    expect(manifest).toEqual({
      exportName: 'labels',
      bucket: 'exports',
      key: KEY,
      uri: `s3://exports/${KEY}`,
      bytes: output.bytes,
      sha256: output.sha256,
      objectCount: 2,
      format: 'ndjson',
      gzip: true,
      contentType: 'application/x-ndjson',
      org: 1,
      path: '/labels',
      query: { key: 'role' },
      jobHref: JOB,
      executionName: 'nightly',
      requestedAt: '2026-03-04T05:06:08.000Z',
      completedAt: '2026-03-04T05:07:00.000Z',
      tool: `pce-export/${TOOL_VERSION}`,
    });
    expect(putTo(MANIFEST_KEY)?.ContentType).toBe('application/json');
    expect(JSON.parse(String(putTo('pce/labels/latest.json')?.Body))).toEqual({
      ...manifest,
      manifestKey: MANIFEST_KEY,
    });
  });

  it('stores raw format byte for byte as .json', async () => {
    const output = await fetchExport(doneState({ format: 'raw', gzip: false }), deps(fakeClient()));

    expect(output.key).toBe('pce/labels/dt=2026-03-04/050607Z_nightly.json');
    expect(Buffer.from(putTo(output.key)?.Body as Uint8Array).toString()).toBe(BODY);
    expect(putTo(output.key)?.ContentType).toBe('application/json');
  });

  it('deletes the PCE job after the manifest and latest.json are written', async () => {
    const client = fakeClient();
    client.collections.delete.mockImplementation(async () => {
      expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(3);
    });

    await fetchExport(doneState(), deps(client));

    expect(client.collections.delete).toHaveBeenCalledWith(JOB);
  });

  it('succeeds with a warning when deleting the job fails', async () => {
    const client = fakeClient();
    client.collections.delete.mockRejectedValue(
      new PceRequestError('404 from /orgs/1/jobs/…', { status: 404 }),
    );
    const log = logger();

    const output = await fetchExport(doneState(), deps(client, log));

    expect(output.objectCount).toBe(2);
    expect(log.warn).toHaveBeenCalledWith(
      expect.stringContaining('Deleting the PCE job failed'),
      expect.objectContaining({ error: expect.stringContaining('PceRequestError') }),
    );
  });

  it('fails with ExportStorageError, deletes the untagged object and writes neither manifest nor latest.json when tagging the object fails', async () => {
    s3Mock.on(PutObjectTaggingCommand).rejects(new Error('AccessDenied'));
    s3Mock.on(DeleteObjectCommand).resolves({});
    const client = fakeClient();

    const error = await fetchExport(doneState(), deps(client)).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ExportStorageError);
    expect((error as Error).message).toContain(`tagging s3://exports/${KEY} (the object was removed again)`);
    expect(s3Mock.commandCalls(DeleteObjectCommand).map((c) => c.args[0].input)).toEqual([
      { Bucket: 'exports', Key: KEY },
    ]);
    expect(putTo(MANIFEST_KEY)).toBeUndefined();
    expect(putTo('pce/labels/latest.json')).toBeUndefined();
    expect(client.collections.delete).not.toHaveBeenCalled();
  });

  it('says the untagged object is still at the key when deleting it fails too', async () => {
    s3Mock.on(PutObjectTaggingCommand).rejects(new Error('AccessDenied'));
    s3Mock.on(DeleteObjectCommand).rejects(new Error('ServiceUnavailable'));

    const error = await fetchExport(doneState(), deps(fakeClient())).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ExportStorageError);
    expect((error as Error).message).toContain(
      'the object is still at the key, untagged (Error: ServiceUnavailable)',
    );
    expect(putTo(MANIFEST_KEY)).toBeUndefined();
  });

  it('fails with ExportStorageError and writes no latest.json when the manifest cannot be written', async () => {
    s3Mock.on(PutObjectCommand, { Key: MANIFEST_KEY }).rejects(new Error('InternalError'));

    const error = await fetchExport(doneState(), deps(fakeClient())).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ExportStorageError);
    expect((error as Error).message).toContain(`s3://exports/${MANIFEST_KEY}`);
    expect(putTo('pce/labels/latest.json')).toBeUndefined();
  });

  it('refuses a job that is not done without contacting the PCE', async () => {
    const client = fakeClient();
    const state = doneState();
    const running = { ...state, job: { ...state.job, status: 'running' as const, resultHref: undefined } };

    await expect(fetchExport(running, deps(client))).rejects.toBeInstanceOf(ExportConfigError);
    expect(client.collections.open).not.toHaveBeenCalled();
  });
});
