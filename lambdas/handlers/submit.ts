import type { SubmitEvent, SubmitRetryState, WorkflowState } from '../contracts/state';
import { readConfiguredExports, readPceSettings, readPollSettings, readSubmitSettings } from '../export/env';
import { pceConnector } from '../export/pce-clients';
import { submitStep } from '../export/submit-job';
import { isSubmitRetry, parseSubmitRetryState } from '../export/workflow';
import { appendKeys, lambdaHandler, logger } from './powertools';

/**
 * Submit: `{input, execution: {name, startTime}}` → WorkflowState. Resolves the execution input
 * (a configured export from PCE_EXPORTS and/or explicit fields), submits the export's PCE async
 * job (for a traffic export, the Explorer query) and returns the first state with the wait
 * before the first poll. When the PCE is unavailable it returns a SubmitRetryState instead, and
 * takes that state back as its event to submit again.
 */
export const handler = lambdaHandler(
  'Submit',
  async (event: SubmitEvent | SubmitRetryState): Promise<WorkflowState | SubmitRetryState> => {
    appendKeys({ executionName: executionNameOf(event?.execution) });
    const pce = readPceSettings();
    const deps = {
      connect: pceConnector(pce, logger),
      configuredExports: readConfiguredExports(),
      poll: readPollSettings(),
      submit: readSubmitSettings(),
      orgId: pce.orgId,
      logger,
      onRequest: (request: { name: string }, ref: { name: string }) =>
        appendKeys({ exportName: request.name, executionName: ref.name }),
    };
    const state = await submitStep(
      isSubmitRetry(event) ? parseSubmitRetryState(event) : (event as SubmitEvent),
      deps,
    );
    if ('job' in state) appendKeys({ jobHref: state.job.href });
    return state;
  },
);

function executionNameOf(execution: unknown): string | undefined {
  const name = (execution as { name?: unknown } | null | undefined)?.name;
  return typeof name === 'string' ? name : undefined;
}
