import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';
import { type FaultOptions, FaultPlan, matches, type Pattern } from './faults';
import { escapeXml, handleUpload, type UploadStore } from './s3-uploads';

/** The S3 operations a fault can be armed on. */
const FAULT_OPERATIONS = [
  'PutObject',
  'CreateMultipartUpload',
  'UploadPart',
  'CompleteMultipartUpload',
  'PutObjectTagging',
  'DeleteObject',
] as const;
type S3Operation = (typeof FAULT_OPERATIONS)[number];
const FAULTABLE: ReadonlySet<string> = new Set(FAULT_OPERATIONS);

interface S3Request {
  readonly operation: S3Operation;
  readonly bucket: string;
  readonly key: string;
}

/** A request the server received, named as S3 names the operation (`Other` for the rest). */
interface S3RequestRecord {
  readonly operation: string;
  readonly bucket: string;
  /** Empty for a bucket-level request. */
  readonly key: string;
}

/**
 * An armed S3 failure, answered as S3 answers: an XML `<Error>` with Code, Message, RequestId and
 * HostId, and the `x-amz-request-id` and `x-amz-id-2` headers.
 */
interface S3Fault {
  /** e.g. SlowDown (503), InternalError (500), ServiceUnavailable (503), AccessDenied (403). */
  readonly code: string;
  /** @default the status S3 gives the code */
  readonly status?: number;
  readonly message?: string;
  /**
   * CompleteMultipartUpload only: answer 200 OK with the error in the body, as S3 can once it has
   * started to reply. @default false
   */
  readonly inOkResponse?: boolean;
  /** The request id to answer with. @default a new random one */
  readonly requestId?: string;
}

interface S3FaultSelector {
  readonly operation: S3Operation | readonly S3Operation[];
  readonly key?: Pattern;
  readonly bucket?: Pattern;
}

class S3Faults extends FaultPlan<S3Request, S3Fault> {
  /** Fails the next requests (times) of the selected operations on the selected keys. */
  inject(selector: S3FaultSelector, fault: S3Fault, options?: FaultOptions): void {
    const operations: readonly S3Operation[] =
      typeof selector.operation === 'string' ? [selector.operation] : selector.operation;
    this.add(
      (request) =>
        operations.includes(request.operation) &&
        matches(request.key, selector.key) &&
        matches(request.bucket, selector.bucket),
      fault,
      options,
    );
  }
}

const S3_ERRORS: Readonly<Record<string, { status: number; message: string }>> = {
  SlowDown: { status: 503, message: 'Please reduce your request rate.' },
  InternalError: { status: 500, message: 'We encountered an internal error. Please try again.' },
  ServiceUnavailable: { status: 503, message: 'Service is unable to handle request.' },
  AccessDenied: { status: 403, message: 'Access Denied' },
};

/** Where s3rver keeps the parts of multipart uploads in progress, per bucket. */
const UPLOADS_DIR = '._S3rver_uploads';

export interface LocalS3Options {
  /** Buckets to create at start. */
  readonly buckets: readonly string[];
  /** Data directory. @default a new temporary directory, removed on close */
  readonly directory?: string;
  /** @default 0 (any free port) */
  readonly port?: number;
}

export interface LocalS3 {
  /** `http://127.0.0.1:<port>`, for AWS_ENDPOINT_URL_S3. */
  readonly endpoint: string;
  readonly directory: string;
  /** Keys of multipart uploads that were started and neither completed nor aborted. */
  listOpenUploads(bucket: string): Promise<string[]>;
  /** The file that holds a stored object's bytes, as S3 would return them (it may not exist). */
  objectFile(bucket: string, key: string): string;
  /** Failures a test arms on PutObject, the multipart calls, PutObjectTagging and DeleteObject. */
  readonly faults: S3Faults;
  /** Every request received, oldest first; a test may empty it. */
  readonly requests: S3RequestRecord[];
  close(): Promise<void>;
}

/**
 * An S3-compatible server on loopback: s3rver, plus the two multipart calls it lacks
 * (AbortMultipartUpload and ListMultipartUploads), so that aborted uploads leave nothing behind
 * and tests can see what is left open, and its UploadPart and CompleteMultipartUpload done at
 * the cost of writing each byte once (s3-uploads.ts).
 */
export async function startLocalS3(options: LocalS3Options): Promise<LocalS3> {
  const owned = options.directory === undefined;
  const directory = options.directory ?? (await mkdtemp(join(tmpdir(), 'pce-export-s3-')));
  const s3rver = new S3rver({
    directory,
    silent: true,
    allowMismatchedSignatures: true,
    vhostBuckets: false,
    configureBuckets: options.buckets.map((name) => ({ name, configs: [] })),
  });
  await s3rver.configureBuckets();
  const s3rverHandler = s3rver.callback();

  const uploadsDir = (bucket: string) => join(directory, bucket, UPLOADS_DIR);
  const uploadStore: UploadStore = {
    uploadDir: (bucket, uploadId) => join(uploadsDir(bucket), uploadId),
    objectFile: (bucket, key) => s3rver.store.getResourcePath(bucket, key, 'object'),
    putMetadata: (bucket, key, metadata, etag) => s3rver.store.putMetadata(bucket, key, metadata, etag),
  };
  const faults = new S3Faults();

  /** Answers an armed fault (after reading the request body, as S3 does) and reports whether it did. */
  async function handleFault(
    req: IncomingMessage,
    res: ServerResponse,
    received: S3RequestRecord,
  ): Promise<boolean> {
    const request = faultable(received);
    const fault = request && faults.take(request);
    if (!request || !fault) return false;
    for await (const _ of req);
    const known = S3_ERRORS[fault.code];
    const requestId = fault.requestId ?? randomBytes(8).toString('hex').toUpperCase();
    const hostId = randomBytes(48).toString('base64');
    const ok = fault.inOkResponse === true && request.operation === 'CompleteMultipartUpload';
    res.writeHead(ok ? 200 : (fault.status ?? known?.status ?? 500), {
      'content-type': 'application/xml',
      'x-amz-request-id': requestId,
      'x-amz-id-2': hostId,
    });
    res.end(
      `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${escapeXml(fault.code)}</Code><Message>${escapeXml(fault.message ?? known?.message ?? fault.code)}</Message><Key>${escapeXml(request.key)}</Key><RequestId>${requestId}</RequestId><HostId>${hostId}</HostId></Error>`,
    );
    return true;
  }

  async function listOpenUploads(bucket: string): Promise<Array<{ uploadId: string; key: string }>> {
    const ids = await readdir(uploadsDir(bucket)).catch(() => [] as string[]);
    return Promise.all(
      ids.map(async (uploadId) => ({
        uploadId,
        key: await readFile(join(uploadsDir(bucket), uploadId, 'key'), 'utf8').catch(() => ''),
      })),
    );
  }

  async function handleExtension(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const [, bucket = '', ...rest] = url.pathname.split('/');
    const keyParts = rest.filter((part) => part !== '');
    const uploadId = url.searchParams.get('uploadId');
    if (req.method === 'DELETE' && uploadId !== null && keyParts.length > 0) {
      if (!/^[A-Za-z0-9]+$/.test(uploadId)) return false;
      const dir = join(uploadsDir(decodeURIComponent(bucket)), uploadId);
      const exists = await readdir(dir).then(
        () => true,
        () => false,
      );
      if (!exists) {
        res.writeHead(404, { 'content-type': 'application/xml' });
        res.end(
          `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchUpload</Code><Message>The specified upload does not exist.</Message><UploadId>${uploadId}</UploadId></Error>`,
        );
        return true;
      }
      await rm(dir, { recursive: true, force: true });
      res.writeHead(204);
      res.end();
      return true;
    }
    if (req.method === 'GET' && keyParts.length === 0 && bucket !== '' && url.searchParams.has('uploads')) {
      const name = decodeURIComponent(bucket);
      const uploads = await listOpenUploads(name);
      const items = uploads
        .map((u) => `<Upload><Key>${escapeXml(u.key)}</Key><UploadId>${u.uploadId}</UploadId></Upload>`)
        .join('');
      res.writeHead(200, { 'content-type': 'application/xml' });
      res.end(
        `<?xml version="1.0" encoding="UTF-8"?>\n<ListMultipartUploadsResult><Bucket>${escapeXml(name)}</Bucket><IsTruncated>false</IsTruncated>${items}</ListMultipartUploadsResult>`,
      );
      return true;
    }
    return false;
  }

  const requests: S3RequestRecord[] = [];
  const server: Server = createServer((req, res) => {
    const received = operationOf(req);
    requests.push(received);
    handleFault(req, res, received)
      .then((handled) => handled || handleExtension(req, res))
      .then((handled) => handled || handleUpload(uploadStore, req, res, received.operation))
      .then(
        (handled) => {
          if (!handled) s3rverHandler(req, res);
        },
        (error: unknown) => {
          res.writeHead(500, { 'content-type': 'application/xml' });
          res.end(`<Error><Code>InternalError</Code><Message>${escapeXml(String(error))}</Message></Error>`);
        },
      );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    directory,
    listOpenUploads: async (bucket) => (await listOpenUploads(bucket)).map((u) => u.key),
    objectFile: uploadStore.objectFile,
    faults,
    requests,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (owned) await rm(directory, { recursive: true, force: true });
    },
  };
}

/** The request, when it is one of the operations a fault can be armed on. */
function faultable(request: S3RequestRecord): S3Request | undefined {
  if (request.key === '' || !FAULTABLE.has(request.operation)) return undefined;
  return request as S3Request;
}

const TAGGING_OPERATIONS: Readonly<Record<string, string>> = {
  PUT: 'PutObjectTagging',
  GET: 'GetObjectTagging',
  DELETE: 'DeleteObjectTagging',
};
const PLAIN_OBJECT_OPERATIONS: Readonly<Record<string, string>> = {
  GET: 'GetObject',
  HEAD: 'HeadObject',
  DELETE: 'DeleteObject',
};

/** The S3 operation of a path-style request. */
function operationOf(req: IncomingMessage): S3RequestRecord {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const [, bucket = '', ...rest] = url.pathname.split('/');
  const key = decodeURIComponent(rest.join('/'));
  const query = url.searchParams;
  const plain = [...query.keys()].every((name) => name === 'x-id');
  const method = req.method ?? 'GET';
  const objectOperation = (): string => {
    if (query.has('tagging')) return TAGGING_OPERATIONS[method] ?? 'Other';
    if (method === 'PUT' && query.has('uploadId') && query.has('partNumber')) return 'UploadPart';
    if (method === 'POST' && query.has('uploadId')) return 'CompleteMultipartUpload';
    if (method === 'POST' && query.has('uploads')) return 'CreateMultipartUpload';
    if (method === 'DELETE' && query.has('uploadId')) return 'AbortMultipartUpload';
    if (method === 'PUT' && plain) {
      return req.headers['x-amz-copy-source'] === undefined ? 'PutObject' : 'CopyObject';
    }
    return (plain && PLAIN_OBJECT_OPERATIONS[method]) || 'Other';
  };
  const operation =
    key !== ''
      ? objectOperation()
      : method === 'GET' && query.has('uploads')
        ? 'ListMultipartUploads'
        : method === 'GET'
          ? 'ListObjects'
          : 'Other';
  return { operation, bucket: decodeURIComponent(bucket), key };
}

/** Bytes held in the parts of uploads still in progress: how far a streaming Fetch has got. */
export async function pendingUploadBytes(s3: LocalS3, bucket: string): Promise<number> {
  const root = join(s3.directory, bucket, UPLOADS_DIR);
  const uploads = await readdir(root).catch(() => [] as string[]);
  let total = 0;
  for (const upload of uploads) {
    const entries = await readdir(join(root, upload), { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      if (!/^\d+$/.test(entry.name)) continue;
      total += await stat(join(root, upload, entry.name)).then(
        (s) => s.size,
        () => 0,
      );
    }
  }
  return total;
}
