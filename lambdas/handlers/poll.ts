import type { Context } from 'aws-lambda';
import type { WorkflowState } from '../contracts/state';
import { readPceSettings, readPollSettings } from '../export/env';
import { appendDefinedKeys, createLogger, startInvocation } from '../export/logger';
import { pceConnector } from '../export/pce-clients';
import { pollExport } from '../export/poll-job';
import { parseWorkflowState } from '../export/workflow';

export { nextWaitSeconds } from '../export/workflow';

const logger = createLogger();

/**
 * Poll: WorkflowState → WorkflowState. Validates the state, polls the job once and returns the
 * new status, `resultHref` once done, the next wait, and `timedOut`/`message` for the Choice.
 */
export async function handler(event: WorkflowState, context?: Context): Promise<WorkflowState> {
  startInvocation(logger, {}, context);
  try {
    const pce = readPceSettings();
    const poll = readPollSettings();
    const state = parseWorkflowState(event, pce.orgId);
    appendDefinedKeys(logger, {
      exportName: state.export.name,
      executionName: state.execution.name,
      jobHref: state.job.href,
    });
    return await pollExport(state, { connect: pceConnector(pce, logger), poll, logger });
  } catch (error) {
    logger.error('Poll failed', error as Error);
    throw error;
  }
}
