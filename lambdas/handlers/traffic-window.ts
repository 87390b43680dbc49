import { S3Client } from '@aws-sdk/client-s3';
import { ExportConfigError } from '../contracts/errors';
import { readPceSettings, readPollSettings, readStorageSettings, readSubmitSettings } from '../export/env';
import { trafficConnector } from '../export/pce-clients';
import { caughtOf, parseWindowState } from '../export/traffic/state';
import { recordWindowError } from '../export/traffic/window-end';
import { pollWindowStep, submitWindowStep } from '../export/traffic/window-steps';
import { appendKeys, lambdaHandler, logger } from './powertools';

// The endpoint comes from AWS_ENDPOINT_URL_S3 when set, which the SDK reads itself.
const s3 = new S3Client({});

/** `{step, state}`: a traffic window's steps in its child execution, before the download. */
export interface TrafficWindowEvent {
  readonly step: 'submit' | 'poll' | 'error';
  readonly state: unknown;
}

/**
 * - `submit`: `{run, window}` → the window state with its query (or with `submit`, the trouble
 *   and the wait, when the PCE cannot take it now);
 * - `poll`: → the next state (done, another wait, or an `outcome` when the window ends here);
 * - `error`: the state with the error a step caught (`caught`) → `outcome: "failed"`, recorded.
 */
export const handler = lambdaHandler('Traffic window', async (event: TrafficWindowEvent) => {
  const pce = readPceSettings();
  const { bucket } = readStorageSettings();
  const state = parseWindowState(event?.state, pce.orgId);
  appendKeys({
    exportName: state.run.export.name,
    executionName: state.run.execution.name,
    jobHref: state.job?.href,
  });
  const deps = {
    connect: trafficConnector(pce, logger),
    s3,
    bucket,
    poll: readPollSettings(),
    submit: readSubmitSettings(),
    logger,
    orgId: pce.orgId,
  };
  switch (event.step) {
    case 'submit':
      return await submitWindowStep(state, deps);
    case 'poll':
      return await pollWindowStep(state, deps);
    case 'error':
      return await recordWindowError(state, caughtOf(event.state), deps);
    default:
      throw new ExportConfigError('Invalid event: step must be "submit", "poll" or "error"');
  }
});
