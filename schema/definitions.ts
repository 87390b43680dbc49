import { z } from 'zod';
import { exportInputSchema } from '../lambdas/export/input';
import { exportOutputSchema, snapshotOutputSchema } from '../lambdas/export/output';
import { snapshotInputSchema } from '../lambdas/export/snapshot';

/*
 * The execution input and output as zod schemas: the source of the published JSON Schema files
 * (`schema/generate.ts` writes them, a unit test checks they are up to date). The input schemas
 * are the very ones Submit and the snapshot step validate with; the output schemas describe what
 * Fetch and the snapshot step return.
 */

/** `{"exportName"?, "path"?, "query"?, "format"?, "gzip"?, "maxWaitSeconds"?, …}`: one export. */
export const exportExecutionInputSchema = exportInputSchema;

/** `{"snapshot": {"name", "exports"?}}`: several exports into one folder with one manifest. */
export const snapshotExecutionInputSchema = snapshotInputSchema;

/** Every input a StartExecution may pass. */
export const executionInputSchema = z.union([exportExecutionInputSchema, snapshotExecutionInputSchema]);

export { exportOutputSchema, snapshotOutputSchema };

/** Every output a successful execution may return. */
export const executionOutputSchema = z.union([exportOutputSchema, snapshotOutputSchema]);
