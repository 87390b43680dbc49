import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  ListMultipartUploadsCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { copyToDirectory } from '../../cli/output';
import { PceAuthError } from '../../lambdas/pce/errors';
import { asLambda } from '../../local/lambda';
import { type LocalS3, pendingUploadBytes, startLocalS3 } from '../../local/s3';
import { type LocalSecrets, startLocalSecrets } from '../../local/secrets';

const credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

describe('embedded S3', () => {
  let s3: LocalS3;
  let client: S3Client;

  beforeAll(async () => {
    s3 = await startLocalS3({ buckets: ['bucket'] });
    client = new S3Client({
      endpoint: s3.endpoint,
      region: 'us-east-1',
      credentials,
      forcePathStyle: true,
      requestChecksumCalculation: 'WHEN_REQUIRED',
    });
  });
  afterAll(async () => {
    client.destroy();
    await s3.close();
  });

  it('stores and returns objects byte for byte', async () => {
    const body = Buffer.from('[{"a":1}]');
    await client.send(new PutObjectCommand({ Bucket: 'bucket', Key: 'x/y.json', Body: body }));

    const got = await client.send(new GetObjectCommand({ Bucket: 'bucket', Key: 'x/y.json' }));

    expect(Buffer.from(await got.Body!.transformToByteArray())).toEqual(body);
  });

  it('lists an open multipart upload, counts its bytes, and forgets it once aborted', async () => {
    const { UploadId } = await client.send(
      new CreateMultipartUploadCommand({ Bucket: 'bucket', Key: 'big/object' }),
    );
    await client.send(
      new UploadPartCommand({
        Bucket: 'bucket',
        Key: 'big/object',
        UploadId,
        PartNumber: 1,
        Body: Buffer.alloc(1000, 1),
      }),
    );

    const listed = await client.send(new ListMultipartUploadsCommand({ Bucket: 'bucket' }));
    expect(listed.Uploads?.map((u) => [u.Key, u.UploadId])).toEqual([['big/object', UploadId]]);
    expect(await pendingUploadBytes(s3, 'bucket')).toBe(1000);

    await client.send(new AbortMultipartUploadCommand({ Bucket: 'bucket', Key: 'big/object', UploadId }));

    expect(await s3.listOpenUploads('bucket')).toEqual([]);
    expect(await pendingUploadBytes(s3, 'bucket')).toBe(0);
  });

  it('assembles a completed multipart upload from its parts in order, with the multipart ETag, and closes the upload', async () => {
    const key = 'assembled/object';
    const parts = [Buffer.alloc(3000, 7), Buffer.from('tail of the object')];
    const { UploadId } = await client.send(
      new CreateMultipartUploadCommand({ Bucket: 'bucket', Key: key, ContentType: 'application/json' }),
    );
    const etags: string[] = [];
    for (const [i, body] of parts.entries()) {
      const uploaded = await client.send(
        new UploadPartCommand({ Bucket: 'bucket', Key: key, UploadId, PartNumber: i + 1, Body: body }),
      );
      etags.push(uploaded.ETag ?? '');
    }

    const completed = await client.send(
      new CompleteMultipartUploadCommand({
        Bucket: 'bucket',
        Key: key,
        UploadId,
        MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
      }),
    );
    const got = await client.send(new GetObjectCommand({ Bucket: 'bucket', Key: key }));

    const md5 = (data: Buffer) => createHash('md5').update(data).digest();
    expect(etags).toEqual(parts.map((part) => `"${md5(part).toString('hex')}"`));
    const multipart = `"${createHash('md5')
      .update(Buffer.concat(parts.map(md5)))
      .digest('hex')}-2"`;
    expect(completed.ETag).toBe(multipart);
    expect(got.ETag).toBe(multipart);
    expect(got.ContentType).toBe('application/json');
    expect(Buffer.from(await got.Body!.transformToByteArray())).toEqual(Buffer.concat(parts));
    expect(await s3.listOpenUploads('bucket')).toEqual([]);
  });

  it('refuses to complete an upload with a part whose ETag does not match, and keeps the upload open', async () => {
    const key = 'mismatched/object';
    const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: 'bucket', Key: key }));
    await client.send(
      new UploadPartCommand({
        Bucket: 'bucket',
        Key: key,
        UploadId,
        PartNumber: 1,
        Body: Buffer.from('part'),
      }),
    );

    const completing = client.send(
      new CompleteMultipartUploadCommand({
        Bucket: 'bucket',
        Key: key,
        UploadId,
        MultipartUpload: { Parts: [{ ETag: '"0123456789abcdef0123456789abcdef"', PartNumber: 1 }] },
      }),
    );

    await expect(completing).rejects.toMatchObject({ name: 'InvalidPart' });
    expect(await s3.listOpenUploads('bucket')).toEqual([key]);
    await client.send(new AbortMultipartUploadCommand({ Bucket: 'bucket', Key: key, UploadId }));
  });

  it('copies objects out through their files, byte for byte, and an object with no file through S3', async () => {
    vi.stubEnv('AWS_ACCESS_KEY_ID', credentials.accessKeyId);
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', credentials.secretAccessKey);
    vi.stubEnv('AWS_REGION', 'us-east-1');
    const dir = await mkdtemp(join(tmpdir(), 'pce-export-out-'));
    const body = Buffer.from(Array.from({ length: 70_000 }, (_, i) => i % 251));
    await client.send(new PutObjectCommand({ Bucket: 'bucket', Key: 'out/dt=1/data.json', Body: body }));
    await client.send(new PutObjectCommand({ Bucket: 'bucket', Key: 'out/latest.json', Body: '{"a":1}' }));
    s3.requests.length = 0;
    // latest.json is found at a path where the store has no file: it is read through S3 instead.
    const objectFile = (bucket: string, key: string) =>
      key.endsWith('latest.json') ? join(dir, 'no-such-file') : s3.objectFile(bucket, key);

    try {
      const paths = await copyToDirectory(
        s3.endpoint,
        'bucket',
        ['out/dt=1/data.json', 'out/latest.json'],
        join(dir, 'out-dir'),
        objectFile,
      );

      expect(await readFile(paths['out/dt=1/data.json'] ?? '')).toEqual(body);
      expect(await readFile(paths['out/latest.json'] ?? '', 'utf8')).toBe('{"a":1}');
      expect(s3.requests.filter((r) => r.operation === 'GetObject').map((r) => r.key)).toEqual([
        'out/latest.json',
      ]);
    } finally {
      vi.unstubAllEnvs();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('answers NoSuchUpload when aborting an upload that does not exist', async () => {
    const abort = client.send(
      new AbortMultipartUploadCommand({ Bucket: 'bucket', Key: 'nothing', UploadId: 'deadbeef' }),
    );

    await expect(abort).rejects.toMatchObject({ name: 'NoSuchUpload' });
  });
});

describe('Secrets Manager stand-in', () => {
  let secrets: LocalSecrets;
  let client: SecretsManagerClient;

  beforeAll(async () => {
    secrets = await startLocalSecrets();
    client = new SecretsManagerClient({ endpoint: secrets.endpoint, region: 'us-east-1', credentials });
  });
  afterAll(async () => {
    client.destroy();
    await secrets.close();
  });

  it('returns a stored secret by name and by ARN', async () => {
    secrets.put('pce/creds', '{"apiKey":"api_1"}');

    const byName = await client.send(new GetSecretValueCommand({ SecretId: 'pce/creds' }));
    const byArn = await client.send(new GetSecretValueCommand({ SecretId: byName.ARN }));

    expect(byName.SecretString).toBe('{"apiKey":"api_1"}');
    expect(byArn.Name).toBe('pce/creds');
  });

  it('answers ResourceNotFoundException for an unknown secret', async () => {
    const get = client.send(new GetSecretValueCommand({ SecretId: 'missing' }));

    await expect(get).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });
});

describe('local Lambda boundary', () => {
  it('passes the event and result through JSON', async () => {
    const invoke = asLambda('fn', async (event) => ({ seen: event, when: new Date(0) }));

    const result = await invoke({ a: 1, skip: undefined });

    expect(result).toEqual({ seen: { a: 1 }, when: '1970-01-01T00:00:00.000Z' });
  });

  it('reports a thrown error by its name with the runtime JSON as the cause', async () => {
    const invoke = asLambda('fn', async () => {
      throw new PceAuthError('GET /orgs/1/labels returned 401');
    });

    const error = await invoke({}).catch((e: Error) => e);

    expect(error).toBeInstanceOf(Error);
    expect((error as Error).name).toBe('PceAuthError');
    expect(JSON.parse((error as Error).message)).toMatchObject({
      errorType: 'PceAuthError',
      errorMessage: 'GET /orgs/1/labels returned 401',
    });
  });

  it('fails with States.DataLimitExceeded when a result exceeds 256 KB', async () => {
    const invoke = asLambda('fn', async () => ({ big: 'x'.repeat(300 * 1024) }));

    await expect(invoke({})).rejects.toMatchObject({ name: 'States.DataLimitExceeded' });
  });
});
