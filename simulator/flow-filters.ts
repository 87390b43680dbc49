/**
 * The filters of an Explorer query, checked against the org's objects and turned into one
 * predicate over flows: sources and destinations (include is an OR of ANDs, exclude drops a flow
 * when any entry matches), services, policy decisions, transmission, the IP-list toggle and the
 * operator between sources and destinations. A filter that names something wrong is a message.
 */
import { isIPv6 } from 'node:net';
import type { OrgData } from './data';
import type { FlowCore, FlowPopulation } from './flow-population';
import { TRANSMISSIONS } from './flow-population';
import { cidrRange, inRanges, ipListRanges } from './ipv4';
import { POLICY_DECISIONS, type TrafficQueryParams } from './traffic';

export type FlowMatcher = (c: FlowCore) => boolean;

export interface CompiledFilters {
  readonly matches: FlowMatcher;
  /** Nothing but policy decisions is filtered on (a flow's times and decision are enough). */
  readonly decisionsOnly: boolean;
}
type EndpointTest = (wl: number, ip: number, c: FlowCore) => boolean;
type Side = 'sources' | 'destinations';

const ACTOR_KINDS = 'label, label_group, workload, ip_list, ip_address, actors or transmission';
const SERVICE_KEYS = new Set(['port', 'to_port', 'proto', 'process_name', 'windows_service_name']);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isInt(v: unknown, min: number, max: number): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
}

class Compiler {
  constructor(
    private readonly data: OrgData,
    private readonly population: FlowPopulation,
    private readonly excludeWorkloadsFromIpLists: boolean,
  ) {}

  private href(value: unknown, path: string): string | { error: string } {
    if (isObject(value) && typeof value.href === 'string') return value.href;
    return { error: `${path} must be an object with an href` };
  }

  actor(value: unknown, path: string, side: Side): EndpointTest | string {
    if (!isObject(value) || Object.keys(value).length !== 1)
      return `${path} must be an object with exactly one of ${ACTOR_KINDS}`;
    const [kind = '', spec] = Object.entries(value)[0] ?? [];
    const facts = this.population.facts;
    const { data } = this;
    const org = data.org;
    if (kind === 'label' || kind === 'label_group' || kind === 'workload' || kind === 'ip_list') {
      const href = this.href(spec, `${path}.${kind}`);
      if (typeof href !== 'string') return href.error;
      const missing = `${path}.${kind}: ${href} is no ${kind.replace('_', ' ')} of org ${org}`;
      if (kind === 'label') {
        const label = data.labels.indexFromHref(href);
        if (label === undefined) return missing;
        return (wl) => wl >= 0 && facts.hasLabel(wl, label);
      }
      if (kind === 'label_group') {
        const group = data.policy.labelGroupIndexFromHref(href);
        if (group === undefined) return missing;
        const members = data.policy.labelGroupMembers(group);
        return (wl) => wl >= 0 && members.some((l) => facts.hasLabel(wl, l));
      }
      if (kind === 'workload') {
        const workload = data.workloads.indexFromHref(href);
        if (workload === undefined) return missing;
        return (wl) => wl === workload;
      }
      const list = data.policy.ipListIndexFromHref(href);
      if (list === undefined) return missing;
      const { included, excluded } = ipListRanges(data.policy.ipListRanges(list));
      const skipWorkloads = this.excludeWorkloadsFromIpLists;
      return (wl, ip) => (!skipWorkloads || wl < 0) && inRanges(ip, included) && !inRanges(ip, excluded);
    }
    if (kind === 'ip_address') {
      const text = typeof spec === 'string' ? spec : isObject(spec) ? spec.value : undefined;
      const bad = `${path}.ip_address must be an IP address or CIDR block (a string, or {"value": …})`;
      if (typeof text !== 'string') return bad;
      const range = cidrRange(text);
      if (range !== undefined) return (_wl, ip) => ip >= range.from && ip <= range.to;
      // Flows here are IPv4: an IPv6 filter is valid and matches none of them.
      return isIPv6(text.split('/')[0] ?? '') ? () => false : `${bad}, got ${JSON.stringify(text)}`;
    }
    if (kind === 'actors') {
      if (spec !== 'ams') return `${path}.actors must be "ams" (all managed workloads)`;
      return (wl) => wl >= 0 && facts.managed(wl);
    }
    if (kind === 'transmission') {
      if (side !== 'destinations') return `${path}: transmission filters belong in destinations`;
      const t = TRANSMISSIONS.indexOf(spec as (typeof TRANSMISSIONS)[number]);
      if (t < 0) return `${path}.transmission must be one of ${TRANSMISSIONS.join(', ')}`;
      return (_wl, _ip, c) => c.transmission === t;
    }
    return `${path}: unknown actor ${JSON.stringify(kind)}; use one of ${ACTOR_KINDS}`;
  }

  side(
    block: TrafficQueryParams['sources'],
    side: Side,
  ): { groups: EndpointTest[][]; exclude: EndpointTest[]; specified: boolean } | string {
    const groups: EndpointTest[][] = [];
    for (const [g, group] of block.include.entries()) {
      const tests: EndpointTest[] = [];
      for (const [a, entry] of (group as unknown[]).entries()) {
        const test = this.actor(entry, `${side}.include[${g}][${a}]`, side);
        if (typeof test === 'string') return test;
        tests.push(test);
      }
      groups.push(tests);
    }
    const exclude: EndpointTest[] = [];
    for (const [a, entry] of block.exclude.entries()) {
      const test = this.actor(entry, `${side}.exclude[${a}]`, side);
      if (typeof test === 'string') return test;
      exclude.push(test);
    }
    return { groups, exclude, specified: groups.some((g) => g.length > 0) };
  }

  service(value: unknown, path: string): FlowMatcher | string {
    if (!isObject(value)) return `${path} must be an object such as {"port": 443, "proto": 6}`;
    const unknown = Object.keys(value).find((k) => !SERVICE_KEYS.has(k));
    if (unknown !== undefined)
      return `${path}.${unknown} is not a service filter field (port, to_port, proto, process_name, windows_service_name)`;
    const { port, to_port, proto, process_name, windows_service_name } = value;
    const tests: FlowMatcher[] = [];
    if (port !== undefined) {
      if (!isInt(port, 0, 65_535)) return `${path}.port must be an integer from 0 to 65535`;
      if (to_port === undefined) tests.push((c) => c.port === port);
      else {
        if (!isInt(to_port, port, 65_535))
          return `${path}.to_port must be an integer from port (${port}) to 65535`;
        tests.push((c) => c.port >= port && c.port <= to_port);
      }
    } else if (to_port !== undefined) return `${path}.to_port needs a port`;
    if (proto !== undefined) {
      if (!isInt(proto, 0, 255)) return `${path}.proto must be an IANA protocol number from 0 to 255`;
      tests.push((c) => c.proto === proto);
    }
    const named = (name: unknown, field: string, of: (c: FlowCore) => string | undefined) => {
      if (typeof name !== 'string' || name === '') return `${path}.${field} must be a non-empty string`;
      const wanted = name.toLowerCase();
      tests.push((c) => of(c)?.toLowerCase() === wanted);
      return undefined;
    };
    const pop = this.population;
    if (process_name !== undefined) {
      const problem = named(process_name, 'process_name', (c) => pop.processOf(c));
      if (problem) return problem;
    }
    if (windows_service_name !== undefined) {
      const problem = named(windows_service_name, 'windows_service_name', (c) => pop.windowsServiceOf(c));
      if (problem) return problem;
    }
    if (tests.length === 0) return `${path} must give port, proto, process_name or windows_service_name`;
    return (c) => tests.every((t) => t(c));
  }

  services(list: readonly unknown[], path: string): FlowMatcher[] | string {
    const out: FlowMatcher[] = [];
    for (const [i, entry] of list.entries()) {
      const test = this.service(entry, `${path}[${i}]`);
      if (typeof test === 'string') return test;
      out.push(test);
    }
    return out;
  }
}

/** The query's filters as one predicate, or what is wrong with them. */
export function compileFilters(
  params: TrafficQueryParams,
  data: OrgData,
  population: FlowPopulation,
): CompiledFilters | string {
  const compiler = new Compiler(data, population, params.exclude_workloads_from_ip_list_query);
  const src = compiler.side(params.sources, 'sources');
  if (typeof src === 'string') return src;
  const dst = compiler.side(params.destinations, 'destinations');
  if (typeof dst === 'string') return dst;
  const include = compiler.services(params.services.include, 'services.include');
  if (typeof include === 'string') return include;
  const exclude = compiler.services(params.services.exclude, 'services.exclude');
  if (typeof exclude === 'string') return exclude;
  let decisions = 0;
  for (const d of params.policy_decisions)
    decisions |= 1 << POLICY_DECISIONS.indexOf(d as (typeof POLICY_DECISIONS)[number]);
  if (decisions === 0) decisions = (1 << POLICY_DECISIONS.length) - 1;
  const or = params.sources_destinations_query_op === 'or';
  const srcMatch = (c: FlowCore) => src.groups.some((g) => g.every((t) => t(c.srcWl, c.srcIp, c)));
  const dstMatch = (c: FlowCore) => dst.groups.some((g) => g.every((t) => t(c.dstWl, c.dstIp, c)));
  const decisionsOnly =
    include.length === 0 &&
    exclude.length === 0 &&
    src.exclude.length === 0 &&
    dst.exclude.length === 0 &&
    !src.specified &&
    !dst.specified;
  if (decisionsOnly) return { decisionsOnly, matches: (c) => (decisions & (1 << c.decision)) !== 0 };
  const matches: FlowMatcher = (c) => {
    if ((decisions & (1 << c.decision)) === 0) return false;
    if (include.length > 0 && !include.some((t) => t(c))) return false;
    for (const t of exclude) if (t(c)) return false;
    for (const t of src.exclude) if (t(c.srcWl, c.srcIp, c)) return false;
    for (const t of dst.exclude) if (t(c.dstWl, c.dstIp, c)) return false;
    if (or) {
      if (!src.specified && !dst.specified) return true;
      return (src.specified && srcMatch(c)) || (dst.specified && dstMatch(c));
    }
    return (!src.specified || srcMatch(c)) && (!dst.specified || dstMatch(c));
  };
  return { decisionsOnly, matches };
}
