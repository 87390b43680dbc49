import { ExportError } from '../../contracts/errors';
import { PceProtocolError, PceUnavailable } from '../../pce/errors';
import { RowFilter, type RowFilterOptions } from '../row-filter';
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

/** The dedupe fields are about a flow's first_detected time and its dedupe key (ownership.ts). */
export interface FlowFilterOptions extends RowFilterOptions {
  readonly owner: (firstDetected: number) => Ownership;
  /** Rows the PCE said the result holds: a shorter download is incomplete. */
  readonly expectedRows?: number;
  /** This many rows means the result was cut (the PCE reported no counts). */
  readonly truncateAt?: number;
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

/** The flows of a window's download that the window owns and no earlier run stored. */
export class FlowFilter extends RowFilter {
  readonly counts: FlowCounts = { downloaded: 0, kept: 0, otherWindow: 0, earlierRun: 0, overlap: 0 };

  constructor(private readonly options: FlowFilterOptions) {
    super(options);
  }

  protected override finish(): void {
    const { expectedRows, href } = this.options;
    if (expectedRows !== undefined && this.counts.downloaded < expectedRows) {
      throw new PceUnavailable(
        `The download of ${href} held ${this.counts.downloaded} flows of the ${expectedRows} the query reported; downloading it again`,
        { href },
      );
    }
  }

  protected override row(line: Buffer, out: Buffer[]): void {
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
    if (this.storedBefore(first, () => keyDigest(flowKey(row, first)))) {
      counts.overlap++;
      return;
    }
    counts.kept++;
    this.keep(line, out);
  }
}
