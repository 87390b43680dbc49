import * as z from 'zod';
import { OUTPUT_FORMATS } from './input';
import { MAX_SNAPSHOT_MEMBERS } from './limits';
import { pceRetriesSchema } from './state';
import { isoTime } from './time';

/*
 * The execution outputs (PRODUCT.md 3.3) as zod schemas: what Fetch returns for one export, and
 * what a snapshot run returns. The snapshot step validates the members' outputs with them;
 * `schema/` publishes them as JSON Schema and TypeScript types.
 */

const objectFields = {
  exportName: z
    .string()
    .min(1)
    .meta({ description: 'Name of the export; the first segment of the key below the prefix.' }),
  bucket: z.string().min(3).meta({ description: 'Bucket the object was written to.' }),
  key: z.string().min(1).meta({
    description:
      'Object key: {prefix}{exportName}/dt=YYYY-MM-DD/{HHmmss}Z_{executionName}.{json|ndjson}[.gz] (or .parquet), or {snapshot folder}{exportName}.{ext} in a snapshot.',
  }),
  uri: z
    .string()
    .regex(/^s3:\/\/[^/]+\/.+/)
    .meta({ description: 's3://{bucket}/{key}' }),
  bytes: z.number().int().min(0).meta({ description: 'Size of the stored object in bytes (after gzip).' }),
  sha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .meta({ description: 'Hex SHA-256 of the stored bytes, as `sha256sum` prints it for the object.' }),
  format: z.enum(OUTPUT_FORMATS).meta({
    description:
      'raw: the JSON array as the PCE served it; ndjson: one object per line; parquet: one row per object in typed columns.',
  }),
  gzip: z.boolean().meta({
    description:
      'Whether the object is gzip-compressed (the key then ends in .gz); for parquet, whether its pages are GZIP- (else Snappy-) compressed.',
  }),
  objectCount: z
    .number()
    .int()
    .min(0)
    .optional()
    .meta({ description: 'Number of objects in the collection.' }),
  jobHref: z.string().meta({ description: 'The PCE async job (or traffic query) the data came from.' }),
  polls: z.number().int().min(0).meta({ description: 'How many times the job was polled.' }),
  retries: pceRetriesSchema.optional().meta({
    description:
      'PCE requests that failed transiently (5xx, 429, a reset, a timeout, a DNS failure) and were made again: submits, polls and downloads of the result.',
  }),
  requestedAt: isoTime.meta({ description: 'When the job was submitted (ISO 8601, UTC).' }),
  completedAt: isoTime.meta({ description: 'When the object was complete in S3 (ISO 8601, UTC).' }),
};

/**
 * What a successful single-export execution returns (PRODUCT.md 3.3). Consumers should accept
 * fields they do not know: later versions may add some.
 */
export const exportOutputSchema = z.looseObject({
  ...objectFields,
  manifestKey: z.string().min(1).meta({
    description:
      "Key of the manifest describing the object ({prefix}{exportName}/_manifests/dt=…/…manifest.json), or of the snapshot's manifest.",
  }),
  changes: z
    .object({
      fields: z.array(z.string()).meta({ description: 'Fields whose values before and after are written.' }),
      key: z.string().min(1).optional().meta({
        description:
          'Key of the changes object ({prefix}{exportName}/_changes/dt=…/….ndjson.gz); absent on the first run, which has nothing to compare with.',
      }),
      added: z.number().int().min(0).optional(),
      removed: z.number().int().min(0).optional(),
      changed: z.number().int().min(0).optional(),
      previousRun: z
        .string()
        .optional()
        .meta({ description: 'The run compared with: {HHmmss}Z_{executionName}.' }),
      digestKey: z
        .string()
        .optional()
        .meta({ description: "Key of this run's digest, the next run's baseline." }),
    })
    .optional()
    .meta({ description: 'The change history this run wrote, for an export with "changes".' }),
  incremental: z
    .object({
      mode: z.enum(['first', 'continued', 'caught-up']).meta({
        description:
          "first: no earlier run, the configured window; continued: from the last run's end less the overlap; caught-up: the last run ended longer ago than catchUp, so the window starts catchUp before its end.",
      }),
      startDate: isoTime.meta({ description: 'Start of the window the run covered (included).' }),
      endDate: isoTime.meta({ description: 'End of the window the run covered (included).' }),
      skipped: z.object({ from: isoTime, to: isoTime }).optional().meta({
        description: 'caught-up: the range no run covered.',
      }),
      overlapDropped: z
        .number()
        .int()
        .min(0)
        .meta({ description: 'Events in the overlap the previous run had stored, not stored again.' }),
    })
    .optional()
    .meta({ description: 'The window of an incremental events export, from its watermark.' }),
});

/**
 * The fields a schema names, without the index signature of a loose object: the schemas let
 * later versions add fields, the types name the ones this version has.
 */
type Known<T> = { [K in keyof T as string extends K ? never : K]: T[K] };

/** Output of a successful single-export execution. */
export type ExportOutput = Known<z.output<typeof exportOutputSchema>>;

/** One object of a snapshot: an export's output without a manifest of its own. */
const snapshotObjectSchema = z.looseObject(objectFields);
export type SnapshotObject = Known<z.output<typeof snapshotObjectSchema>>;

/** What a successful snapshot execution returns: the folder, its manifest and every object in it. */
export const snapshotOutputSchema = z.looseObject({
  snapshotName: z.string().min(1).meta({ description: 'Name of the snapshot.' }),
  bucket: z.string().min(3),
  prefix: z.string().meta({
    description:
      'Key of the folder: {prefix}snapshots/{snapshotName}/dt=YYYY-MM-DD/{HHmmss}Z_{executionName}/',
  }),
  uri: z
    .string()
    .regex(/^s3:\/\/[^/]+\/.*\/$/)
    .meta({ description: 's3://{bucket}/{folder}/' }),
  manifestKey: z
    .string()
    .min(1)
    .meta({ description: 'Key of the manifest listing every object: {folder}manifest.json' }),
  bytes: z.number().int().min(0).meta({ description: 'Bytes of all objects together.' }),
  objects: z
    .array(snapshotObjectSchema)
    .min(1)
    .max(MAX_SNAPSHOT_MEMBERS)
    .meta({ description: 'Every object of the snapshot, one per export, in the order requested.' }),
  startedAt: isoTime.meta({ description: 'When the execution started (ISO 8601, UTC).' }),
  completedAt: isoTime.meta({ description: 'When the manifest was written (ISO 8601, UTC).' }),
});

/** Output of a successful snapshot execution. */
export type SnapshotOutput = Omit<Known<z.output<typeof snapshotOutputSchema>>, 'objects'> & {
  objects: SnapshotObject[];
};

/** Every output a successful execution may return: tell them apart by `snapshotName`. */
export const executionOutputSchema = z.union([exportOutputSchema, snapshotOutputSchema]);
