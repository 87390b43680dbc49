import { createHash } from 'node:crypto';
import { PceProtocolError } from '../pce/errors';
import { RowFilter, type RowFilterOptions } from './row-filter';

/*
 * The stage of an incremental events download that drops what the previous run stored: it reads
 * the events one per line (the JSON array scanner's ndjson output) and writes the rest as ndjson
 * or as one JSON array. The dedupe key is the event's `href`, which the PCE gives every event
 * once: an event whose `timestamp` is at or before the previous run's end, and whose href's
 * digest is among that run's overlap keys, is dropped. The digests of the events from `tailFrom`
 * on are kept for the next run: memory grows with the events of one overlap, not the window's.
 */

export interface EventsFilterOptions extends RowFilterOptions {
  /** Record the keys of the events at or after this (epoch ms). */
  readonly tailFrom: number;
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

/** The events of an incremental run's download, less those the previous run stored (by href). */
export class EventsFilter extends RowFilter {
  readonly counts: EventsCounts = { downloaded: 0, kept: 0, overlap: 0 };

  constructor(private readonly options: EventsFilterOptions) {
    super(options);
  }

  protected override row(line: Buffer, out: Buffer[]): void {
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
    if (this.storedBefore(time, () => hrefDigest(href))) {
      counts.overlap++;
      return;
    }
    counts.kept++;
    this.keep(line, out);
  }
}
