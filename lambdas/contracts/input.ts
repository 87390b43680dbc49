import * as z from 'zod';
import { changesInputSchema } from './changes';
import { eventsInputSchema } from './events';
import { MAX_QUERY_PARAMETERS, MAX_SNAPSHOT_MEMBERS, MAX_WAIT_SECONDS_LIMIT } from './limits';
import {
  COLLECTION_PATH,
  EXPORT_NAME,
  EXPORT_NAME_RULE,
  HREF_ID,
  NO_DOT_DOT_SEGMENT,
  PCE_NAME,
  PCE_NAME_RULE,
  QUERY_KEY,
  QUERY_VALUE,
} from './patterns';
import { trafficInputSchema } from './traffic';

/*
 * The execution input (PRODUCT.md 3.3): one export, or a snapshot of several. Submit and the
 * snapshot step validate with these schemas, the deploy configuration builds on them, and
 * `schema/` publishes them as JSON Schema and TypeScript types.
 */

/** What an export exports; each kind has its own async job on the PCE (`lambdas/export/kinds.ts`). */
export const EXPORT_KINDS = ['collection', 'traffic', 'events'] as const;
export type ExportKind = (typeof EXPORT_KINDS)[number];

export const OUTPUT_FORMATS = ['raw', 'ndjson', 'parquet'] as const;
/**
 * `raw` is the PCE's JSON array byte for byte, `ndjson` one object per line, `parquet` one row per
 * object in typed columns (`lambdas/export/formats/`).
 */
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** An export name, as the input and the configuration give it. */
export const exportNameSchema = z.string().regex(EXPORT_NAME, `must be ${EXPORT_NAME_RULE}`);

/** The name of one PCE of a deployment with several. */
export const pceNameSchema = z.string().regex(PCE_NAME, PCE_NAME_RULE);

/** An org-relative collection path, with a message that says what is wrong with a `/orgs/...` or one object's path. */
export const collectionPathSchema = z
  .string()
  .max(256)
  .regex(COLLECTION_PATH, {
    error: (issue) => {
      const path = typeof issue.input === 'string' ? issue.input : '';
      if (/^\/orgs(?:\/|$)/.test(path))
        return 'is relative to the org: use "/workloads", not "/orgs/1/workloads"';
      const [, collection = '', id = ''] = /^(.*)\/([^/]+)$/.exec(path) ?? [];
      return COLLECTION_PATH.test(collection) && HREF_ID.test(id)
        ? `names one object, not a collection: export "${collection}" with a query to filter it`
        : 'must be an org-relative collection path such as "/workloads"';
    },
  });

export const queryKeySchema = z
  .string()
  .regex(QUERY_KEY, 'query keys are letters, digits, "_", "." and "[]"');

/** A query value as the PCE receives it (text). */
export const queryTextSchema = z
  .string()
  .regex(QUERY_VALUE, 'must not contain control characters, "?" or "#"')
  .regex(NO_DOT_DOT_SEGMENT, 'must not contain ".." path traversal');

const queryValue = z.union([queryTextSchema, z.number(), z.boolean()]).transform((v) => String(v));

export const exportInputSchema = z
  .object({
    exportName: exportNameSchema.optional(),
    /** Which PCE, in a deployment with several: required there, and must be the state machine's own. */
    pce: pceNameSchema.optional(),
    /** @default 'collection' */
    kind: z.enum(EXPORT_KINDS).optional(),
    path: collectionPathSchema.optional(),
    query: z
      .record(queryKeySchema, queryValue)
      .refine((q) => Object.keys(q).length <= MAX_QUERY_PARAMETERS, {
        message: `at most ${MAX_QUERY_PARAMETERS} query parameters`,
      })
      .optional(),
    format: z.enum(OUTPUT_FORMATS).optional(),
    gzip: z.boolean().optional(),
    maxWaitSeconds: z.number().int().min(1).max(MAX_WAIT_SECONDS_LIMIT).optional(),
    /** The Explorer query of a traffic export. */
    traffic: trafficInputSchema.optional(),
    /** The window and filters of an events export. */
    events: eventsInputSchema.optional(),
    /** Also write what changed since the previous successful run (collections). @default false */
    changes: changesInputSchema.optional(),
  })
  .strict();

/** One export's execution input, as a caller writes it. */
export type ExportInput = z.input<typeof exportInputSchema>;

/** A snapshot member: the name of a configured export, or an export input as a single execution takes it. */
export const snapshotMemberSchema = z.union([exportNameSchema, exportInputSchema]);

export const snapshotInputSchema = z
  .object({
    snapshot: z
      .object({
        /** Names the folder; a configured snapshot of that name supplies `exports`. */
        name: exportNameSchema,
        /** Default: the configured snapshot's exports. */
        exports: z.array(snapshotMemberSchema).min(1).max(MAX_SNAPSHOT_MEMBERS).optional(),
      })
      .strict(),
    /** Which PCE, in a deployment with several (as for one export). */
    pce: pceNameSchema.optional(),
  })
  .strict();

export type SnapshotMember = z.input<typeof snapshotMemberSchema>;

/** Every input an execution accepts. */
export const executionInputSchema = z.union([exportInputSchema, snapshotInputSchema]);
