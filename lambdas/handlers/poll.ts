import type { WorkflowState } from '../contracts/state';
import { readPceSettings, readPollSettings } from '../export/env';
import { pceConnector } from '../export/pce-clients';
import { pollExport } from '../export/poll-job';
import { secretsManager } from '../export/secret';
import { parseWorkflowState } from '../export/workflow';
import { appendKeys, lambdaHandler, logger, traceClient } from './powertools';

traceClient(secretsManager);

/**
 * Poll: WorkflowState → WorkflowState. Validates the state, polls the job once and returns the
 * new status, `resultHref` once done, the next wait, and `timedOut`/`message` for the Choice.
 */
export const handler = lambdaHandler('Poll', async (event: unknown): Promise<WorkflowState> => {
  const pce = readPceSettings();
  const poll = readPollSettings();
  const state = parseWorkflowState(event, pce.orgId);
  appendKeys({ exportName: state.export.name, executionName: state.execution.name, jobHref: state.job.href });
  return await pollExport(state, { connect: pceConnector(pce, logger), poll, logger });
});
