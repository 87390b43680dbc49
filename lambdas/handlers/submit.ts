import type { Context } from 'aws-lambda';
import type { SubmitEvent, WorkflowState } from '../contracts/state';
import { readConfiguredExports, readPceSettings, readPollSettings } from '../export/env';
import { appendDefinedKeys, createLogger, startInvocation } from '../export/logger';
import { pceConnector } from '../export/pce-clients';
import { submitExport } from '../export/submit-job';

const logger = createLogger();

/**
 * Submit: `{input, execution: {name, startTime}}` → WorkflowState. Resolves the execution input
 * (a configured export from PCE_EXPORTS and/or explicit fields), submits the PCE async job (or,
 * for a traffic export, the Explorer query) and returns the first state with the wait before the
 * first poll.
 */
export async function handler(event: SubmitEvent, context?: Context): Promise<WorkflowState> {
  startInvocation(logger, { executionName: event?.execution?.name }, context);
  try {
    const pce = readPceSettings();
    const state = await submitExport(event, {
      connect: pceConnector(pce, logger),
      configuredExports: readConfiguredExports(),
      poll: readPollSettings(),
      orgId: pce.orgId,
      logger,
      onRequest: (request, execution) =>
        appendDefinedKeys(logger, { exportName: request.name, executionName: execution.name }),
    });
    appendDefinedKeys(logger, { jobHref: state.job.href });
    return state;
  } catch (error) {
    logger.error('Submit failed', error as Error);
    throw error;
  }
}
