import type { Transform } from 'node:stream';
import { createGzip } from 'node:zlib';
import type { OutputFormat } from '../../contracts/input';
import type { ParquetStageOptions } from './parquet';
import type { TableSubject } from './tables';

/*
 * The output formats, each as the stages the copy puts between the datafile's JSON array
 * scanner and the upload (copy.ts picks them here):
 *
 *   raw      the scanner passes the PCE's bytes through unchanged       [─► gzip]
 *   ndjson   the scanner writes one compact object per line              [─► gzip]
 *   parquet  the scanner's ndjson ─► rows ─► row groups (parquet.ts)     (never gzipped whole)
 *
 * With parquet, `gzip` chooses how the pages inside the file are compressed: GZIP when true
 * (the default), Snappy when false. A Parquet file is never gzipped as a whole: Athena, Spark
 * and DuckDB read a `.parquet` object, not a `.parquet.gz` one.
 */

export interface FormatStageOptions {
  readonly gzip: boolean;
  /** zlib level. @default 1 */
  readonly gzipLevel?: number;
  /** What the export holds, which picks its table's columns (parquet only). @default the generic columns */
  readonly table?: TableSubject;
  /** Row group bounds (parquet only). */
  readonly rowGroup?: Pick<ParquetStageOptions, 'rowGroupRows' | 'rowGroupBytes'>;
}

export interface FormatStages {
  /** How the JSON array scanner hands the datafile on. */
  readonly scan: 'raw' | 'ndjson';
  /** The encoder between the scanner and the upload (gzip or the Parquet writer), if any. */
  readonly stage?: Transform;
  /** The upload's parts, when the format needs other than the function's configured ones. */
  readonly upload?: { readonly partSizeBytes: number; readonly queueSize: number };
}

/**
 * Parquet leaves its encoder at a few MiB a second whatever the datafile (CPU-bound row groups,
 * compressed pages: 104 MiB from a 2 GiB datafile), so one part of S3's minimum size in flight
 * keeps up with it, and holds 10 MiB where 8 MiB parts four at a time held 40.
 */
const PARQUET_PARTS = { partSizeBytes: 5 * 1024 * 1024, queueSize: 1 } as const;

interface FormatDefinition {
  /** The key's extension (without the leading dot). */
  extension(gzip: boolean): string;
  /** The stored bytes' media type (a gzipped object keeps the type of what it contains). */
  readonly contentType: string;
  stages(options: FormatStageOptions): Promise<FormatStages>;
}

const gzipStage = (options: FormatStageOptions): { stage?: Transform } =>
  options.gzip ? { stage: createGzip({ level: options.gzipLevel ?? 1 }) } : {};

const FORMATS: Readonly<Record<OutputFormat, FormatDefinition>> = {
  raw: {
    extension: (gzip) => (gzip ? 'json.gz' : 'json'),
    contentType: 'application/json',
    stages: async (options) => ({ scan: 'raw', ...gzipStage(options) }),
  },
  ndjson: {
    extension: (gzip) => (gzip ? 'ndjson.gz' : 'ndjson'),
    contentType: 'application/x-ndjson',
    stages: async (options) => ({ scan: 'ndjson', ...gzipStage(options) }),
  },
  parquet: {
    extension: () => 'parquet',
    contentType: 'application/vnd.apache.parquet',
    async stages(options) {
      // Loaded only on this path: JSON exports never load the Parquet writer.
      const [{ createParquetStage }, { columnsOf }] = await Promise.all([
        import('./parquet'),
        import('./tables'),
      ]);
      const stage = await createParquetStage({
        columns: columnsOf(options.table ?? {}),
        codec: options.gzip ? 'GZIP' : 'SNAPPY',
        ...(options.gzipLevel === undefined ? {} : { gzipLevel: options.gzipLevel }),
        ...options.rowGroup,
      });
      return { scan: 'ndjson', stage, upload: PARQUET_PARTS };
    },
  },
};

/** The stages of `format` (see the top of this file). */
export function formatStages(format: OutputFormat, options: FormatStageOptions): Promise<FormatStages> {
  return FORMATS[format].stages(options);
}

/** `json`, `ndjson.gz`, `parquet`, …: the extension of an object of this format. */
export function extensionOf(format: OutputFormat, gzip: boolean): string {
  return FORMATS[format].extension(gzip);
}

/**
 * The stored bytes' media type. A gzipped object keeps the type of what it contains and gets no
 * Content-Encoding: with `Content-Encoding: gzip`, HTTP clients and browsers would decompress it
 * transparently, so a downloaded `.ndjson.gz` would hold uncompressed bytes whose sha256 no
 * longer matches the manifest. The `.gz` extension and the `gzip` metadata say it is compressed,
 * which is also what Athena and Spark go by.
 */
export function contentTypeOf(format: OutputFormat): string {
  return FORMATS[format].contentType;
}
