import * as z from 'zod';

/*
 * One ISO 8601 time: a date, a time of day and its zone (`2026-03-04T05:06:07.890Z`,
 * `2026-03-04T06:06+01:00`). The workflow state, the outputs and the traffic query all use it;
 * a traffic range may also give a date alone.
 */

const DATE = String.raw`\d{4}-\d{2}-\d{2}`;
const TIME = String.raw`T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})`;
const ISO_TIME = new RegExp(`^${DATE}${TIME}$`);
const ISO_DATE_OR_TIME = new RegExp(`^${DATE}(?:${TIME})?$`);

const ISO_TIME_RULE = 'must be an ISO 8601 time with its zone, e.g. "2026-01-31T00:00:00Z"';

const ISO_DATE_OR_TIME_RULE =
  'must be an ISO 8601 date, or a time with its zone, e.g. "2026-01-31T00:00:00Z"';

const parses = (value: string) => !Number.isNaN(Date.parse(value));

/** An ISO 8601 time with its zone. */
export const isoTime = z
  .string()
  .max(64)
  .regex(ISO_TIME, { message: ISO_TIME_RULE, abort: true })
  .refine(parses, { message: ISO_TIME_RULE })
  .meta({ format: 'date-time' });

/** An ISO 8601 date, or a time with its zone (where a whole day is a sensible bound). */
export const isoDateOrTime = z
  .string()
  .max(64)
  .regex(ISO_DATE_OR_TIME, { message: ISO_DATE_OR_TIME_RULE, abort: true })
  .refine(parses, { message: ISO_DATE_OR_TIME_RULE });
