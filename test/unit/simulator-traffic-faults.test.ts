import { gunzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fault, type RunningSimulator, startSimulator } from '../../simulator';
import { call, pollUntilSettled } from './simulator-helpers';

const QUERY = {
  query_name: 'faults',
  start_date: '2026-01-01T00:00:00Z',
  end_date: '2026-01-02T00:00:00Z',
  max_results: 50,
};

let sim: RunningSimulator;

beforeAll(async () => {
  sim = await startSimulator({ jobDurationMs: 60, dataset: { workloads: 20, trafficFlows: 200 } });
});
afterEach(() => sim.faults.clear());
afterAll(() => sim.close());

/** A completed query's download href. */
async function completedQuery(): Promise<string> {
  const created = await call(sim, '/orgs/1/traffic_flows/async_queries', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(QUERY),
  });
  const { final } = await pollUntilSettled<{ status: string; result?: string }>(
    sim,
    created.json<{ href: string }>().href,
    15,
  );
  return final.result ?? '';
}

describe('simulator faults for traffic downloads', () => {
  it('serves [] for the downloads an empty-result fault hits, then the flows', async () => {
    const download = await completedQuery();
    sim.faults.add(fault.emptyResult({ times: 2 }));

    const bodies = [];
    for (let i = 0; i < 3; i++) bodies.push((await call(sim, download)).json<unknown[]>());

    expect(bodies.map((flows) => flows.length)).toEqual([0, 0, 50]);
  });

  it('sends gzip bytes without Content-Encoding, even to a client that did not ask for gzip', async () => {
    const download = await completedQuery();
    const plain = await call(sim, download);
    sim.faults.add(fault.gzipWithoutEncoding());

    const hit = await call(sim, download);

    expect(hit.header('content-encoding')).toBeUndefined();
    expect(hit.header('content-type')).toBe('application/json');
    expect([...hit.bytes.subarray(0, 2)]).toEqual([0x1f, 0x8b]);
    expect(gunzipSync(hit.bytes).equals(plain.bytes)).toBe(true);
  });
});
