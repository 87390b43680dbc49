import { Transform, type TransformCallback } from 'node:stream';
import type { OutputFormat } from '../contracts/input';
import { JsonArrayScanner } from './json-array';

export interface JsonArrayTransformOptions {
  /** `raw` passes the bytes on, `ndjson` one element per line. */
  readonly format: Exclude<OutputFormat, 'parquet'>;
  readonly describe?: string;
  readonly href?: string;
  /** Called after each chunk with the bytes read so far. */
  readonly onProgress?: (sourceBytes: number, elements: number) => void;
}

/**
 * `raw`: passes the bytes through unchanged while the scanner validates them. `ndjson`: emits
 * each element of the array as compact JSON on its own line. Either way a body that is not one
 * complete JSON array fails the stream with PceProtocolError.
 */
export class JsonArrayTransform extends Transform {
  readonly scanner: JsonArrayScanner;
  private readonly raw: boolean;
  private readonly onProgress: ((sourceBytes: number, elements: number) => void) | undefined;

  constructor(options: JsonArrayTransformOptions) {
    super();
    this.raw = options.format === 'raw';
    this.onProgress = options.onProgress;
    this.scanner = new JsonArrayScanner({
      ndjson: !this.raw,
      describe: options.describe,
      href: options.href,
    });
  }

  override _transform(chunk: Buffer | string, encoding: BufferEncoding, callback: TransformCallback): void {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, encoding) : chunk;
    try {
      const out = this.scanner.write(bytes);
      if (this.raw) {
        if (bytes.length > 0) this.push(bytes);
      } else if (out !== undefined && out.length > 0) {
        this.push(out);
      }
      this.onProgress?.(this.scanner.bytes, this.scanner.elements);
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    try {
      this.scanner.end();
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }
}
