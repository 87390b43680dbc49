import * as z from 'zod';
import { exportNameSchema } from '../lambdas/contracts/input';
import { MAX_SNAPSHOT_MEMBERS } from '../lambdas/contracts/limits';

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

/**
 * One configured snapshot: several configured exports into one dated folder with one manifest,
 * started by `{"snapshot": {"name": …}}` or by its schedule. `schedule` is the same schema as an
 * export's (passed in, to keep this module free of config.ts).
 */
export function snapshotConfigSchema<S extends z.ZodType>(schedule: S) {
  return z
    .object({
      name: exportNameSchema,
      /** Names of configured exports, in the order the manifest lists them. */
      exports: z.array(z.string()).min(1).max(MAX_SNAPSHOT_MEMBERS),
      schedule: schedule.optional(),
    })
    .strict();
}

/** The folder below the prefix that snapshots are written to; no export may be named so. */
const RESERVED_EXPORT_NAME = 'snapshots';

interface AnalyticsConfigView {
  readonly exports: readonly { readonly name: string; readonly format?: string }[];
  readonly snapshots?: readonly { readonly name: string; readonly exports: readonly string[] }[];
}

/**
 * Checks across fields: snapshot members name configured exports (once each), snapshot names
 * are unique, and no export takes the snapshots folder's name.
 */
export function checkAnalyticsConfig(config: AnalyticsConfigView, ctx: z.RefinementCtx): void {
  const exportNames = new Set(config.exports.map((entry) => entry.name));
  config.exports.forEach((entry, index) => {
    if (entry.name === RESERVED_EXPORT_NAME) {
      ctx.addIssue({
        code: 'custom',
        path: ['exports', index, 'name'],
        message: `"${RESERVED_EXPORT_NAME}" is reserved: snapshots are written below {prefix}${RESERVED_EXPORT_NAME}/`,
      });
    }
  });
  const seen = new Map<string, number>();
  (config.snapshots ?? []).forEach((snapshot, index) => {
    const first = seen.get(snapshot.name);
    if (first !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['snapshots', index, 'name'],
        message: `"${snapshot.name}" is already used by snapshots[${first}]; snapshot names must be unique`,
      });
    }
    seen.set(snapshot.name, index);
    snapshot.exports.forEach((member, position) => {
      const path = ['snapshots', index, 'exports', position];
      if (!exportNames.has(member)) {
        ctx.addIssue({ code: 'custom', path, message: `names export "${member}", which is not configured` });
      } else if (snapshot.exports.indexOf(member) !== position) {
        ctx.addIssue({ code: 'custom', path, message: `repeats export "${member}"` });
      }
    });
  });
}
