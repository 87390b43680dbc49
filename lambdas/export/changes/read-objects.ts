import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { createGunzip, gunzipSync } from 'node:zlib';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { OutputFormat } from '../../contracts/input';
import { EXTRA_COLUMN } from '../formats/schema';
import { JsonArrayTransform } from '../json-array-transform';
import { storage } from '../storage';

/*
 * Reads a stored export back, one object at a time, whatever its format: ndjson line by line,
 * raw through the same JSON array scanner the copy uses, Parquet row group by row group (with
 * hyparquet, over ranged GETs) with `extra_json` laid back over the columns. Memory holds one
 * line, or one row group.
 */

export interface StoredObject {
  readonly bucket: string;
  readonly key: string;
  readonly format: OutputFormat;
  readonly gzip: boolean;
  /** Size of the stored object. */
  readonly bytes: number;
}

type PceObject = Record<string, unknown>;

export async function* readStoredObjects(s3: S3Client, object: StoredObject): AsyncGenerator<PceObject> {
  if (object.format === 'parquet') {
    yield* readParquet(s3, object);
    return;
  }
  const response = await storage(object.bucket, object.key, 'reading', () =>
    s3.send(new GetObjectCommand({ Bucket: object.bucket, Key: object.key })),
  );
  let body = response.Body as Readable;
  if (object.gzip) body = body.pipe(createGunzip());
  if (object.format === 'raw') body = body.pipe(new JsonArrayTransform({ format: 'ndjson' }));
  for await (const line of createInterface({ input: body, crlfDelay: Infinity })) {
    if (line !== '') yield JSON.parse(line) as PceObject;
  }
}

async function* readParquet(s3: S3Client, object: StoredObject): AsyncGenerator<PceObject> {
  const { parquetMetadataAsync, parquetReadObjects } = await import('hyparquet');
  const file = {
    byteLength: object.bytes,
    slice: async (start: number, end?: number): Promise<ArrayBuffer> => {
      const last = (end ?? object.bytes) - 1;
      const response = await storage(object.bucket, object.key, 'reading', () =>
        s3.send(
          new GetObjectCommand({ Bucket: object.bucket, Key: object.key, Range: `bytes=${start}-${last}` }),
        ),
      );
      const bytes = await (
        response.Body as { transformToByteArray(): Promise<Uint8Array> }
      ).transformToByteArray();
      return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    },
  };
  const metadata = await parquetMetadataAsync(file);
  const compressors = { GZIP: (input: Uint8Array) => new Uint8Array(gunzipSync(input)) };
  let rowStart = 0;
  for (const group of metadata.row_groups) {
    const rowEnd = rowStart + Number(group.num_rows);
    const rows = await parquetReadObjects({ file, metadata, rowStart, rowEnd, compressors });
    for (const row of rows) yield restore(row);
    rowStart = rowEnd;
  }
}

/** A Parquet row as its object: the columns, with `extra_json`'s fields laid over them. */
function restore(row: Record<string, unknown>): PceObject {
  const { [EXTRA_COLUMN]: extra, ...columns } = row;
  if (typeof extra !== 'string') return columns;
  return { ...columns, ...(JSON.parse(extra) as PceObject) };
}
