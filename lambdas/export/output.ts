import { z } from 'zod';

/*
 * The execution outputs as zod schemas: what Fetch returns for one export, and what a snapshot
 * run returns. The snapshot step validates the members' outputs with them; `schema/` publishes
 * them as JSON Schema.
 */

/** `Date.prototype.toISOString()` output: UTC, milliseconds optional. */
const isoTime = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/)
  .meta({ format: 'date-time' });

const objectFields = {
  exportName: z
    .string()
    .min(1)
    .meta({ description: 'Name of the export; the first segment of the key below the prefix.' }),
  bucket: z.string().min(3).meta({ description: 'Bucket the object was written to.' }),
  key: z.string().min(1).meta({
    description:
      'Object key: {prefix}{exportName}/dt=YYYY-MM-DD/{HHmmss}Z_{executionName}.{json|ndjson}[.gz], or {snapshot folder}{exportName}.{json|ndjson}[.gz] in a snapshot.',
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
  format: z.enum(['raw', 'ndjson']).meta({
    description: 'raw: the JSON array as the PCE served it; ndjson: one object per line.',
  }),
  gzip: z
    .boolean()
    .meta({ description: 'Whether the object is gzip-compressed (the key then ends in .gz).' }),
  objectCount: z
    .number()
    .int()
    .min(0)
    .optional()
    .meta({ description: 'Number of objects in the collection.' }),
  jobHref: z.string().meta({ description: 'The PCE async job (or traffic query) the data came from.' }),
  polls: z.number().int().min(0).meta({ description: 'How many times the job was polled.' }),
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
});

/** One object of a snapshot. */
export const snapshotObjectSchema = z.looseObject(objectFields);

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
    .meta({ description: 'Every object of the snapshot, one per export, in the order requested.' }),
  startedAt: isoTime.meta({ description: 'When the execution started (ISO 8601, UTC).' }),
  completedAt: isoTime.meta({ description: 'When the manifest was written (ISO 8601, UTC).' }),
});
