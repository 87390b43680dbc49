import { PassThrough, pipeline, Readable, type TransformOptions } from 'node:stream';
import { createGunzip, type ZlibOptions } from 'node:zlib';
import type { ExportError } from '../contracts/errors';
import type { ContentCoding } from './http';

/*
 * The stream stages of a download, composed with `pipeline()` and async generators: an error of
 * any stage destroys the others, the error the caller sees is the first one, and destroying the
 * stream the caller holds releases the connection.
 */

/**
 * Room for the datafile's bytes between undici and the decoder. When a response body's reader
 * pushes back, undici pauses its HTTP parser and puts the unparsed socket data back
 * (`socket.unshift`); each resume re-reads all of it and lets the socket read another 64 KiB. A
 * reader that takes one chunk per resume (gunzip holds 16 KiB) makes that leftover grow towards
 * the whole body, copied again on every resume: memory grows with the datafile and CPU with its
 * square. With this much room the parser takes all the socket holds, and the body is asked for
 * more only once the buffer has drained.
 */
const DATAFILE_READ_BUFFER_BYTES = 1024 * 1024;

/**
 * The size of the decoded chunks handed on. Every stage after the decoder (the scanner, gzip, the
 * digest, the upload's part buffer) pays per chunk as well as per byte; with zlib's default of
 * 16 KiB that per-chunk share (calls, promises, buffers for the collector to sweep) was a large
 * part of the copy's CPU. 256 KiB measured best of 16, 64 and 256 KiB (BENCHMARKS.md).
 */
const DECODED_CHUNK_BYTES = 256 * 1024;

/** zlib takes the stream options of its Transform too (`writableHighWaterMark`), which its type leaves out. */
const decoderOptions: ZlibOptions & TransformOptions = {
  chunkSize: DECODED_CHUNK_BYTES,
  writableHighWaterMark: DATAFILE_READ_BUFFER_BYTES,
};

/** gzip's magic number (RFC 1952). */
const GZIP_MAGIC = [0x1f, 0x8b] as const;

/** Replays `source` and reports its error as `mapError` makes it (once, whatever the stage). */
async function* reportingAs(
  source: AsyncIterable<Buffer>,
  mapError: (error: unknown) => unknown,
): AsyncGenerator<Buffer> {
  try {
    for await (const chunk of source) yield chunk;
  } catch (error) {
    throw mapError(error);
  }
}

/** A byte stream of `chunks` whose destroy also destroys `upstream` (at once, even mid-read). */
function byteStream(chunks: AsyncIterable<Buffer>, upstream: Readable): Readable {
  const stream = Readable.from(chunks, { objectMode: false });
  stream.once('close', () => {
    if (!upstream.destroyed) upstream.destroy();
  });
  return stream;
}

/**
 * The datafile as the caller reads it: body → gunzip (for a gzip transport coding, holding the read
 * buffer's room itself) or body → read buffer.
 * Any error of the body or of gunzip (cut off, corrupt, timed out), and a body that closes
 * before its end, destroys the returned stream with `mapError(error)`, so the caller's pipeline
 * rejects with a named error.
 */
export function streamDatafile(
  body: Readable,
  coding: ContentCoding,
  mapError: (error: unknown) => ExportError,
): Readable {
  // The decoder itself holds the read buffer's room, so gzip takes no extra stage.
  const stages =
    coding === 'gzip'
      ? [body, createGunzip(decoderOptions)]
      : [body, new PassThrough({ highWaterMark: DATAFILE_READ_BUFFER_BYTES })];
  // Errors surface on the last stage, which the generator reads; nothing else needs them.
  const decoded = pipeline(stages, () => {}) as unknown as Readable;
  return byteStream(
    reportingAs(decoded, (error) =>
      mapError(
        (error as { code?: unknown }).code === 'ERR_STREAM_PREMATURE_CLOSE'
          ? new Error('the response body closed before its end', { cause: error })
          : error,
      ),
    ),
    decoded,
  );
}

/**
 * The body with gzip undone when its first bytes are gzip's magic number, whatever
 * Content-Encoding said (the PCE may send a gzip file as plain `application/json`, and a body
 * that was already decoded from a transport gzip may itself be gzip). Anything else passes
 * through unchanged. Errors of `source` pass through as they are; errors of the decompression
 * (corrupt or cut off) are mapped by `mapError`. Destroying the returned stream destroys `source`.
 */
export function gunzipIfCompressed(source: Readable, mapError: (error: unknown) => ExportError): Readable {
  return byteStream(maybeGunzip(source, mapError), source);
}

async function* maybeGunzip(
  source: Readable,
  mapError: (error: unknown) => ExportError,
): AsyncGenerator<Buffer> {
  const iterator: AsyncIterator<Buffer> = source[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let size = 0;
  let ended = false;
  while (size < GZIP_MAGIC.length) {
    const next = await iterator.next();
    if (next.done) {
      ended = true;
      break;
    }
    head.push(next.value);
    size += next.value.length;
  }
  const prefix = Buffer.concat(head);
  let sourceError: unknown;
  async function* replayed(): AsyncGenerator<Buffer> {
    if (prefix.length > 0) yield prefix;
    if (ended) return;
    try {
      for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
    } catch (error) {
      sourceError = error;
      throw error;
    }
  }
  if (prefix[0] !== GZIP_MAGIC[0] || prefix[1] !== GZIP_MAGIC[1]) {
    yield* replayed();
    return;
  }
  const inflated = pipeline(
    Readable.from(replayed(), { objectMode: false }),
    createGunzip({ chunkSize: DECODED_CHUNK_BYTES }),
    () => {},
  );
  yield* reportingAs(inflated, (error) => (sourceError !== undefined ? sourceError : mapError(error)));
}
