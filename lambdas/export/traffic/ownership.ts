import { createHash } from 'node:crypto';
import type { TrafficRun, WindowSpec } from '../../contracts/traffic-run';

/*
 * Which window a flow belongs to. Explorer's window ends are inclusive and a flow is an
 * aggregate over its timestamp_range, so one flow comes back from every window its range
 * touches. Each flow has exactly one owner: the window that holds its `first_detected`, windows
 * half-open ([start, end)) except the run's last, which also holds its end. A flow that started
 * before the run's range belongs to the first window (`owns.before: "first-window"`), or to the
 * runs before (an incremental run, `"earlier-run"`). Windows split by decision, protocol or port
 * partition the flows by construction, so time alone decides among windows of one query shape.
 *
 * The dedupe key, for the overlap between two incremental runs, is what makes a flow one flow in
 * the PCE's own model: Explorer aggregates connections into a flow by source and destination
 * address, service (port, protocol, process and Windows service name, ICMP type and code) and
 * network, and the aggregate starts at `first_detected`. Counters and `last_detected` grow while
 * a flow is still seen, and decisions may be recomputed, so none of them is part of the key.
 */

/** Where a downloaded flow goes. */
export type Ownership = 'own' | 'otherWindow' | 'earlierRun';

/** Decides ownership by `first_detected` (epoch milliseconds) for one window of one run. */
export function ownerTest(
  run: Pick<TrafficRun, 'range' | 'owns'>,
  window: Pick<WindowSpec, 'start' | 'end' | 'last'>,
): (firstDetected: number) => Ownership {
  const runStart = Date.parse(run.range.start);
  const from = Date.parse(window.start);
  const to = Date.parse(window.end);
  const first = from === runStart;
  const beforeIsMine = run.owns.before === 'first-window' && first;
  return (t) => {
    if (t < runStart) {
      if (run.owns.before === 'earlier-run') return 'earlierRun';
      return beforeIsMine ? 'own' : 'otherWindow';
    }
    if (t >= from && (t < to || (window.last && t === to))) return 'own';
    return 'otherWindow';
  };
}

interface FlowRow {
  readonly src?: { readonly ip?: unknown };
  readonly dst?: { readonly ip?: unknown };
  readonly service?: {
    readonly port?: unknown;
    readonly proto?: unknown;
    readonly process_name?: unknown;
    readonly windows_service_name?: unknown;
  };
  readonly icmp_type?: unknown;
  readonly icmp_code?: unknown;
  readonly network?: { readonly href?: unknown };
  readonly timestamp_range?: { readonly first_detected?: unknown };
}

/** `first_detected` of a row in epoch milliseconds; undefined when it is missing or not a time. */
export function firstDetected(row: unknown): number | undefined {
  const value = (row as FlowRow | null)?.timestamp_range?.first_detected;
  if (typeof value !== 'string') return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

/** The fields that identify a flow (see the top of this module), as one string. */
export function flowKey(row: unknown, first: number): string {
  const flow = (row ?? {}) as FlowRow;
  const text = (value: unknown) => (value === undefined || value === null ? '' : String(value));
  return [
    text(flow.src?.ip),
    text(flow.dst?.ip),
    text(flow.service?.port),
    text(flow.service?.proto),
    text(flow.service?.process_name),
    text(flow.service?.windows_service_name),
    text(flow.icmp_type),
    text(flow.icmp_code),
    text(flow.network?.href),
    String(first),
  ].join('|');
}

/** 64 bits of the key's SHA-256, as 16 hex digits: what the overlap keys store. */
export function keyDigest(key: string): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}
