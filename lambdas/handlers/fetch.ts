import type { ExportOutput } from '../contracts/output';
import type { WorkflowState } from '../contracts/state';
import { readPceSettings, readStorageSettings } from '../export/env';
import { fetchStep } from '../export/fetch-export';
import { pceConnector } from '../export/pce-clients';
import { secretsManager } from '../export/secret';
import { createUploadClient } from '../export/upload-client';
import { parseWorkflowState } from '../export/workflow';
import { appendKeys, lambdaHandler, logger, recordExport, traceClient } from './powertools';

// The endpoint comes from AWS_ENDPOINT_URL_S3 when set, which the SDK reads itself.
const s3 = traceClient(createUploadClient());
traceClient(secretsManager);

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
    const output = await fetchStep(state, {
      connect: pceConnector(pce, logger),
      s3,
      storage,
      orgId: pce.orgId,
      logger,
    });
    // A download the PCE cut short comes back as the state, to be made again: nothing stored yet.
    if (!('key' in output)) return output;
    recordExport({
      bytes: output.bytes,
      objectCount: output.objectCount,
      polls: output.polls,
      durationSeconds: (Date.parse(output.completedAt) - Date.parse(state.execution.startTime)) / 1000,
    });
    return output;
  },
);
