import { S3Client } from '@aws-sdk/client-s3';
import { ExportConfigError } from '../contracts/errors';
import { readPceSettings, readStorageSettings } from '../export/env';
import { trafficConnector } from '../export/pce-clients';
import {
  abortTrafficRun,
  completeTrafficRun,
  planTrafficStep,
  splitTrafficRun,
} from '../export/traffic/run-steps';
import { parseAbortEvent, parseRunStart, parseRunState } from '../export/traffic/state';
import { appendKeys, lambdaHandler, logger } from './powertools';

// The endpoint comes from AWS_ENDPOINT_URL_S3 when set, which the SDK reads itself.
const s3 = new S3Client({});

/** `{step, state}`: the traffic run's steps in the parent execution (`lambdas/export/traffic/run-steps.ts`). */
export interface TrafficRunEvent {
  readonly step: 'plan' | 'split' | 'complete' | 'abort';
  readonly state: unknown;
}

/**
 * - `plan`: Submit's `{export, execution, fanOut}` → `{run, round, done}` (round 1), or the start
 *   with `plan` (the trouble and the wait) when the PCE cannot answer now;
 * - `split`: `{run, round, done}` after the round's Map → the next round, `done`, or a `failure`;
 * - `complete`: → the execution output, after writing the manifest, latest.json and the watermark;
 * - `abort`: the state of a failed run → `{Error, Cause}`, after deleting its window objects.
 */
export const handler = lambdaHandler('Traffic run', async (event: TrafficRunEvent) => {
  const pce = readPceSettings();
  const storage = readStorageSettings();
  const deps = { connect: trafficConnector(pce, logger), s3, storage, orgId: pce.orgId, logger };
  switch (event?.step) {
    case 'plan': {
      const start = parseRunStart(event.state);
      appendKeys({ exportName: start.export.name, executionName: start.execution.name });
      return await planTrafficStep(start, deps);
    }
    case 'split':
    case 'complete': {
      const state = parseRunState(event.state);
      appendKeys({ exportName: state.run.export.name, executionName: state.run.execution.name });
      return event.step === 'split'
        ? await splitTrafficRun(state, deps)
        : await completeTrafficRun(state, deps);
    }
    case 'abort': {
      const aborted = parseAbortEvent(event.state);
      appendKeys({ exportName: aborted.run?.export.name, executionName: aborted.run?.execution.name });
      return await abortTrafficRun(aborted, deps);
    }
    default:
      throw new ExportConfigError('Invalid event: step must be "plan", "split", "complete" or "abort"');
  }
});
