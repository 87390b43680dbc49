import { S3Client } from '@aws-sdk/client-s3';
import { changesRequestSchema } from '../contracts/changes';
import { ExportConfigError } from '../contracts/errors';
import { type ExportOutput, exportOutputSchema } from '../contracts/output';
import { writeChangeHistory } from '../export/changes/history';
import { readStorageSettings } from '../export/env';
import { describeIssues } from '../export/input';
import { appendKeys, lambdaHandler, logger } from './powertools';

// The endpoint comes from AWS_ENDPOINT_URL_S3 when set, which the SDK reads itself.
const s3 = new S3Client({});

/**
 * Changes: the output of a Fetch whose export asked for its change history (`changes.fields`
 * set) → the same output, its `changes` now saying what was written.
 */
export const handler = lambdaHandler('Changes', async (event: unknown): Promise<ExportOutput> => {
  const storage = readStorageSettings();
  const parsed = exportOutputSchema.safeParse(event);
  if (!parsed.success) {
    throw new ExportConfigError(`Invalid workflow state: ${describeIssues(parsed.error, 'state')}`);
  }
  const output = parsed.data as ExportOutput;
  const request = changesRequestSchema.safeParse(output.changes);
  if (!request.success) {
    throw new ExportConfigError('Invalid workflow state: state.changes.fields is missing');
  }
  if (output.bucket !== storage.bucket || !output.key.startsWith(storage.prefix)) {
    throw new ExportConfigError(
      `Invalid workflow state: s3://${output.bucket}/${output.key} is not below s3://${storage.bucket}/${storage.prefix}`,
    );
  }
  appendKeys({ exportName: output.exportName });
  const changes = await writeChangeHistory(output, request.data, { s3, storage, logger });
  return { ...output, changes };
});
