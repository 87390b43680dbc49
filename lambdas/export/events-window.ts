import type { z } from 'zod';
import type { EventsRequest, eventsInputSchema } from '../contracts/events';
import { resolveWindow } from '../contracts/traffic';

/*
 * An events export's window: the friendly `events` input resolved against the execution's start
 * time, and the collection job query it stands for (`GET /orgs/{org}/events` with
 * `timestamp[gte]`/`timestamp[lte]`, both inclusive, and the optional filters).
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
