/** Explorer async traffic queries: request validation and deterministic flow records. */
import type { OrgData, PceObject } from './data';
import { hash, hashString, Rng } from './random';
import { FLOW_SERVICES } from './services';

export const MAX_TRAFFIC_RESULTS = 200_000;
export const DEFAULT_TRAFFIC_RESULTS = 100_000;
export const POLICY_DECISIONS = ['allowed', 'potentially_blocked', 'blocked', 'unknown'] as const;

/** The accepted body of `POST traffic_flows/async_queries`, normalised. */
export interface TrafficQueryParams {
  readonly query_name: string;
  readonly start_date: string;
  readonly end_date: string;
  readonly policy_decisions: readonly string[];
  readonly max_results: number;
  readonly sources: { readonly include: unknown[]; readonly exclude: unknown[] };
  readonly destinations: { readonly include: unknown[]; readonly exclude: unknown[] };
  readonly services: { readonly include: unknown[]; readonly exclude: unknown[] };
  readonly sources_destinations_query_op: 'and' | 'or';
  readonly exclude_workloads_from_ip_list_query: boolean;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function block(
  body: Record<string, unknown>,
  name: string,
  nestedInclude: boolean,
): { include: unknown[]; exclude: unknown[] } | string {
  const value = body[name];
  if (value === undefined) return { include: [], exclude: [] };
  if (!isObject(value)) return `${name} must be an object with include and exclude arrays`;
  const include = value.include ?? [];
  const exclude = value.exclude ?? [];
  if (!Array.isArray(include) || !Array.isArray(exclude))
    return `${name}.include and ${name}.exclude must be arrays`;
  if (nestedInclude && !include.every((g) => Array.isArray(g)))
    return `${name}.include must be an array of arrays (OR of ANDs)`;
  return { include, exclude };
}

/** Validates a traffic query body as the PCE would; a string explains what is wrong. */
export function parseTrafficQuery(body: unknown): TrafficQueryParams | string {
  if (!isObject(body)) return 'request body must be a JSON object';
  const { query_name, start_date, end_date, policy_decisions, max_results } = body;
  if (typeof query_name !== 'string' || query_name.trim() === '') return 'query_name is required';
  if (typeof start_date !== 'string' || Number.isNaN(Date.parse(start_date)))
    return 'start_date must be an ISO 8601 date-time';
  if (typeof end_date !== 'string' || Number.isNaN(Date.parse(end_date)))
    return 'end_date must be an ISO 8601 date-time';
  if (Date.parse(end_date) < Date.parse(start_date)) return 'end_date must not be before start_date';
  const decisions = policy_decisions ?? [];
  if (
    !Array.isArray(decisions) ||
    !decisions.every((d) => (POLICY_DECISIONS as readonly unknown[]).includes(d))
  )
    return `policy_decisions must be an array of ${POLICY_DECISIONS.join(', ')}`;
  const max = max_results ?? DEFAULT_TRAFFIC_RESULTS;
  if (typeof max !== 'number' || !Number.isInteger(max) || max < 1 || max > MAX_TRAFFIC_RESULTS)
    return `max_results must be an integer from 1 to ${MAX_TRAFFIC_RESULTS}`;
  const sources = block(body, 'sources', true);
  if (typeof sources === 'string') return sources;
  const destinations = block(body, 'destinations', true);
  if (typeof destinations === 'string') return destinations;
  const services = block(body, 'services', false);
  if (typeof services === 'string') return services;
  const op = body.sources_destinations_query_op ?? 'and';
  if (op !== 'and' && op !== 'or') return 'sources_destinations_query_op must be "and" or "or"';
  const excludeWl = body.exclude_workloads_from_ip_list_query ?? true;
  if (typeof excludeWl !== 'boolean') return 'exclude_workloads_from_ip_list_query must be a boolean';
  return {
    query_name,
    start_date,
    end_date,
    policy_decisions: decisions as string[],
    max_results: max,
    sources,
    destinations,
    services,
    sources_destinations_query_op: op,
    exclude_workloads_from_ip_list_query: excludeWl,
  };
}

const STATES = ['active', 'closed', 'closed', 'timed out', 'snapshot'] as const;

/**
 * Generates flow `index` of a query. The flows of a query depend only on the seed, the org
 * and the query parameters, so a download is byte-identical every time.
 */
export class FlowGenerator {
  private readonly base: number;
  private readonly start: number;
  private readonly span: number;
  private readonly decisions: readonly string[];
  private readonly networkHref: string;

  constructor(
    private readonly data: OrgData,
    seed: number,
    params: TrafficQueryParams,
  ) {
    this.base = hash(seed, data.org, hashString(JSON.stringify(params)));
    this.start = Date.parse(params.start_date);
    this.span = Math.max(1, Date.parse(params.end_date) - this.start);
    this.decisions = params.policy_decisions.length > 0 ? params.policy_decisions : POLICY_DECISIONS;
    this.networkHref = data.networkHref;
  }

  flow(index: number): PceObject {
    const rng = new Rng(hash(this.base, index));
    const workloads = this.data.sizes.workloads;
    const external = workloads === 0 || rng.chance(0.12);
    const srcIndex = workloads === 0 ? 0 : rng.int(workloads);
    const dstIndex = workloads === 0 ? 0 : rng.int(workloads);
    const src: PceObject = external
      ? { ip: `198.51.100.${rng.between(1, 254)}` }
      : { ip: this.data.workloads.ip(srcIndex), workload: this.data.workloads.ref(srcIndex) };
    const dst: PceObject =
      workloads === 0
        ? { ip: `10.250.${rng.int(256)}.${rng.between(1, 254)}` }
        : { ip: this.data.workloads.ip(dstIndex), workload: this.data.workloads.ref(dstIndex) };
    const service = rng.pick(FLOW_SERVICES);
    const first = this.start + Math.floor(rng.next() * this.span);
    const last = Math.min(this.start + this.span, first + rng.int(6 * 3_600_000));
    const connections = rng.chance(0.7) ? rng.between(1, 20) : rng.between(21, 5000);
    return {
      src,
      dst,
      service: { port: service.port, proto: service.proto, process_name: service.process },
      num_connections: connections,
      state: rng.pick(STATES),
      timestamp_range: {
        first_detected: new Date(first).toISOString(),
        last_detected: new Date(last).toISOString(),
      },
      dst_bi: connections * rng.between(200, 60_000),
      dst_bo: connections * rng.between(200, 400_000),
      policy_decision: rng.pick(this.decisions),
      flow_direction: 'inbound',
      transmission: 'unicast',
      network: { href: this.networkHref, name: 'Corporate' },
    };
  }
}
