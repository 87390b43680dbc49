import type { z } from 'zod';
import { ExportConfigError } from '../contracts/errors';
import type { EventsRequest, eventsInputSchema } from '../contracts/events';
import { parseSince } from '../contracts/traffic';

/*
 * An events export's window: the friendly `events` input resolved against the execution's start
 * time, and the collection job query it stands for (`GET /orgs/{org}/events` with
 * `timestamp[gte]`/`timestamp[lte]`, both inclusive, and the optional filters).
 */

const DEFAULT_EVENTS_SINCE = '24h';

export function resolveEventsWindow(
  spec: z.output<typeof eventsInputSchema>,
  now: Date,
  root = 'input.events',
): EventsRequest {
  let since: string | undefined;
  let start: Date;
  let end: Date;
  if (spec.start === undefined) {
    const parsed = parseSince(spec.since ?? DEFAULT_EVENTS_SINCE);
    if (parsed === undefined) throw new ExportConfigError(`Invalid input: ${root}.since is not a duration`);
    since = parsed.canonical;
    end = now;
    start = new Date(now.getTime() - parsed.seconds * 1000);
  } else {
    start = new Date(spec.start);
    end = spec.end === undefined ? now : new Date(spec.end);
    if (end.getTime() <= start.getTime()) {
      throw new ExportConfigError(
        spec.end === undefined
          ? `Invalid input: ${root}.start (${spec.start}) must be before the run's start time (${now.toISOString()}) when ${root}.end is left out`
          : `Invalid input: ${root}.end must be after ${root}.start`,
      );
    }
  }
  return {
    ...(since === undefined ? {} : { since }),
    startDate: start.toISOString(),
    endDate: end.toISOString(),
    eventTypes: spec.eventTypes ?? [],
    ...(spec.severity === undefined ? {} : { severity: spec.severity }),
    ...(spec.status === undefined ? {} : { status: spec.status }),
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
