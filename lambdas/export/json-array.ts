import { Transform, type TransformCallback } from 'node:stream';
import type { OutputFormat } from '../contracts/input';
import { PceProtocolError } from '../pce/errors';

/*
 * A byte-level scanner for one top-level JSON array, fed in arbitrary chunks. It never holds
 * more than the current chunk (plus the text of one number or literal), validates the JSON
 * grammar as it goes (structure, separators, string escapes, number and literal tokens) and
 * counts the array's elements. In ndjson mode it also hands back, per chunk, the bytes of each
 * element with the whitespace outside strings removed and a newline after each element.
 * Strings are copied byte for byte: only ASCII bytes are structural in UTF-8, so multi-byte
 * characters split across chunks need no special care.
 */

// Scanner states.
const BEFORE = 0; // before the opening `[`
const ARRAY_FIRST = 1; // after `[`: a value or `]`
const VALUE = 2; // after `,` in an array or `:` in an object: a value
const OBJECT_FIRST = 3; // after `{`: a key or `}`
const KEY = 4; // after `,` in an object: a key
const COLON = 5; // after a key: `:`
const AFTER = 6; // after a value inside a container: `,` or the closer
const DONE = 7; // after the closing `]`: only whitespace
const STRING = 8;
const ESCAPE = 9;
const UNICODE = 10;
const SCALAR = 11; // inside a number or true/false/null

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const COMMA = 0x2c;
const COLON_CHAR = 0x3a;
const NEWLINE_BYTE = 0x0a;
const EMPTY = Buffer.alloc(0);

/** Longest number or literal accepted; keeps a hostile body from growing the token buffer. */
const MAX_TOKEN_LENGTH = 512;
/** Deepest nesting accepted; keeps a hostile body from growing the bracket stack without bound. */
export const MAX_DEPTH = 10_000;
const NUMBER = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$/;

function isWhitespace(b: number): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
}

/** Bytes that can continue a number or a literal; anything else ends the token. */
function isTokenByte(b: number): boolean {
  return (
    (b >= 0x30 && b <= 0x39) ||
    (b >= 0x61 && b <= 0x7a) ||
    (b >= 0x41 && b <= 0x5a) ||
    b === 0x2e ||
    b === 0x2b ||
    b === 0x2d
  );
}

function isHex(b: number): boolean {
  return (b >= 0x30 && b <= 0x39) || (b >= 0x61 && b <= 0x66) || (b >= 0x41 && b <= 0x46);
}

function describeByte(b: number): string {
  return b >= 0x20 && b < 0x7f ? `"${String.fromCharCode(b)}"` : `byte 0x${b.toString(16).padStart(2, '0')}`;
}

export interface JsonArrayScannerOptions {
  /** Collect each element as compact JSON followed by a newline. */
  readonly ndjson: boolean;
  /** Names the body in error messages, e.g. `Datafile /orgs/1/datafiles/…`. */
  readonly describe?: string;
  /** Carried on the PceProtocolError. */
  readonly href?: string;
}

export class JsonArrayScanner {
  /** Top-level elements completed so far. */
  elements = 0;
  /** Bytes consumed so far. */
  bytes = 0;

  private state = BEFORE;
  /** Closing byte of each open container, innermost last. */
  private readonly closers: number[] = [];
  private stringIsKey = false;
  private unicodeLeft = 0;
  private token = '';
  /** Inside a top-level element (ndjson copies its bytes). */
  private inElement = false;
  /** The element's bytes continue from the previous chunk (it did not end on skipped whitespace). */
  private copying = false;
  private readonly ndjson: boolean;
  private readonly describe: string;
  private readonly href: string | undefined;

  constructor(options: JsonArrayScannerOptions) {
    this.ndjson = options.ndjson;
    this.describe = options.describe ?? 'The body';
    this.href = options.href;
  }

  /** True once the closing `]` has been seen (only whitespace may follow). */
  get complete(): boolean {
    return this.state === DONE;
  }

  /**
   * Scans one chunk. In ndjson mode returns the output bytes for it (possibly empty); otherwise
   * returns undefined. Throws PceProtocolError at the first byte that cannot be valid.
   */
  write(chunk: Buffer): Buffer | undefined {
    const ndjson = this.ndjson;
    const n = chunk.length;
    const closers = this.closers;
    let state = this.state;
    let segStart = ndjson && this.copying ? 0 : -1;
    // Output never exceeds the input plus one newline: every newline but the first in a chunk
    // replaces a separating comma that is dropped.
    let out = ndjson ? Buffer.allocUnsafe(n + 1) : EMPTY;
    let pos = 0;

    const copySegment = (end: number): void => {
      // Short runs (typical between indentation) copy faster in JS than through Buffer.copy.
      if (end - segStart < 48) {
        for (let j = segStart; j < end; j++) out[pos++] = chunk[j] as number;
      } else {
        pos += chunk.copy(out, pos, segStart, end);
      }
      segStart = -1;
    };
    // Ends a top-level element whose last byte is at `end - 1`.
    const endElement = (end: number): void => {
      this.elements++;
      this.inElement = false;
      if (ndjson) {
        if (segStart !== -1) copySegment(end);
        if (pos >= out.length) {
          const grown = Buffer.allocUnsafe(out.length * 2 + 16);
          out.copy(grown, 0, 0, pos);
          out = grown;
        }
        out[pos++] = NEWLINE_BYTE;
      }
    };
    // A value ended (its last byte at `end - 1`): back to the container.
    const endValue = (end: number): number => {
      if (closers.length === 1 && this.inElement) endElement(end);
      return AFTER;
    };

    for (let i = 0; i < n; i++) {
      let b = chunk[i] as number;

      if (state === STRING) {
        // Fast path: run to the next quote, backslash or control character.
        while (b !== QUOTE && b !== BACKSLASH && b >= 0x20) {
          if (++i === n) break;
          b = chunk[i] as number;
        }
        if (i === n) break;
        if (b === QUOTE) {
          if (this.stringIsKey) state = COLON;
          else state = endValue(i + 1);
        } else if (b === BACKSLASH) {
          state = ESCAPE;
        } else {
          this.fail(`unescaped control character ${describeByte(b)} in a string`, i);
        }
        continue;
      }
      if (state === ESCAPE) {
        if (b === 0x75 /* u */) {
          this.unicodeLeft = 4;
          state = UNICODE;
        } else if (
          b === QUOTE ||
          b === BACKSLASH ||
          b === 0x2f /* / */ ||
          b === 0x62 /* b */ ||
          b === 0x66 /* f */ ||
          b === 0x6e /* n */ ||
          b === 0x72 /* r */ ||
          b === 0x74 /* t */
        ) {
          state = STRING;
        } else {
          this.fail(`invalid escape \\${String.fromCharCode(b)} in a string`, i);
        }
        continue;
      }
      if (state === UNICODE) {
        if (!isHex(b)) this.fail(`invalid \\u escape ${describeByte(b)} in a string`, i);
        if (--this.unicodeLeft === 0) state = STRING;
        continue;
      }
      if (state === SCALAR) {
        if (isTokenByte(b)) {
          if (this.token.length >= MAX_TOKEN_LENGTH) this.fail('a number or literal is too long', i);
          this.token += String.fromCharCode(b);
          continue;
        }
        this.checkToken(i);
        state = endValue(i);
        // fall through: this byte belongs to the container
      }

      if (isWhitespace(b)) {
        if (segStart !== -1) copySegment(i);
        // Fast path for indentation.
        while (i + 1 < n && isWhitespace(chunk[i + 1] as number)) i++;
        continue;
      }
      if (ndjson && this.inElement && segStart === -1) segStart = i;

      switch (state) {
        case ARRAY_FIRST:
          if (b === CLOSE_ARRAY) {
            state = this.close(b, i, endValue);
            break;
          }
          state = this.startValue(b, i);
          if (ndjson && this.inElement && segStart === -1) segStart = i;
          break;
        case VALUE:
          state = this.startValue(b, i);
          if (ndjson && this.inElement && segStart === -1) segStart = i;
          break;
        case AFTER:
          if (b === COMMA) {
            // At the top level the comma lies between elements and is not copied.
            state = closers[closers.length - 1] === CLOSE_ARRAY ? VALUE : KEY;
          } else if (b === CLOSE_ARRAY || b === CLOSE_OBJECT) {
            state = this.close(b, i, endValue);
          } else {
            this.fail(`expected "," or a closing bracket but found ${describeByte(b)}`, i);
          }
          break;
        case OBJECT_FIRST:
          if (b === CLOSE_OBJECT) {
            state = this.close(b, i, endValue);
          } else if (b === QUOTE) {
            this.stringIsKey = true;
            state = STRING;
          } else {
            this.fail(`expected a key or "}" but found ${describeByte(b)}`, i);
          }
          break;
        case KEY:
          if (b !== QUOTE) this.fail(`expected a key but found ${describeByte(b)}`, i);
          this.stringIsKey = true;
          state = STRING;
          break;
        case COLON:
          if (b !== COLON_CHAR) this.fail(`expected ":" but found ${describeByte(b)}`, i);
          state = VALUE;
          break;
        case BEFORE:
          if (b !== OPEN_ARRAY) this.fail(`expected "[" but found ${describeByte(b)}`, i);
          closers.push(CLOSE_ARRAY);
          state = ARRAY_FIRST;
          break;
        default: // DONE
          this.fail(`unexpected ${describeByte(b)} after the end of the array`, i);
      }
    }

    this.state = state;
    this.bytes += n;
    if (!ndjson) return undefined;
    this.copying = segStart !== -1;
    if (segStart !== -1) copySegment(n);
    return out.subarray(0, pos);
  }

  /** Call at the end of the body; throws PceProtocolError unless one complete array was seen. */
  end(): void {
    if (this.state === DONE) return;
    if (this.state === BEFORE) {
      this.fail(this.bytes === 0 ? 'the body is empty' : 'the body holds only whitespace', 0, false);
    }
    this.fail(
      `the body ends before the array is complete (${this.closers.length} open bracket(s))`,
      0,
      false,
    );
  }

  private startValue(b: number, i: number): number {
    if (this.closers.length === 1) this.inElement = true;
    if ((b === OPEN_OBJECT || b === OPEN_ARRAY) && this.closers.length >= MAX_DEPTH) {
      this.fail(`nesting deeper than ${MAX_DEPTH} levels`, i);
    }
    switch (b) {
      case OPEN_OBJECT:
        this.closers.push(CLOSE_OBJECT);
        return OBJECT_FIRST;
      case OPEN_ARRAY:
        this.closers.push(CLOSE_ARRAY);
        return ARRAY_FIRST;
      case QUOTE:
        this.stringIsKey = false;
        return STRING;
      default:
        if (b === 0x2d /* - */ || (b >= 0x30 && b <= 0x39) || b === 0x74 || b === 0x66 || b === 0x6e) {
          this.token = String.fromCharCode(b);
          return SCALAR;
        }
        return this.fail(`expected a value but found ${describeByte(b)}`, i);
    }
  }

  private close(b: number, i: number, endValue: (end: number) => number): number {
    const expected = this.closers.pop();
    if (expected !== b) this.fail(`${describeByte(b)} does not match the open bracket`, i);
    if (this.closers.length === 0) return DONE;
    return endValue(i + 1);
  }

  private checkToken(i: number): void {
    const t = this.token;
    if (t === 'true' || t === 'false' || t === 'null' || NUMBER.test(t)) return;
    this.fail(`invalid number or literal "${t.slice(0, 40)}"`, i - t.length);
  }

  private fail(reason: string, index: number, atByte = true): never {
    const where = atByte ? ` at byte ${this.bytes + index}` : '';
    throw new PceProtocolError(`${this.describe} is not one complete JSON array: ${reason}${where}`, {
      href: this.href,
    });
  }
}

export interface JsonArrayTransformOptions {
  readonly format: OutputFormat;
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
