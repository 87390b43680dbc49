import { isIP } from 'node:net';
import * as z from 'zod';
import { ExportConfigError } from './errors';
import {
  MAX_TOTAL_TRAFFIC_ACTORS,
  MAX_TRAFFIC_ACTORS,
  MAX_TRAFFIC_QUERY_NAME_LENGTH,
  MAX_TRAFFIC_RESULTS,
  MAX_TRAFFIC_SINCE_SECONDS,
} from './limits';
import { isoDateOrTime, isoTime } from './time';
import {
  labelKeyValue,
  servicesInputSchema,
  servicesStateSchema,
  TRANSMISSIONS,
  transmissionsSchema,
} from './traffic-filters';

/*
 * The traffic query of a traffic export, in the two forms it takes: the friendly `traffic`
 * object of the execution input, and the resolved request (absolute times, defaults filled in)
 * that travels in the workflow state.
 *
 *   {"since": "24h"}                               the 24 hours before the execution started
 *   {"start": "2026-01-01T00:00:00Z", "end": …}    an absolute range (end defaults to the start of the run)
 *   {"policyDecisions": ["blocked"], "maxResults": 50000,
 *    "sources": {"include": ["/orgs/1/labels/7", ["/orgs/1/labels/3", "/orgs/1/labels/9"]],
 *                "exclude": ["10.0.0.0/8"]}}
 *
 * An include entry is one actor or a list of actors that must all match (AND); the entries are
 * alternatives (OR), as in Explorer. Actors are label, label group, workload and IP list hrefs,
 * labels by `key=value` (resolved to their hrefs when the run starts), IP addresses and CIDR
 * blocks. Services, transmission, draft policy decisions and the IP-list toggle are in
 * `traffic-filters.ts`; how a run is split into windows and continued from the last one is set
 * by `maxQueries`, `allowPartial` and `incremental`.
 */

/** Explorer's policy decisions, in the order a split by decision goes through them. */
export const POLICY_DECISIONS = ['allowed', 'potentially_blocked', 'blocked', 'unknown'] as const;

/** The most PCE queries one traffic run may make, splits included (each window is one query). */
export const MAX_TRAFFIC_QUERIES = 1000;
const DEFAULT_TRAFFIC_QUERIES = 500;
/** The longest overlap with the previous run an incremental export may ask for. */
const MAX_OVERLAP_SECONDS = 86_400;

const DECISION_MESSAGE = `must be one of ${POLICY_DECISIONS.join(', ')}`;
const policyDecision = z.enum(POLICY_DECISIONS, { error: DECISION_MESSAGE });
const maxResults = z
  .number({ error: 'must be a number' })
  .int('must be a whole number')
  .min(1, 'must be at least 1')
  .max(MAX_TRAFFIC_RESULTS, `must be at most ${MAX_TRAFFIC_RESULTS}`);

const UNIT_SECONDS: Readonly<Record<string, number>> = { m: 60, h: 3_600, d: 86_400, w: 604_800 };
/** `word` matched in any case, without the `i` flag (which a JSON Schema pattern cannot carry). */
const anyCase = (word: string) => [...word].map((c) => `[${c.toUpperCase()}${c.toLowerCase()}]`).join('');
const UNITS = [
  `${anyCase('m')}(?:${anyCase('in')}(?:${anyCase('s')}|${anyCase('ute')}${anyCase('s')}?)?)?`,
  `${anyCase('h')}(?:${anyCase('r')}${anyCase('s')}?|${anyCase('our')}${anyCase('s')}?)?`,
  `${anyCase('d')}(?:${anyCase('ay')}${anyCase('s')}?)?`,
  `${anyCase('w')}(?:${anyCase('eek')}${anyCase('s')}?)?`,
].join('|');
/** `24h`, `last 7 days`, `90 minutes` (any case, spaces around allowed). */
const SINCE = new RegExp(String.raw`^\s*(?:${anyCase('last')}\s+)?([1-9]\d{0,5})\s*(${UNITS})\s*$`);

/** `"24h"`, `"last 7 days"`, `"90 minutes"` → `{seconds, canonical: "7d"}`; undefined if not a duration. */
export function parseSince(text: string): { seconds: number; canonical: string } | undefined {
  const match = SINCE.exec(text);
  if (!match?.[1] || !match[2]) return undefined;
  const unit = match[2].charAt(0).toLowerCase();
  const perUnit = UNIT_SECONDS[unit];
  if (perUnit === undefined) return undefined;
  const amount = Number(match[1]);
  return { seconds: amount * perUnit, canonical: `${amount}${unit}` };
}

/** What a traffic filter string stands for; `label_key_value` is resolved to a `label` href by the run. */
export type TrafficActorKind =
  | 'label'
  | 'label_group'
  | 'workload'
  | 'ip_list'
  | 'ip_address'
  | 'label_key_value';

const ORG_HREF = String.raw`\/orgs\/([1-9]\d{0,9})`;
const ACTOR_HREFS: readonly { readonly pattern: RegExp; readonly kind: TrafficActorKind }[] = [
  { pattern: new RegExp(`^${ORG_HREF}\\/labels\\/\\d{1,12}$`), kind: 'label' },
  {
    pattern: new RegExp(`^${ORG_HREF}\\/sec_policy\\/(?:active|draft)\\/label_groups\\/[A-Za-z0-9-]{1,64}$`),
    kind: 'label_group',
  },
  { pattern: new RegExp(`^${ORG_HREF}\\/workloads\\/[A-Za-z0-9-]{1,64}$`), kind: 'workload' },
  {
    pattern: new RegExp(`^${ORG_HREF}\\/sec_policy\\/(?:active|draft)\\/ip_lists\\/\\d{1,12}$`),
    kind: 'ip_list',
  },
];

/** An IPv4/IPv6 address or CIDR block. */
function isIpOrCidr(value: string): boolean {
  const slash = value.indexOf('/');
  if (slash < 0) return isIP(value) !== 0;
  const version = isIP(value.slice(0, slash));
  const bits = value.slice(slash + 1);
  if (version === 0 || !/^\d{1,3}$/.test(bits)) return false;
  return Number(bits) <= (version === 4 ? 32 : 128);
}

/** The kind of actor a filter string stands for; undefined when it is none of the accepted forms. */
export function trafficActorKind(value: string): TrafficActorKind | undefined {
  if (isIpOrCidr(value)) return 'ip_address';
  const href = ACTOR_HREFS.find(({ pattern }) => pattern.test(value))?.kind;
  if (href !== undefined) return href;
  return labelKeyValue(value) === undefined ? undefined : 'label_key_value';
}

const actorSchema = z
  .string()
  .max(256)
  .refine((value) => trafficActorKind(value) !== undefined, {
    message:
      'must be a label, label group, workload or IP list href (e.g. "/orgs/1/labels/7"), a label as key=value (e.g. "env=prod"), or an IP address or CIDR block',
  });

const ACTORS_MESSAGE = `must have at most ${MAX_TRAFFIC_ACTORS} entries`;

const filterSchema = z
  .object({
    /** Alternatives (OR); an entry that is a list matches when all its actors match (AND). */
    include: z
      .array(z.union([actorSchema, z.array(actorSchema).min(1).max(MAX_TRAFFIC_ACTORS, ACTORS_MESSAGE)]))
      .max(MAX_TRAFFIC_ACTORS, ACTORS_MESSAGE)
      .optional(),
    exclude: z.array(actorSchema).max(MAX_TRAFFIC_ACTORS, ACTORS_MESSAGE).optional(),
  })
  .strict();

export const sinceSchema = z.string().max(32).regex(SINCE, {
  message: 'must be a duration such as "24h", "last 7d" or "90m" (m, h, d or w)',
  abort: true,
});

/** A window left without `since`, `start` and `end` is the day before the execution started. */
const DEFAULT_SINCE = '24h';

/** The `since`, `start` and `end` of a window: a traffic export's range, an events export's window. */
export const windowInputFields = {
  /** A window up to the execution's start: "24h", "last 7d", "90 minutes". @default "24h" */
  since: sinceSchema
    .refine((v) => (parseSince(v)?.seconds ?? 0) <= MAX_TRAFFIC_SINCE_SECONDS, {
      message: 'must be at most 366 days',
    })
    .optional(),
  /** Absolute start; excludes `since`. */
  start: isoDateOrTime.optional(),
  /** Absolute end. @default the execution's start time */
  end: isoDateOrTime.optional(),
};

type WindowInput = { readonly since?: string; readonly start?: string; readonly end?: string };

/** Adds the issues of a window's `since`, `start` and `end` (both schemas' superRefine). */
export function checkWindowInput(spec: WindowInput, ctx: z.RefinementCtx): void {
  if (spec.since !== undefined && (spec.start !== undefined || spec.end !== undefined)) {
    ctx.addIssue({ code: 'custom', path: ['since'], message: 'cannot be combined with start or end' });
  }
  if (spec.end !== undefined && spec.start === undefined) {
    ctx.addIssue({ code: 'custom', path: ['end'], message: 'needs a start' });
  }
  if (spec.start !== undefined && spec.end !== undefined && Date.parse(spec.end) <= Date.parse(spec.start)) {
    ctx.addIssue({ code: 'custom', path: ['end'], message: 'must be after start' });
  }
}

/**
 * Resolves a validated window against `now` (the execution's start time): a relative window
 * becomes absolute, no window at all is the last 24 hours. A start that is not before the end is
 * an ExportConfigError naming the field under `root`.
 */
export function resolveWindow(
  spec: WindowInput,
  now: Date,
  root: string,
): { readonly since?: string; readonly startDate: string; readonly endDate: string } {
  if (spec.start === undefined) {
    const parsed = parseSince(spec.since ?? DEFAULT_SINCE);
    if (parsed === undefined) throw new ExportConfigError(`Invalid input: ${root}.since is not a duration`);
    return {
      since: parsed.canonical,
      startDate: new Date(now.getTime() - parsed.seconds * 1000).toISOString(),
      endDate: now.toISOString(),
    };
  }
  const start = new Date(spec.start);
  const end = spec.end === undefined ? now : new Date(spec.end);
  if (end.getTime() <= start.getTime()) {
    throw new ExportConfigError(
      spec.end === undefined
        ? `Invalid input: ${root}.start (${spec.start}) must be before the run's start time (${now.toISOString()}) when ${root}.end is left out`
        : `Invalid input: ${root}.end must be after ${root}.start`,
    );
  }
  return { startDate: start.toISOString(), endDate: end.toISOString() };
}

/** A duration of at most `maxSeconds`, e.g. the overlap or the catch-up limit of an incremental export. */
const durationAtMost = (maxSeconds: number, most: string) =>
  z
    .string()
    .max(32)
    .regex(SINCE, { message: 'must be a duration such as "10m", "2h" or "7d" (m, h, d or w)', abort: true })
    .refine((v) => (parseSince(v)?.seconds ?? 0) <= maxSeconds, { message: `must be at most ${most}` });

const DEFAULT_OVERLAP = '10m';
const DEFAULT_CATCH_UP = '7d';

/**
 * The fields that make an export incremental (a traffic export's range, an events export's
 * window): both kinds take them from here, with the same defaults and messages.
 */
export const incrementalInputFields = {
  /**
   * Start where the last successful run of this export ended, less `overlap` (its rows
   * deduplicated); the first run uses the range given. @default false (true for a scheduled
   * traffic export in the deploy configuration)
   */
  incremental: z.boolean().optional(),
  /** How far an incremental run goes back before the last run's end. @default "10m" */
  overlap: durationAtMost(MAX_OVERLAP_SECONDS, '1 day').optional(),
  /** The furthest back an incremental run reaches after missed runs. @default "7d" */
  catchUp: durationAtMost(MAX_TRAFFIC_SINCE_SECONDS, '366 days').optional(),
};

type IncrementalInput = {
  readonly end?: string;
  readonly incremental?: boolean;
  readonly overlap?: string;
  readonly catchUp?: string;
};

/** Adds the issues of `incremental`, `overlap` and `catchUp` (both kinds' superRefine). */
export function checkIncrementalInput(spec: IncrementalInput, ctx: z.RefinementCtx): void {
  if (spec.incremental === true && spec.end !== undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['end'],
      message: 'cannot be combined with incremental: each run goes up to its start',
    });
  }
  for (const field of ['overlap', 'catchUp'] as const) {
    if (spec[field] !== undefined && spec.incremental !== true) {
      ctx.addIssue({ code: 'custom', path: [field], message: 'is only used with "incremental": true' });
    }
  }
}

/** An incremental export's settings as they travel in the workflow state. */
export const incrementalRequestSchema = z.object({
  overlapSeconds: z.number().int().min(60).max(MAX_OVERLAP_SECONDS),
  catchUpSeconds: z.number().int().min(60).max(MAX_TRAFFIC_SINCE_SECONDS),
});

/** The request's `incremental` settings, defaults filled in; nothing for an export that is not incremental. */
export function resolveIncremental(spec: IncrementalInput): {
  readonly incremental?: z.output<typeof incrementalRequestSchema>;
} {
  if (spec.incremental !== true) return {};
  const seconds = (text: string) => parseSince(text)?.seconds ?? 0;
  return {
    incremental: {
      overlapSeconds: seconds(spec.overlap ?? DEFAULT_OVERLAP),
      catchUpSeconds: seconds(spec.catchUp ?? DEFAULT_CATCH_UP),
    },
  };
}

/** The `traffic` object of an export's input: the friendly form of the query. */
export const trafficInputSchema = z
  .object({
    ...windowInputFields,
    /** @default every decision */
    policyDecisions: z
      .array(policyDecision)
      .max(POLICY_DECISIONS.length)
      .refine((list) => new Set(list).size === list.length, { message: 'must not repeat a decision' })
      .optional(),
    sources: filterSchema.optional(),
    destinations: filterSchema.optional(),
    /** Services include/exclude: ports, port ranges, protocols, process and Windows service names. */
    services: servicesInputSchema.optional(),
    /** @default every transmission */
    transmission: transmissionsSchema.optional(),
    /** Compute draft policy decisions (update_rules): rows carry `draft_policy_decision`. @default false */
    draftPolicy: z.boolean().optional(),
    /** An IP list actor matches no workload (the PCE's `exclude_workloads_from_ip_list_query`). @default true */
    excludeWorkloadsFromIpListQuery: z.boolean().optional(),
    /** Rows one query may return; a window that matches more is split. @default 100000 */
    maxResults: maxResults.optional(),
    /** The most PCE queries the run may make while splitting. @default 500 */
    maxQueries: z
      .number({ error: 'must be a number' })
      .int('must be a whole number')
      .min(1, 'must be at least 1')
      .max(MAX_TRAFFIC_QUERIES, `must be at most ${MAX_TRAFFIC_QUERIES}`)
      .optional(),
    /**
     * Succeed with `complete: false` (and the missing count) when a window cannot be split under
     * `maxResults`, instead of failing with TrafficIncomplete. @default false
     */
    allowPartial: z.boolean().optional(),
    ...incrementalInputFields,
    /** Name shown in the PCE's Explorer. @default "pce-export <exportName> <executionName>" */
    queryName: z
      .string()
      .min(1)
      .max(MAX_TRAFFIC_QUERY_NAME_LENGTH)
      // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
      .regex(/^[^\u0000-\u001f\u007f]+$/, 'must not contain control characters')
      .optional(),
  })
  .strict()
  .superRefine((spec, ctx) => {
    checkWindowInput(spec, ctx);
    checkIncrementalInput(spec, ctx);
    const actors = [spec.sources, spec.destinations]
      .flatMap((filter) => [...(filter?.include ?? []), ...(filter?.exclude ?? [])])
      .flat().length;
    if (actors > MAX_TOTAL_TRAFFIC_ACTORS) {
      ctx.addIssue({
        code: 'custom',
        path: [],
        message: `names ${actors} actors in its filters; at most ${MAX_TOTAL_TRAFFIC_ACTORS} in all`,
      });
    }
  });

const filterStateSchema = z.object({
  include: z
    .array(z.array(actorSchema).max(MAX_TRAFFIC_ACTORS, ACTORS_MESSAGE))
    .max(MAX_TRAFFIC_ACTORS, ACTORS_MESSAGE),
  exclude: z.array(actorSchema).max(MAX_TRAFFIC_ACTORS, ACTORS_MESSAGE),
});

/**
 * A resolved traffic query as it travels in the workflow state (validated again on each step).
 * Fields left at their default are left out, so that a plain query stays as small as before.
 */
export const trafficRequestSchema = z.object({
  /** The relative range it was resolved from, e.g. "24h". */
  since: sinceSchema.optional(),
  startDate: isoTime,
  endDate: isoTime,
  policyDecisions: z.array(policyDecision).max(POLICY_DECISIONS.length),
  maxResults,
  sources: filterStateSchema,
  destinations: filterStateSchema,
  queryName: z.string().min(1).max(MAX_TRAFFIC_QUERY_NAME_LENGTH).optional(),
  /** Absent: every service. */
  services: servicesStateSchema.optional(),
  /** Absent: every transmission. */
  transmission: z.array(z.enum(TRANSMISSIONS)).min(1).max(TRANSMISSIONS.length).optional(),
  /** Present and true: rows carry draft policy decisions. */
  draftPolicy: z.literal(true).optional(),
  /** Present and false: IP list actors match workloads too. */
  excludeWorkloadsFromIpListQuery: z.literal(false).optional(),
  maxQueries: z.number().int().min(1).max(MAX_TRAFFIC_QUERIES).optional(),
  allowPartial: z.literal(true).optional(),
  /** Present: the run continues from the export's watermark. */
  incremental: incrementalRequestSchema.optional(),
});

/** The most queries a run makes when the request does not say. */
export function maxQueriesOf(request: Pick<TrafficRequest, 'maxQueries'>): number {
  return request.maxQueries ?? DEFAULT_TRAFFIC_QUERIES;
}

/** The traffic query of an export request: absolute times, defaults filled in. */
export type TrafficRequest = z.output<typeof trafficRequestSchema>;
