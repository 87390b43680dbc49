import { S3Client } from '@aws-sdk/client-s3';
import type { ExportOutput } from '../contracts/output';
import type { WorkflowState } from '../contracts/state';
import { readPceSettings, readStorageSettings } from '../export/env';
import { fetchStep } from '../export/fetch-export';
import { pceConnector } from '../export/pce-clients';
import { parseWorkflowState } from '../export/workflow';
import { appendKeys, lambdaHandler, logger } from './powertools';

// The endpoint comes from AWS_ENDPOINT_URL_S3 when set, which the SDK reads itself.
const s3 = new S3Client({});

/**
 * Fetch: WorkflowState (status done, resultHref set) → ExportOutput. Streams the result into
 * S3, writes the manifest and latest.json, then deletes the PCE job. A download the PCE cut short
 * or did not answer gives the WorkflowState back, with the wait before the next download.
 */
export const handler = lambdaHandler(
  'Fetch',
  async (event: unknown): Promise<ExportOutput | WorkflowState> => {
    const pce = readPceSettings();
    const storage = readStorageSettings();
    const state = parseWorkflowState(event, pce.orgId);
    appendKeys({
      exportName: state.export.name,
      executionName: state.execution.name,
      jobHref: state.job.href,
    });
    return await fetchStep(state, {
      connect: pceConnector(pce, logger),
      s3,
      storage,
      orgId: pce.orgId,
      logger,
    });
  },
);
