import * as z from 'zod';
import { OUTPUT_FORMATS } from './input';
import { type ExecutionRef, type ExportRequest, executionSchema, workflowStateSchema } from './state';
import { isoTime } from './time';
import { MAX_TRAFFIC_QUERIES, POLICY_DECISIONS } from './traffic';

/*
 * A traffic run: one traffic export whose query is split into windows, each queried, checked for
 * truncation and downloaded by a child execution of its own, round after round until no window
 * is truncated. What travels in the state stays small whatever the number of windows: the run
 * (the resolved request and where its objects go), the windows of the current round, and, in a
 * child, its window and job. What each window found is written to S3 below the run's working
 * folder, where the split and the completion steps read it.
 */

/** Protocols a split by protocol goes through: "other" is every protocol but TCP and UDP. */
export const SPLIT_PROTOCOLS = ['tcp', 'udp', 'other'] as const;

/** Window ids: each is one query, and a partial run queries an unsplittable window once more. */
const MAX_WINDOW_ID = 2 * MAX_TRAFFIC_QUERIES;

/** One window of a run: a time range, and the other dimensions it was split by, if any. */
const windowSpecSchema = z
  .object({
    /** Unique in the run; names the window's query and its object. */
    id: z.number().int().min(0).max(MAX_WINDOW_ID),
    start: isoTime,
    end: isoTime,
    /** The window ends at the run's end: a flow that starts exactly then is its own. */
    last: z.boolean(),
    decision: z.enum(POLICY_DECISIONS).optional(),
    protocol: z.enum(SPLIT_PROTOCOLS).optional(),
    /** Ports `[from, to]`, both included (with protocol tcp or udp). */
    ports: z.tuple([z.number().int().min(0).max(65_535), z.number().int().min(0).max(65_535)]).optional(),
    /** The window it was split from, and the flows that one matched. */
    parent: z.number().int().min(0).max(MAX_WINDOW_ID).optional(),
    parentMatches: z.number().int().min(0).optional(),
    /** Store what the query returns even though it is truncated (allowPartial, the window cannot be split). */
    partial: z.literal(true).optional(),
  })
  .strict();
export type WindowSpec = z.output<typeof windowSpecSchema>;

const exportRequestSchema = workflowStateSchema.shape.export;

/** What stays the same for every window of a run. */
export const trafficRunSchema = z.object({
  export: exportRequestSchema,
  execution: executionSchema,
  /** Key of the folder the window objects go to: `{prefix}{export}/dt=…/{time}_{execution}/`. */
  folder: z.string().min(1).max(1024),
  /** Key of the run's working folder (window results, overlap keys), outside the data partitions. */
  work: z.string().min(1).max(1024),
  /** When the run was planned. */
  requestedAt: isoTime,
  /**
   * The run's one deadline, `maxWaitSeconds` after its first plan attempt: past it, a window that
   * waits for the PCE ends as PceJobTimeout and no further round starts.
   */
  deadline: isoTime,
  /** The range the run covers; its windows partition it. */
  range: z.object({ start: isoTime, end: isoTime }),
  /**
   * Which flows are the run's: a flow belongs to the window that holds its `first_detected`;
   * `before: "first-window"` gives the first window the flows that started before the range,
   * `before: "earlier-run"` leaves them to the runs before (an incremental run).
   */
  owns: z.object({ before: z.enum(['first-window', 'earlier-run']) }),
  /** An incremental run that continues a previous one: its flows in the overlap are dropped. */
  previous: z
    .object({
      end: isoTime,
      /** The previous run's overlap keys (an object in its working folder). */
      keysKey: z.string().min(1).max(1024).optional(),
    })
    .optional(),
  /** Incremental: the windows record the keys of their flows from this time on, for the next run. */
  tailFrom: isoTime.optional(),
  /** An incremental run: how its range was found, and the range no run covers after a long gap. */
  incremental: z
    .object({
      mode: z.enum(['first', 'continued', 'caught-up']),
      skipped: z.object({ from: isoTime, to: isoTime }).optional(),
    })
    .optional(),
});
export type TrafficRun = z.output<typeof trafficRunSchema>;

/** The round of windows the next Map runs. */
const trafficRoundSchema = z.object({
  number: z.number().int().min(1).max(MAX_WINDOW_ID),
  windows: z.array(windowSpecSchema).max(MAX_TRAFFIC_QUERIES),
  /** Queries of the run so far, this round's included. */
  queries: z.number().int().min(0).max(MAX_WINDOW_ID),
});
export type TrafficRound = z.output<typeof trafficRoundSchema>;

/** The parent's state between the steps of a traffic run. */
export const trafficRunStateSchema = z.object({
  run: trafficRunSchema,
  round: trafficRoundSchema,
  /** Set once no window is left to query. */
  done: z.boolean(),
});
export type TrafficRunState = z.output<typeof trafficRunStateSchema>;

const pceTroubleSchema = workflowStateSchema.shape.job.shape.unavailable.unwrap();

/** A step that could not reach the PCE: the trouble, and the wait before it is called again. */
const troubleRetrySchema = z.object({
  /** Seconds the Wait state waits before the step is called again (always ≥ 1). */
  waitSeconds: z.number().int().min(1),
  unavailable: pceTroubleSchema,
});

/** What Submit hands the traffic run for a traffic export that runs on its own. */
export const trafficRunStartSchema = z.object({
  export: exportRequestSchema,
  execution: executionSchema,
  fanOut: z.literal('traffic'),
  /** Plan could not reach the PCE (labels): the deadline its first attempt fixed, and the wait. */
  plan: troubleRetrySchema.extend({ deadline: isoTime, requestedAt: isoTime }).optional(),
});
export interface TrafficRunStart {
  readonly export: ExportRequest;
  readonly execution: ExecutionRef;
  readonly fanOut: 'traffic';
  readonly plan?: z.output<typeof trafficRunStartSchema>['plan'];
}

/** A window's query as the child execution tracks it. */
const windowJobSchema = z.object({
  href: workflowStateSchema.shape.job.shape.href,
  status: workflowStateSchema.shape.job.shape.status,
  polls: z.number().int().min(0).max(1_000_000),
  waitSeconds: z.number().int().min(1),
  requestedAt: isoTime,
  deadline: isoTime,
  timedOut: z.boolean(),
  resultHref: workflowStateSchema.shape.job.shape.resultHref,
  /** The counts the completed query reported, when it did. */
  flowsCount: z.number().int().min(0).optional(),
  matchesCount: z.number().int().min(0).optional(),
  /** update_rules was sent; the query counts as done once its rules are. */
  rulesRequested: z.literal(true).optional(),
  /** The latest poll or download could not reach the PCE; the step tries again after `waitSeconds`. */
  unavailable: pceTroubleSchema.optional(),
  /** Transient PCE failures retried so far, by step. @default none */
  retries: workflowStateSchema.shape.job.shape.retries,
});

/** The state of a window's child execution. */
export const windowStateSchema = z.object({
  run: trafficRunSchema,
  window: windowSpecSchema,
  job: windowJobSchema.optional(),
  /** The window's submit could not reach the PCE: Submit is called again after the wait, within its retry window. */
  submit: troubleRetrySchema
    .extend({
      attempts: z.number().int().min(1).max(100_000),
      firstAttemptAt: isoTime,
      windowEndsAt: isoTime,
    })
    .optional(),
  /** Set once the window's result is recorded (truncated, failed or empty): the child ends. */
  outcome: z.enum(['truncated', 'failed', 'empty', 'stored']).optional(),
});
export type WindowState = z.output<typeof windowStateSchema>;

/** What a window came to, as its child execution records it below the run's working folder. */
export const windowResultSchema = z.object({
  window: windowSpecSchema,
  status: z.enum(['stored', 'truncated', 'failed', 'empty']),
  jobHref: z.string().optional(),
  polls: z.number().int().min(0).optional(),
  flowsCount: z.number().int().min(0).optional(),
  matchesCount: z.number().int().min(0).optional(),
  /** stored: the object and what went into it. */
  key: z.string().optional(),
  bytes: z.number().int().min(0).optional(),
  sha256: z.string().optional(),
  /** Rows stored: the flows this window owns. */
  objectCount: z.number().int().min(0).optional(),
  /** Rows downloaded, and those left to another window, an earlier run or the previous run's overlap. */
  rows: z
    .object({
      downloaded: z.number().int().min(0),
      otherWindow: z.number().int().min(0),
      earlierRun: z.number().int().min(0),
      overlap: z.number().int().min(0),
    })
    .optional(),
  /** A partial window: flows the query matched and did not return. */
  missing: z.number().int().min(0).optional(),
  /** Keys of the window's flows from `run.tailFrom` on (an object beside the result). */
  tailKeysKey: z.string().optional(),
  /** failed: the error the run fails with. */
  error: z.object({ name: z.string(), message: z.string() }).optional(),
  requestedAt: isoTime.optional(),
  completedAt: isoTime,
});
export type WindowResult = z.output<typeof windowResultSchema>;

/**
 * What a successful traffic run returns (small whatever the number of windows: the windows are
 * listed in the manifest). Consumers should accept fields they do not know.
 */
const trafficOutputSchema = z.looseObject({
  exportName: z.string().min(1).meta({ description: 'Name of the export.' }),
  kind: z.literal('traffic').meta({ description: 'A traffic export run in windows.' }),
  bucket: z.string().min(3).meta({ description: 'Bucket the objects were written to.' }),
  prefix: z.string().meta({
    description: 'Key of the run folder: {prefix}{exportName}/dt=YYYY-MM-DD/{HHmmss}Z_{executionName}/',
  }),
  uri: z
    .string()
    .regex(/^s3:\/\/[^/]+\/.*\/$/)
    .meta({ description: 's3://{bucket}/{run folder}/' }),
  manifestKey: z.string().min(1).meta({
    description:
      'Key of the manifest listing every window with its range, counts, object, bytes and sha256: {prefix}{exportName}/_manifests/dt=…/…manifest.json',
  }),
  format: z.enum(OUTPUT_FORMATS),
  gzip: z.boolean(),
  bytes: z.number().int().min(0).meta({ description: 'Bytes of all window objects together.' }),
  objectCount: z.number().int().min(0).meta({ description: 'Flows stored, each once.' }),
  windows: z.number().int().min(0).meta({ description: 'Window objects in the run folder.' }),
  queries: z.number().int().min(0).meta({ description: 'Queries made on the PCE, split ones included.' }),
  complete: z.boolean().meta({
    description: 'False only with allowPartial, when a window held more flows than a query returns.',
  }),
  missingFlows: z
    .number()
    .int()
    .min(0)
    .optional()
    .meta({ description: 'With complete false: flows matched and not returned (at most this many).' }),
  skipped: z.object({ from: isoTime, to: isoTime }).optional().meta({
    description: 'An incremental run after a gap longer than its catch-up limit: the range no run covered.',
  }),
  startDate: isoTime.meta({ description: 'Start of the range the run covers.' }),
  endDate: isoTime.meta({ description: 'End of the range the run covers (included).' }),
  requestedAt: isoTime.meta({ description: 'When the run was planned (ISO 8601, UTC).' }),
  completedAt: isoTime.meta({ description: 'When the manifest was written (ISO 8601, UTC).' }),
});
type Known<T> = { [K in keyof T as string extends K ? never : K]: T[K] };
/** Output of a successful traffic run. */
export type TrafficOutput = Known<z.output<typeof trafficOutputSchema>>;
