import * as z from 'zod';
import { isoTime } from './time';
import {
  checkIncrementalInput,
  checkWindowInput,
  incrementalInputFields,
  incrementalRequestSchema,
  sinceSchema,
  windowInputFields,
} from './traffic';

/*
 * The audit events of an `events` export (`GET /orgs/{org}/events` as an async collection job),
 * in the two forms they take: the friendly `events` object of the execution input, and the
 * resolved request (absolute times) that travels in the workflow state.
 *
 *   {"since": "24h"}                                  the 24 hours before the execution started
 *   {"start": "2026-11-01T00:00:00Z", "end": …}       an absolute window (end defaults to the start of the run)
 *   {"eventTypes": ["user.sign_in", "workloads.unpair"], "severity": "warning", "status": "failure"}
 *   {"since": "1h", "incremental": true, "overlap": "15m"}   from where the last run ended, less 15 minutes
 *
 * Both ends are inclusive, as the PCE's `timestamp[gte]`/`timestamp[lte]` filters are.
 */

const EVENT_SEVERITIES = ['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug'] as const;
const EVENT_STATUSES = ['success', 'failure'] as const;
const MAX_EVENT_TYPES = 50;

const eventType = z.string().regex(/^[a-z0-9_.]{1,128}$/, 'must be an event type such as "user.sign_in"');

/** The `events` object of an export's input. */
export const eventsInputSchema = z
  .object({
    ...windowInputFields,
    /** Only these event types. @default every type */
    eventTypes: z
      .array(eventType)
      .min(1)
      .max(MAX_EVENT_TYPES)
      .refine((list) => new Set(list).size === list.length, { message: 'must not repeat a type' })
      .optional(),
    severity: z.enum(EVENT_SEVERITIES).optional(),
    status: z.enum(EVENT_STATUSES).optional(),
    ...incrementalInputFields,
  })
  .strict()
  .superRefine((spec, ctx) => {
    checkWindowInput(spec, ctx);
    checkIncrementalInput(spec, ctx);
  });

/**
 * How an incremental run's window was found (Submit, from the export's watermark), and what
 * Fetch needs to drop the previous run's events and record this run's last ones.
 */
const eventsWindowStateSchema = z.object({
  /** `first`: no earlier run; `continued`: from the last run's end less the overlap; `caught-up`: capped at catchUp. */
  mode: z.enum(['first', 'continued', 'caught-up']),
  /** `caught-up`: the range no run covers. */
  skipped: z.object({ from: isoTime, to: isoTime }).optional(),
  /** `continued`: the run it continues; its overlap keys are the events to drop. */
  previous: z.object({ end: isoTime, keysKey: z.string().min(1).max(1024).optional() }).optional(),
  /** The hrefs of the events from here on are recorded for the next run. */
  tailFrom: isoTime,
});

/** A resolved events window as it travels in the workflow state. */
export const eventsRequestSchema = z.object({
  /** The relative window it was resolved from, e.g. "24h". */
  since: sinceSchema.optional(),
  startDate: isoTime,
  endDate: isoTime,
  eventTypes: z.array(eventType).max(MAX_EVENT_TYPES),
  severity: z.enum(EVENT_SEVERITIES).optional(),
  status: z.enum(EVENT_STATUSES).optional(),
  /** Present: the run continues from the export's watermark. */
  incremental: incrementalRequestSchema.optional(),
  /** Present once Submit resolved an incremental window from the watermark. */
  window: eventsWindowStateSchema.optional(),
});
export type EventsRequest = z.output<typeof eventsRequestSchema>;
