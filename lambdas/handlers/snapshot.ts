import { S3Client } from '@aws-sdk/client-s3';
import { ExportConfigError } from '../contracts/errors';
import type { SnapshotOutput } from '../contracts/output';
import { readStorageSettings } from '../export/env';
import { checkInputPce, readPceIdentity } from '../export/pce-choice';
import {
  type CompleteEvent,
  completeSnapshot,
  type PlanEvent,
  planSnapshot,
  type SnapshotPlan,
} from '../export/snapshot';
import { configuredExports } from './configured';
import { appendKeys, lambdaHandler, logger, traceClient } from './powertools';

// The endpoint comes from AWS_ENDPOINT_URL_S3 when set, which the SDK reads itself.
const s3 = traceClient(new S3Client({}));

export type SnapshotEvent = ({ step: 'plan' } & PlanEvent) | ({ step: 'complete' } & CompleteEvent);

/**
 * The two steps of a snapshot run around its Map:
 * - `plan`: `{input, execution}` → `{snapshot: {name, folder, manifestKey, members}}`, the
 *   validated members the Map exports;
 * - `complete`: `{snapshot, results, execution}` → the execution output, after writing the
 *   snapshot's manifest and latest.json.
 */
export const handler = lambdaHandler(
  'Snapshot step',
  async (event: SnapshotEvent): Promise<{ snapshot: SnapshotPlan } | SnapshotOutput> => {
    appendKeys({ executionName: executionNameOf(event) });
    const storage = readStorageSettings();
    switch (event?.step) {
      case 'plan': {
        checkInputPce(event.input, readPceIdentity());
        const configured = await configuredExports();
        const plan = planSnapshot(event, {
          configuredExports: configured.exports,
          configuredSnapshots: configured.snapshots,
          prefix: storage.prefix,
        });
        appendKeys({ snapshot: plan.snapshot.name });
        logger.info('Planned snapshot', {
          folder: plan.snapshot.folder,
          exports: plan.snapshot.members.length,
        });
        return plan;
      }
      case 'complete': {
        const org = Number(process.env.PCE_ORG_ID);
        return await completeSnapshot(event, {
          s3,
          storage,
          orgId: Number.isInteger(org) && org > 0 ? org : undefined,
          logger,
        });
      }
      default:
        throw new ExportConfigError('Invalid event: step must be "plan" or "complete"');
    }
  },
);

function executionNameOf(event: unknown): string | undefined {
  const name = (event as { execution?: { name?: unknown } } | null)?.execution?.name;
  return typeof name === 'string' ? name : undefined;
}
