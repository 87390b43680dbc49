import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { PceProtocolError } from '../pce/errors';
import type { OverlapKey } from './watermark';

/*
 * The stage of an incremental events download that drops what the previous run stored: it reads
 * the events one per line (the JSON array scanner's ndjson output) and writes the rest as ndjson
 * or as one JSON array. The dedupe key is the event's `href`, which the PCE gives every event
 * once: an event whose `timestamp` is at or before the previous run's end, and whose href's
 * digest is among that run's overlap keys, is dropped. The digests of the events from `tailFrom`
 * on are kept for the next run: memory grows with the events of one overlap, not the window's.
 */

export interface EventsFilterOptions {
  /** Digests of the hrefs the previous run stored in its overlap. */
  readonly previousKeys?: ReadonlySet<string>;
  /** Events after this (epoch ms) cannot be the previous run's. */
  readonly previousEnd?: number;
  /** Record the keys of the events at or after this (epoch ms). */
  readonly tailFrom: number;
  /** Write one JSON array instead of one event per line. */
  readonly array: boolean;
  /** The datafile's href, for messages. */
  readonly href: string;
}

export interface EventsCounts {
  downloaded: number;
  kept: number;
  /** Dropped: the previous run stored them. */
  overlap: number;
}

/** 64 bits of the href's SHA-256, as 16 hex digits: what the overlap keys store. */
export function hrefDigest(href: string): string {
  return createHash('sha256').update(href).digest('hex').slice(0, 16);
}

const NEWLINE = 0x0a;
const NEWLINE_BUFFER = Buffer.from('\n');
const COMMA = Buffer.from(',');
const OPEN = Buffer.from('[');

export class EventsFilter extends Transform {
  readonly counts: EventsCounts = { downloaded: 0, kept: 0, overlap: 0 };
  /** Keys of the events from `tailFrom` on. */
  readonly tail: OverlapKey[] = [];
  private pending: Buffer[] = [];
  private opened = false;

  constructor(private readonly options: EventsFilterOptions) {
    super();
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
      if (this.options.array) this.push(this.opened ? ']' : '[]');
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  private row(line: Buffer, out: Buffer[]): void {
    const { options, counts } = this;
    counts.downloaded++;
    const event = JSON.parse(line.toString('utf8')) as { href?: unknown; timestamp?: unknown } | null;
    const href = event?.href;
    const time = typeof event?.timestamp === 'string' ? Date.parse(event.timestamp) : Number.NaN;
    if (typeof href !== 'string' || href === '' || Number.isNaN(time)) {
      throw new PceProtocolError(
        `Event ${counts.downloaded} of ${options.href} has no href or no timestamp: it cannot be deduplicated`,
        { href: options.href },
      );
    }
    const checkPrevious =
      options.previousKeys !== undefined && time <= (options.previousEnd ?? Number.POSITIVE_INFINITY);
    const recordTail = time >= options.tailFrom;
    const digest = checkPrevious || recordTail ? hrefDigest(href) : undefined;
    if (recordTail && digest !== undefined) this.tail.push([time, digest]);
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
