/**
 * Writing responses, with the body faults applied: slow and cut bodies, malformed JSON,
 * empty bodies, other content types, Retry-After overrides. Streams respect backpressure:
 * a chunk is only produced once the previous one has been taken by the socket.
 */
import type { ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { createGzip, constants as zlibConstants } from 'node:zlib';
import type { Fault, RetryAfterFault } from './fault-kinds';

const JSON_TYPE = 'application/json';

/** Body-related faults that hit one call. */
interface BodyFaults {
  readonly retryAfter?: RetryAfterFault;
  readonly bytesPerSecond?: number;
  readonly cutAfterBytes?: number;
  readonly malformed?: { readonly body?: string };
  readonly empty: boolean;
  readonly contentType?: { readonly contentType: string; readonly body?: string };
  /** Streamed results are replaced by `[]`. */
  readonly emptyResult?: boolean;
  /** Streamed results are gzipped without Content-Encoding. */
  readonly gzipWithoutEncoding?: boolean;
}

export function bodyFaults(faults: readonly Fault[]): BodyFaults {
  let result: {
    -readonly [K in keyof BodyFaults]: BodyFaults[K];
  } = { empty: false };
  for (const f of faults) {
    switch (f.kind) {
      case 'retry-after':
        result = { ...result, retryAfter: f };
        break;
      case 'slow-body':
        result = { ...result, bytesPerSecond: f.bytesPerSecond };
        break;
      case 'cut-body':
        result = { ...result, cutAfterBytes: f.afterBytes };
        break;
      case 'malformed-json':
        result = { ...result, malformed: f.body === undefined ? {} : { body: f.body } };
        break;
      case 'empty-body':
        result = { ...result, empty: true };
        break;
      case 'content-type':
        result = { ...result, contentType: f };
        break;
      case 'empty-result':
        result = { ...result, emptyResult: true };
        break;
      case 'gzip-without-encoding':
        result = { ...result, gzipWithoutEncoding: true };
        break;
      default:
        break;
    }
  }
  return result;
}

/** Whether `Accept-Encoding` allows gzip (q > 0 for `gzip` or for `*` when gzip is not named). */
export function acceptsGzip(header: string | undefined): boolean {
  if (!header) return false;
  let star: boolean | undefined;
  for (const part of header.split(',')) {
    const [name = '', ...params] = part.trim().toLowerCase().split(';');
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const allowed = q === undefined ? true : Number(q.slice(2)) > 0;
    if (name.trim() === 'gzip' || name.trim() === 'x-gzip') return allowed;
    if (name.trim() === '*') star = allowed;
  }
  return star ?? false;
}

/** A broken rendering of a JSON text: its first half (never valid JSON for an array or object). */
function malformedOf(text: string): string {
  if (text.length < 4) return '{"';
  return text.slice(0, Math.ceil(text.length / 2));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** Writes a chunk, waiting for 'drain' when the socket buffer is full. False once the connection is gone. */
function write(res: ServerResponse, chunk: Uint8Array): Promise<boolean> {
  if (res.destroyed || res.writableEnded) return Promise.resolve(false);
  if (res.write(chunk)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      res.off('drain', onDrain);
      res.off('close', onClose);
      resolve(ok);
    };
    const onDrain = () => done(true);
    const onClose = () => done(false);
    res.on('drain', onDrain);
    res.on('close', onClose);
  });
}

export class Reply {
  private readonly headers = new Map<string, string>();

  constructor(
    private readonly res: ServerResponse,
    private readonly faults: BodyFaults,
  ) {}

  /** Sets a response header (last one wins). */
  header(name: string, value: string): this {
    this.headers.set(name.toLowerCase(), value);
    return this;
  }

  removeHeader(name: string): this {
    this.headers.delete(name.toLowerCase());
    return this;
  }

  /** A `[{token, message}]` error body, as the PCE sends. */
  error(status: number, token: string, message: string): Promise<void> {
    return this.json(status, [{ token, message }]);
  }

  /** A JSON value, compact. */
  json(status: number, value: unknown): Promise<void> {
    if (!this.headers.has('content-type')) this.header('content-type', JSON_TYPE);
    return this.send(status, Buffer.from(JSON.stringify(value)), true);
  }

  /** A body sent verbatim with the given content type. */
  raw(status: number, body: string | Buffer, contentType?: string): Promise<void> {
    if (contentType !== undefined) this.header('content-type', contentType);
    return this.send(status, typeof body === 'string' ? Buffer.from(body) : body, contentType === JSON_TYPE);
  }

  /** No body (202, 204). Body faults that name an explicit body still send it. */
  async empty(status: number): Promise<void> {
    const explicit = this.faults.contentType?.body ?? this.faults.malformed?.body;
    if (explicit !== undefined) return this.send(status, Buffer.from(explicit), false);
    this.finishHeaders(status);
    this.res.setHeader('content-length', '0');
    this.res.end();
  }

  /**
   * A large JSON body produced chunk by chunk (a datafile, a traffic download). Gzipped when
   * the client accepts gzip (or a `gzip-without-encoding` fault hits). No Content-Length: it is
   * not known without producing the whole body.
   */
  async stream(status: number, result: Iterable<string>, acceptsGzip: boolean): Promise<void> {
    this.header('content-type', JSON_TYPE);
    const chunks = this.faults.emptyResult ? ['[]'] : result;
    const gzip = acceptsGzip || this.faults.gzipWithoutEncoding === true;
    if (this.faults.empty || this.faults.contentType?.body !== undefined || this.faults.malformed) {
      // These replace the body: take just a little of it.
      let text = '';
      for (const chunk of chunks) {
        text += chunk;
        if (text.length >= 4096) break;
      }
      return this.send(status, Buffer.from(text), true);
    }
    this.header('vary', 'Accept-Encoding');
    let source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>;
    let cleanup = () => {};
    if (gzip) {
      if (!this.faults.gzipWithoutEncoding) this.header('content-encoding', 'gzip');
      const input = Readable.from(asBuffers(chunks));
      const gz = createGzip({ level: zlibConstants.Z_BEST_SPEED });
      input.on('error', (err) => gz.destroy(err));
      // Errors reach the loop below through iteration; this only keeps a late one from crashing.
      gz.on('error', () => {});
      input.pipe(gz);
      source = gz;
      cleanup = () => {
        input.destroy();
        gz.destroy();
      };
    } else {
      source = asBuffers(chunks);
    }
    this.finishHeaders(status);
    try {
      await this.pump(source);
    } finally {
      cleanup();
    }
  }

  private async send(status: number, body: Buffer, isJson: boolean): Promise<void> {
    let out = body;
    if (this.faults.empty) out = Buffer.alloc(0);
    else if (this.faults.contentType?.body !== undefined) out = Buffer.from(this.faults.contentType.body);
    else if (this.faults.malformed && isJson)
      out = Buffer.from(this.faults.malformed.body ?? malformedOf(body.toString('utf8')));
    else if (this.faults.malformed?.body !== undefined) out = Buffer.from(this.faults.malformed.body);
    this.finishHeaders(status);
    this.res.setHeader('content-length', String(out.length));
    if (this.faults.bytesPerSecond === undefined && this.faults.cutAfterBytes === undefined) {
      this.res.end(out);
      return;
    }
    await this.pump([out]);
  }

  private finishHeaders(status: number): void {
    const ra = this.faults.retryAfter;
    if (ra) {
      if (ra.value === null) this.headers.delete('retry-after');
      else if (typeof ra.value === 'object')
        this.headers.set(
          'retry-after',
          new Date(Date.now() + ra.value.httpDateInSeconds * 1000).toUTCString(),
        );
      else this.headers.set('retry-after', String(ra.value));
    }
    if (this.faults.contentType) this.headers.set('content-type', this.faults.contentType.contentType);
    this.res.statusCode = status;
    for (const [name, value] of this.headers) this.res.setHeader(name, value);
  }

  /** Sends the body with the slow/cut faults applied, respecting backpressure. */
  private async pump(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<void> {
    const { res } = this;
    const cut = this.faults.cutAfterBytes;
    const rate = this.faults.bytesPerSecond;
    // Slow bodies go out in ~10 slices a second.
    const slice = rate === undefined ? Number.POSITIVE_INFINITY : Math.max(1, Math.floor(rate / 10));
    let sent = 0;
    for await (const chunk of source) {
      let rest: Uint8Array = chunk;
      while (rest.length > 0) {
        let piece = rest.length > slice ? rest.subarray(0, slice) : rest;
        if (cut !== undefined && sent + piece.length >= cut) {
          piece = piece.subarray(0, cut - sent);
          await this.cutAfter(piece);
          return;
        }
        if (!(await write(res, piece))) return;
        sent += piece.length;
        rest = rest.subarray(piece.length);
        if (rate !== undefined) {
          await sleep((piece.length / rate) * 1000);
          if (res.destroyed) return;
        }
      }
    }
    if (cut !== undefined && sent >= cut) {
      await this.cutAfter(new Uint8Array(0));
      return;
    }
    res.end();
  }

  /** Writes the last bytes, then drops the connection mid-body. */
  private cutAfter(last: Uint8Array): Promise<void> {
    const { res } = this;
    return new Promise((resolve) => {
      const kill = () => {
        res.socket?.destroy();
        res.destroy();
        resolve();
      };
      if (res.destroyed) return resolve();
      if (!res.headersSent) res.flushHeaders();
      if (last.length > 0) res.write(last, () => setImmediate(kill));
      else if (res.socket && res.socket.writableLength > 0) res.socket.once('drain', kill);
      else setImmediate(kill);
    });
  }
}

function* asBuffers(chunks: Iterable<string>): Generator<Buffer> {
  for (const chunk of chunks) yield Buffer.from(chunk, 'utf8');
}
