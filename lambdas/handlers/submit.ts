import type { SubmitEvent, WorkflowState } from '../contracts/state';
import type { TrafficRunStart } from '../contracts/traffic-run';
import { readPceSettings, readPollSettings } from '../export/env';
import { checkInputPce, readPceIdentity } from '../export/pce-choice';
import { pceConnector } from '../export/pce-clients';
import { secretsManager } from '../export/secret';
import { startExport } from '../export/submit-job';
import { configuredExports } from './configured';
import { appendKeys, lambdaHandler, logger, traceClient } from './powertools';

traceClient(secretsManager);

/**
 * Submit: `{input, execution: {name, startTime}}` → WorkflowState. Checks that the input is for
 * this state machine's PCE, resolves it (a configured export from the deployment's configuration
 * object and/or explicit fields), submits the export's PCE async job (for a traffic export in a
 * snapshot, the Explorer query) and returns the first state with the wait before the first poll.
 * A traffic export on its own comes back as `{export, execution, fanOut: "traffic"}` for the
 * traffic run.
 */
export const handler = lambdaHandler(
  'Submit',
  async (event: SubmitEvent): Promise<WorkflowState | TrafficRunStart> => {
    appendKeys({ executionName: executionNameOf(event?.execution) });
    const pce = readPceSettings();
    // A snapshot's members were checked, with the snapshot's input, by the plan step.
    if (!isSnapshotMember(event?.execution)) checkInputPce(event?.input, readPceIdentity());
    const state = await startExport(event, {
      connect: pceConnector(pce, logger),
      configuredExports: namesExport(event?.input) ? (await configuredExports()).exports : {},
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

function isSnapshotMember(execution: unknown): boolean {
  return (execution as { snapshot?: unknown } | null | undefined)?.snapshot !== undefined;
}

/** Only an input that names an export needs the configured ones. */
function namesExport(input: unknown): boolean {
  return typeof (input as { exportName?: unknown } | null | undefined)?.exportName === 'string';
}
