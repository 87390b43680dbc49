import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningSimulator, type SimulatorOptions, startSimulator } from '../../simulator';
import { call } from './simulator-helpers';
import { completed, download, type Flow, flows, key, keys, query } from './simulator-traffic-helpers';

const OPTIONS: SimulatorOptions = {
  jobDurationMs: 20,
  seed: 7,
  dataset: { workloads: 300, labels: 40 },
  traffic: { flowsPerDay: 2000, days: 10, until: '2026-03-10T00:00:00Z' },
};
const START = '2026-03-05T00:00:00.000Z';
const END = '2026-03-06T00:00:00.000Z';
const ms = (iso: string) => Date.parse(iso);
const at = (t: number) => new Date(t).toISOString();

let sim: RunningSimulator;
/** Every flow of the day [START, END]. */
let day: Flow[];

beforeAll(async () => {
  sim = await startSimulator(OPTIONS);
  day = await flows(sim, query(START, END));
});
afterAll(() => sim.close());

describe('the traffic population', () => {
  it('holds flowsPerDay flows a day and none outside its span', async () => {
    const before = await completed(sim, query('2026-02-20T00:00:00Z', '2026-02-21T00:00:00Z'));
    const after = await completed(sim, query('2026-03-10T00:00:01Z', '2026-03-11T00:00:00Z'));

    // 2,000 flows start in the day; a few more started late the day before and end inside it.
    expect(day.length).toBeGreaterThanOrEqual(2000);
    expect(day.length).toBeLessThan(2100);
    expect(before.matches_count).toBe(0);
    expect(after.matches_count).toBe(0);
  });

  it('returns each flow once, every one touching the window', () => {
    expect(keys(day).size).toBe(day.length);
    expect(new Set(day.map((f) => f.timestamp_range.first_detected)).size).toBe(day.length);
    for (const f of day) {
      const first = ms(f.timestamp_range.first_detected);
      const last = ms(f.timestamp_range.last_detected);
      expect(last).toBeGreaterThanOrEqual(first);
      expect(first).toBeLessThanOrEqual(ms(END));
      expect(last).toBeGreaterThanOrEqual(ms(START));
    }
    expect(day.some((f) => ms(f.timestamp_range.first_detected) < ms(START))).toBe(true);
  });

  it('treats both ends of a window as inclusive, so a flow on a split boundary comes back from both sides', async () => {
    const spanning = day.find(
      (f) =>
        ms(f.timestamp_range.first_detected) > ms(START) + 3_600_000 &&
        ms(f.timestamp_range.last_detected) > ms(f.timestamp_range.first_detected),
    );
    if (!spanning) throw new Error('no flow with a duration in the day');
    const boundary = ms(spanning.timestamp_range.last_detected);

    const left = await flows(sim, query(START, at(boundary)));
    const right = await flows(sim, query(at(boundary), END));
    const justAfter = await flows(sim, query(at(boundary + 1), END));
    const opened = await flows(sim, query(START, at(ms(spanning.timestamp_range.first_detected))));
    const justBefore = await flows(sim, query(START, at(ms(spanning.timestamp_range.first_detected) - 1)));

    expect(keys(left).has(key(spanning))).toBe(true);
    expect(keys(right).has(key(spanning))).toBe(true);
    expect(keys(justAfter).has(key(spanning))).toBe(false);
    expect(keys(opened).has(key(spanning))).toBe(true);
    expect(keys(justBefore).has(key(spanning))).toBe(false);
    const union = new Set([...keys(left), ...keys(right)]);
    expect(union).toEqual(keys(day));
    const both = day.filter(
      (f) =>
        ms(f.timestamp_range.first_detected) <= boundary && ms(f.timestamp_range.last_detected) >= boundary,
    );
    expect(left.length + right.length).toBe(day.length + both.length);
  });

  it('caps the rows at max_results, reports how many matched, and serves them in no time order', async () => {
    const capped = await completed(sim, query(START, END, { max_results: 100 }));
    const rows = await download(sim, capped);

    expect(capped.flows_count).toBe(100);
    expect(capped.matches_count).toBe(day.length);
    expect(rows).toHaveLength(100);
    const all = keys(day);
    expect(rows.every((f) => all.has(key(f)))).toBe(true);
    const times = rows.map((f) => ms(f.timestamp_range.first_detected));
    expect(times).not.toEqual([...times].sort((a, b) => a - b));
    // The capped rows are spread over the day rather than taken from one end of it.
    expect(Math.max(...times) - Math.min(...times)).toBeGreaterThan(12 * 3_600_000);
  });

  it('serves byte-identical downloads after a restart with the same seed, and other flows with another seed', async () => {
    const body = query(START, '2026-03-05T06:00:00Z', { max_results: 300 });
    const first = await completed(sim, body);
    const again = await startSimulator(OPTIONS);
    const other = await startSimulator({ ...OPTIONS, seed: 8 });
    try {
      const original = (await call(sim, first.result ?? '')).bytes;
      const restarted = (await call(again, (await completed(again, body)).result ?? '')).bytes;
      const reseeded = (await call(other, (await completed(other, body)).result ?? '')).bytes;

      expect(restarted.equals(original)).toBe(true);
      expect(reseeded.equals(original)).toBe(false);
    } finally {
      await Promise.all([again.close(), other.close()]);
    }
  });

  it('keeps a flow the same whatever the span of the population around it', async () => {
    const wider = await startSimulator({
      ...OPTIONS,
      traffic: { flowsPerDay: 2000, days: 60, until: '2026-04-30T00:00:00Z' },
    });
    try {
      expect(keys(await flows(wider, query(START, END)))).toEqual(keys(day));
    } finally {
      await wider.close();
    }
  });

  it('ends the population at the time of each query when no until is given', async () => {
    const live = await startSimulator({ ...OPTIONS, traffic: { flowsPerDay: 2000, days: 1 } });
    try {
      const before = Date.now();
      const recent = await flows(live, query(at(before - 2 * 3_600_000), at(before + 3_600_000)));
      const after = Date.now();

      expect(recent.length).toBeGreaterThan(100);
      for (const f of recent) expect(ms(f.timestamp_range.last_detected)).toBeLessThanOrEqual(after);
      const old = await completed(live, query(at(before - 3 * 86_400_000), at(before - 2 * 86_400_000)));
      expect(old.matches_count).toBe(0);
    } finally {
      await live.close();
    }
  });
});

describe('traffic rows', () => {
  it('have the PCE shape, with policy decisions, directions and transmissions', () => {
    const decisions = new Set(day.map((f) => f.policy_decision));
    expect(decisions).toEqual(new Set(['allowed', 'potentially_blocked', 'blocked', 'unknown']));
    expect(new Set(day.map((f) => f.transmission))).toEqual(new Set(['unicast', 'broadcast', 'multicast']));
    for (const f of day) {
      expect(f.draft_policy_decision).toBeUndefined();
      expect(f.num_connections).toBeGreaterThan(0);
      expect(f.flow_direction).toBe(f.dst.workload ? 'inbound' : 'outbound');
      if (f.service.proto === 1) expect(f.service.port).toBeUndefined();
      else expect(f.service.port).toBeGreaterThan(0);
      if (f.transmission === 'broadcast') expect(f.dst.ip).toMatch(/\.255$/);
      if (f.transmission === 'multicast') expect(f.dst.ip).toMatch(/^2(2[4-9]|3\d)\./);
      if (f.transmission !== 'unicast') expect(f.dst.workload).toBeUndefined();
      if (f.service.process_name !== undefined) expect(f.dst.workload?.managed).toBe(true);
      if (f.service.windows_service_name !== undefined) expect(f.dst.workload?.os_type).toBe('windows');
    }
    expect(day.some((f) => f.src.workload === undefined)).toBe(true);
    expect(day.some((f) => f.dst.workload === undefined && f.transmission === 'unicast')).toBe(true);
  });

  it("name the dataset's own workloads, with their addresses and labels", async () => {
    const sample = day.filter((f) => f.src.workload).slice(0, 20);
    const labels = (await call(sim, '/orgs/1/labels')).json<{ href: string; key: string; value: string }[]>();
    const byHref = new Map(labels.map((l) => [l.href, l]));
    for (const f of sample) {
      const [workload] = (await call(sim, `/orgs/1/workloads?ip_address=${f.src.ip}`)).json<
        { href: string; labels: { href: string }[] }[]
      >();
      expect(workload?.href).toBe(f.src.workload?.href);
      expect(f.src.workload?.labels.map((l) => l.href)).toEqual(workload?.labels.map((l) => l.href));
      for (const l of f.src.workload?.labels ?? [])
        expect(byHref.get(l.href)).toEqual(expect.objectContaining(l));
    }
  });
});

describe('a burst of flows inside one minute', () => {
  const BURST_AT = '2026-03-05T12:00:00.000Z';
  const MINUTE_END = '2026-03-05T12:01:00.000Z';
  let spread: RunningSimulator;
  let uniform: RunningSimulator;

  beforeAll(async () => {
    const burst = { at: BURST_AT, flows: 210_000 };
    [spread, uniform] = await Promise.all([
      startSimulator({ ...OPTIONS, traffic: { ...OPTIONS.traffic, burst } }),
      startSimulator({ ...OPTIONS, traffic: { ...OPTIONS.traffic, burst: { ...burst, shape: 'uniform' } } }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([spread?.close(), uniform?.close()]);
  });

  const matches = async (s: RunningSimulator, extra: Record<string, unknown> = {}) =>
    (await completed(s, query(BURST_AT, MINUTE_END, extra))).matches_count ?? -1;

  it('puts more flows than the cap in that minute, and truncates them silently', async () => {
    const minute = await completed(spread, query(BURST_AT, MINUTE_END));
    const sample = await download(
      spread,
      await completed(spread, query(BURST_AT, MINUTE_END, { max_results: 500 })),
    );

    expect(minute.matches_count).toBeGreaterThanOrEqual(210_000);
    expect(minute.flows_count).toBe(200_000);
    expect(sample).toHaveLength(500);
    for (const f of sample) {
      expect(ms(f.timestamp_range.first_detected)).toBeLessThanOrEqual(ms(MINUTE_END));
      expect(ms(f.timestamp_range.last_detected)).toBeGreaterThanOrEqual(ms(BURST_AT));
    }
    expect(new Set(sample.map((f) => f.src.ip)).size).toBe(500);
    expect(
      await matches(spread, { start_date: '2026-03-05T12:01:02.001Z', end_date: '2026-03-05T12:02:00Z' }),
    ).toBeLessThan(10);
  });

  it('spreads the burst over decisions, protocols and ports, so each split gets under the cap', async () => {
    const total = await matches(spread);
    const byDecision = await Promise.all(
      ['allowed', 'potentially_blocked', 'blocked', 'unknown'].map((d) =>
        matches(spread, { policy_decisions: [d] }),
      ),
    );
    const byProto = await Promise.all(
      [6, 17, 1].map((proto) => matches(spread, { services: { include: [{ proto }], exclude: [] } })),
    );
    const tcpHalves = await Promise.all(
      [
        { port: 1, to_port: 32_767, proto: 6 },
        { port: 32_768, to_port: 65_535, proto: 6 },
      ].map((range) => matches(spread, { services: { include: [range], exclude: [] } })),
    );

    for (const n of [...byDecision, ...byProto, ...tcpHalves]) expect(n).toBeLessThan(200_000);
    expect(byDecision.reduce((a, b) => a + b)).toBe(total);
    expect(byProto.reduce((a, b) => a + b)).toBe(total);
    expect(tcpHalves.reduce((a, b) => a + b)).toBe(byProto[0]);
  });

  it('with the uniform shape stays over the cap whatever decision, protocol or port it is split by', async () => {
    expect(await matches(uniform, { policy_decisions: ['blocked'] })).toBeGreaterThan(200_000);
    expect(await matches(uniform, { services: { include: [{ proto: 6 }], exclude: [] } })).toBeGreaterThan(
      200_000,
    );
    expect(
      await matches(uniform, { services: { include: [{ port: 445, proto: 6 }], exclude: [] } }),
    ).toBeGreaterThan(200_000);
    expect(await matches(uniform, { policy_decisions: ['allowed'] })).toBeLessThan(100);
  });
});
