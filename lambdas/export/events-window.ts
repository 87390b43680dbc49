import type { S3Client } from '@aws-sdk/client-s3';
import type { z } from 'zod';
import { ExportConfigError } from '../contracts/errors';
import type { EventsRequest, eventsInputSchema } from '../contracts/events';
import type { ExecutionRef, ExportRequest } from '../contracts/state';
import { resolveIncremental, resolveWindow } from '../contracts/traffic';
import type { ExportLogger } from './logger';
import { dedupeOf, nextRange, readWatermark, watermarkKey } from './watermark';

/*
 * An events export's window: the friendly `events` input resolved against the execution's start
 * time, and the collection job query it stands for (`GET /orgs/{org}/events` with
 * `timestamp[gte]`/`timestamp[lte]`, both inclusive, and the optional filters). An incremental
 * export's window is then continued from its watermark by Submit (`continueEventsWindow`), and
 * Fetch drops the events the previous run stored (events-filter.ts).
 */

export function resolveEventsWindow(
  spec: z.output<typeof eventsInputSchema>,
  now: Date,
  root = 'input.events',
): EventsRequest {
  return {
    ...resolveWindow(spec, now, root),
    eventTypes: spec.eventTypes ?? [],
    ...(spec.severity === undefined ? {} : { severity: spec.severity }),
    ...(spec.status === undefined ? {} : { status: spec.status }),
    ...resolveIncremental(spec),
  };
}

/** The PCE query of an events window. */
export function eventsQuery(events: EventsRequest): Record<string, string> {
  return {
    'timestamp[gte]': events.startDate,
    'timestamp[lte]': events.endDate,
    ...(events.eventTypes.length > 0 ? { event_type: events.eventTypes.join(',') } : {}),
    ...(events.severity === undefined ? {} : { severity: events.severity }),
    ...(events.status === undefined ? {} : { status: events.status }),
  };
}

/** Where Submit finds an export's watermark. */
export interface WatermarkStore {
  /** The S3 client, made on first use: only an incremental export reads a watermark. */
  readonly s3: () => Promise<S3Client>;
  readonly bucket: string;
  readonly prefix: string;
}

/**
 * An incremental events export's window, from its watermark (watermark.ts): the first run keeps
 * the configured window; a later one starts at the last run's end less the overlap, and ends at
 * the execution's start; after a gap longer than `catchUp` it starts `catchUp` before its end.
 * Any other request comes back as it is.
 */
export async function continueEventsWindow(
  request: ExportRequest,
  execution: Pick<ExecutionRef, 'startTime' | 'snapshot'>,
  store: WatermarkStore | undefined,
  logger: ExportLogger,
): Promise<ExportRequest> {
  const events = request.events;
  if (events?.incremental === undefined || events.window !== undefined) return request;
  if (execution.snapshot !== undefined) {
    throw new ExportConfigError(
      'Invalid input: input.events.incremental is not used by a snapshot member: its runs keep no watermark of their own',
    );
  }
  if (store === undefined) {
    throw new ExportConfigError('Invalid deployment: an incremental events export needs the export bucket');
  }
  const watermark = await readWatermark(
    await store.s3(),
    store.bucket,
    watermarkKey(store.prefix, request.name),
  );
  const range = nextRange({
    ...(watermark === undefined ? {} : { watermark }),
    now: new Date(execution.startTime),
    configured: { start: new Date(events.startDate), end: new Date(events.endDate) },
    settings: events.incremental,
  });
  if (range.skipped) {
    logger.warn('The last run ended before the catch-up limit: a range is skipped', range.skipped);
  }
  const continued: EventsRequest = {
    ...events,
    startDate: range.start.toISOString(),
    endDate: range.end.toISOString(),
    window: {
      mode: range.mode,
      ...(range.skipped === undefined ? {} : { skipped: range.skipped }),
      ...dedupeOf(range),
    },
  };
  return { ...request, query: eventsQuery(continued), events: continued };
}

/** The folder of an export's overlap keys (IAM scopes Fetch's reads of them to it). */
export const EVENTS_KEYS_FOLDER = '_incremental';

/** Where an incremental events run keeps the hrefs of its last events for the next run. */
export function eventsKeysKey(prefix: string, exportName: string, executionName: string): string {
  return `${prefix}${exportName}/${EVENTS_KEYS_FOLDER}/${executionName}.keys.json`;
}
