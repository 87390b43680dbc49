import { z } from 'zod';
import { exportInputSchema } from '../lambdas/export/input';

/*
 * The execution input and output as zod schemas: the source of the published JSON Schema files
 * (`schema/generate.ts` writes them, a unit test checks they are up to date). The input schema is
 * the very one Submit validates with; the output schema describes what Fetch returns.
 */

/** `{"exportName"?, "path"?, "query"?, "format"?, "gzip"?, "maxWaitSeconds"?}`: one export. */
export const exportExecutionInputSchema = exportInputSchema;

/** Every input a StartExecution may pass. */
export const executionInputSchema = exportExecutionInputSchema;

/** `Date.prototype.toISOString()` output: UTC, milliseconds optional. */
const isoTime = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/)
  .meta({ format: 'date-time' });

/**
 * What a successful single-export execution returns (PRODUCT.md 3.3). Consumers should accept
 * fields they do not know: later versions may add some.
 */
export const exportOutputSchema = z.looseObject({
  exportName: z
    .string()
    .min(1)
    .meta({ description: 'Name of the export; the first segment of the key below the prefix.' }),
  bucket: z.string().min(3).meta({ description: 'Bucket the object was written to.' }),
  key: z.string().min(1).meta({
    description:
      'Object key: {prefix}{exportName}/dt=YYYY-MM-DD/{HHmmss}Z_{executionName}.{json|ndjson}[.gz].',
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
  jobHref: z.string().meta({ description: 'The PCE async job, /orgs/{org}/jobs/{id}.' }),
  polls: z.number().int().min(0).meta({ description: 'How many times the job was polled.' }),
  requestedAt: isoTime.meta({ description: 'When the job was submitted (ISO 8601, UTC).' }),
  completedAt: isoTime.meta({ description: 'When the object was complete in S3 (ISO 8601, UTC).' }),
  manifestKey: z.string().min(1).meta({ description: 'Key of the manifest describing the object.' }),
});

/** Every output a successful execution may return. */
export const executionOutputSchema = exportOutputSchema;
