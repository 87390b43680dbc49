import { Transform, type TransformCallback } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { TOOL_NAME, TOOL_VERSION } from '../../version';
import { EXTRA_COLUMN, type Fields, parquetSchema, type Row, rowConverter } from './schema';

/*
 * The Parquet stage: takes the scanner's ndjson (one compact JSON object per line), turns each
 * object into a row of its table's columns (schema.ts) and writes row groups with
 * hyparquet-writer's incremental ParquetWriter. A row group is written once it holds
 * `rowGroupRows` rows or `rowGroupBytes` bytes of JSON, whichever comes first, and its bytes are
 * passed on at once, so memory holds one row group (its values, then its encoded pages) whatever
 * the datafile's size. The footer (schema, row group metadata, indexes) follows the last group;
 * it is all the writer keeps between groups.
 *
 * The buffered rows are held as one array per column, not as row objects, and the group is
 * bounded by bytes as well as rows: the group's values are what is live while it is encoded,
 * and V8 grows the heap in proportion to what survives a collection, so a smaller live group
 * keeps the peak RSS flat over a long datafile (BENCHMARKS.md, Parquet). At 16 MiB of JSON a
 * group of workloads kept about 20 MiB of values and the peak RSS grew by 40 MiB from a 64 MiB
 * to a 1 GiB datafile; at 8 MiB it grows by about 15 MiB, for 1% more stored bytes.
 *
 * Those values survive the young generation's scavenges, and V8 grows the young generation
 * towards its maximum while they do. On Lambda that maximum is what the Node.js bootstrap gives
 * it unless NODE_OPTIONS names a heap size: a semi space of memory / 20, 88 MiB for Fetch's
 * 1,769 MB, a young generation of up to 264 MiB (three semi spaces), which the heap reaches
 * within a 64 MiB datafile (BENCHMARKS.md, Parquet). With a semi space of 8 MiB (V8's own
 * default for a heap of that size) named in NODE_OPTIONS the same datafiles peak 185 MiB lower;
 * what this stage holds does not depend on it.
 *
 * hyparquet-writer is loaded on first use, so that a function exporting JSON never pays for it.
 */

/** Rows of a row group at most. */
const DEFAULT_ROW_GROUP_ROWS = 100_000;
/** JSON bytes of a row group at most (see the top of this file). */
const DEFAULT_ROW_GROUP_BYTES = 8 * 1024 * 1024;
const NEWLINE = 0x0a;

export interface ParquetStageOptions {
  readonly columns: Fields;
  /** Page compression: GZIP (zlib) or Snappy. */
  readonly codec: 'GZIP' | 'SNAPPY';
  /** zlib level for GZIP pages. @default 1 */
  readonly gzipLevel?: number;
  /** @default DEFAULT_ROW_GROUP_ROWS */
  readonly rowGroupRows?: number;
  /** @default DEFAULT_ROW_GROUP_BYTES */
  readonly rowGroupBytes?: number;
}

type HyparquetWriter = typeof import('hyparquet-writer');
/** The writer's output buffer, with the hook ParquetWriter calls after each row group. */
type Output = InstanceType<HyparquetWriter['ByteWriter']> & { flush?: () => void };
let loaded: Promise<HyparquetWriter> | undefined;

/** hyparquet-writer, imported once, on the first Parquet export. */
function loadWriter(): Promise<HyparquetWriter> {
  loaded ??= import('hyparquet-writer');
  return loaded;
}

/** Creates the stage; the writer module is loaded here, before any byte flows. */
export async function createParquetStage(options: ParquetStageOptions): Promise<Transform> {
  const writer = await loadWriter();
  return new ParquetEncoder(writer, options);
}

class ParquetEncoder extends Transform {
  private readonly output: Output;
  private readonly parquet: InstanceType<HyparquetWriter['ParquetWriter']>;
  private readonly toRow: (object: unknown) => Row;
  private readonly names: readonly string[];
  private readonly rowGroupRows: number;
  private readonly rowGroupBytes: number;
  /** The buffered rows, one array per column (no row objects kept); the last is EXTRA_COLUMN. */
  private columns: unknown[][];
  private rowBytes = 0;
  /** The start of a line that continues in the next chunk. */
  private partial: Buffer[] = [];

  constructor(module: HyparquetWriter, options: ParquetStageOptions) {
    super();
    this.rowGroupRows = options.rowGroupRows ?? DEFAULT_ROW_GROUP_ROWS;
    this.rowGroupBytes = options.rowGroupBytes ?? DEFAULT_ROW_GROUP_BYTES;
    this.toRow = rowConverter(options.columns);
    const schema = parquetSchema(options.columns);
    this.names = [...Object.keys(options.columns), EXTRA_COLUMN];
    this.columns = this.names.map(() => []);
    const output: Output = new module.ByteWriter(1024 * 1024);
    // Each row group's bytes go downstream as soon as it is written.
    output.flush = () => this.pushWritten();
    this.output = output;
    const level = options.gzipLevel ?? 1;
    this.parquet = new module.ParquetWriter({
      writer: output,
      schema: schema as ConstructorParameters<HyparquetWriter['ParquetWriter']>[0]['schema'],
      codec: options.codec,
      compressors: { GZIP: (input: Uint8Array) => gzipSync(input, { level }) },
      createdBy: `${TOOL_NAME} version ${TOOL_VERSION} (hyparquet-writer)`,
    });
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      let start = 0;
      for (let end = chunk.indexOf(NEWLINE); end !== -1; end = chunk.indexOf(NEWLINE, start)) {
        let line = chunk.subarray(start, end);
        if (this.partial.length > 0) {
          line = Buffer.concat([...this.partial, line]);
          this.partial = [];
        }
        this.addLine(line);
        start = end + 1;
      }
      if (start < chunk.length) this.partial.push(chunk.subarray(start));
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    try {
      if (this.partial.length > 0) this.addLine(Buffer.concat(this.partial));
      this.writeGroup();
      this.parquet.finish();
      this.pushWritten();
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  private addLine(line: Buffer): void {
    if (line.length === 0) return;
    const row = this.toRow(JSON.parse(line.toString('utf8')));
    const { names, columns } = this;
    for (let j = 0; j < names.length; j++) (columns[j] as unknown[]).push(row[names[j] as string]);
    this.rowBytes += line.length;
    if (this.bufferedRows() >= this.rowGroupRows || this.rowBytes >= this.rowGroupBytes) this.writeGroup();
  }

  /** Rows buffered for the next group: the length of any column (there is always EXTRA_COLUMN). */
  private bufferedRows(): number {
    return this.columns.at(-1)?.length ?? 0;
  }

  /** Writes the buffered rows as one row group (a file of no rows gets one empty group). */
  private writeGroup(): void {
    const rows = this.bufferedRows();
    if (rows === 0 && this.parquet.num_rows > 0n) return;
    const columns = this.columns;
    this.columns = this.names.map(() => []);
    this.rowBytes = 0;
    const columnData = this.names.map((name, j) => ({ name, data: columns[j] as unknown[] }));
    this.parquet.write({ columnData, rowGroupSize: Math.max(rows, 1) });
  }

  /** Passes on what the writer holds and starts its buffer over. */
  private pushWritten(): void {
    const output = this.output;
    if (output.index === 0) return;
    this.push(Buffer.from(output.buffer.slice(0, output.index)));
    output.index = 0;
  }
}
