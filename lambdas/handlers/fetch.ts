import { S3Client } from '@aws-sdk/client-s3';
import type { Context } from 'aws-lambda';
import type { ExportOutput } from '../contracts/output';
import type { WorkflowState } from '../contracts/state';
import { readPceSettings, readStorageSettings } from '../export/env';
import { fetchExport } from '../export/fetch-export';
import { appendDefinedKeys, createLogger, startInvocation } from '../export/logger';
import { pceConnector } from '../export/pce-clients';
import { parseWorkflowState } from '../export/workflow';

const logger = createLogger();
// The endpoint comes from AWS_ENDPOINT_URL_S3 when set, which the SDK reads itself.
const s3 = new S3Client({});

/**
 * Fetch: WorkflowState (status done, resultHref set) → ExportOutput. Streams the datafile into
 * S3, writes the manifest and latest.json, then deletes the PCE job.
 */
export async function handler(event: WorkflowState, context?: Context): Promise<ExportOutput> {
  startInvocation(logger, {}, context);
  try {
    const pce = readPceSettings();
    const storage = readStorageSettings();
    const state = parseWorkflowState(event, pce.orgId);
    appendDefinedKeys(logger, {
      exportName: state.export.name,
      executionName: state.execution.name,
      jobHref: state.job.href,
    });
    return await fetchExport(state, {
      connect: pceConnector(pce, logger),
      s3,
      storage,
      orgId: pce.orgId,
      logger,
    });
  } catch (error) {
    logger.error('Fetch failed', error as Error);
    throw error;
  }
}
