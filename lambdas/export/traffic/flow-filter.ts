import { Transform, type TransformCallback } from 'node:stream';
import { ExportError } from '../../contracts/errors';
import { PceProtocolError, PceUnavailable } from '../../pce/errors';
import type { OverlapKey } from '../watermark';
import { firstDetected, flowKey, keyDigest, type Ownership } from './ownership';

/*
 * The stage of a window's download that keeps the flows the window owns: it reads the flows one
 * per line (the JSON array scanner's ndjson output), decides each one's owner from its
 * `first_detected`, drops what belongs to another window or to an earlier run, and what the
 * previous incremental run already stored (by dedupe key), and writes the rest as ndjson or as
 * one JSON array. It counts as it goes: a download of exactly max_results rows is truncated
 * (when the PCE reported no counts), one shorter than the PCE's flows_count is incomplete.
 */

/** The download holds as many rows as a query returns: the window is truncated. */
export class TruncatedDownload extends ExportError {
  override readonly name = 'TruncatedDownload';
}

export interface FlowFilterOptions {
  readonly owner: (firstDetected: number) => Ownership;
  /** Dedupe key digests of the flows the previous run stored in its overlap. */
  readonly previousKeys?: ReadonlySet<string>;
  /** Flows that started after this (epoch ms) cannot be the previous run's. */
  readonly previousEnd?: number;
  /** Record the keys of the owned flows that started at or after this (epoch ms). */
  readonly tailFrom?: number;
  /** Rows the PCE said the result holds: a shorter download is incomplete. */
  readonly expectedRows?: number;
  /** This many rows means the result was cut (the PCE reported no counts). */
  readonly truncateAt?: number;
  /** Write one JSON array instead of one flow per line. */
  readonly array: boolean;
  /** The download's href, for messages. */
  readonly href: string;
}

export interface FlowCounts {
  downloaded: number;
  kept: number;
  otherWindow: number;
  earlierRun: number;
  overlap: number;
}

const NEWLINE = 0x0a;
const NEWLINE_BUFFER = Buffer.from('\n');
const COMMA = Buffer.from(',');
const OPEN = Buffer.from('[');

export class FlowFilter extends Transform {
  readonly counts: FlowCounts = { downloaded: 0, kept: 0, otherWindow: 0, earlierRun: 0, overlap: 0 };
  /** Keys of the owned flows from `tailFrom` on. */
  readonly tail: OverlapKey[] = [];
  private pending: Buffer[] = [];
  private opened = false;

  constructor(private readonly options: FlowFilterOptions) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      // One push per chunk: the kept rows of the chunk, framed.
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
      const { expectedRows, href } = this.options;
      if (expectedRows !== undefined && this.counts.downloaded < expectedRows) {
        throw new PceUnavailable(
          `The download of ${href} held ${this.counts.downloaded} flows of the ${expectedRows} the query reported; downloading it again`,
          { href },
        );
      }
      if (this.options.array) this.push(this.opened ? ']' : '[]');
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  private row(line: Buffer, out: Buffer[]): void {
    const { options, counts } = this;
    counts.downloaded++;
    if (options.truncateAt !== undefined && counts.downloaded >= options.truncateAt) {
      throw new TruncatedDownload(
        `The download of ${options.href} holds ${counts.downloaded} flows, as many as the query returns at most`,
        { href: options.href },
      );
    }
    const row: unknown = JSON.parse(line.toString('utf8'));
    const first = firstDetected(row);
    if (first === undefined) {
      throw new PceProtocolError(
        `Flow ${counts.downloaded} of ${options.href} has no timestamp_range.first_detected time`,
        { href: options.href },
      );
    }
    const ownership = options.owner(first);
    if (ownership !== 'own') {
      counts[ownership]++;
      return;
    }
    const checkPrevious =
      options.previousKeys !== undefined && first <= (options.previousEnd ?? Number.POSITIVE_INFINITY);
    const recordTail = options.tailFrom !== undefined && first >= options.tailFrom;
    const digest = checkPrevious || recordTail ? keyDigest(flowKey(row, first)) : undefined;
    if (recordTail && digest !== undefined) this.tail.push([first, digest]);
    if (checkPrevious && digest !== undefined && options.previousKeys?.has(digest)) {
      counts.overlap++;
      return;
    }
    counts.kept++;
    if (!options.array) {
      out.push(line, NEWLINE_BUFFER);
      return;
    }
    out.push(this.opened ? COMMA : OPEN, line);
    this.opened = true;
  }
}
