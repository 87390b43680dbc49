import { ExportConfigError } from '../../contracts/errors';
import { FETCH_MAX_FAILED_DOWNLOADS, MAX_TROUBLE_WAIT_SECONDS } from '../../contracts/limits';
import type { WindowState } from '../../contracts/traffic-run';
import type { TrafficRunClient } from '../../pce/client';
import { copyToS3 } from '../copy';
import type { FetchDeps } from '../fetch-export';
import { contentTypeOf } from '../formats';
import {
  givenUp,
  isTransientPceError,
  NO_RETRIES,
  troubleOf,
  troubleWaitSeconds,
  warnTrouble,
} from '../pce-trouble';
import { againstPrevious } from '../row-filter';
import { tagStoredObject } from '../storage';
import { openTrafficResult } from '../traffic-result';
import { readOverlapKeys } from '../watermark';
import { FlowFilter, TruncatedDownload } from './flow-filter';
import { windowObjectKey } from './layout';
import { ownerTest } from './ownership';
import { describeWindow } from './plan';
import { writeResult, writeWindowKeys } from './results';
import { deleteQuietly, endWindow } from './window-end';
import { deadlineMessage, secondsToDeadline } from './window-steps';

/*
 * A window's download, streamed into its object in the run folder with only the flows the window
 * owns (flow-filter.ts). Nothing is visible at the key unless the whole download went up: a
 * download that turns out truncated (no counts from the PCE, exactly max_results rows) or cut
 * short aborts the upload. The window's result, and an incremental run's keys of its last flows,
 * are recorded once the object is complete; then the query is deleted.
 *
 * A download the PCE cut short or did not answer (5xx, 429, a reset, a timeout) gives the state
 * back with the trouble noted and a wait; the child calls Fetch again, which downloads from the
 * start (the failed attempt's upload was aborted, so nothing is at the key meanwhile). Past the
 * run's deadline the window ends as PceJobTimeout, its query deleted; at most
 * FETCH_MAX_FAILED_DOWNLOADS downloads fail before the window fails with the error itself.
 */

export async function fetchWindowStep(
  state: WindowState,
  deps: FetchDeps<TrafficRunClient>,
): Promise<WindowState> {
  try {
    return await fetchWindow(state, deps);
  } catch (error) {
    if (!isTransientPceError(error) || state.job === undefined) throw error;
    const { run, window, job } = state;
    const now = (deps.now ?? (() => new Date()))();
    const retries = job.retries ?? NO_RETRIES;
    const failed = retries.fetch + 1;
    const trouble = troubleOf(error, now, job.unavailable);
    const downloads = `${failed} download${failed === 1 ? '' : 's'} failed since ${trouble.since}`;
    if (failed >= FETCH_MAX_FAILED_DOWNLOADS) throw givenUp(error, `${downloads}, the most Fetch makes`);
    const toDeadline = secondsToDeadline(run, now);
    if (toDeadline < 1) {
      const message = deadlineMessage(run, `Traffic window ${window.id}: ${downloads}`);
      return endWindow(state, 'failed', { error: { name: 'PceJobTimeout', message } }, job.polls, {
        ...deps,
        bucket: deps.storage.bucket,
      });
    }
    const waitSeconds = Math.min(
      troubleWaitSeconds(trouble.attempts, error.retryAfterSeconds, MAX_TROUBLE_WAIT_SECONDS),
      Math.floor(toDeadline),
    );
    warnTrouble(deps.logger, trouble, `downloading again from the start in ${waitSeconds} s`, {
      window: window.id,
      waitSeconds,
    });
    return {
      run,
      window,
      job: { ...job, waitSeconds, unavailable: trouble, retries: { ...retries, fetch: failed } },
    };
  }
}

async function fetchWindow(state: WindowState, deps: FetchDeps<TrafficRunClient>): Promise<WindowState> {
  const { run, window, job } = state;
  const traffic = run.export.traffic;
  if (job?.status !== 'done' || job.resultHref === undefined || traffic === undefined) {
    throw new ExportConfigError(
      'Invalid window state: Fetch needs a completed window query and its download',
    );
  }
  const { bucket } = deps.storage;
  const log = deps.logger;
  const key = windowObjectKey(run, window);
  const previousEnd = run.previous === undefined ? undefined : Date.parse(run.previous.end);
  const previousKeys =
    run.previous?.keysKey !== undefined &&
    previousEnd !== undefined &&
    Date.parse(window.start) <= previousEnd
      ? await readOverlapKeys(deps.s3, bucket, run.previous.keysKey)
      : undefined;
  const filter = new FlowFilter({
    owner: ownerTest(run, window),
    ...againstPrevious(previousKeys, run.previous?.end),
    ...(run.tailFrom === undefined ? {} : { tailFrom: Date.parse(run.tailFrom) }),
    ...(job.flowsCount === undefined ? {} : { expectedRows: job.flowsCount }),
    ...(job.flowsCount === undefined && window.partial !== true ? { truncateAt: traffic.maxResults } : {}),
    array: run.export.format === 'raw',
    href: job.resultHref,
  });

  const client = await deps.connect();
  const download = await openTrafficResult(client.traffic, job.resultHref, {
    ...deps.emptyTrafficResult,
    logger: log,
  });
  const metadata: Record<string, string> = {
    kind: 'traffic',
    'job-href': job.href,
    org: String(deps.orgId),
    path: run.export.path,
    run: run.execution.name,
    window: String(window.id),
    'start-date': window.start,
    'end-date': window.end,
    ...(window.decision === undefined ? {} : { 'policy-decision': window.decision }),
    ...(window.protocol === undefined ? {} : { protocol: window.protocol }),
    ...(window.ports === undefined ? {} : { ports: `${window.ports[0]}-${window.ports[1]}` }),
    format: run.export.format,
    gzip: String(run.export.gzip),
  };
  let copied: Awaited<ReturnType<typeof copyToS3>>;
  try {
    copied = await copyToS3({
      s3: deps.s3,
      source: download.body,
      bucket,
      key,
      format: run.export.format,
      gzip: run.export.gzip,
      gzipLevel: deps.gzipLevel,
      table: { kind: 'traffic' },
      contentType: contentTypeOf(run.export.format),
      metadata,
      partSizeBytes: deps.storage.partSizeBytes,
      queueSize: deps.storage.queueSize,
      logger: log,
      href: job.resultHref,
      filter,
    });
  } catch (error) {
    if (!(error instanceof TruncatedDownload)) throw error;
    log.info('Traffic window download is truncated; it will be split', { window: window.id, key });
    await deleteQuietly(client, job.href, log);
    await writeResult(deps.s3, bucket, run, {
      window,
      status: 'truncated',
      jobHref: job.href,
      polls: job.polls,
      flowsCount: filter.counts.downloaded,
      requestedAt: job.requestedAt,
      completedAt: (deps.now ?? (() => new Date()))().toISOString(),
    });
    return { run, window, job, outcome: 'truncated' };
  }
  const { counts } = filter;
  await tagStoredObject(deps.s3, bucket, key, { sha256: copied.sha256, objectCount: counts.kept });
  const tailKeysKey =
    filter.tail.length > 0 ? await writeWindowKeys(deps.s3, bucket, run, window, filter.tail) : undefined;
  const missing =
    window.partial === true && job.matchesCount !== undefined
      ? Math.max(0, job.matchesCount - counts.downloaded)
      : undefined;
  await writeResult(deps.s3, bucket, run, {
    window,
    status: 'stored',
    jobHref: job.href,
    polls: job.polls,
    ...(job.flowsCount === undefined ? {} : { flowsCount: job.flowsCount }),
    ...(job.matchesCount === undefined ? {} : { matchesCount: job.matchesCount }),
    key,
    bytes: copied.bytes,
    sha256: copied.sha256,
    objectCount: counts.kept,
    rows: {
      downloaded: counts.downloaded,
      otherWindow: counts.otherWindow,
      earlierRun: counts.earlierRun,
      overlap: counts.overlap,
    },
    ...(missing === undefined ? {} : { missing }),
    ...(tailKeysKey === undefined ? {} : { tailKeysKey }),
    requestedAt: job.requestedAt,
    completedAt: (deps.now ?? (() => new Date()))().toISOString(),
  });
  await deleteQuietly(client, job.href, log);
  log.info('Stored traffic window', {
    window: window.id,
    range: describeWindow(window),
    key,
    bytes: copied.bytes,
    ...counts,
  });
  return { run, window, job, outcome: 'stored' };
}
