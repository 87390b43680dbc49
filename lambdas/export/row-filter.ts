import { Transform, type TransformCallback } from 'node:stream';
import type { OverlapKey, OverlapKeys } from './watermark';

/*
 * A stage that reads rows one per line (the JSON array scanner's ndjson output), lets a subclass
 * decide on each one, and writes the rows it keeps as ndjson or as one JSON array: one push per
 * chunk. It also holds the incremental dedupe both traffic flows and events use (watermark.ts):
 * a row at or before the previous run's end whose key digest is among that run's overlap keys
 * was stored already, and the digests of the rows from `tailFrom` on are kept for the next run.
 */

export interface RowFilterOptions {
  /** Key digests of the rows the previous run stored in its overlap. */
  readonly previousKeys?: ReadonlySet<string>;
  /** Rows after this (epoch ms) cannot be the previous run's. */
  readonly previousEnd?: number;
  /** Record the keys of the rows at or after this (epoch ms). @default none are recorded */
  readonly tailFrom?: number;
  /** Write one JSON array instead of one row per line. */
  readonly array: boolean;
}

/** The dedupe against the previous run: the digests of its overlap keys, and its end (none without keys). */
export function againstPrevious(
  keys: OverlapKeys | undefined,
  end: string | undefined,
): Pick<RowFilterOptions, 'previousKeys' | 'previousEnd'> {
  if (keys === undefined || end === undefined) return {};
  return { previousKeys: new Set(keys.keys.map(([, digest]) => digest)), previousEnd: Date.parse(end) };
}

const NEWLINE = 0x0a;
const NEWLINE_BUFFER = Buffer.from('\n');
const COMMA = Buffer.from(',');
const OPEN = Buffer.from('[');

export abstract class RowFilter extends Transform {
  /** Keys of the kept rows from `tailFrom` on, for the next run. */
  readonly tail: OverlapKey[] = [];
  private pending: Buffer[] = [];
  private opened = false;

  protected constructor(private readonly dedupe: RowFilterOptions) {
    super();
  }

  /** Decides on one row (a line without its newline): `keep` writes it to `out`. */
  protected abstract row(line: Buffer, out: Buffer[]): void;

  /** Checks made once every row is read, before the array is closed. */
  protected finish(): void {}

  /**
   * Whether the row at `time` is one the previous run stored; records its key in the tail when it
   * is recent enough. The key is computed only when one of the two needs it.
   */
  protected storedBefore(time: number, digest: () => string): boolean {
    const { previousKeys, previousEnd, tailFrom } = this.dedupe;
    const checkPrevious = previousKeys !== undefined && time <= (previousEnd ?? Number.POSITIVE_INFINITY);
    const recordTail = tailFrom !== undefined && time >= tailFrom;
    if (!checkPrevious && !recordTail) return false;
    const key = digest();
    if (recordTail) this.tail.push([time, key]);
    return checkPrevious && previousKeys.has(key);
  }

  /** Writes a kept row. */
  protected keep(line: Buffer, out: Buffer[]): void {
    if (!this.dedupe.array) {
      out.push(line, NEWLINE_BUFFER);
      return;
    }
    out.push(this.opened ? COMMA : OPEN, line);
    this.opened = true;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      const out: Buffer[] = [];
      let start = 0;
      for (let i = chunk.indexOf(NEWLINE); i >= 0; i = chunk.indexOf(NEWLINE, start)) {
        const piece = chunk.subarray(start, i);
        const line = this.pending.length === 0 ? piece : Buffer.concat([...this.pending, piece]);
        this.pending = [];
        start = i + 1;
        if (line.length > 0) this.row(line, out);
      }
      if (start < chunk.length) this.pending.push(chunk.subarray(start));
      if (out.length > 0) this.push(Buffer.concat(out));
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    try {
      const out: Buffer[] = [];
      if (this.pending.length > 0) this.row(Buffer.concat(this.pending), out);
      this.pending = [];
      if (out.length > 0) this.push(Buffer.concat(out));
      this.finish();
      if (this.dedupe.array) this.push(this.opened ? ']' : '[]');
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }
}
