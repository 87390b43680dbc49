import { z } from 'zod';

/*
 * The optional parts of the deploy configuration that serve analysts and other workflows:
 * `events`, `glue`, `snapshots` and `exampleParent`. `lib/config.ts` includes them.
 */

const EVENT_BUS_NAME = /^[A-Za-z0-9._-]{1,256}$/;
const EVENT_BUS_ARN = /^arn:aws[a-z-]*:events:[a-z0-9-]+:\d{12}:event-bus\/[A-Za-z0-9._-]{1,256}$/;

/** Where the "Export Succeeded" / "Export Failed" events go. */
export const eventsConfigSchema = z
  .object({
    /** Name of a bus in this account and region, or the ARN of any bus. @default the default bus */
    bus: z
      .string()
      .refine((bus) => EVENT_BUS_NAME.test(bus) || EVENT_BUS_ARN.test(bus), {
        message: 'must be an event bus name (letters, digits, ".", "_", "-") or an event bus ARN',
      })
      .optional(),
  })
  .strict();

export type EventsConfig = z.output<typeof eventsConfigSchema>;

/** The Glue database (and its tables, one per ndjson export) Athena queries. */
export const glueConfigSchema = z
  .object({
    /** Database name, e.g. `pce`: queries then read `pce.workloads`. */
    database: z
      .string()
      .regex(
        /^[a-z0-9_]{1,255}$/,
        'must be lowercase letters, digits and "_" (the names Athena queries without quoting)',
      ),
  })
  .strict();

export type GlueConfig = z.output<typeof glueConfigSchema>;
