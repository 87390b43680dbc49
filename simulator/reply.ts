/**
 * Writing responses, with the body faults applied: malformed JSON, empty bodies, other content
 * types, Retry-After overrides, header-name case, framing, forced gzip, control characters, and
 * (through `wire.ts`) slow, cut and stalled bodies.
 */
import type { ServerResponse } from 'node:http';
import { pipeline, Readable } from 'node:stream';
import { createGzip, gzipSync, constants as zlibConstants } from 'node:zlib';
import { CONTROL_TEXT, withControlChars } from './bodies';
import type { Fault, FaultKind, RetryAfterFault } from './fault-kinds';
import { caseHeader, pump, type WireFaults } from './wire';

const JSON_TYPE = 'application/json';

/** Body-related faults that hit one call. */
interface BodyFaults extends WireFaults {
  readonly retryAfter?: RetryAfterFault;
  readonly malformed?: { readonly body?: string };
  readonly empty: boolean;
  readonly contentType?: { readonly contentType: string; readonly body?: string };
  /** Streamed results are replaced by `[]`. */
  readonly emptyResult?: boolean;
  /** Streamed results are gzipped without Content-Encoding. */
  readonly gzipWithoutEncoding?: boolean;
  readonly headerCase?: 'upper' | 'title';
  readonly framing?: 'chunked' | 'content-length';
  /** Content-Encoding: gzip on every body, whatever Accept-Encoding said. */
  readonly gzip?: boolean;
  /** Appended to the human-readable strings of JSON answers. */
  readonly controlChars?: string;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export function bodyFaults(faults: readonly Fault[]): BodyFaults {
  const result: Mutable<BodyFaults> = { empty: false };
  for (const f of faults) {
    switch (f.kind) {
      case 'retry-after':
        result.retryAfter = f;
        break;
      case 'slow-body':
        result.bytesPerSecond = f.bytesPerSecond;
        break;
      case 'cut-body':
        result.cutAfterBytes = f.afterBytes;
        break;
      case 'stall-body':
        result.stallAfterBytes = f.afterBytes;
        break;
      case 'malformed-json':
        result.malformed = f.body === undefined ? {} : { body: f.body };
        break;
      case 'empty-body':
        result.empty = true;
        break;
      case 'content-type':
        result.contentType = f;
        break;
      case 'empty-result':
        result.emptyResult = true;
        break;
      case 'gzip-without-encoding':
        result.gzipWithoutEncoding = true;
        break;
      case 'header-case':
        result.headerCase = f.style ?? 'upper';
        break;
      case 'framing':
        result.framing = f.mode;
        break;
      case 'gzip':
        result.gzip = true;
        break;
      case 'control-chars':
        result.controlChars = f.text ?? CONTROL_TEXT;
        break;
      default:
        break;
    }
  }
  return result;
}

const TRANSPORT_KINDS: ReadonlySet<FaultKind> = new Set([
  'header-case',
  'framing',
  'gzip',
  'slow-body',
  'cut-body',
]);

/** The faults that change how any answer travels (not what it says): for answers faults make up. */
export function transportFaults(faults: readonly Fault[]): BodyFaults {
  return bodyFaults(faults.filter((f) => TRANSPORT_KINDS.has(f.kind)));
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

async function collect(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const chunk of source) parts.push(chunk);
  return Buffer.concat(parts);
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
    const shown =
      this.faults.controlChars === undefined ? value : withControlChars(value, this.faults.controlChars);
    return this.send(status, Buffer.from(JSON.stringify(shown)), true);
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
    if (this.faults.framing !== 'chunked') this.res.setHeader(this.name('content-length'), '0');
    this.res.end();
  }

  /**
   * A large body produced chunk by chunk (a datafile, a traffic download). Gzipped when the
   * client accepts gzip (or a `gzip` or `gzip-without-encoding` fault hits). Chunked: the length
   * is not known without producing the whole body (a `framing: content-length` fault does that,
   * in memory).
   */
  async stream(
    status: number,
    result: Iterable<string> | AsyncIterable<string>,
    acceptsGzip: boolean,
    contentType = JSON_TYPE,
  ): Promise<void> {
    this.header('content-type', contentType);
    const chunks = this.faults.emptyResult ? ['[]'] : result;
    const gzip = acceptsGzip || this.faults.gzipWithoutEncoding === true || this.faults.gzip === true;
    if (this.faults.empty || this.faults.contentType?.body !== undefined || this.faults.malformed) {
      // These replace the body: take just a little of it.
      let text = '';
      for await (const chunk of chunks) {
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
      // Errors reach the loop below through iteration; the callback only keeps a late one quiet.
      pipeline(input, gz, () => {});
      source = gz;
      cleanup = () => {
        input.destroy();
        gz.destroy();
      };
    } else {
      source = asBuffers(chunks);
    }
    try {
      if (this.faults.framing === 'content-length') {
        const body = await collect(source);
        this.finishHeaders(status);
        this.res.setHeader(this.name('content-length'), String(body.length));
        await pump(this.res, [body], this.faults);
        return;
      }
      this.finishHeaders(status);
      await pump(this.res, source, this.faults);
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
    if (this.faults.gzip && out.length > 0) {
      out = gzipSync(out);
      this.header('content-encoding', 'gzip');
    }
    this.finishHeaders(status);
    const chunked = this.faults.framing === 'chunked';
    if (!chunked) this.res.setHeader(this.name('content-length'), String(out.length));
    const { bytesPerSecond, cutAfterBytes, stallAfterBytes } = this.faults;
    if (
      !chunked &&
      bytesPerSecond === undefined &&
      cutAfterBytes === undefined &&
      stallAfterBytes === undefined
    ) {
      this.res.end(out);
      return;
    }
    // Written before end(), so Node frames it chunked when there is no Content-Length.
    await pump(this.res, [out], this.faults);
  }

  private name(header: string): string {
    return caseHeader(header, this.faults.headerCase);
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
    if (this.faults.headerCase) {
      // Headers set on the response before this reply (x-request-id, cache-control) too.
      for (const name of this.res.getHeaderNames()) {
        const value = this.res.getHeader(name);
        this.res.removeHeader(name);
        if (value !== undefined) this.res.setHeader(this.name(name), value);
      }
    }
    for (const [name, value] of this.headers) this.res.setHeader(this.name(name), value);
  }
}

async function* asBuffers(chunks: Iterable<string> | AsyncIterable<string>): AsyncGenerator<Buffer> {
  for await (const chunk of chunks) yield Buffer.from(chunk, 'utf8');
}
