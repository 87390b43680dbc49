import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLocalEvents } from '../../local/events';
import { type LocalS3, startLocalS3 } from '../../local/s3';
import { type LocalSecrets, startLocalSecrets } from '../../local/secrets';

const BUCKET = 'faults';
const CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

describe('S3 faults', () => {
  let s3: LocalS3;
  const client = (maxAttempts: number) =>
    new S3Client({
      endpoint: s3.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: CREDENTIALS,
      maxAttempts,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });

  beforeAll(async () => {
    s3 = await startLocalS3({ buckets: [BUCKET] });
  });
  afterAll(() => s3.close());
  beforeEach(() => s3.faults.clear());

  async function startUpload(key: string) {
    const created = await client(1).send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key }));
    return String(created.UploadId);
  }

  it('answers an UploadPart with SlowDown as S3 does, so the SDK names it and keeps its request id', async () => {
    const uploadId = await startUpload('pce/a.ndjson');
    s3.faults.inject({ operation: 'UploadPart', key: 'pce/*.ndjson' }, { code: 'SlowDown' });

    const error = await client(1)
      .send(
        new UploadPartCommand({
          Bucket: BUCKET,
          Key: 'pce/a.ndjson',
          UploadId: uploadId,
          PartNumber: 1,
          Body: 'x',
        }),
      )
      .catch((e: unknown) => e as { name: string; message: string; $metadata: Record<string, unknown> });

    expect(error).toMatchObject({
      name: 'SlowDown',
      message: 'Please reduce your request rate.',
      $metadata: {
        httpStatusCode: 503,
        requestId: expect.stringMatching(/^[0-9A-F]{16}$/),
        extendedRequestId: expect.any(String),
      },
    });
  });

  it('lets the SDK retry a SlowDown as the throttling it is, and the part is stored', async () => {
    const uploadId = await startUpload('pce/b.ndjson');
    s3.faults.inject({ operation: 'UploadPart' }, { code: 'SlowDown' });

    const part = await client(3).send(
      new UploadPartCommand({
        Bucket: BUCKET,
        Key: 'pce/b.ndjson',
        UploadId: uploadId,
        PartNumber: 1,
        Body: 'x',
      }),
    );

    expect(part.ETag).toBeTruthy();
    expect(s3.faults.delivered).toHaveLength(1);
  });

  it('fails a CompleteMultipartUpload that answers 200 with an error body, as S3 can', async () => {
    const uploadId = await startUpload('pce/c.ndjson');
    const part = await client(1).send(
      new UploadPartCommand({
        Bucket: BUCKET,
        Key: 'pce/c.ndjson',
        UploadId: uploadId,
        PartNumber: 1,
        Body: 'x',
      }),
    );
    s3.faults.inject({ operation: 'CompleteMultipartUpload' }, { code: 'InternalError', inOkResponse: true });

    const completing = client(1).send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key: 'pce/c.ndjson',
        UploadId: uploadId,
        MultipartUpload: { Parts: [{ ETag: part.ETag, PartNumber: 1 }] },
      }),
    );

    await expect(completing).rejects.toMatchObject({ name: 'InternalError' });
    expect(await s3.listOpenUploads(BUCKET)).toContain('pce/c.ndjson');
  });

  it('fails only the PutObject requests whose key matches, as many times as armed', async () => {
    s3.faults.inject({ operation: 'PutObject', key: /manifest/ }, { code: 'InternalError' }, { times: 2 });
    const put = (key: string) =>
      client(1).send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: '{}' }));

    await expect(put('pce/manifest.json')).rejects.toMatchObject({ name: 'InternalError', $fault: 'server' });
    await expect(put('pce/data.ndjson')).resolves.toBeDefined();
    await expect(put('pce/manifest.json')).rejects.toMatchObject({ name: 'InternalError' });
    await expect(put('pce/manifest.json')).resolves.toBeDefined();
  });
});

describe('Secrets Manager faults', () => {
  let secrets: LocalSecrets;
  const client = (maxAttempts: number) =>
    new SecretsManagerClient({
      endpoint: secrets.endpoint,
      region: 'us-east-1',
      credentials: CREDENTIALS,
      maxAttempts,
    });

  beforeAll(async () => {
    secrets = await startLocalSecrets();
    secrets.put('pce-export/test', '{"apiKey":"api_1","apiSecret":"s"}');
  });
  afterAll(() => secrets.close());
  beforeEach(() => secrets.faults.clear());

  it('throttles with the JSON ThrottlingException the SDK treats as throttling', async () => {
    secrets.faults.inject({}, { code: 'ThrottlingException' });

    const error = await client(1)
      .send(new GetSecretValueCommand({ SecretId: 'pce-export/test' }))
      .catch((e: unknown) => e as Record<string, unknown>);

    expect(error).toMatchObject({
      name: 'ThrottlingException',
      message: 'Rate exceeded',
      $fault: 'client',
      $metadata: { httpStatusCode: 400, requestId: expect.stringMatching(/^[0-9a-f-]{36}$/) },
    });
  });

  it('is retried by the SDK past a throttle and a 5xx', async () => {
    secrets.faults.inject({ secretId: 'pce-export/*' }, { code: 'ThrottlingException' });
    secrets.faults.inject({ secretId: 'pce-export/*' }, { code: 'InternalServiceError' });

    const secret = await client(3).send(new GetSecretValueCommand({ SecretId: 'pce-export/test' }));

    expect(secret.SecretString).toContain('api_1');
    expect(secrets.faults.delivered.map((d) => d.fault.code)).toEqual([
      'ThrottlingException',
      'InternalServiceError',
    ]);
  });

  it('answers a 5xx as a server fault', async () => {
    secrets.faults.inject({}, { code: 'InternalServiceError' });

    await expect(
      client(1).send(new GetSecretValueCommand({ SecretId: 'pce-export/test' })),
    ).rejects.toMatchObject({
      name: 'InternalServiceError',
      $fault: 'server',
      $metadata: { httpStatusCode: 500 },
    });
  });
});

describe('EventBridge PutEvents faults', () => {
  const context = {
    executionArn: 'arn:aws:states:us-east-1:000000000000:execution:PceExportWorkflow:run-1',
    stateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:PceExportWorkflow',
  };
  const entry = (DetailType: string) => ({ Source: 'pce-export', DetailType, Detail: {} });

  it('fails the task with EventBridge.<code> and the SDK cause for a service error', async () => {
    const events = createLocalEvents();
    events.faults.inject({ detailType: 'Export Failed' }, { kind: 'service' });

    const putting = events.putEvents({ Entries: [entry('Export Failed')] }, context);

    await expect(putting).rejects.toMatchObject({ name: 'EventBridge.InternalException' });
    await expect(putting).rejects.toThrow(
      /\(Service: AmazonEventBridge; Status Code: 500; Error Code: InternalException;/,
    );
    expect(events.sent).toEqual([]);
  });

  it('fails the task with EventBridge.FailedEntry and the response as cause, delivering the other entries', async () => {
    const events = createLocalEvents();
    events.faults.inject(
      { detailType: 'Export Failed' },
      { kind: 'entry', errorCode: 'ThrottlingException' },
    );

    const error = await events
      .putEvents({ Entries: [entry('Export Succeeded'), entry('Export Failed')] }, context)
      .catch((e: Error) => e);

    expect(error).toMatchObject({ name: 'EventBridge.FailedEntry' });
    expect(JSON.parse((error as Error).message)).toEqual({
      Entries: [
        { EventId: events.sent[0]?.id },
        { ErrorCode: 'ThrottlingException', ErrorMessage: 'Internal Failure' },
      ],
      FailedEntryCount: 1,
    });
    expect(events.sent.map((event) => event.detailType)).toEqual(['Export Succeeded']);
  });

  it('puts events as usual when no fault matches', async () => {
    const events = createLocalEvents();
    events.faults.inject({ detailType: 'Export Failed' }, { kind: 'service' });

    const response = await events.putEvents({ Entries: [entry('Export Succeeded')] }, context);

    expect(response.FailedEntryCount).toBe(0);
    expect(events.faults.delivered).toEqual([]);
  });
});
