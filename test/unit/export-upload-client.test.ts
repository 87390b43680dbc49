import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateMultipartUploadCommand, PutObjectCommand, UploadPartCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUploadClient } from '../../lambdas/export/upload-client';

/** An S3 stand-in on loopback that records each request's headers and answers what the SDK expects. */
let server: Server;
let endpoint: string;
const seen: { method: string; url: string; headers: IncomingHttpHeaders; bytes: number }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let bytes = 0;
    req.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
    });
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, bytes });
      if (req.method === 'POST') {
        res.writeHead(200, { 'content-type': 'application/xml' });
        res.end(
          '<?xml version="1.0" encoding="UTF-8"?><InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key><UploadId>u1</UploadId></InitiateMultipartUploadResult>',
        );
        return;
      }
      res.writeHead(200, { etag: '"e"' });
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function client() {
  return createUploadClient({
    endpoint,
    region: 'eu-west-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test' },
    requestChecksumCalculation: 'WHEN_REQUIRED',
  });
}

describe('createUploadClient', () => {
  it('sends object and part bodies as UNSIGNED-PAYLOAD, still signed and whole', async () => {
    seen.length = 0;
    const s3 = client();
    const body = Buffer.alloc(100_000, 7);

    await s3.send(new PutObjectCommand({ Bucket: 'b', Key: 'k', Body: body }));
    await s3.send(
      new UploadPartCommand({ Bucket: 'b', Key: 'k', UploadId: 'u1', PartNumber: 1, Body: body }),
    );
    s3.destroy();

    expect(seen.map((r) => r.headers['x-amz-content-sha256'])).toEqual([
      'UNSIGNED-PAYLOAD',
      'UNSIGNED-PAYLOAD',
    ]);
    expect(seen.map((r) => r.bytes)).toEqual([100_000, 100_000]);
    for (const request of seen)
      expect(request.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDTEST\//);
  });

  it('leaves the payload hash of other requests as SigV4 computes it', async () => {
    seen.length = 0;
    const s3 = client();

    await s3.send(new CreateMultipartUploadCommand({ Bucket: 'b', Key: 'k' }));
    s3.destroy();

    // The SHA-256 of the empty body.
    expect(seen[0]?.headers['x-amz-content-sha256']).toBe(
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
  });
});
