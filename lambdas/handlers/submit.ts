import type { SubmitEvent, SubmitRetryState, WorkflowState } from '../contracts/state';
import type { TrafficRunStart } from '../contracts/traffic-run';
import { readPceSettings, readPollSettings, readStorageSettings, readSubmitSettings } from '../export/env';
import { checkInputPce, readPceIdentity } from '../export/pce-choice';
import { pceConnector } from '../export/pce-clients';
import { secretsManager } from '../export/secret';
import { startExport, submitStep } from '../export/submit-job';
import { isSubmitRetry, parseSubmitRetryState } from '../export/workflow';
import { configuredExports, s3Client } from './configured';
import { appendKeys, lambdaHandler, logger, traceClient } from './powertools';

traceClient(secretsManager);

/**
 * Submit: `{input, execution: {name, startTime}}` → WorkflowState. Checks that the input is for
 * this state machine's PCE, resolves it (a configured export from the deployment's configuration
 * object and/or explicit fields), submits the export's PCE async job (for a traffic export, the
 * Explorer query) and returns the first state with the wait before the first poll. When the PCE
 * is unavailable it returns a SubmitRetryState instead, and takes that state back as its event
 * to submit again. An incremental events export's window starts from its watermark in the
 * bucket. A traffic export on its own comes back as `{export, execution, fanOut:
 * "traffic"}` for the traffic run.
 */
export const handler = lambdaHandler(
  'Submit',
  async (
    event: SubmitEvent | SubmitRetryState,
  ): Promise<WorkflowState | SubmitRetryState | TrafficRunStart> => {
    appendKeys({ executionName: executionNameOf(event?.execution) });
    const pce = readPceSettings();
    const deps = {
      connect: pceConnector(pce, logger),
      configuredExports: {},
      poll: readPollSettings(),
      submit: readSubmitSettings(),
      orgId: pce.orgId,
      logger,
      watermarks: () => {
        const { bucket, prefix } = readStorageSettings();
        return { s3: s3Client, bucket, prefix };
      },
      onRequest: (request: { name: string }, ref: { name: string }) =>
        appendKeys({ exportName: request.name, executionName: ref.name }),
    };
    if (isSubmitRetry(event)) {
      // The request was resolved and checked by the first Submit.
      const state = await submitStep(parseSubmitRetryState(event), deps);
      if ('job' in state) appendKeys({ jobHref: state.job.href });
      return state;
    }
    const first = event as SubmitEvent;
    // A snapshot's members were checked, with the snapshot's input, by the plan step.
    if (!isSnapshotMember(first?.execution)) checkInputPce(first?.input, readPceIdentity());
    const state = await startExport(first, {
      ...deps,
      configuredExports: namesExport(first?.input) ? (await configuredExports()).exports : {},
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
