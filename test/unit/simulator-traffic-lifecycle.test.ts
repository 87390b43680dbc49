import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fault, type RunningSimulator, startSimulator } from '../../simulator';
import { call } from './simulator-helpers';
import { completed, download, post, type QueryJson, query, settle } from './simulator-traffic-helpers';

const START = '2026-06-01T00:00:00Z';
const END = '2026-06-01T06:00:00Z';
const TRAFFIC = { flowsPerDay: 4000, days: 5, until: '2026-06-03T00:00:00Z' };

let sim: RunningSimulator;

beforeAll(async () => {
  // Long enough (queued for the first 100 ms) that each rules status is seen on a busy machine.
  sim = await startSimulator({ jobDurationMs: 500, dataset: { workloads: 200 }, traffic: TRAFFIC });
});
afterAll(() => sim.close());

const updateRules = (href: string) => call(sim, `${href}/update_rules`, { method: 'PUT', body: '{}' });

describe('draft policy through update_rules', () => {
  it('refuses update_rules before the query has completed', async () => {
    // On the manual clock the query stays unfinished until the clock moves, however slow the machine.
    const still = await startSimulator({ clock: 'manual', jobDurationMs: 500, traffic: TRAFFIC });
    try {
      const created = (await post(still, query(START, END))).json<QueryJson>();

      const early = await call(still, `${created.href}/update_rules`, { method: 'PUT', body: '{}' });

      expect(early.status).toBe(406);
      expect(early.json<{ token: string; message: string }[]>()[0]?.message).toMatch(
        /update_rules needs a completed query/,
      );
      await still.clock.advance(1_000);
      expect((await settle(still, created.href)).rules).toBeUndefined();
    } finally {
      await still.close();
    }
  });

  it('computes the rules of a completed query, after which its rows carry draft_policy_decision', async () => {
    const done = await completed(sim, query(START, END));
    const before = await download(sim, done);

    const accepted = await updateRules(done.href);
    const seen: string[] = [];
    let last: QueryJson = done;
    for (let i = 0; i < 500 && last.rules?.status !== 'completed'; i++) {
      last = (await call(sim, done.href)).json<QueryJson>();
      if (last.rules && seen.at(-1) !== last.rules.status) seen.push(last.rules.status);
      await new Promise((r) => setTimeout(r, 10));
    }
    const after = await download(sim, last);

    expect(accepted.status).toBe(202);
    expect(accepted.text).toBe('');
    expect(seen.at(-1)).toBe('completed');
    expect(seen.length).toBeGreaterThan(1);
    expect(last.status).toBe('completed');
    expect(before.every((f) => f.draft_policy_decision === undefined)).toBe(true);
    expect(after).toHaveLength(before.length);
    expect(after.map((f) => f.policy_decision)).toEqual(before.map((f) => f.policy_decision));
    const decisions = ['allowed', 'potentially_blocked', 'blocked', 'unknown'];
    expect(after.every((f) => decisions.includes(f.draft_policy_decision ?? ''))).toBe(true);
    expect(after.some((f) => f.draft_policy_decision !== f.policy_decision)).toBe(true);
    expect(after.some((f) => f.draft_policy_decision === f.policy_decision)).toBe(true);
  });

  it('answers 404 for the rules of an unknown query and 405 for another method', async () => {
    const href = '/orgs/1/traffic_flows/async_queries/00000000-0000-4000-8000-000000000000';
    expect((await updateRules(href)).status).toBe(404);
    expect((await call(sim, `${href}/update_rules`)).status).toBe(405);
  });

  it('lets faults select update_rules calls', async () => {
    const done = await completed(sim, query(START, END, { max_results: 10 }));
    sim.faults.add(fault.respond(503, { endpoint: 'traffic-update-rules' }));

    expect((await updateRules(done.href)).status).toBe(503);
    expect((await updateRules(done.href)).status).toBe(202);
  });
});

describe('the record of traffic queries', () => {
  it('lists the queries on the PCE newest first, and DELETE takes them off', async () => {
    const quick = await startSimulator({ jobDurationMs: 0, traffic: TRAFFIC });
    try {
      const hrefs: string[] = [];
      for (const name of ['first', 'second', 'third'])
        hrefs.push((await post(quick, query(START, END, { query_name: name }))).json<QueryJson>().href);
      const listed = (await call(quick, '/orgs/1/traffic_flows/async_queries')).json<QueryJson[]>();

      expect(listed.map((q) => q.href)).toEqual([...hrefs].reverse());
      expect((await call(quick, hrefs[1] ?? '', { method: 'DELETE' })).status).toBe(204);
      const after = (await call(quick, '/orgs/1/traffic_flows/async_queries')).json<QueryJson[]>();
      expect(after.map((q) => q.href)).toEqual([hrefs[2], hrefs[0]]);
      expect((await call(quick, hrefs[1] ?? '')).status).toBe(404);
      expect((await call(quick, hrefs[1] ?? '', { method: 'DELETE' })).status).toBe(404);
    } finally {
      await quick.close();
    }
  });

  it('counts every query created and shows which are still on the PCE', async () => {
    const quick = await startSimulator({ jobDurationMs: 0, traffic: TRAFFIC });
    try {
      const a = await completed(quick, query(START, END, { query_name: 'kept', max_results: 5 }));
      const b = await completed(quick, query(START, END, { query_name: 'removed' }));
      await download(quick, a);
      await call(quick, b.href, { method: 'DELETE' });

      const records = quick.trafficQueries();
      expect(records).toHaveLength(2);
      expect(records[0]).toMatchObject({
        href: a.href,
        queryName: 'kept',
        status: 'completed',
        flowsCount: 5,
        matchesCount: a.matches_count,
        downloads: 1,
      });
      expect(records[0]?.deletedAt).toBeUndefined();
      expect(records[0]?.query).toMatchObject({ start_date: START, max_results: 5 });
      expect(records[1]).toMatchObject({ href: b.href, queryName: 'removed', downloads: 0 });
      expect(records[1]?.deletedAt).toEqual(expect.any(Number));
      expect(records.filter((q) => q.deletedAt === undefined).map((q) => q.href)).toEqual([a.href]);
    } finally {
      await quick.close();
    }
  });

  it('counts a query that vanished through a fault as gone', async () => {
    const quick = await startSimulator({ jobDurationMs: 0, traffic: TRAFFIC });
    try {
      quick.faults.add(fault.jobVanishes({ endpoint: 'traffic-submit', afterPolls: 1 }));
      const created = (await post(quick, query(START, END))).json<QueryJson>();
      await call(quick, created.href);
      expect((await call(quick, created.href)).status).toBe(404);
      expect(quick.trafficQueries()[0]?.deletedAt).toEqual(expect.any(Number));
    } finally {
      await quick.close();
    }
  });
});

describe('traffic options', () => {
  it('serves [] for the first emptyDownloads downloads of each completed query', async () => {
    const empty = await startSimulator({ jobDurationMs: 0, traffic: { ...TRAFFIC, emptyDownloads: 2 } });
    try {
      const done = await completed(empty, query(START, END, { max_results: 20 }));
      const sizes = [];
      for (let i = 0; i < 3; i++) sizes.push((await download(empty, done)).length);
      expect(sizes).toEqual([0, 0, 20]);
    } finally {
      await empty.close();
    }
  });

  it.each([
    ['a flow rate of 0', { traffic: { flowsPerDay: 0 } }, /traffic.flowsPerDay/],
    ['a flow rate over 20 million', { traffic: { flowsPerDay: 20_000_001 } }, /traffic.flowsPerDay/],
    ['an end that is no time', { traffic: { until: 'soon' } }, /traffic.until/],
    ['a burst without a time', { traffic: { burst: { at: 'never' } } }, /traffic.burst.at/],
    [
      'a burst of another shape',
      { traffic: { burst: { at: START, shape: 'round' as 'spread' } } },
      /traffic.burst.shape/,
    ],
    ['both traffic models', { traffic: {}, dataset: { trafficFlows: 10 } }, /not both/],
  ])('refuses %s', async (_name, options, message) => {
    await expect(startSimulator(options)).rejects.toThrow(message);
  });
});
