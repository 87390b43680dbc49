import {
  DeleteObjectsCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { ExportConfigError } from '../../contracts/errors';
import {
  type TrafficRun,
  type WindowResult,
  type WindowSpec,
  windowResultSchema,
} from '../../contracts/traffic-run';
import { putJson, readText, storage } from '../storage';
import type { OverlapKey } from '../watermark';
import { submittedMarkerKey, windowKeysKey, windowResultKey, windowResultsPrefix } from './layout';

/*
 * The run's working objects in S3: each window's result, its keys for the next incremental run,
 * and the marker of a submitted query. The child executions write them; the split and the
 * completion steps read them. They are small, and there is one of each per window.
 */

/** Reads at most this many objects at a time. */
const READ_CONCURRENCY = 16;

export async function writeResult(s3: S3Client, bucket: string, run: TrafficRun, result: WindowResult) {
  await putJson(s3, bucket, windowResultKey(run, result.window), result);
}

/** A window's result, or undefined when its child recorded none. */
async function readResult(
  s3: S3Client,
  bucket: string,
  run: Pick<TrafficRun, 'work'>,
  window: Pick<WindowSpec, 'id'>,
): Promise<WindowResult | undefined> {
  const key = windowResultKey(run, window);
  const text = await readText(s3, bucket, key);
  if (text === undefined) return undefined;
  const parsed = windowResultSchema.safeParse(safeJson(text));
  if (!parsed.success) {
    throw new ExportConfigError(
      `The traffic window result s3://${bucket}/${key} is not one this version wrote`,
    );
  }
  return parsed.data;
}

/** The results of `windows`, by window id (a window without one is left out). */
export async function readResults(
  s3: S3Client,
  bucket: string,
  run: Pick<TrafficRun, 'work'>,
  windows: readonly Pick<WindowSpec, 'id'>[],
): Promise<Map<number, WindowResult>> {
  const results = new Map<number, WindowResult>();
  await eachLimited(windows, async (window) => {
    const result = await readResult(s3, bucket, run, window);
    if (result !== undefined) results.set(window.id, result);
  });
  return results;
}

/** Every window result of the run, by window id. */
export async function readAllResults(
  s3: S3Client,
  bucket: string,
  run: Pick<TrafficRun, 'work'>,
): Promise<Map<number, WindowResult>> {
  const keys = await listKeys(s3, bucket, windowResultsPrefix(run));
  const ids = keys
    .map((key) => /\/w(\d{4,})\.json$/.exec(key)?.[1])
    .filter((id): id is string => id !== undefined)
    .map((id) => ({ id: Number(id) }));
  return readResults(s3, bucket, run, ids);
}

export async function writeWindowKeys(
  s3: S3Client,
  bucket: string,
  run: TrafficRun,
  window: Pick<WindowSpec, 'id'>,
  keys: readonly OverlapKey[],
): Promise<string> {
  const key = windowKeysKey(run, window);
  await putJson(s3, bucket, key, keys);
  return key;
}

export async function readWindowKeys(s3: S3Client, bucket: string, key: string): Promise<OverlapKey[]> {
  const text = await readText(s3, bucket, key);
  const keys = text === undefined ? [] : safeJson(text);
  if (!Array.isArray(keys))
    throw new ExportConfigError(`The window keys s3://${bucket}/${key} are not a list`);
  return keys as OverlapKey[];
}

/** Marks the window's query as submitted, before the PCE is asked: a retry then looks for it. */
export async function markSubmitted(s3: S3Client, bucket: string, run: TrafficRun, window: WindowSpec) {
  const key = submittedMarkerKey(run, window);
  await storage(bucket, key, 'writing', () =>
    s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'submitted\n', ContentType: 'text/plain' }),
    ),
  );
}

export async function wasSubmitted(s3: S3Client, bucket: string, run: TrafficRun, window: WindowSpec) {
  const key = submittedMarkerKey(run, window);
  return await storage(bucket, key, 'reading', async () => {
    try {
      await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      return true;
    } catch (error) {
      const { name, $metadata } = error as { name?: string; $metadata?: { httpStatusCode?: number } };
      if (name === 'NotFound' || name === 'NoSuchKey' || $metadata?.httpStatusCode === 404) return false;
      throw error;
    }
  });
}

/** Every key below `prefix`. */
export async function listKeys(s3: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await storage(bucket, prefix, 'listing', () =>
      s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token })),
    );
    for (const object of page.Contents ?? []) if (object.Key) keys.push(object.Key);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys;
}

/** Deletes `keys`, a thousand per request. */
export async function deleteKeys(s3: S3Client, bucket: string, keys: readonly string[]): Promise<void> {
  for (let i = 0; i < keys.length; i += 1000) {
    const batch = keys.slice(i, i + 1000);
    await storage(bucket, batch[0] ?? '', 'deleting', () =>
      s3.send(
        new DeleteObjectsCommand({
          Bucket: bucket,
          Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
        }),
      ),
    );
  }
}

async function eachLimited<T>(items: readonly T[], run: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await run(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(READ_CONCURRENCY, items.length) }, worker));
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
