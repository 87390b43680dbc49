import { isIP } from 'node:net';
import { z } from 'zod';
import { ExportConfigError } from '../pce/errors';
import type { TrafficActor, TrafficQueryBody } from '../pce/types';

/*
 * Friendly traffic query configuration → the body of POST traffic_flows/async_queries.
 *
 *   {"since": "24h"}                               the 24 hours before the execution started
 *   {"start": "2026-01-01T00:00:00Z", "end": …}    an absolute range (end defaults to the start of the run)
 *   {"policyDecisions": ["blocked"], "maxResults": 50000,
 *    "sources": {"include": ["/orgs/1/labels/7", ["/orgs/1/labels/3", "/orgs/1/labels/9"]],
 *                "exclude": ["10.0.0.0/8"]}}
 *
 * An include entry is one actor or a list of actors that must all match (AND); the entries are
 * alternatives (OR), as in Explorer. Actors are label, label group, workload and IP list hrefs,
 * IP addresses and CIDR blocks.
 */

export const POLICY_DECISIONS = ['allowed', 'potentially_blocked', 'blocked', 'unknown'] as const;
export type PolicyDecision = (typeof POLICY_DECISIONS)[number];
export const MAX_TRAFFIC_RESULTS = 200_000;
export const DEFAULT_TRAFFIC_RESULTS = 100_000;
export const DEFAULT_TRAFFIC_SINCE = '24h';
/** The longest relative range accepted; older flows are beyond any PCE's retention anyway. */
export const MAX_SINCE_SECONDS = 366 * 86_400;
const MAX_ACTORS = 64;
/** All filters together: keeps the query, which travels in the workflow state, well under 256 KB. */
export const MAX_TOTAL_ACTORS = 200;
const MAX_QUERY_NAME_LENGTH = 255;

const DECISION_MESSAGE = `must be one of ${POLICY_DECISIONS.join(', ')}`;
const policyDecision = z.enum(POLICY_DECISIONS, { error: DECISION_MESSAGE });
const maxResults = z
  .number({ error: 'must be a number' })
  .int('must be a whole number')
  .min(1, 'must be at least 1')
  .max(MAX_TRAFFIC_RESULTS, `must be at most ${MAX_TRAFFIC_RESULTS}`);

const UNIT_SECONDS: Readonly<Record<string, number>> = { m: 60, h: 3_600, d: 86_400, w: 604_800 };
const SINCE = /^(?:last\s+)?([1-9]\d{0,5})\s*(m|mins?|minutes?|h|hrs?|hours?|d|days?|w|weeks?)$/i;

/** `"24h"`, `"last 7 days"`, `"90 minutes"` → `{seconds, canonical: "7d"}`; undefined if not a duration. */
export function parseSince(text: string): { seconds: number; canonical: string } | undefined {
  const match = SINCE.exec(text.trim());
  if (!match?.[1] || !match[2]) return undefined;
  const unit = match[2].charAt(0).toLowerCase();
  const perUnit = UNIT_SECONDS[unit];
  if (perUnit === undefined) return undefined;
  const amount = Number(match[1]);
  return { seconds: amount * perUnit, canonical: `${amount}${unit}` };
}

const ORG_HREF = String.raw`\/orgs\/([1-9]\d{0,9})`;
const ACTOR_HREFS: readonly {
  readonly pattern: RegExp;
  readonly actor: 'label' | 'label_group' | 'workload' | 'ip_list';
}[] = [
  { pattern: new RegExp(`^${ORG_HREF}\\/labels\\/\\d{1,12}$`), actor: 'label' },
  {
    pattern: new RegExp(`^${ORG_HREF}\\/sec_policy\\/(?:active|draft)\\/label_groups\\/[A-Za-z0-9-]{1,64}$`),
    actor: 'label_group',
  },
  { pattern: new RegExp(`^${ORG_HREF}\\/workloads\\/[A-Za-z0-9-]{1,64}$`), actor: 'workload' },
  {
    pattern: new RegExp(`^${ORG_HREF}\\/sec_policy\\/(?:active|draft)\\/ip_lists\\/\\d{1,12}$`),
    actor: 'ip_list',
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

/** The PCE actor a filter string stands for; undefined when it is none of the accepted forms. */
export function trafficActor(value: string): TrafficActor | undefined {
  if (isIpOrCidr(value)) return { ip_address: value };
  for (const { pattern, actor } of ACTOR_HREFS) {
    if (!pattern.test(value)) continue;
    switch (actor) {
      case 'label':
        return { label: { href: value } };
      case 'label_group':
        return { label_group: { href: value } };
      case 'workload':
        return { workload: { href: value } };
      case 'ip_list':
        return { ip_list: { href: value } };
    }
  }
  return undefined;
}

const actorSchema = z
  .string()
  .max(256)
  .refine((value) => trafficActor(value) !== undefined, {
    message:
      'must be a label, label group, workload or IP list href (e.g. "/orgs/1/labels/7") or an IP address or CIDR block',
  });

const isoTime = z
  .string()
  .max(64)
  .refine(
    (v) => /^\d{4}-\d{2}-\d{2}(?:T[\d:.]+(?:Z|[+-]\d{2}:?\d{2}))?$/.test(v) && !Number.isNaN(Date.parse(v)),
    {
      message: 'must be an ISO 8601 date, or a time with its zone, e.g. "2026-01-31T00:00:00Z"',
    },
  );

const filterSchema = z
  .object({
    /** Alternatives (OR); an entry that is a list matches when all its actors match (AND). */
    include: z
      .array(
        z.union([
          actorSchema,
          z.array(actorSchema).min(1).max(MAX_ACTORS, `must have at most ${MAX_ACTORS} entries`),
        ]),
      )
      .max(MAX_ACTORS, `must have at most ${MAX_ACTORS} entries`)
      .optional(),
    exclude: z.array(actorSchema).max(MAX_ACTORS, `must have at most ${MAX_ACTORS} entries`).optional(),
  })
  .strict();

/** The `traffic` object of an export's input: the friendly form of the query. */
export const trafficInputSchema = z
  .object({
    /** A range relative to the execution's start: "24h", "last 7d", "90 minutes". */
    since: z
      .string()
      .max(32)
      .refine((v) => parseSince(v) !== undefined, {
        message: 'must be a duration such as "24h", "last 7d" or "90m" (m, h, d or w)',
      })
      .refine((v) => (parseSince(v)?.seconds ?? 0) <= MAX_SINCE_SECONDS, {
        message: 'must be at most 366 days',
      })
      .optional(),
    /** Absolute start; excludes `since`. */
    start: isoTime.optional(),
    /** Absolute end. @default the execution's start time */
    end: isoTime.optional(),
    /** @default every decision */
    policyDecisions: z
      .array(policyDecision)
      .max(POLICY_DECISIONS.length)
      .refine((list) => new Set(list).size === list.length, { message: 'must not repeat a decision' })
      .optional(),
    sources: filterSchema.optional(),
    destinations: filterSchema.optional(),
    /** @default 100000 */
    maxResults: maxResults.optional(),
    /** Name shown in the PCE's Explorer. @default "pce-export <exportName> <executionName>" */
    queryName: z
      .string()
      .min(1)
      .max(MAX_QUERY_NAME_LENGTH)
      // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
      .regex(/^[^\u0000-\u001f\u007f]+$/, 'must not contain control characters')
      .optional(),
  })
  .strict()
  .superRefine((spec, ctx) => {
    if (spec.since !== undefined && (spec.start !== undefined || spec.end !== undefined)) {
      ctx.addIssue({ code: 'custom', path: ['since'], message: 'cannot be combined with start or end' });
    }
    if (spec.end !== undefined && spec.start === undefined) {
      ctx.addIssue({ code: 'custom', path: ['end'], message: 'needs a start' });
    }
    if (
      spec.start !== undefined &&
      spec.end !== undefined &&
      Date.parse(spec.end) <= Date.parse(spec.start)
    ) {
      ctx.addIssue({ code: 'custom', path: ['end'], message: 'must be after start' });
    }
    const actors = [spec.sources, spec.destinations]
      .flatMap((filter) => [...(filter?.include ?? []), ...(filter?.exclude ?? [])])
      .flat().length;
    if (actors > MAX_TOTAL_ACTORS) {
      ctx.addIssue({
        code: 'custom',
        path: [],
        message: `names ${actors} actors in its filters; at most ${MAX_TOTAL_ACTORS} in all`,
      });
    }
  });

export type TrafficInput = z.input<typeof trafficInputSchema>;

const filterStateSchema = z.object({
  include: z
    .array(z.array(actorSchema).max(MAX_ACTORS, `must have at most ${MAX_ACTORS} entries`))
    .max(MAX_ACTORS, `must have at most ${MAX_ACTORS} entries`),
  exclude: z.array(actorSchema).max(MAX_ACTORS, `must have at most ${MAX_ACTORS} entries`),
});

/** A resolved traffic query as it travels in the workflow state (validated again on each step). */
export const trafficRequestSchema = z.object({
  /** The relative range it was resolved from, e.g. "24h". */
  since: z
    .string()
    .max(32)
    .refine((v) => parseSince(v) !== undefined, { message: 'must be a duration such as "24h"' })
    .optional(),
  startDate: isoTime,
  endDate: isoTime,
  policyDecisions: z.array(policyDecision).max(POLICY_DECISIONS.length),
  maxResults,
  sources: filterStateSchema,
  destinations: filterStateSchema,
  queryName: z.string().min(1).max(MAX_QUERY_NAME_LENGTH).optional(),
});

/** The traffic query of an ExportRequest: absolute times, defaults filled in. */
export type TrafficRequest = z.output<typeof trafficRequestSchema>;

function resolveFilter(filter: z.output<typeof filterSchema> | undefined): TrafficRequest['sources'] {
  return {
    include: (filter?.include ?? []).map((entry) => (typeof entry === 'string' ? [entry] : entry)),
    exclude: filter?.exclude ?? [],
  };
}

/**
 * Resolves a validated `traffic` input against `now` (the execution's start time): a relative
 * range becomes absolute, defaults are filled in. No range at all means the last 24 hours.
 * A start that is not before the end is an ExportConfigError naming the field.
 */
export function resolveTrafficQuery(
  spec: z.output<typeof trafficInputSchema>,
  now: Date,
  root = 'input.traffic',
): TrafficRequest {
  let since: string | undefined;
  let start: Date;
  let end: Date;
  if (spec.start === undefined) {
    const parsed = parseSince(spec.since ?? DEFAULT_TRAFFIC_SINCE);
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
    policyDecisions: spec.policyDecisions ?? [],
    maxResults: spec.maxResults ?? DEFAULT_TRAFFIC_RESULTS,
    sources: resolveFilter(spec.sources),
    destinations: resolveFilter(spec.destinations),
    ...(spec.queryName === undefined ? {} : { queryName: spec.queryName }),
  };
}

export interface TrafficBodyContext {
  readonly exportName: string;
  readonly executionName: string;
  /** When given, every href in the filters must belong to this org. */
  readonly orgId?: number;
}

/**
 * The PCE body for a resolved traffic query. An href of another org is an ExportConfigError
 * naming the field: the PCE would refuse it, and it says the configuration is wrong.
 */
export function trafficQueryBody(request: TrafficRequest, context: TrafficBodyContext): TrafficQueryBody {
  const actor = (value: string, field: string): TrafficActor => {
    const found = trafficActor(value);
    if (found === undefined)
      throw new ExportConfigError(`Invalid input: ${field} is not a traffic filter actor`);
    const org = /^\/orgs\/(\d+)\//.exec(value)?.[1];
    if (context.orgId !== undefined && org !== undefined && Number(org) !== context.orgId) {
      throw new ExportConfigError(
        `Invalid input: ${field} ${JSON.stringify(value)} belongs to org ${org}, not the configured org ${context.orgId}`,
      );
    }
    return found;
  };
  const block = (filter: TrafficRequest['sources'], side: 'sources' | 'destinations') => ({
    include:
      filter.include.length === 0
        ? [[]]
        : filter.include.map((group, i) =>
            group.map((value, j) =>
              actor(value, `traffic.${side}.include[${i}]${group.length > 1 ? `[${j}]` : ''}`),
            ),
          ),
    exclude: filter.exclude.map((value, i) => actor(value, `traffic.${side}.exclude[${i}]`)),
  });
  const name = request.queryName ?? `pce-export ${context.exportName} ${context.executionName}`;
  return {
    query_name: name.slice(0, MAX_QUERY_NAME_LENGTH),
    start_date: request.startDate,
    end_date: request.endDate,
    policy_decisions: [...request.policyDecisions],
    max_results: request.maxResults,
    sources: block(request.sources, 'sources'),
    destinations: block(request.destinations, 'destinations'),
    services: { include: [], exclude: [] },
    sources_destinations_query_op: 'and',
    exclude_workloads_from_ip_list_query: true,
  };
}
