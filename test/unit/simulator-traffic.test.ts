import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { fault, type RunningSimulator, startSimulator } from '../../simulator';
import { call, pollUntilSettled, stepUntilSettled } from './simulator-helpers';

interface QueryJson {
  href: string;
  status: string;
  query_parameters: { query_name: string; max_results: number };
  result?: string;
  flows_count?: number;
  created_at: string;
  updated_at: string;
}
interface Flow {
  src: { ip: string; workload?: { href: string; hostname: string } };
  dst: { ip: string; workload?: { href: string; hostname: string; labels: { key: string }[] } };
  service: { port: number; proto: number };
  policy_decision: string;
  num_connections: number;
  timestamp_range: { first_detected: string; last_detected: string };
}

const QUERY = {
  query_name: 'blocked-last-week',
  start_date: '2026-01-01T00:00:00Z',
  end_date: '2026-01-08T00:00:00Z',
  policy_decisions: ['blocked', 'potentially_blocked'],
  max_results: 300,
  sources: { include: [], exclude: [] },
  destinations: { include: [], exclude: [] },
};

let sim: RunningSimulator;

beforeAll(async () => {
  // Queries queued for their first 80 ms and working until 400 ms: each phase is seen on a busy machine.
  sim = await startSimulator({ jobDurationMs: 400, dataset: { workloads: 100, trafficFlows: 1000 } });
});
afterEach(() => sim.faults.clear());
afterAll(() => sim.close());

function post(body: unknown, to: RunningSimulator = sim) {
  return call(to, '/orgs/1/traffic_flows/async_queries', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

describe('Explorer async traffic queries with the fixed-count model (dataset.trafficFlows)', () => {
  it('goes queued → working → completed, then downloads realistic flows', async () => {
    // On the manual clock, stepped by each poll: every phase is seen however busy the machine is.
    const still = await startSimulator({
      clock: 'manual',
      jobDurationMs: 400,
      dataset: { workloads: 100, trafficFlows: 1000 },
    });
    onTestFinished(() => still.close());
    const created = await post(QUERY, still);
    expect(created.status).toBe(202);
    const query = created.json<QueryJson>();
    expect(query.href).toMatch(/^\/orgs\/1\/traffic_flows\/async_queries\/[0-9a-f-]{36}$/);
    expect(query.status).toBe('queued');
    expect(query.query_parameters).toMatchObject({ query_name: 'blocked-last-week', max_results: 300 });

    const { final, seen } = await stepUntilSettled<QueryJson>(still, query.href, 40);
    const statuses = [query.status, ...seen].filter((status, i, all) => all[i - 1] !== status);
    expect(statuses).toEqual(['queued', 'working', 'completed']);
    expect(final.result).toBe(`${query.href}/download`);
    expect(final.flows_count).toBe(300);

    const download = await call(still, final.result ?? '');
    expect(download.status).toBe(200);
    expect(download.header('content-type')).toBe('application/json');
    const flows = download.json<Flow[]>();
    expect(flows).toHaveLength(300);
    const start = Date.parse(QUERY.start_date);
    const end = Date.parse(QUERY.end_date);
    for (const flow of flows) {
      expect(QUERY.policy_decisions).toContain(flow.policy_decision);
      expect(flow.src.ip).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
      expect(flow.dst.workload?.href).toMatch(/^\/orgs\/1\/workloads\//);
      expect(flow.service.port).toBeGreaterThan(0);
      expect([6, 17]).toContain(flow.service.proto);
      expect(flow.num_connections).toBeGreaterThan(0);
      const first = Date.parse(flow.timestamp_range.first_detected);
      const last = Date.parse(flow.timestamp_range.last_detected);
      expect(first).toBeGreaterThanOrEqual(start);
      expect(last).toBeLessThanOrEqual(end);
      expect(last).toBeGreaterThanOrEqual(first);
    }
    expect(flows.some((f) => f.src.workload === undefined)).toBe(true);
    expect(flows.some((f) => f.src.workload !== undefined)).toBe(true);
  });

  it('serves the download gzipped when accepted, the same flows every time', async () => {
    const { final } = await pollUntilSettled<QueryJson>(sim, (await post(QUERY)).json<QueryJson>().href);
    const plain = await call(sim, final.result ?? '', { headers: { 'accept-encoding': 'identity' } });
    const gz = await call(sim, final.result ?? '', { headers: { 'accept-encoding': 'gzip' } });
    expect(gz.header('content-encoding')).toBe('gzip');
    expect(gz.text).toBe(plain.text);
    const again = await call(sim, final.result ?? '', { headers: { 'accept-encoding': 'identity' } });
    expect(again.bytes.equals(plain.bytes)).toBe(true);
  });

  it('caps the flows at the data set size when max_results is larger', async () => {
    const { final } = await pollUntilSettled<QueryJson>(
      sim,
      (await post({ ...QUERY, max_results: 200_000 })).json<QueryJson>().href,
    );
    expect(final.flows_count).toBe(1000);
    expect((await call(sim, final.result ?? '')).json<unknown[]>()).toHaveLength(1000);
  });

  it.each([
    ['max_results above 200,000', { ...QUERY, max_results: 200_001 }, /max_results/],
    ['no query_name', { ...QUERY, query_name: undefined }, /query_name/],
    ['an unknown policy decision', { ...QUERY, policy_decisions: ['maybe'] }, /policy_decisions/],
    ['end before start', { ...QUERY, end_date: '2025-12-01T00:00:00Z' }, /end_date/],
  ])('rejects %s with 406', async (_name, body, message) => {
    const res = await post(body);
    expect(res.status).toBe(406);
    const [error] = res.json<{ token: string; message: string }[]>();
    expect(error?.token).toBe('input_validation_error');
    expect(error?.message).toMatch(message);
  });

  it('rejects a body that is not JSON with 400', async () => {
    const res = await post('{"query_name": ');
    expect(res.status).toBe(400);
    expect(res.json<{ token: string }[]>()[0]?.token).toBe('invalid_request_body');
  });

  it('refuses to download before completion, lists queries, and deletes them', async () => {
    const { href } = (await post({ ...QUERY, query_name: 'to-delete' })).json<QueryJson>();
    expect((await call(sim, `${href}/download`)).status).toBe(404);
    const listed = (await call(sim, '/orgs/1/traffic_flows/async_queries')).json<QueryJson[]>();
    expect(listed[0]?.href).toBe(href);
    expect((await call(sim, href, { method: 'DELETE' })).status).toBe(204);
    expect((await call(sim, href)).status).toBe(404);
  });

  it('applies job faults to queries: failed and cancelled', async () => {
    sim.faults.add(fault.jobFails('query timed out', { endpoint: 'traffic-submit' }));
    sim.faults.add(fault.jobStatus('cancelled', { endpoint: 'traffic-submit', nth: 2 }));
    const failed = (await post(QUERY)).json<QueryJson>();
    const cancelled = (await post(QUERY)).json<QueryJson>();
    expect((await pollUntilSettled<QueryJson>(sim, failed.href)).final.status).toBe('failed');
    expect((await pollUntilSettled<QueryJson>(sim, cancelled.href)).final.status).toBe('cancelled');
    expect((await call(sim, `${cancelled.href}/download`)).status).toBe(404);
  });

  it('lets a completed query serve an empty result through a respond fault', async () => {
    const { final } = await pollUntilSettled<QueryJson>(sim, (await post(QUERY)).json<QueryJson>().href);
    sim.faults.add(fault.respond(200, { endpoint: 'traffic-download', body: [] }));
    const res = await call(sim, final.result ?? '');
    expect(res.status).toBe(200);
    expect(res.json()).toEqual([]);
  });
});
