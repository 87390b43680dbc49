import {
  DeleteObjectCommand,
  GetObjectCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  type S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { isExportError } from '../contracts/errors';
import { ExportStorageError } from './errors';
import { describeError } from './logger';

/** Runs one S3 request; an unnamed failure becomes ExportStorageError naming the object and the action. */
export async function storage<T>(
  bucket: string,
  key: string,
  action: string,
  send: () => Promise<T>,
): Promise<T> {
  try {
    return await send();
  } catch (error) {
    if (isExportError(error)) throw error;
    throw storageError(`S3 failed ${action} s3://${bucket}/${key}`, error);
  }
}

/**
 * `failure` (what failed, a sentence without its end), as ExportStorageError: an error S3 answered gives its code, message, HTTP status
 * and request id (never a credential: the SDK's message is S3's `<Message>`), any other its name
 * and message; the error itself is the cause.
 */
export function storageError(failure: string, error: unknown): ExportStorageError {
  if (!S3ServiceException.isInstance(error)) {
    return new ExportStorageError(`${failure}: ${describeError(error)}`, { cause: error });
  }
  const { httpStatusCode, requestId } = error.$metadata;
  const answered = [
    httpStatusCode === undefined ? undefined : `HTTP ${httpStatusCode}`,
    requestId === undefined ? undefined : `request id ${requestId}`,
  ].filter((part) => part !== undefined);
  return new ExportStorageError(
    `${failure}: ${error.name}: ${error.message}${answered.length > 0 ? ` (${answered.join(', ')})` : ''}`,
    { cause: error, token: error.name, status: httpStatusCode, requestId },
  );
}

/** Writes a small JSON document (a manifest, a latest pointer) in one PutObject. */
export async function putJson(s3: S3Client, bucket: string, key: string, body: unknown): Promise<void> {
  await storage(bucket, key, 'writing', () =>
    s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: `${JSON.stringify(body, null, 2)}\n`,
        ContentType: 'application/json',
      }),
    ),
  );
}

/** What only the finished upload knows about a stored object. */
export interface StoredDigest {
  /** Hex sha256 of the stored bytes. */
  readonly sha256: string;
  /** Elements (or kept rows) in the object. */
  readonly objectCount: number;
}

/**
 * Tags a stored object with its `sha256` and `object-count`, known only once every byte has gone
 * up. Tagging changes neither the object nor its version, whatever its size, and fires no
 * ObjectCreated event. An object that cannot be tagged is not a stored export: it is deleted again,
 * so that nothing is left at the key without its checksum, and the tagging error is thrown (saying
 * whether the object could be removed).
 */
export async function tagStoredObject(
  s3: S3Client,
  bucket: string,
  key: string,
  digest: StoredDigest,
): Promise<void> {
  try {
    await s3.send(
      new PutObjectTaggingCommand({
        Bucket: bucket,
        Key: key,
        Tagging: {
          TagSet: [
            { Key: 'sha256', Value: digest.sha256 },
            { Key: 'object-count', Value: String(digest.objectCount) },
          ],
        },
      }),
    );
  } catch (error) {
    const removal = await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key })).then(
      () => 'the object was removed again',
      (deleteError: unknown) => `the object is still at the key, untagged (${describeError(deleteError)})`,
    );
    throw storageError(`S3 failed tagging s3://${bucket}/${key} (${removal})`, error);
  }
}

/** Reads a small object as text; undefined when there is no object at the key. */
export async function readText(s3: S3Client, bucket: string, key: string): Promise<string | undefined> {
  return await storage(bucket, key, 'reading', async () => {
    try {
      const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return await (object.Body as { transformToString(): Promise<string> }).transformToString();
    } catch (error) {
      if ((error as { name?: string }).name === 'NoSuchKey') return undefined;
      throw error;
    }
  });
}
