import { dirname, resolve } from 'node:path';
import type { ExportOutput, SnapshotOutput } from '../lambdas/contracts/output';
import type { TrafficOutput } from '../lambdas/contracts/traffic-run';
import { workflowFor } from '../local/configuration';
import { type PceTarget, startLocalEngine } from '../local/engine';
import { pendingUploadBytes } from '../local/s3';
import { EXIT_FAILED, EXIT_OK } from './errors';
import { checkInput, configuredFrom, type RunInput } from './input';
import type { CliIo } from './io';
import {
  copyToDirectory,
  keysOf,
  type OutTarget,
  seedStateFromDirectory,
  snapshotKeysOf,
  trafficKeysOf,
} from './output';
import { causeText, createProgress, type Transfer } from './progress';

/** The bucket of the embedded S3 that `--out DIR` runs write to. */
const LOCAL_BUCKET = 'pce-export-local';

interface ExecuteExportOptions {
  readonly io: CliIo;
  readonly pce: PceTarget;
  readonly input: RunInput;
  readonly out: OutTarget;
  readonly s3Endpoint?: string;
  /** The proxy the PCE requests go through. @default none */
  readonly proxy?: { readonly url: string; readonly noProxy: readonly string[] };
  /** How long Submit waits out transient PCE trouble. @default the deployed window */
  readonly retryWindowSeconds?: number;
  /** Progress of the streaming Fetch. @default bytes written to the embedded S3, when it is used */
  readonly transfer?: Transfer;
}

/**
 * Runs one export locally, reports progress on stderr, and prints the output (or the failure) as
 * the one line on stdout. The input is checked against the configured exports and snapshots
 * before the execution starts: a name that is not configured is a UsageError, as is every other
 * mistake in the input.
 */
export async function executeExport(options: ExecuteExportOptions): Promise<number> {
  const { io, out } = options;
  const engine = await startLocalEngine({
    s3:
      out.kind === 'dir'
        ? { embedded: true, bucket: LOCAL_BUCKET }
        : { embedded: false, endpoint: options.s3Endpoint },
  });
  const bucket = out.kind === 'dir' ? LOCAL_BUCKET : out.bucket;
  const prefix = out.kind === 'dir' ? '' : out.prefix;
  const progress = createProgress({
    io,
    transfer:
      options.transfer ??
      (engine.s3
        ? {
            label: 'written to S3',
            bytes: () => pendingUploadBytes(engine.s3 as NonNullable<typeof engine.s3>, bucket),
          }
        : undefined),
  });
  try {
    const workflow = workflowFor(engine.local, undefined, options.input.value);
    checkInput(options.input, { orgId: options.pce.orgId, ...configuredFrom(workflow.configuration) });
    if (out.kind === 'dir' && engine.s3) await seedStateFromDirectory(engine.s3.endpoint, bucket, out.dir);
    const outcome = await engine.run({
      pce: options.pce,
      bucket,
      prefix,
      input: options.input.value,
      ...(options.proxy ? { proxy: options.proxy } : {}),
      ...(options.retryWindowSeconds === undefined
        ? {}
        : { env: { SUBMIT_RETRY_WINDOW_SECONDS: String(options.retryWindowSeconds) } }),
      onEvent: progress.onEvent,
    });
    if (outcome.status === 'FAILED') {
      io.stdout(JSON.stringify({ error: outcome.error, cause: causeText(outcome.cause) }));
      return EXIT_FAILED;
    }
    const traffic = outcome.output as TrafficOutput;
    if (
      out.kind === 'dir' &&
      engine.s3 &&
      traffic.kind === 'traffic' &&
      typeof traffic.windows === 'number'
    ) {
      // A traffic run: its window objects, and localPath is the run folder.
      const keys = await trafficKeysOf(engine.s3.endpoint, bucket, traffic, prefix);
      await copyToDirectory(engine.s3.endpoint, bucket, keys, out.dir, engine.s3.objectFile);
      io.stdout(JSON.stringify({ ...traffic, localPath: resolve(out.dir, traffic.prefix) }));
      return EXIT_OK;
    }
    const output = outcome.output as ExportOutput | SnapshotOutput;
    if (out.kind === 'dir' && engine.s3 && 'snapshotName' in output) {
      // A snapshot: the whole folder, and localPath is the folder.
      const keys = snapshotKeysOf(output, prefix);
      const paths = await copyToDirectory(engine.s3.endpoint, bucket, keys, out.dir, engine.s3.objectFile);
      const manifestPath = paths[output.manifestKey];
      io.stdout(JSON.stringify({ ...output, localPath: manifestPath && dirname(manifestPath) }));
    } else if (out.kind === 'dir' && engine.s3 && !('snapshotName' in output)) {
      const paths = await copyToDirectory(
        engine.s3.endpoint,
        bucket,
        keysOf(output, prefix, outcome.executionName),
        out.dir,
        engine.s3.objectFile,
      );
      io.stdout(JSON.stringify({ ...output, localPath: paths[output.key] }));
    } else {
      io.stdout(JSON.stringify(output));
    }
    return EXIT_OK;
  } finally {
    progress.stop();
    await engine.close();
  }
}
