/** `/orgs/{org}/events`: the audit log, synchronously (at most 10,000) and through the async job API. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningSimulator, startSimulator } from '../../simulator';
import { call, type JobJson } from './simulator-helpers';

interface PceEvent {
  href: string;
  timestamp: string;
  pce_fqdn: string;
  created_by: {
    user?: { href: string; username: string };
    system?: object;
    agent?: { href: string; hostname: string };
  };
  event_type: string;
  status: string;
  severity: string;
  version: number;
  action: {
    uuid: string;
    api_endpoint: string;
    api_method: string;
    http_status_code: number;
    src_ip: string;
  } | null;
  resource_changes: {
    uuid: string;
    resource: Record<string, { href: string }>;
    change_type: string;
    changes: Record<string, { before: unknown; after: unknown }>;
  }[];
  notifications: { uuid: string; notification_type: string; info: unknown }[];
}

const PER_DAY = 480;
const DAYS = 30;
let sim: RunningSimulator;

beforeAll(async () => {
  sim = await startSimulator({
    clock: 'manual',
    jobDurationMs: 0,
    dataset: { workloads: 200, eventsPerDay: PER_DAY, eventRetentionDays: DAYS },
  });
});
afterAll(() => sim.close());

async function events(query = ''): Promise<PceEvent[]> {
  const res = await call(sim, `/orgs/1/events${query}`);
  expect(res.status).toBe(200);
  return res.json<PceEvent[]>();
}

async function exported(s: RunningSimulator, query = ''): Promise<PceEvent[]> {
  const submitted = await call(s, `/orgs/1/events${query}`, { headers: { prefer: 'respond-async' } });
  expect(submitted.status).toBe(202);
  const job = (await call(s, submitted.header('location') ?? '')).json<JobJson>();
  return (await call(s, job.result.href ?? '')).json<PceEvent[]>();
}

const q = (params: Record<string, string>) => `?${new URLSearchParams(params)}`;

describe('events', () => {
  it('have the PCE event shape, newest first', async () => {
    const list = await events('?max_results=500');
    expect(list).toHaveLength(500);
    for (const e of list) {
      expect(e.href).toMatch(/^\/orgs\/1\/events\/[0-9a-f-]{36}$/);
      expect(new Date(e.timestamp).toISOString()).toBe(e.timestamp);
      expect(e.pce_fqdn).toBe('pce.corp.example.com');
      expect(['success', 'failure']).toContain(e.status);
      expect(['info', 'warning', 'err']).toContain(e.severity);
      expect(Object.keys(e.created_by)).toHaveLength(1);
      expect(['user', 'system', 'agent']).toContain(Object.keys(e.created_by)[0]);
      expect(Array.isArray(e.resource_changes) && Array.isArray(e.notifications)).toBe(true);
      if (e.action)
        expect(Object.keys(e.action).sort()).toEqual([
          'api_endpoint',
          'api_method',
          'http_status_code',
          'src_ip',
          'uuid',
        ]);
    }
    const times = list.map((e) => Date.parse(e.timestamp));
    expect(times.every((t, i) => i === 0 || (times[i - 1] ?? 0) >= t)).toBe(true);
    expect(Date.parse(list[0]?.timestamp ?? '')).toBeLessThanOrEqual(sim.clock.now());
    expect(new Set(list.map((e) => e.event_type)).size).toBeGreaterThan(4);
    expect(new Set(list.map((e) => e.href)).size).toBe(500);
  });

  it('answers 100 by default and at most 10,000, with the total in X-Total-Count', async () => {
    const res = await call(sim, '/orgs/1/events');
    expect(res.json<PceEvent[]>()).toHaveLength(100);
    const total = Number(res.header('x-total-count'));
    expect(Math.abs(total - PER_DAY * DAYS)).toBeLessThanOrEqual(1);
    expect(await events('?max_results=10000')).toHaveLength(10_000);
    const tooMany = await call(sim, '/orgs/1/events?max_results=10001');
    expect(tooMany.status).toBe(406);
    expect(tooMany.json()).toEqual([{ token: 'invalid_uri', message: expect.stringContaining('10000') }]);
  });

  it('exports every event of a window through the async job API, bounds included', async () => {
    const all = await exported(sim);
    expect(all.length).toBeGreaterThan(10_000);
    const from = all[8_000]?.timestamp ?? '';
    const to = all[200]?.timestamp ?? '';
    const window = await exported(sim, q({ 'timestamp[gte]': from, 'timestamp[lte]': to }));
    expect(window).toEqual(all.filter((e) => e.timestamp >= from && e.timestamp <= to));
    expect(window[0]?.timestamp).toBe(to);
    expect(window.at(-1)?.timestamp).toBe(from);
    const sync = await events(q({ 'timestamp[gte]': from, 'timestamp[lte]': to, max_results: '10000' }));
    expect(sync).toEqual(window);
  });

  it('filters on event_type, severity and status', async () => {
    const all = await exported(sim);
    const signIns = await exported(sim, '?event_type=user.sign_in');
    expect(signIns).toEqual(all.filter((e) => e.event_type === 'user.sign_in'));
    expect(signIns.length).toBeGreaterThan(0);
    const errors = await exported(sim, '?severity=err&status=failure');
    expect(errors).toEqual(all.filter((e) => e.severity === 'err' && e.status === 'failure'));
    const two = await exported(sim, '?event_type=user.sign_out,agent.tampering');
    expect(new Set(two.map((e) => e.event_type))).toEqual(new Set(['user.sign_out', 'agent.tampering']));
  });

  it('keeps the same events for the same moments, whatever the simulator', async () => {
    const other = await startSimulator({
      clock: 'manual',
      jobDurationMs: 0,
      dataset: { workloads: 200, eventsPerDay: PER_DAY, eventRetentionDays: DAYS },
    });
    try {
      const end = new Date(Math.min(sim.clock.now(), other.clock.now())).toISOString();
      const start = new Date(Date.parse(end) - 86_400_000).toISOString();
      const window = `${q({ 'timestamp[gte]': start, 'timestamp[lte]': end })}&max_results=10000`;
      const mine = await events(window);
      const theirs = (await call(other, `/orgs/1/events${window}`)).json<PceEvent[]>();
      expect(mine.length).toBeGreaterThan(PER_DAY - 5);
      expect(theirs).toEqual(mine);
      const [newest] = await events('?max_results=1');
      expect((await call(other, newest?.href ?? '')).json()).toEqual(newest);
    } finally {
      await other.close();
    }
  });

  it('moves with the clock: new events arrive, the oldest expire', async () => {
    const [newest] = await events('?max_results=1');
    await sim.clock.advance(86_400_000);
    const later = await events('?max_results=10000');
    expect(Date.parse(later[0]?.timestamp ?? '')).toBeGreaterThan(Date.parse(newest?.timestamp ?? ''));
    expect(later.some((e) => e.href === newest?.href)).toBe(true);
    const oldest = (await exported(sim)).at(-1);
    expect(Date.parse(oldest?.timestamp ?? '')).toBeGreaterThanOrEqual(sim.clock.now() - DAYS * 86_400_000);
  });

  it('serves one event by its href, and 404 for an unknown one', async () => {
    const [, second] = await events('?max_results=2');
    expect((await call(sim, second?.href ?? '')).json()).toEqual(second);
    const missing = await call(sim, '/orgs/1/events/00000000-0000-4000-8000-000000000000');
    expect(missing.status).toBe(404);
    expect(missing.json()).toEqual([{ token: 'not_found', message: expect.any(String) }]);
  });

  it('refuses a timestamp that is not RFC 3339', async () => {
    const res = await call(sim, '/orgs/1/events?timestamp[gte]=yesterday');
    expect(res.status).toBe(406);
    expect(res.text).toContain('timestamp[gte]');
  });
});

describe('events of the revisions', () => {
  it('records each change of a revision at the time it happened, with what changed', async () => {
    await sim.clock.advance(1_000);
    const at = new Date(sim.clock.now()).toISOString();
    sim.setRevision(1);
    try {
      const changes = sim.changes(0, 1);
      const revision = await exported(sim, q({ 'timestamp[gte]': at, 'timestamp[lte]': at }));
      const byType = (suffix: string) =>
        revision
          .filter((e) => e.event_type.endsWith(suffix))
          .flatMap((e) => e.resource_changes.flatMap((c) => Object.values(c.resource).map((r) => r.href)))
          .sort();
      const expected = (what: 'added' | 'removed' | 'changed') =>
        [
          'labels',
          'workloads',
          'sec_policy/draft/services',
          'sec_policy/draft/ip_lists',
          'sec_policy/draft/label_groups',
          'sec_policy/draft/rule_sets',
        ]
          .flatMap((path) => changes[path]?.[what] ?? [])
          .sort();
      expect(byType('.create').filter((h) => !h.includes('/sec_policy/1'))).toEqual(expected('added'));
      expect(byType('.delete')).toEqual(expected('removed'));
      expect([...byType('.update'), ...byType('.unpair')].sort()).toEqual(expected('changed'));
      expect(revision.filter((e) => e.event_type === 'sec_policy.create')).toHaveLength(1);
      for (const e of revision) {
        expect(e.created_by.user?.href).toBe('/users/1');
        expect(e.status).toBe('success');
      }

      const update = revision.find((e) => e.event_type === 'rule_set.update');
      const change = update?.resource_changes[0];
      const href = Object.values(change?.resource ?? {})[0]?.href ?? '';
      const now = (await call(sim, href)).json<Record<string, unknown>>();
      for (const [field, { after }] of Object.entries(change?.changes ?? {}))
        expect(now[field]).toEqual(after);
      expect(update?.action?.api_endpoint).toBe(`/api/v2${href}`);
    } finally {
      sim.setRevision(0);
    }
  });
});
