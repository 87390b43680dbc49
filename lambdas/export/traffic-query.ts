import type { z } from 'zod';
import { ExportConfigError } from '../contracts/errors';
import { MAX_TRAFFIC_QUERY_NAME_LENGTH } from '../contracts/limits';
import {
  resolveIncremental,
  resolveWindow,
  type TrafficRequest,
  trafficActorKind,
  type trafficInputSchema,
} from '../contracts/traffic';
import { resolveServices, TRANSMISSIONS, type TrafficService } from '../contracts/traffic-filters';
import type { TrafficActor, TrafficQueryBody, TrafficServiceFilter } from '../pce/types';

/*
 * A traffic export's query: the friendly `traffic` input (lambdas/contracts/traffic.ts) resolved
 * against the run's start time, and the body of POST traffic_flows/async_queries built from it.
 */

const DEFAULT_TRAFFIC_RESULTS = 100_000;

/** The PCE actor a filter string stands for; undefined when it is none of the accepted forms. */
export function trafficActor(value: string): TrafficActor | undefined {
  switch (trafficActorKind(value)) {
    case 'ip_address':
      return { ip_address: value };
    case 'label':
      return { label: { href: value } };
    case 'label_group':
      return { label_group: { href: value } };
    case 'workload':
      return { workload: { href: value } };
    case 'ip_list':
      return { ip_list: { href: value } };
    default:
      return undefined;
  }
}

type TrafficFilterInput = NonNullable<z.output<typeof trafficInputSchema>['sources']>;

function resolveFilter(filter: TrafficFilterInput | undefined): TrafficRequest['sources'] {
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
  return {
    ...resolveWindow(spec, now, root),
    policyDecisions: spec.policyDecisions ?? [],
    maxResults: spec.maxResults ?? DEFAULT_TRAFFIC_RESULTS,
    sources: resolveFilter(spec.sources),
    destinations: resolveFilter(spec.destinations),
    ...(spec.queryName === undefined ? {} : { queryName: spec.queryName }),
    ...(spec.services === undefined ? {} : { services: resolveServices(spec.services) }),
    ...(spec.transmission === undefined ? {} : { transmission: spec.transmission }),
    ...(spec.draftPolicy === true ? { draftPolicy: true as const } : {}),
    ...(spec.excludeWorkloadsFromIpListQuery === false
      ? { excludeWorkloadsFromIpListQuery: false as const }
      : {}),
    ...(spec.maxQueries === undefined ? {} : { maxQueries: spec.maxQueries }),
    ...(spec.allowPartial === true ? { allowPartial: true as const } : {}),
    ...resolveIncremental(spec),
  };
}

export interface TrafficBodyContext {
  readonly exportName: string;
  readonly executionName: string;
  /** When given, every href in the filters must belong to this org. */
  readonly orgId?: number;
  /** The query's name, instead of the one the request or the export and execution give. */
  readonly queryName?: string;
}

/** The PCE's form of a service filter. */
function serviceFilter(service: TrafficService): TrafficServiceFilter {
  return {
    ...(service.port === undefined ? {} : { port: service.port }),
    ...(service.toPort === undefined ? {} : { to_port: service.toPort }),
    ...(service.proto === undefined ? {} : { proto: service.proto }),
    ...(service.processName === undefined ? {} : { process_name: service.processName }),
    ...(service.windowsServiceName === undefined ? {} : { windows_service_name: service.windowsServiceName }),
  };
}

/** The PCE actor of a filter string; an href of another org is an ExportConfigError naming the field. */
function checkedActor(value: string, field: string, orgId: number | undefined): TrafficActor {
  const found = trafficActor(value);
  if (found === undefined && trafficActorKind(value) === 'label_key_value') {
    throw new ExportConfigError(
      `Invalid input: ${field} names the label ${JSON.stringify(value)} by key and value, which only a traffic export run on its own resolves (not a snapshot member): give the label's href`,
    );
  }
  if (found === undefined)
    throw new ExportConfigError(`Invalid input: ${field} is not a traffic filter actor`);
  const org = /^\/orgs\/(\d+)\//.exec(value)?.[1];
  if (orgId !== undefined && org !== undefined && Number(org) !== orgId) {
    throw new ExportConfigError(
      `Invalid input: ${field} ${JSON.stringify(value)} belongs to org ${org}, not the configured org ${orgId}`,
    );
  }
  return found;
}

/**
 * Checks every actor of a traffic query before anything is sent: hrefs of the configured org,
 * addresses; a label by `key=value` is left for the run to resolve.
 */
export function checkTrafficActors(request: TrafficRequest, orgId: number | undefined): void {
  for (const side of ['sources', 'destinations'] as const) {
    const filter = request[side];
    filter.include.forEach((group, i) => {
      group.forEach((value, j) => {
        if (trafficActorKind(value) === 'label_key_value') return;
        checkedActor(value, `traffic.${side}.include[${i}]${group.length > 1 ? `[${j}]` : ''}`, orgId);
      });
    });
    filter.exclude.forEach((value, i) => {
      if (trafficActorKind(value) !== 'label_key_value')
        checkedActor(value, `traffic.${side}.exclude[${i}]`, orgId);
    });
  }
}

/**
 * The query name of an execution's traffic query, unless the input names it: the same on every
 * submit of the execution, so that a submit made again finds the query an earlier one left, and
 * different for every execution (and for every window of one, once there are several).
 */
export function trafficQueryName(context: {
  readonly exportName: string;
  readonly executionName: string;
  /** The window's id, when an execution submits one query per window. */
  readonly windowId?: string;
}): string {
  const window = context.windowId === undefined ? '' : ` ${context.windowId}`;
  return `pce-export ${context.exportName} ${context.executionName}${window}`.slice(
    0,
    MAX_TRAFFIC_QUERY_NAME_LENGTH,
  );
}

/**
 * The PCE body for a resolved traffic query. An href of another org is an ExportConfigError
 * naming the field: the PCE would refuse it, and it says the configuration is wrong.
 */
export function trafficQueryBody(request: TrafficRequest, context: TrafficBodyContext): TrafficQueryBody {
  const actor = (value: string, field: string) => checkedActor(value, field, context.orgId);
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
  const destinations = block(request.destinations, 'destinations');
  // A transmission left out of the list is excluded: the exclusions compose with any destination filter.
  const unwanted =
    request.transmission === undefined
      ? []
      : TRANSMISSIONS.filter((t) => !request.transmission?.includes(t)).map((t) => ({ transmission: t }));
  return {
    query_name: context.queryName ?? request.queryName ?? trafficQueryName(context),
    start_date: request.startDate,
    end_date: request.endDate,
    policy_decisions: [...request.policyDecisions],
    max_results: request.maxResults,
    sources: block(request.sources, 'sources'),
    destinations: { include: destinations.include, exclude: [...destinations.exclude, ...unwanted] },
    services: {
      include: (request.services?.include ?? []).map(serviceFilter),
      exclude: (request.services?.exclude ?? []).map(serviceFilter),
    },
    sources_destinations_query_op: 'and',
    exclude_workloads_from_ip_list_query: request.excludeWorkloadsFromIpListQuery ?? true,
  };
}
