import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';

/*
 * UploadPart and CompleteMultipartUpload for the embedded S3, answered as S3 answers them, in
 * place of s3rver's. s3rver hashes every byte of an upload twice (each part's MD5, then the whole
 * object's when it assembles it) and copies it twice through object-mode streams: for a datafile
 * of hundreds of MB stored raw, more CPU than the export's own copy. Here a part is written once
 * as it arrives, with its MD5 (its ETag, as S3 gives for SSE-S3), and the object is assembled from
 * the part files in large reads, its ETag S3's multipart one: the MD5 of the parts' MD5s, a dash
 * and the number of parts. The files are where s3rver keeps them (its uploads folder, the object
 * and its metadata beside it), so s3rver serves the object, and AbortMultipartUpload and
 * ListMultipartUploads see the uploads, as before.
 */

/** The part of the filesystem store this module writes through. */
export interface UploadStore {
  /** The folder of one multipart upload in progress. */
  uploadDir(bucket: string, uploadId: string): string;
  /** The file that holds an object's bytes. */
  objectFile(bucket: string, key: string): string;
  /** Writes an object's metadata and ETag beside its bytes (s3rver's putMetadata). */
  putMetadata(bucket: string, key: string, metadata: Record<string, string>, etag: string): Promise<void>;
}

/** The path-style request this module answers, or undefined for s3rver to. */
interface UploadRequest {
  readonly operation: 'UploadPart' | 'CompleteMultipartUpload';
  readonly bucket: string;
  readonly key: string;
  readonly uploadId: string;
  readonly partNumber: number;
}

const READ_BYTES = 4 * 1024 * 1024;
const MAX_PART_NUMBER = 10_000;
/** Request headers S3 keeps with an object (s3rver's S3Object.ALLOWED_METADATA). */
const KEPT_HEADERS = [
  'cache-control',
  'content-disposition',
  'content-encoding',
  'content-language',
  'content-type',
  'expires',
  'x-amz-storage-class',
  'x-amz-website-redirect-location',
];

/**
 * Answers an UploadPart or CompleteMultipartUpload of an upload that exists; anything else
 * (another operation, an upload s3rver would reject, a body sent aws-chunked) is left to s3rver.
 */
export async function handleUpload(
  store: UploadStore,
  req: IncomingMessage,
  res: ServerResponse,
  operation: string,
): Promise<boolean> {
  const request = uploadRequest(req, operation);
  if (request === undefined) return false;
  const dir = store.uploadDir(request.bucket, request.uploadId);
  const exists = await stat(join(dir, 'key')).then(
    (s) => s.isFile(),
    () => false,
  );
  if (!exists) return false;
  if (request.operation === 'UploadPart') await uploadPart(dir, request, req, res);
  else await completeUpload(store, dir, request, req, res);
  return true;
}

function uploadRequest(req: IncomingMessage, operation: string): UploadRequest | undefined {
  if (operation !== 'UploadPart' && operation !== 'CompleteMultipartUpload') return undefined;
  const encoding = String(req.headers['content-encoding'] ?? '');
  const payload = String(req.headers['x-amz-content-sha256'] ?? '');
  if (encoding.includes('aws-chunked') || payload.startsWith('STREAMING-')) return undefined;
  const url = new URL(req.url ?? '/', 'http://localhost');
  const [, bucket = '', ...rest] = url.pathname.split('/');
  const uploadId = url.searchParams.get('uploadId') ?? '';
  if (!/^[A-Za-z0-9]+$/.test(uploadId)) return undefined;
  const partText = url.searchParams.get('partNumber') ?? '';
  const partNumber = Number(partText);
  if (
    operation === 'UploadPart' &&
    !(/^\d+$/.test(partText) && partNumber >= 1 && partNumber <= MAX_PART_NUMBER)
  )
    return undefined;
  return {
    operation,
    bucket: decodeURIComponent(bucket),
    key: decodeURIComponent(rest.join('/')),
    uploadId,
    partNumber,
  };
}

async function uploadPart(
  dir: string,
  request: UploadRequest,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const file = join(dir, String(request.partNumber));
  const md5 = createHash('md5');
  await pipeline(
    req,
    async function* (source: AsyncIterable<Buffer>) {
      for await (const chunk of source) {
        md5.update(chunk);
        yield chunk;
      }
    },
    createWriteStream(file),
  );
  const etag = md5.digest('hex');
  await writeFile(`${file}.md5`, etag);
  // S3 hands back the checksum it checked the part against.
  const checksums = Object.fromEntries(
    Object.entries(req.headers).filter(
      ([name]) => name.startsWith('x-amz-checksum-') && name !== 'x-amz-checksum-type',
    ),
  );
  res.writeHead(200, { etag: `"${etag}"`, 'x-amz-request-id': requestId(), ...checksums });
  res.end();
}

async function completeUpload(
  store: UploadStore,
  dir: string,
  request: UploadRequest,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  let body = '';
  for await (const chunk of req) body += String(chunk);
  const listed = [...body.matchAll(/<Part>([\s\S]*?)<\/Part>/g)].map(([, part = '']) => ({
    number: Number(/<PartNumber>\s*(\d+)\s*<\/PartNumber>/.exec(part)?.[1] ?? Number.NaN),
    etag: unquote(/<ETag>([\s\S]*?)<\/ETag>/.exec(part)?.[1] ?? ''),
  }));
  if (listed.length === 0 || listed.some((part) => !Number.isSafeInteger(part.number))) {
    return fail(
      res,
      400,
      'MalformedXML',
      'The XML you provided was not well-formed or did not validate against our published schema.',
    );
  }
  if (listed.some((part, i) => i > 0 && part.number <= (listed[i - 1]?.number ?? 0))) {
    return fail(res, 400, 'InvalidPartOrder', 'The list of parts was not in ascending order.');
  }
  const stored = await Promise.all(
    listed.map((part) => readFile(join(dir, `${part.number}.md5`), 'utf8').catch(() => undefined)),
  );
  if (listed.some((part, i) => stored[i] !== part.etag)) {
    return fail(
      res,
      400,
      'InvalidPart',
      "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
    );
  }

  // Assembled inside the upload's folder and moved into place whole: a reader of the key sees the
  // previous object or the new one, never a part of it.
  const assembled = join(dir, 'assembled');
  await rename(join(dir, String(listed[0]?.number)), assembled);
  await appendFiles(
    assembled,
    listed.slice(1).map((part) => join(dir, String(part.number))),
  );
  const etag = `${createHash('md5')
    .update(Buffer.concat(stored.map((hex) => Buffer.from(hex ?? '', 'hex'))))
    .digest('hex')}-${listed.length}`;
  const headers = JSON.parse(await readFile(join(dir, 'metadata'), 'utf8')) as Record<string, string>;
  const metadata: Record<string, string> = { 'content-type': 'binary/octet-stream' };
  for (const [name, value] of Object.entries(headers)) {
    if (KEPT_HEADERS.includes(name) || name.startsWith('x-amz-meta-')) metadata[name] = value;
  }
  const target = store.objectFile(request.bucket, request.key);
  await mkdir(dirname(target), { recursive: true });
  await rename(assembled, target);
  await store.putMetadata(request.bucket, request.key, metadata, etag);
  await rm(dir, { recursive: true, force: true });

  const location = `http://${req.headers.host ?? 'localhost'}/${request.bucket}/${request.key}`;
  res.writeHead(200, { 'content-type': 'application/xml', 'x-amz-request-id': requestId() });
  res.end(
    `<?xml version="1.0" encoding="UTF-8"?>\n<CompleteMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Location>${escapeXml(location)}</Location><Bucket>${escapeXml(request.bucket)}</Bucket><Key>${escapeXml(request.key)}</Key><ETag>${escapeXml(`"${etag}"`)}</ETag></CompleteMultipartUploadResult>`,
  );
}

/** Appends the files to `target` through one buffer, reused: no garbage for the collector per MB. */
async function appendFiles(target: string, files: readonly string[]): Promise<void> {
  const buffer = Buffer.allocUnsafe(READ_BYTES);
  const out = await open(target, 'a');
  try {
    for (const file of files) {
      const input = await open(file, 'r');
      try {
        for (;;) {
          const { bytesRead } = await input.read(buffer, 0, buffer.length, null);
          if (bytesRead === 0) break;
          let written = 0;
          while (written < bytesRead) {
            written += (await out.write(buffer, written, bytesRead - written)).bytesWritten;
          }
        }
      } finally {
        await input.close();
      }
    }
  } finally {
    await out.close();
  }
}

function fail(res: ServerResponse, status: number, code: string, message: string): void {
  const id = requestId();
  res.writeHead(status, { 'content-type': 'application/xml', 'x-amz-request-id': id });
  res.end(
    `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${escapeXml(message)}</Message><RequestId>${id}</RequestId></Error>`,
  );
}

/** An ETag as listed in the request, without its quotes (plain or as XML entities). */
function unquote(text: string): string {
  return text
    .replace(/&quot;|&#34;|&#x22;/gi, '"')
    .trim()
    .replace(/^"|"$/g, '');
}

function requestId(): string {
  return randomBytes(8).toString('hex').toUpperCase();
}

export function escapeXml(value: string): string {
  return value.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}
