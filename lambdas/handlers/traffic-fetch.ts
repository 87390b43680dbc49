import { S3Client } from '@aws-sdk/client-s3';
import { readPceSettings, readStorageSettings } from '../export/env';
import { trafficConnector } from '../export/pce-clients';
import { parseWindowState } from '../export/traffic/state';
import { fetchWindowStep } from '../export/traffic/window-fetch';
import { appendKeys, lambdaHandler, logger } from './powertools';

// The endpoint comes from AWS_ENDPOINT_URL_S3 when set, which the SDK reads itself.
const s3 = new S3Client({});

/**
 * A traffic window's download: the completed window state → `outcome: "stored"` (or
 * `"truncated"`, or the state with a wait when the PCE cut the download short), after streaming the flows the window owns into its object in the run folder.
 */
export const handler = lambdaHandler('Traffic fetch', async (event: unknown) => {
  const pce = readPceSettings();
  const storage = readStorageSettings();
  const state = parseWindowState(event, pce.orgId);
  appendKeys({
    exportName: state.run.export.name,
    executionName: state.run.execution.name,
    jobHref: state.job?.href,
  });
  return await fetchWindowStep(state, {
    connect: trafficConnector(pce, logger),
    s3,
    storage,
    orgId: pce.orgId,
    logger,
  });
});
