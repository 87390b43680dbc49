import type { SubmitEvent, WorkflowState } from '../contracts/state';
import type { TrafficRunStart } from '../contracts/traffic-run';
import { readConfiguredExports, readPceSettings, readPollSettings } from '../export/env';
import { pceConnector } from '../export/pce-clients';
import { startExport } from '../export/submit-job';
import { appendKeys, lambdaHandler, logger } from './powertools';

/**
 * Submit: `{input, execution: {name, startTime}}` → WorkflowState. Resolves the execution input
 * (a configured export from PCE_EXPORTS and/or explicit fields), submits the export's PCE async
 * job (for a traffic export in a snapshot, the Explorer query) and returns the first state with
 * the wait before the first poll. A traffic export on its own comes back as `{export, execution,
 * fanOut: "traffic"}` for the traffic run.
 */
export const handler = lambdaHandler(
  'Submit',
  async (event: SubmitEvent): Promise<WorkflowState | TrafficRunStart> => {
    appendKeys({ executionName: executionNameOf(event?.execution) });
    const pce = readPceSettings();
    const state = await startExport(event, {
      connect: pceConnector(pce, logger),
      configuredExports: readConfiguredExports(),
      poll: readPollSettings(),
      orgId: pce.orgId,
      logger,
      onRequest: (request, ref) => appendKeys({ exportName: request.name, executionName: ref.name }),
    });
    if ('job' in state) appendKeys({ jobHref: state.job.href });
    return state;
  },
);

function executionNameOf(execution: unknown): string | undefined {
  const name = (execution as { name?: unknown } | null | undefined)?.name;
  return typeof name === 'string' ? name : undefined;
}
