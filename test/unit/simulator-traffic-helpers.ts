/** Helpers for the Explorer traffic tests: run a query to completion, download it, compare flows. */
import type { RunningSimulator } from '../../simulator';
import { call, type Res } from './simulator-helpers';

export interface QueryJson {
  href: string;
  status: string;
  result?: string;
  flows_count?: number;
  matches_count?: number;
  rules?: { status: string };
  query_parameters: Record<string, unknown>;
}

interface WorkloadRef {
  href: string;
  hostname: string;
  managed: boolean;
  os_type: string;
  labels: { href: string; key: string; value: string }[];
}

export interface Flow {
  src: { ip: string; workload?: WorkloadRef };
  dst: { ip: string; workload?: WorkloadRef };
  service: { port?: number; proto: number; process_name?: string; windows_service_name?: string };
  num_connections: number;
  timestamp_range: { first_detected: string; last_detected: string };
  policy_decision: string;
  draft_policy_decision?: string;
  flow_direction: string;
  transmission: string;
}

/** A body with the window and the cap, everything else left to the defaults. */
export function query(
  start: string,
  end: string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return { query_name: 'test', start_date: start, end_date: end, max_results: 200_000, ...extra };
}

export function post(sim: RunningSimulator, body: unknown): Promise<Res> {
  return call(sim, '/orgs/1/traffic_flows/async_queries', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/** Polls until the query is neither queued nor working. */
export async function settle(sim: RunningSimulator, href: string): Promise<QueryJson> {
  for (let i = 0; i < 2000; i++) {
    const res = await call(sim, href);
    if (res.status !== 200) throw new Error(`poll ${href}: ${res.status} ${res.text}`);
    const body = res.json<QueryJson>();
    if (body.status !== 'queued' && body.status !== 'working') return body;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`${href} did not settle`);
}

/** Submits the query and waits for it; throws unless it was accepted and completed. */
export async function completed(sim: RunningSimulator, body: unknown): Promise<QueryJson> {
  const res = await post(sim, body);
  if (res.status !== 202) throw new Error(`submit: ${res.status} ${res.text}`);
  const final = await settle(sim, res.json<QueryJson>().href);
  if (final.status !== 'completed') throw new Error(`query ended ${final.status}`);
  return final;
}

export async function download(sim: RunningSimulator, q: QueryJson): Promise<Flow[]> {
  const res = await call(sim, q.result ?? `${q.href}/download`);
  if (res.status !== 200) throw new Error(`download: ${res.status} ${res.text}`);
  return res.json<Flow[]>();
}

/** Runs the query and downloads all of its flows. */
export async function flows(sim: RunningSimulator, body: unknown): Promise<Flow[]> {
  return download(sim, await completed(sim, body));
}

/** What tells two flows of the population apart. */
export function key(f: Flow): string {
  return `${f.src.ip}>${f.dst.ip}:${f.service.port ?? '-'}/${f.service.proto}@${f.timestamp_range.first_detected}`;
}

export function keys(list: readonly Flow[]): Set<string> {
  return new Set(list.map(key));
}

export function ipNumber(ip: string): number {
  return ip.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

/** Whether `ip` is in `cidr` (`a.b.c.d/n` or a single address), computed without the simulator's code. */
export function inCidr(ip: string, cidr: string): boolean {
  const [base = '', bits = '32'] = cidr.split('/');
  const size = 2 ** (32 - Number(bits));
  return Math.floor(ipNumber(ip) / size) === Math.floor(ipNumber(base) / size);
}
