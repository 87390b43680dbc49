import { PceProtocolError } from '../pce/errors';
import {
  describeByte,
  isDigit,
  isEscape,
  isHex,
  isScalar,
  isToken,
  isTokenByte,
  isWhitespace,
} from './json-bytes';

/*
 * A byte-level scanner for one top-level JSON array, fed in arbitrary chunks. It never holds
 * more than the current chunk (plus the text of one number or literal), validates the JSON
 * grammar as it goes (structure, separators, string escapes, number and literal tokens) and
 * counts the array's elements. In ndjson mode it also hands back, per chunk, the bytes of each
 * element with the whitespace outside strings removed and a newline after each element.
 * Strings are copied byte for byte: only ASCII bytes are structural in UTF-8, so multi-byte
 * characters split across chunks need no special care.
 */

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
const SCALAR = 11; // inside a number or true/false/null cut by the end of the previous chunk

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

export interface JsonArrayScannerOptions {
  /** Collect each element as compact JSON followed by a newline. */
  readonly ndjson: boolean;
  /** Names the body in error messages, e.g. `Datafile /orgs/1/datafiles/…`. */
  readonly describe?: string;
  /** Carried on the PceProtocolError. */
  readonly href?: string;
}

export class JsonArrayScanner {
  /** Top-level elements completed, and bytes consumed, so far. */
  elements = 0;
  bytes = 0;

  private state = BEFORE;
  /** Open containers; `closers` holds the closing byte of each, innermost at `depth - 1`. */
  private depth = 0;
  private readonly closers = new Uint8Array(MAX_DEPTH + 1);
  private stringIsKey = false;
  private unicodeLeft = 0;
  /** A number or literal cut by the end of the previous chunk. */
  private token = '';
  /** Inside a top-level element (ndjson copies its bytes). */
  private inElement = false;
  /** The element's bytes continue from the previous chunk (it did not end on skipped whitespace). */
  private copying = false;
  /** ndjson output of the chunk being scanned, its length, and where the bytes to copy start (-1: none). */
  private out = EMPTY;
  private pos = 0;
  private segStart = -1;
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
    // Output never exceeds the input plus one newline: every newline but the first in a chunk
    // replaces a separating comma that is dropped.
    if (ndjson) {
      this.out = Buffer.allocUnsafe(n + 1);
      this.pos = 0;
      this.segStart = this.copying ? 0 : -1;
    }
    this.state = this.scan(chunk, n);
    this.bytes += n;
    if (!ndjson) return undefined;
    this.copying = this.segStart !== -1;
    if (this.segStart !== -1) this.copySegment(chunk, n);
    const out = this.out.subarray(0, this.pos);
    this.out = EMPTY;
    return out;
  }

  /**
   * The loop over one chunk (its state in locals, no closure over them: it runs on every byte);
   * returns the state after it (the depth is kept on `this` as it changes). Nothing follows the
   * loop: V8 compiles it on stack replacement during the first chunk, and code after it that had
   * not run yet would throw that code away again on every chunk.
   */
  private scan(chunk: Buffer, n: number): number {
    const ndjson = this.ndjson;
    const closers = this.closers;
    let state = this.state;
    let depth = this.depth;
    let i = 0;

    scan: while (i < n) {
      let b = chunk[i] as number;

      if (state === STRING) {
        // Run to the next quote, backslash or control character.
        while (b !== QUOTE && b !== BACKSLASH && b >= 0x20) {
          if (++i === n) break scan;
          b = chunk[i] as number;
        }
        if (b === QUOTE) {
          i++;
          if (this.stringIsKey) state = COLON;
          else {
            state = AFTER;
            if (depth === 1) this.endElement(chunk, i);
          }
        } else if (b === BACKSLASH) {
          i++;
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
        } else if (isEscape(b)) {
          state = STRING;
        } else {
          this.fail(`invalid escape \\${String.fromCharCode(b)} in a string`, i);
        }
        i++;
        continue;
      }
      if (state === UNICODE) {
        if (!isHex(b)) this.fail(`invalid \\u escape ${describeByte(b)} in a string`, i);
        if (--this.unicodeLeft === 0) state = STRING;
        i++;
        continue;
      }
      if (state === SCALAR) {
        if (isTokenByte(b)) {
          if (this.token.length >= MAX_TOKEN_LENGTH) this.fail('a number or literal is too long', i);
          this.token += String.fromCharCode(b);
          i++;
          continue;
        }
        this.checkToken(i);
        state = AFTER;
        if (depth === 1) this.endElement(chunk, i);
        // this byte belongs to the container
      }

      if (isWhitespace(b)) {
        if (ndjson && this.segStart !== -1) this.copySegment(chunk, i);
        // Indentation comes in runs.
        while (++i < n && isWhitespace(chunk[i] as number));
        continue;
      }
      if (ndjson && this.inElement && this.segStart === -1) this.segStart = i;

      switch (state) {
        case AFTER:
          if (b === COMMA) {
            // At the top level the comma lies between elements and is not copied.
            state = closers[depth - 1] === CLOSE_ARRAY ? VALUE : KEY;
          } else if (b === CLOSE_ARRAY || b === CLOSE_OBJECT) {
            state = this.close(chunk, b, i, --depth);
          } else {
            this.fail(`expected "," or a closing bracket but found ${describeByte(b)}`, i);
          }
          i++;
          continue;
        case KEY:
        case OBJECT_FIRST:
          if (b === QUOTE) {
            this.stringIsKey = true;
            state = STRING;
          } else if (b === CLOSE_OBJECT && state === OBJECT_FIRST) {
            state = this.close(chunk, b, i, --depth);
          } else {
            this.fail(
              `expected a key${state === OBJECT_FIRST ? ' or "}"' : ''} but found ${describeByte(b)}`,
              i,
            );
          }
          i++;
          continue;
        case COLON:
          if (b !== COLON_CHAR) this.fail(`expected ":" but found ${describeByte(b)}`, i);
          state = VALUE;
          i++;
          continue;
        case BEFORE:
          if (b !== OPEN_ARRAY) this.fail(`expected "[" but found ${describeByte(b)}`, i);
          closers[depth++] = CLOSE_ARRAY;
          this.depth = depth;
          state = ARRAY_FIRST;
          i++;
          continue;
        case DONE:
          this.fail(`unexpected ${describeByte(b)} after the end of the array`, i);
      }

      // ARRAY_FIRST or VALUE: a value starts here (or, straight after `[`, the array ends).
      if (b === CLOSE_ARRAY && state === ARRAY_FIRST) {
        state = this.close(chunk, b, i, --depth);
        i++;
        continue;
      }
      if (depth === 1) this.inElement = true;
      if (ndjson && this.inElement && this.segStart === -1) this.segStart = i;
      if (b === QUOTE) {
        this.stringIsKey = false;
        state = STRING;
        i++;
      } else if (b === OPEN_OBJECT || b === OPEN_ARRAY) {
        if (depth >= MAX_DEPTH) this.fail(`nesting deeper than ${MAX_DEPTH} levels`, i);
        closers[depth++] = b === OPEN_OBJECT ? CLOSE_OBJECT : CLOSE_ARRAY;
        this.depth = depth;
        state = b === OPEN_OBJECT ? OBJECT_FIRST : ARRAY_FIRST;
        i++;
      } else if (b === 0x2d /* - */ || isDigit(b) || b === 0x74 || b === 0x66 || b === 0x6e) {
        let end = i + 1;
        while (end < n && isTokenByte(chunk[end] as number)) end++;
        if (end - i > MAX_TOKEN_LENGTH) this.fail('a number or literal is too long', i + MAX_TOKEN_LENGTH);
        if (end === n) {
          // Cut by the chunk's end: carried over as text.
          this.token = chunk.toString('latin1', i, n);
          state = SCALAR;
          i = n;
          break;
        }
        if (!isScalar(chunk, i, end)) {
          this.fail(`invalid number or literal "${chunk.toString('latin1', i, Math.min(end, i + 40))}"`, i);
        }
        state = AFTER;
        i = end;
        if (depth === 1) this.endElement(chunk, i);
      } else {
        this.fail(`expected a value but found ${describeByte(b)}`, i);
      }
    }

    return state;
  }

  /** Call at the end of the body; throws PceProtocolError unless one complete array was seen. */
  end(): void {
    if (this.state === DONE) return;
    if (this.state === BEFORE) {
      this.fail(this.bytes === 0 ? 'the body is empty' : 'the body holds only whitespace', 0, false);
    }
    this.fail(`the body ends before the array is complete (${this.depth} open bracket(s))`, 0, false);
  }

  /** Copies the bytes from `segStart` up to `end` to the ndjson output. */
  private copySegment(chunk: Buffer, end: number): void {
    const from = this.segStart;
    const out = this.out;
    // Short runs (typical between indentation) copy faster in JS than through Buffer.copy.
    if (end - from < 48) {
      let pos = this.pos;
      for (let j = from; j < end; j++) out[pos++] = chunk[j] as number;
      this.pos = pos;
    } else {
      this.pos += chunk.copy(out, this.pos, from, end);
    }
    this.segStart = -1;
  }

  /** A top-level element whose last byte is at `end - 1` is complete. */
  private endElement(chunk: Buffer, end: number): void {
    this.elements++;
    this.inElement = false;
    if (!this.ndjson) return;
    if (this.segStart !== -1) this.copySegment(chunk, end);
    if (this.pos >= this.out.length) {
      const grown = Buffer.allocUnsafe(this.out.length * 2 + 16);
      this.out.copy(grown, 0, 0, this.pos);
      this.out = grown;
    }
    this.out[this.pos++] = NEWLINE_BYTE;
  }

  /** Closes the container the closer `b` at `i` ends; `depth` is the depth after it. */
  private close(chunk: Buffer, b: number, i: number, depth: number): number {
    this.depth = depth;
    if (this.closers[depth] !== b) this.fail(`${describeByte(b)} does not match the open bracket`, i);
    if (depth === 0) return DONE;
    if (depth === 1) this.endElement(chunk, i + 1);
    return AFTER;
  }

  private checkToken(i: number): void {
    const t = this.token;
    this.token = '';
    if (isToken(t)) return;
    this.fail(`invalid number or literal "${t.slice(0, 40)}"`, i - t.length);
  }

  private fail(reason: string, index: number, atByte = true): never {
    const where = atByte ? ` at byte ${this.bytes + index}` : '';
    throw new PceProtocolError(`${this.describe} is not one complete JSON array: ${reason}${where}`, {
      href: this.href,
    });
  }
}
