import { DeleteObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { ExportConfigError } from '../contracts/errors';
import { FETCH_MAX_FAILED_DOWNLOADS, MAX_TROUBLE_WAIT_SECONDS } from '../contracts/limits';
import type { ExportOutput } from '../contracts/output';
import type { WorkflowState } from '../contracts/state';
import type { PceClient } from '../pce/client';
import { writeCurrentRun } from './changes/current';
import { copyToS3 } from './copy';
import type { StorageSettings } from './env';
import { EventsFilter } from './events-filter';
import { eventsKeysKey } from './events-window';
import { contentTypeOf } from './formats';
import { kindOf } from './kinds';
import {
  buildManifest,
  latestKeyFor,
  manifestKeyFor,
  objectKey,
  objectMetadata,
  runKeyInput,
  s3Uri,
  snapshotFolderKey,
  snapshotManifestKey,
  snapshotObjectKey,
} from './layout';
import { describeError, type ExportLogger } from './logger';
import {
  givenUp,
  isTransientPceError,
  NO_RETRIES,
  troubleOf,
  troubleWaitSeconds,
  warnTrouble,
} from './pce-trouble';
import { againstPrevious } from './row-filter';
import { putJson, tagStoredObject } from './storage';
import type { TrafficResultOptions } from './traffic-result';
import { mergeOverlapKeys, readOverlapKeys, recordRun, watermarkKey } from './watermark';

/** Failed downloads Fetch allows itself past the deadline (a job done just before it gets these). */
const FETCH_MIN_FAILED_DOWNLOADS = 3;

/** What Fetch needs; a traffic window's Fetch (traffic/window-fetch.ts) connects with a traffic run's client. */
export interface FetchDeps<Client = PceClient> {
  readonly connect: () => Promise<Client>;
  readonly s3: S3Client;
  readonly storage: StorageSettings;
  readonly orgId: number;
  readonly logger: ExportLogger;
  readonly now?: () => Date;
  /** zlib level for gzip output. @default 1 (copy.ts) */
  readonly gzipLevel?: number;
  /** How an empty traffic query result is downloaded again. @default 3 times, 2 s apart */
  readonly emptyTrafficResult?: Omit<TrafficResultOptions, 'logger'>;
}

/**
 * Streams the finished job's datafile into S3, then writes the manifest and `latest.json`
 * (in that order, each only after the previous is complete) and finally deletes the PCE job.
 * `state` must already be validated. A failed delete is logged, not thrown: the data is safe.
 * A member of a snapshot run (`execution.snapshot`) writes its object into the snapshot's
 * folder and no manifest or `latest.json` of its own: the snapshot's manifest lists it once
 * every member is complete.
 */
export async function fetchExport(state: WorkflowState, deps: FetchDeps): Promise<ExportOutput> {
  const { job, execution } = state;
  const request = state.export;
  if (job.status !== 'done' || job.resultHref === undefined) {
    throw new ExportConfigError(
      `Invalid workflow state: Fetch needs a job with status done and a resultHref, got status ${job.status}${job.resultHref === undefined ? ' without resultHref' : ''}`,
    );
  }
  const { bucket, prefix } = deps.storage;
  const snapshotFolder =
    execution.snapshot === undefined
      ? undefined
      : snapshotFolderKey({
          prefix,
          snapshotName: execution.snapshot,
          executionName: execution.name,
          startTime: execution.startTime,
        });
  const key =
    snapshotFolder === undefined
      ? objectKey(runKeyInput(prefix, request, execution))
      : snapshotObjectKey(snapshotFolder, request.name, request.format, request.gzip);
  const manifestKey =
    snapshotFolder === undefined ? manifestKeyFor(key) : snapshotManifestKey(snapshotFolder);
  const contentType = contentTypeOf(request.format);
  const metadata = {
    ...objectMetadata({ request, jobHref: job.href, orgId: deps.orgId }),
    ...(execution.snapshot === undefined ? {} : { snapshot: execution.snapshot }),
  };
  const log = deps.logger;

  // An incremental events window: drop what the previous run stored, keep the last hrefs.
  const window = execution.snapshot === undefined ? request.events?.window : undefined;
  const previousKeys =
    window?.previous?.keysKey === undefined
      ? undefined
      : await readOverlapKeys(deps.s3, bucket, window.previous.keysKey);
  const filter =
    window === undefined
      ? undefined
      : new EventsFilter({
          ...againstPrevious(previousKeys, window.previous?.end),
          tailFrom: Date.parse(window.tailFrom),
          array: request.format === 'raw',
          href: job.resultHref,
        });

  const client = await deps.connect();
  const kind = kindOf(request);
  const datafile = await kind.open(client, job.resultHref, {
    logger: log,
    ...(deps.emptyTrafficResult === undefined ? {} : { emptyTrafficResult: deps.emptyTrafficResult }),
  });
  log.info(kind.messages.opened, {
    resultHref: job.resultHref,
    contentLength: datafile.contentLength,
    key,
    format: request.format,
    gzip: request.gzip,
  });

  const copied = await copyToS3({
    s3: deps.s3,
    source: datafile.body,
    bucket,
    key,
    format: request.format,
    gzip: request.gzip,
    gzipLevel: deps.gzipLevel,
    table: { kind: request.kind ?? 'collection', path: request.path },
    contentType,
    metadata,
    partSizeBytes: deps.storage.partSizeBytes,
    queueSize: deps.storage.queueSize,
    logger: log,
    href: job.resultHref,
    ...(filter === undefined ? {} : { filter }),
  });
  const objectCount = filter === undefined ? copied.objectCount : filter.counts.kept;
  const completedAt = (deps.now ?? (() => new Date()))().toISOString();

  // The checksum is known only once every byte has gone up: it goes into the object's tags (and
  // the manifest), so the object is written once, with the metadata it started with.
  await tagStoredObject(deps.s3, bucket, key, { sha256: copied.sha256, objectCount });

  const manifest = buildManifest({
    exportName: request.name,
    bucket,
    key,
    bytes: copied.bytes,
    sha256: copied.sha256,
    objectCount,
    format: request.format,
    gzip: request.gzip,
    contentType,
    org: deps.orgId,
    path: request.path,
    query: request.query,
    jobHref: job.href,
    executionName: execution.name,
    requestedAt: job.requestedAt,
    completedAt,
    ...(request.traffic ? { traffic: request.traffic } : {}),
    ...(request.events ? { events: request.events } : {}),
    ...(window === undefined || filter === undefined
      ? {}
      : {
          incremental: {
            mode: window.mode,
            ...(window.skipped === undefined ? {} : { skipped: window.skipped }),
            overlapDropped: filter.counts.overlap,
          },
        }),
  });
  if (snapshotFolder === undefined) {
    await putJson(deps.s3, bucket, manifestKey, manifest);
    const latestKey = latestKeyFor(prefix, request.name);
    await putJson(deps.s3, bucket, latestKey, { ...manifest, manifestKey });
    await writeCurrentRun(deps.s3, prefix, manifest);
  }
  if (window !== undefined && filter !== undefined) {
    // The last writes of the run, once its object, manifest and pointers are complete: a run
    // that failed before here leaves the previous watermark, and the next run covers the hole.
    const keysKey = eventsKeysKey(prefix, request.name, execution.name);
    await putJson(deps.s3, bucket, keysKey, mergeOverlapKeys(new Date(window.tailFrom), filter.tail));
    await recordRun(deps.s3, bucket, watermarkKey(prefix, request.name), {
      exportName: request.name,
      end: request.events?.endDate ?? window.tailFrom,
      keysKey,
      executionName: execution.name,
      manifestKey,
      completedAt,
    });
    const previous = window.previous?.keysKey;
    if (previous !== undefined && previous !== keysKey) {
      // The previous run's keys are no run's any more; one left behind costs a few bytes.
      await deps.s3
        .send(new DeleteObjectCommand({ Bucket: bucket, Key: previous }))
        .catch((error: unknown) => {
          log.warn("Deleting the previous run's overlap keys failed; they stay in the bucket", {
            key: previous,
            error: describeError(error),
          });
        });
    }
    log.info('Recorded the events watermark', {
      end: request.events?.endDate,
      mode: window.mode,
      overlapDropped: filter.counts.overlap,
      tailKeys: filter.tail.length,
    });
  }

  try {
    await kind.jobs(client).delete(job.href);
    log.info(kind.messages.deleted);
  } catch (error) {
    log.warn('Deleting the PCE job failed; it stays on the PCE until it expires', {
      error: describeError(error),
    });
  }

  log.info('Export complete', {
    uri: manifest.uri,
    bytes: copied.bytes,
    objectCount,
    manifestKey,
  });
  return {
    exportName: request.name,
    bucket,
    key,
    uri: s3Uri(bucket, key),
    bytes: copied.bytes,
    sha256: copied.sha256,
    format: request.format,
    gzip: request.gzip,
    objectCount,
    jobHref: job.href,
    polls: job.polls,
    retries: job.retries ?? NO_RETRIES,
    requestedAt: job.requestedAt,
    completedAt,
    manifestKey,
    // The change history step (lambdas/export/changes/) replaces this with what it wrote.
    ...(request.changes ? { changes: { fields: request.changes.fields } } : {}),
    ...(manifest.incremental === undefined || request.events === undefined
      ? {}
      : {
          incremental: {
            mode: manifest.incremental.mode,
            startDate: request.events.startDate,
            endDate: request.events.endDate,
            ...(manifest.incremental.skipped === undefined ? {} : { skipped: manifest.incremental.skipped }),
            overlapDropped: manifest.incremental.overlapDropped,
          },
        }),
  };
}

/**
 * The Fetch step: `fetchExport`, except that a download the PCE cut short or did not answer (5xx,
 * 429, a reset, a timeout) gives the state back with the trouble noted and a wait, and the state
 * machine calls Fetch again, which downloads from the start. Nothing is at the key meanwhile: the
 * upload of the failed attempt was aborted. Fetch downloads again until the export's deadline,
 * at least FETCH_MIN_FAILED_DOWNLOADS and at most FETCH_MAX_FAILED_DOWNLOADS times.
 */
export async function fetchStep(
  state: WorkflowState,
  deps: FetchDeps,
): Promise<ExportOutput | WorkflowState> {
  try {
    return await fetchExport(state, deps);
  } catch (error) {
    if (!isTransientPceError(error)) throw error;
    const { job } = state;
    const now = (deps.now ?? (() => new Date()))();
    const retries = job.retries ?? NO_RETRIES;
    const failed = retries.fetch + 1;
    const trouble = troubleOf(error, now, job.unavailable);
    const secondsToDeadline = (Date.parse(job.deadline) - now.getTime()) / 1000;
    const downloads = `${failed} download${failed === 1 ? '' : 's'} failed since ${trouble.since}`;
    if (failed >= FETCH_MAX_FAILED_DOWNLOADS) {
      throw givenUp(error, `${downloads}, the most Fetch makes`);
    }
    if (secondsToDeadline <= 0 && failed >= FETCH_MIN_FAILED_DOWNLOADS) {
      throw givenUp(error, `${downloads}, and the export's deadline ${job.deadline} has passed`);
    }
    const wait = troubleWaitSeconds(trouble.attempts, error.retryAfterSeconds, MAX_TROUBLE_WAIT_SECONDS);
    const waitSeconds = secondsToDeadline >= 1 ? Math.min(wait, Math.floor(secondsToDeadline)) : wait;
    warnTrouble(deps.logger, trouble, `downloading again from the start in ${waitSeconds} s`, {
      waitSeconds,
    });
    return {
      export: state.export,
      execution: state.execution,
      job: { ...job, waitSeconds, unavailable: trouble, retries: { ...retries, fetch: failed } },
    };
  }
}
