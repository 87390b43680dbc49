import { POLICY_DECISIONS, type TrafficRequest } from '../../contracts/traffic';
import type { TrafficService, TrafficServices } from '../../contracts/traffic-filters';
import { SPLIT_PROTOCOLS, type WindowSpec } from '../../contracts/traffic-run';

/*
 * How a traffic run is split into windows: pure functions over window specs.
 *
 * A window is a time range and, once time cannot be split any further, other dimensions that
 * partition its flows exactly: one policy decision, one protocol (TCP, UDP or every other), one
 * port range. A truncated window is replaced by its parts:
 *
 * - in time first: ceil(matches / (0.8 × max_results)) equal slices (at least 2, and 16 when
 *   the previous split left most of the flows in this one slice: a burst), never shorter than a
 *   minute;
 * - then by policy decision (those the query asks for), then by protocol, then by halving the
 *   port range of TCP or UDP, each combined with the user's own filters so that the parts'
 *   queries together ask for exactly what the window's query asked for.
 *
 * A window that is none of these ways splittable cannot be split further.
 */

/** The shortest time slice a split makes. */
export const MIN_SLICE_MS = 60_000;
/** Slices aim at this share of max_results, so that a slice a little denser than average still fits. */
const FILL = 0.8;
/** Slices of a window that kept most of its parent's flows: the flows are bunched, cut finer. */
const CONCENTRATED_SLICES = 16;
/** A slice holding more than this share of its parent's matches counts as concentrated. */
const CONCENTRATION = 0.5;

const PROTOCOL_NUMBER = { tcp: 6, udp: 17 } as const;

/** The counts a completed query reported (or, without them, the rows it returned). */
export interface QueryCounts {
  readonly flowsCount?: number;
  readonly matchesCount?: number;
}

/** Truncated: fewer rows than matches, or as many rows as the query could return. */
export function isTruncated(counts: QueryCounts, maxResults: number): boolean {
  const { flowsCount, matchesCount } = counts;
  if (flowsCount === undefined) return false;
  return (matchesCount !== undefined && flowsCount < matchesCount) || flowsCount >= maxResults;
}

/** The policy decisions a window's query asks for (empty: every decision). */
function windowDecisions(request: TrafficRequest, window: WindowSpec): TrafficRequest['policyDecisions'] {
  return window.decision === undefined ? request.policyDecisions : [window.decision];
}

type Range = readonly [number, number];

/** The ports an entry stands for (`undefined`: any port). */
function entryPorts(entry: TrafficService): Range | undefined {
  return entry.port === undefined ? undefined : [entry.port, entry.toPort ?? entry.port];
}

/** One entry narrowed to a protocol and port range; undefined when the two contradict. */
function narrow(entry: TrafficService, proto: number, ports: Range | undefined): TrafficService | undefined {
  if (entry.proto !== undefined && entry.proto !== proto) return undefined;
  const own = entryPorts(entry);
  let range = own;
  if (ports !== undefined) {
    range = own === undefined ? ports : [Math.max(own[0], ports[0]), Math.min(own[1], ports[1])];
    if (range[0] > range[1]) return undefined;
  }
  const { port: _port, toPort: _toPort, ...names } = entry;
  return {
    ...names,
    proto,
    ...(range === undefined
      ? {}
      : { port: range[0], ...(range[1] === range[0] ? {} : { toPort: range[1] }) }),
  };
}

/**
 * The services filter of a window's query: the user's, narrowed to the window's protocol and
 * ports. Undefined when nothing can match (every include entry contradicts the window).
 */
export function windowServices(
  services: TrafficServices | undefined,
  window: Pick<WindowSpec, 'protocol' | 'ports'>,
): TrafficServices | undefined {
  const include = services?.include ?? [];
  const exclude = services?.exclude ?? [];
  if (window.protocol === undefined) return { include: [...include], exclude: [...exclude] };
  if (window.protocol === 'other') {
    const kept = include.filter((entry) => entry.proto !== 6 && entry.proto !== 17);
    if (include.length > 0 && kept.length === 0) return undefined;
    return { include: kept, exclude: [...exclude, { proto: 6 }, { proto: 17 }] };
  }
  const proto = PROTOCOL_NUMBER[window.protocol];
  const ports = window.ports;
  const base: TrafficService[] = include.length > 0 ? [...include] : [{}];
  const narrowed = base
    .map((entry) => narrow(entry, proto, ports))
    .filter((entry): entry is TrafficService => entry !== undefined);
  if (narrowed.length === 0) return undefined;
  return { include: narrowed, exclude: [...exclude] };
}

/**
 * The query of one window: the run's request with the window's range, decisions and services.
 * Undefined when the window can match nothing.
 */
export function windowRequest(request: TrafficRequest, window: WindowSpec): TrafficRequest | undefined {
  const services = windowServices(request.services, window);
  if (services === undefined) return undefined;
  const { services: _services, ...rest } = request;
  const any = services.include.length === 0 && services.exclude.length === 0;
  return {
    ...rest,
    startDate: window.start,
    endDate: window.end,
    policyDecisions: [...windowDecisions(request, window)],
    ...(any ? {} : { services }),
  };
}

/** A split of a truncated window: the parts, or why there are none. */
export type Split =
  | {
      readonly parts: readonly Omit<WindowSpec, 'id'>[];
      readonly by: 'time' | 'decision' | 'protocol' | 'ports';
    }
  | { readonly parts?: undefined; readonly reason: string };

export interface SplitInput {
  readonly window: WindowSpec;
  readonly counts: QueryCounts;
  readonly request: TrafficRequest;
}

/** Splits a truncated window (see the top of this module). */
export function splitWindow(input: SplitInput): Split {
  const { window, request, counts } = input;
  const lineage = {
    parent: window.id,
    ...(counts.matchesCount === undefined ? {} : { parentMatches: counts.matchesCount }),
  };
  const start = Date.parse(window.start);
  const end = Date.parse(window.end);
  const span = end - start;
  if (span >= 2 * MIN_SLICE_MS) {
    const slices = Math.min(Math.floor(span / MIN_SLICE_MS), sliceCount(input));
    const bounds = Array.from({ length: slices + 1 }, (_, i) => start + Math.round((i * span) / slices));
    const parts = bounds.slice(0, -1).map((from, i) => ({
      ...dimensionsOf(window),
      start: new Date(from).toISOString(),
      end: new Date(bounds[i + 1] as number).toISOString(),
      last: window.last && i === slices - 1,
      ...lineage,
    }));
    return { parts, by: 'time' };
  }
  // A split that leaves one part (the user's filters rule the others out) narrows the window
  // without dividing it: the next dimension divides that part instead.
  let current: Omit<WindowSpec, 'id'> = window;
  for (;;) {
    const next = nextDimension(current, request);
    if (next === undefined) break;
    const parts = next.parts
      .map((part) => ({ ...part, ...lineage }))
      .filter((part) => windowServices(request.services, part) !== undefined);
    if (parts.length > 1) return { parts, by: next.by };
    const [only] = parts;
    if (only === undefined) break;
    current = only;
  }
  return {
    reason:
      current.protocol === 'other'
        ? 'a slice of under two minutes, one decision, every protocol but TCP and UDP'
        : 'a slice of under two minutes, one decision, one protocol, one port',
  };
}

function dimensionsOf(window: Omit<WindowSpec, 'id'>): Pick<WindowSpec, 'decision' | 'protocol' | 'ports'> {
  return {
    ...(window.decision === undefined ? {} : { decision: window.decision }),
    ...(window.protocol === undefined ? {} : { protocol: window.protocol }),
    ...(window.ports === undefined ? {} : { ports: window.ports }),
  };
}

/** The parts of the next dimension a window is not yet narrowed by: decision, protocol, ports. */
function nextDimension(
  window: Omit<WindowSpec, 'id'>,
  request: TrafficRequest,
): { parts: Omit<WindowSpec, 'id'>[]; by: 'decision' | 'protocol' | 'ports' } | undefined {
  const base = { start: window.start, end: window.end, last: window.last, ...dimensionsOf(window) };
  // Ports are split within TCP or UDP only; "other" has none.
  if (window.decision === undefined) {
    const decisions = request.policyDecisions.length > 0 ? request.policyDecisions : POLICY_DECISIONS;
    return { parts: decisions.map((decision) => ({ ...base, decision })), by: 'decision' };
  }
  if (window.protocol === undefined) {
    return { parts: SPLIT_PROTOCOLS.map((protocol) => ({ ...base, protocol })), by: 'protocol' };
  }
  const [low, high] = window.ports ?? [0, 65_535];
  if (window.protocol === 'other' || high <= low) return undefined;
  const middle = Math.floor((low + high) / 2);
  return {
    parts: [
      { ...base, ports: [low, middle] },
      { ...base, ports: [middle + 1, high] },
    ],
    by: 'ports',
  };
}

function sliceCount({ window, counts, request }: SplitInput): number {
  const matches = counts.matchesCount;
  if (matches === undefined) return 2;
  let slices = Math.max(2, Math.ceil(matches / (FILL * request.maxResults)));
  const parentMatches = window.parentMatches;
  if (parentMatches !== undefined && matches > CONCENTRATION * parentMatches) {
    slices = Math.max(slices, CONCENTRATED_SLICES);
  }
  return slices;
}

/** The window as one phrase: its range and the dimensions it is narrowed to. */
export function describeWindow(window: WindowSpec): string {
  const parts = [`${window.start}..${window.end}`];
  if (window.decision !== undefined) parts.push(window.decision);
  if (window.protocol !== undefined)
    parts.push(window.protocol === 'other' ? 'not TCP/UDP' : window.protocol.toUpperCase());
  if (window.ports !== undefined)
    parts.push(
      window.ports[0] === window.ports[1]
        ? `port ${window.ports[0]}`
        : `ports ${window.ports[0]}-${window.ports[1]}`,
    );
  return parts.join(', ');
}
